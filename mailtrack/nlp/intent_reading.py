"""How a reply's own words are read: sentences, then chunks, then clauses.

:mod:`mailtrack.nlp.intent` decides what a reply says about each item from
the :class:`Clause` list this module reads; the split keeps the decision
(which clauses agree, which make a reply unclear) apart from the reading of
words (sentences, commas, verbs, negations, doubts, item references). A
text is cut into sentences (a format=flowed soft break is not an end), a
sentence into chunks at commas, colons, dashes and brackets, and each chunk
is read for its items, its verb, its negation and its doubts
(:func:`_read_chunk`); chunks then join into clauses (:func:`_take`): a
list going on over a comma, a reason after a refusal, an answer after the
numbers it is about, a doubt that takes back the statement before it. The
vocabulary lives in :mod:`mailtrack.nlp.intent_patterns`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from mailtrack.nlp import intent_patterns as pat
from mailtrack.nlp.intent_patterns import normalize

Polarity = Literal["confirm", "reject", "also", "unclear", "none"]


@dataclass
class Clause:
    """One statement of a reply: what it does (``polarity``) to which items.

    ``every`` is a statement about the whole request (no item named);
    ``excluded`` the items of "todo salvo el 2"; ``bad`` a number or
    reference that cannot be trusted; ``text`` the original words; ``info``
    a plain detail about its items ("Para el punto 3: queda en 12.500 €"),
    which neither decides nor doubts them.
    """

    polarity: Polarity
    items: list[int]
    text: str
    start: int = 0
    waiting: bool = False  # items named ("1:") and their answer still to come ("ok")
    excluded: list[int] = field(default_factory=list)
    reason: str | None = None
    bad: bool = False
    bare_no: bool = False  # a lone "No": a refusal only with a reason
    cant: bool = False  # "no lo puedo confirmar": a refusal only with a reason that defers nothing
    yes: bool = False  # a bare "Yes" / "Sí": an answer only where an item is bound to it (inline)
    item_reasons: dict[int, str] = field(default_factory=dict)  # "- 2: motivo" under a list
    reason_from: int | None = None  # where its reason starts in the text, once it has one
    paragraph: int = 0
    info: bool = False
    detail_from: int | None = None  # after "Para el punto 3:", where a plain detail may follow

    @property
    def every(self) -> bool:
        return not self.items


@dataclass(frozen=True)
class Reading:
    """A text read into clauses; ``broken`` is the text to show when nothing in it can count (irony...)."""

    clauses: list[Clause]
    broken: str | None
    text: str


@dataclass
class _Chunk:
    """A piece of a sentence between commas, colons, dashes or brackets, as first read."""

    start: int
    end: int  # the head; a reason inside the piece ("porque ...") runs from reason_at to tail
    tail: int
    reason_at: int | None
    polarity: Polarity = "none"
    items: list[int] = field(default_factory=list)
    excluded: list[int] = field(default_factory=list)
    rest: bool = False  # "los otros dos": the items not named before
    rest_count: int | None = None
    count: int | None = None  # "ambos", "all five items": must be the request's size
    bad: bool = False
    doubt: bool = False
    starts_ref: bool = False
    starts_verb: bool = False
    refs_only: bool = False
    bare_no: bool = False
    cant: bool = False  # "I can't commit to #2": refuses if a reason follows
    yes: bool = False  # a bare "ok", "sí", "yes"
    lists: bool = False  # opens with items, articles aside ("el 2 y el 3 si ...")
    marked: bool = False  # "para el punto 3", "re 4", "as for #2": a topic, not an answer
    qualifies: bool = False  # "solo la parte de staging": not to be read beside "confirmo todo"
    topic: bool = False  # "el 2 lo vemos": its items are the topic of a statement of its own
    relative: bool = False  # "que los confirme Pablo": goes on with the clause before it


def read(text: str, n: int, quoted: Mapping[int, frozenset[str]]) -> Reading:
    """Read ``text`` (a reply's own words) into clauses about the items 1..n."""
    low = normalize(text)
    irony = pat.IRONY.search(low)
    emoji = next((c for c in text if c in pat.IRONY_EMOJI or c in pat.NEGATIVE_MARKS), None)
    if irony or emoji:
        return Reading([], text, text)
    for pattern in (pat.URL_OR_ADDRESS, pat.TRACKER_REF, pat.INLINE_TAG, pat.POSTSCRIPT):
        low = _mask(low, pattern)
    low = _mask(_mask(low, pat.HARMLESS), pat.WILL_DELIVER)
    clauses: list[Clause] = []
    waiting: Clause | None = None  # a refusal whose reason may be the next sentence
    spans = _sentences(text, low)
    for (start, end, paragraph), asked_from in zip(spans, _asked_from(spans, low), strict=True):
        chunks = _chunks_of(text, low, start, end, n, quoted, asked_from)
        if (
            waiting is not None
            and waiting.paragraph == paragraph
            and not any(_opens_reason(c) for c in chunks)
            and not _answers_item(chunks)
        ):
            own = _item_reason(waiting, chunks)
            if own:  # "No confirmo el 2 ni el 4.\n- 2: motivo\n- 4: otro motivo"
                for k in own:
                    waiting.item_reasons[k] = _reason(text, chunks[0].tail, end) or ""
                if set(waiting.item_reasons) < set(waiting.items):
                    continue
            else:
                waiting.reason_from, waiting.reason = start, _reason(text, start, end)
            waiting = None
            continue
        waiting = None
        current: Clause | None = None
        before = len(clauses)
        for chunk in chunks:
            current = _take(clauses, current, chunk, text, n, paragraph)
        for clause in clauses[before:]:
            if clause.detail_from is not None and clause.waiting and clause.polarity != "confirm":
                clause.info = _plain_detail(text, low, clause.detail_from, end)
        if current is not None and _collects(current) and current.reason is None:
            waiting = current
    for clause in clauses:
        why = [r for r in (clause.reason, *clause.item_reasons.values()) if r]
        if clause.bare_no and not why:
            clause.polarity = "unclear"  # "No." alone: a refusal or an answer to something else
        if clause.cant and (not why or any(pat.DEFERS.search(normalize(r)) for r in why)):
            clause.polarity = "unclear"  # "I can't confirm 2 yet", "... until I check"
        if _collects(clause) and why and all(pat.HEDGE.fullmatch(normalize(r)) for r in why):
            clause.polarity = "unclear"  # "todo salvo el 2, creo": a hedge, not a reason
    return Reading(clauses, None, text)


def _answers_item(chunks: list[_Chunk]) -> bool:
    """Whether a sentence is "2: ok": items, then an answer to them (a statement, not a why)."""
    if not chunks or not chunks[0].refs_only:
        return False
    return any(c.yes or c.polarity in ("confirm", "also") for c in chunks[1:])


def _item_reason(waiting: Clause, chunks: list[_Chunk]) -> list[int]:
    """The items of a refusal a sentence gives the reason of ("- 2: motivo"), if it does.

    Only under a refusal of several items, with the sentence opening with
    some of them that have no reason yet.
    """
    if len(waiting.items) < 2 or not chunks or not chunks[0].refs_only:
        return []
    lead = chunks[0].items
    return lead if set(lead) <= set(waiting.items) - set(waiting.item_reasons) else []


def _take(
    clauses: list[Clause], current: Clause | None, chunk: _Chunk, text: str, n: int, paragraph: int
) -> Clause:
    """Add one chunk to the clauses of a sentence; returns the clause now being written."""
    if current is not None and _collects(current):
        if chunk.refs_only and current.reason_from is None:
            return _extend(current, chunk, text)
        if not _opens_reason(chunk):
            if current.reason_from is None:
                current.reason_from = chunk.start if chunk.reason_at is None else chunk.reason_at
            current.reason = _reason(text, current.reason_from, chunk.tail)
            return current
    elif current is not None and chunk.refs_only:
        return _extend(current, chunk, text)
    elif current is not None and current.waiting and _answers(chunk):
        # "1: ok", "2) no, la fecha no vale": the answer after the numbers it is about.
        current.polarity = "confirm" if chunk.yes else chunk.polarity
        current.waiting = False
        current.detail_from = None
        if chunk.reason_at is not None and _collects(current):
            current.reason_from = chunk.reason_at
            current.reason = _reason(text, chunk.reason_at, chunk.tail)
        return _extend(current, chunk, text)
    elif current is not None and chunk.excluded and not chunk.items and _blanket_yes(current):
        current.excluded += chunk.excluded  # "Confirmo, excepto el 2: ..."
        if chunk.reason_at is not None:
            current.reason_from = chunk.reason_at
            current.reason = _reason(text, chunk.reason_at, chunk.tail)
        return _extend(current, chunk, text)
    elif current is not None and _continues_list(current, chunk):
        # "Confirmed 1, 2 and 3 if the budget allows": the condition is the whole list's.
        current.polarity = "unclear"
        return _extend(current, chunk, text)
    elif current is not None and not _opens(chunk):
        qualifies = chunk.qualifies and current.every
        if chunk.doubt or chunk.bad or chunk.polarity in ("unclear", "reject") or qualifies:
            current.polarity = "unclear"  # a doubt beside a statement takes it back
            current.bad = current.bad or chunk.bad
            current.detail_from = None
        return current
    clause = _clause(chunk, clauses, text, n, paragraph)
    clauses.append(clause)
    return clause


def _extend(clause: Clause, chunk: _Chunk, text: str) -> Clause:
    """Let a clause run on over a chunk (a list "1, 2 y 3" going on after a comma)."""
    clause.items += chunk.items
    clause.bad = clause.bad or chunk.bad
    clause.text = " ".join(text[clause.start : chunk.tail].split())
    return clause


def _continues_list(clause: Clause, chunk: _Chunk) -> bool:
    """Whether a chunk with a doubt goes on with the list of items of the clause before it.

    "Confirmo 1, 2 y 3 si me da tiempo" is one list with one condition, not
    a confirmation of 1 and a condition on 2 and 3; "Confirmo el 1, el 2 lo
    vemos" is two statements (the "lo" after the item opens one of its own).
    """
    doubts = chunk.doubt or chunk.bad or chunk.polarity in ("unclear", "reject")
    plain = chunk.polarity in ("none", "unclear") and not (chunk.starts_verb or chunk.topic)
    named = bool(chunk.items) and chunk.lists and not (chunk.rest or chunk.excluded)
    return clause.polarity == "confirm" and bool(clause.items) and doubts and plain and named


def _answers(chunk: _Chunk) -> bool:
    """Whether a chunk is a bare answer: "ok", "sí", "no", "confirmado", with no item of its own."""
    named = chunk.items or chunk.rest or chunk.excluded
    return not named and not chunk.doubt and (chunk.yes or chunk.polarity in ("confirm", "reject"))


def _blanket_yes(clause: Clause) -> bool:
    return clause.polarity == "confirm" and clause.every and not clause.excluded


def _clause(chunk: _Chunk, clauses: list[Clause], text: str, n: int, paragraph: int) -> Clause:
    """A new clause from the chunk that opens it."""
    polarity = chunk.polarity
    items = list(chunk.items)
    bad = chunk.bad or (chunk.count is not None and chunk.count != n)
    if chunk.rest:
        named = {k for c in clauses for k in c.items + c.excluded} | set(items)
        others = [k for k in range(1, n + 1) if k not in named]
        bad = bad or not others or chunk.rest_count not in (None, len(others))
        items += others
    if polarity == "also":
        before = next((c.polarity for c in reversed(clauses) if c.polarity != "none"), "none")
        polarity = "confirm" if before == "confirm" and items else "unclear"
    if polarity in ("none", "also") and chunk.excluded:  # "salvo el 2" with nothing before it
        polarity, items = "unclear", items + chunk.excluded
    if polarity == "none" and (items or chunk.doubt or chunk.qualifies):
        polarity = "unclear"  # items spoken about, or a doubt, without a decision
    clause = Clause(
        polarity,
        items,
        text=" ".join(text[chunk.start : chunk.tail].split()),
        start=chunk.start,
        waiting=chunk.refs_only,  # "1:" or "2)" waits for its "ok" / "no" in the next chunk
        excluded=list(chunk.excluded),
        bad=bad,
        bare_no=chunk.bare_no,
        cant=chunk.cant,
        yes=chunk.yes and not items and polarity == "none",
        paragraph=paragraph,
        detail_from=chunk.tail if chunk.refs_only and chunk.marked else None,
    )
    if chunk.reason_at is not None and _collects(clause):
        clause.reason_from = chunk.reason_at
        clause.reason = _reason(text, chunk.reason_at, chunk.tail)
    elif chunk.reason_at is not None and polarity == "confirm":
        tail = text[chunk.reason_at : chunk.tail]
        if pat.DOUBT.search(normalize(tail)) or _negative(pat.TOKEN.findall(normalize(tail))):
            clause.polarity = "unclear"
    return clause


def _plain_detail(raw: str, low: str, start: int, end: int) -> bool:
    """Whether ``raw[start:end]`` only informs about an item, conditioning nothing.

    "el presupuesto revisado queda en 12.500 € + IVA, te lo mando el lunes
    30" informs; a negation, a doubt, an owner ("lo lleva Ana", "Legal
    handles it"), a need or a restriction ("solo la parte de staging") may
    change what was agreed, and so does any name: only then is it read as
    a detail beside a confirmation of the item.
    """
    detail = low[start:end]
    words = pat.TOKEN.findall(detail)
    if not words or any(p.search(detail) for p in (pat.DOUBT, pat.QUALIFY, pat.NOT_PLAIN)):
        return False
    if any(w in pat.NEGATORS for w in words):
        return False
    for match in re.finditer(r"[^\W\d_]+", raw[start:end]):
        word = match.group()
        if word[0].isupper() and not word.isupper() and normalize(word) not in pat.COMMON:
            return False  # a name: "Ana", "Legal", "Compras"
    return True


def _collects(clause: Clause) -> bool:
    """Whether what follows this clause in its sentence is its reason."""
    return clause.polarity == "reject" or (clause.polarity == "confirm" and bool(clause.excluded))


def _opens(chunk: _Chunk) -> bool:
    """Whether a chunk starts a clause of its own rather than qualifying the one before.

    A verb opens one, except after "que"/"which" ("los otros dos no dependen
    de mí, que los confirme Pablo"), where it goes on with the clause before.
    """
    return bool(
        chunk.items
        or chunk.rest
        or chunk.excluded
        or chunk.polarity in ("confirm", "reject", "also")
        or (chunk.starts_verb and not chunk.relative)
    )


def _opens_reason(chunk: _Chunk) -> bool:
    """Whether a chunk after a refusal starts a new statement instead of going on with the why."""
    decides = chunk.polarity != "none" or chunk.doubt
    named = bool(chunk.items) or chunk.rest or chunk.polarity == "confirm"
    return (chunk.starts_ref or chunk.starts_verb) and decides and named and not chunk.refs_only


def _reason(text: str, start: int, end: int) -> str | None:
    """The reason as written, without the punctuation around it or a leading "que"."""
    reason = " ".join(text[start:end].strip(" \t\n.,;:-—–\"'()").split())
    if normalize(reason[:4]) == "que ":
        reason = reason[4:]
    return reason or None


def _mask(text: str, pattern: re.Pattern[str]) -> str:
    """``text`` with every match of ``pattern`` blanked out (same length)."""
    return pattern.sub(lambda m: " " * len(m.group()), text)


def _sentences(raw: str, low: str) -> list[tuple[int, int, int]]:
    """Sentence spans (start, end, paragraph); a format=flowed soft break is not an end."""
    spans: list[tuple[int, int, int]] = []
    paragraph, start, i, size = 0, 0, 0, len(low)

    def close(end: int) -> None:
        if any(c.isalnum() for c in low[start:end]):
            spans.append((start, end, paragraph))

    while i < size:
        char = low[i]
        if char == "\n":
            j = i + 1
            while j < size and low[j] in " \n":
                j += 1
            blank = "\n" in low[i + 1 : j]
            last = i - 1
            while last >= start and low[last] == " ":
                last -= 1
            soft = i > 0 and low[i - 1] == " "
            wraps = j < size and raw[j].islower() and last >= start and low[last] not in ".!?:;…"
            if blank or not (soft or wraps):
                close(i)
                start, paragraph = j, paragraph + blank
            i = j
            continue
        if char in ".!?;…" and (i + 1 == size or low[i + 1] in " \n\"')"):
            marker = char == "." and low[low.rfind("\n", 0, i) + 1 : i].strip().isdigit()
            if not marker:  # "1. Confirmado" on its own line is a list, not a sentence "1."
                close(i + 1)
                start = i + 1
        i += 1
    close(size)
    return spans


def _asked_from(spans: list[tuple[int, int, int]], low: str) -> list[int | None]:
    """For each sentence, where a question it belongs to opens (None: it asks nothing).

    A ";" ends a sentence for reading, not a question: in "¿Confirmo el 1; los otros
    dos los confirma Lucía?" the question opens at "¿" and takes in the clause before
    the ";", and without a "¿" ("Confirmo el 1; el resto lo confirma Lucía?") the whole
    run of clauses joined by ";" is asked (found by the fuzzer: both confirmed item 1).
    """
    asked: list[int | None] = [None] * len(spans)
    group: list[int] = []
    for index, (start, end, paragraph) in enumerate(spans):
        group.append(index)
        joined = (
            index + 1 < len(spans)
            and spans[index + 1][2] == paragraph
            and low[start:end].rstrip().endswith(";")
        )
        if joined:
            continue
        first = spans[group[0]][0]
        if len(group) > 1 and "?" in low[start:end]:
            opening = low.find("¿", first, end)
            for member in group:
                asked[member] = first if opening < 0 else opening
        group = []
    return asked


def _chunks_of(
    raw: str,
    low: str,
    start: int,
    end: int,
    n: int,
    quoted: Mapping[int, frozenset[str]],
    asked_from: int | None = None,
) -> list[_Chunk]:
    """The chunks of one sentence, each read (see :func:`_read_chunk`).

    ``asked_from``: where a question spanning this sentence opens (see :func:`_asked_from`).
    """
    cuts: list[tuple[int, int]] = []
    begin = start
    for i in range(start, end):
        char, before, after = low[i], low[i - 1 : i], low[i + 1 : i + 2]
        digits = before.isdigit() and after.isdigit()
        dash = char == "-" and (" " in (before, after) or "-" in (before, after)) and not digits
        if (char in ",:" and not digits) or char in "()" or dash:
            cuts.append((begin, i))
            begin = i + 1
    cuts.append((begin, end))
    sentence = low[start:end]
    ask, opening = "?" in sentence, sentence.find("¿")
    chunks: list[_Chunk] = []
    for a, b in cuts:
        if not any(c.isalnum() for c in low[a:b]):
            continue
        # "¿" opens the question; without it the whole sentence asks.
        question = (ask and (opening < 0 or b > start + opening)) or (
            asked_from is not None and b > asked_from
        )
        chunks.append(_read_chunk(raw, low, a, b, n, quoted, question))
    return chunks


def _read_chunk(
    raw: str,
    low: str,
    start: int,
    end: int,
    n: int,
    quoted: Mapping[int, frozenset[str]],
    question: bool,
) -> _Chunk:
    """Read one chunk: the items it names, its verb, its negation and its doubts."""
    intro = pat.REASON_INTRO.search(low, start, end)
    head = intro.start() if intro else end
    chunk = _Chunk(start, head, end, intro.end() if intro else None)
    refs = pat.find_refs(low[start:head], n, quoted)
    chunk.items, chunk.excluded, chunk.count = refs.items, refs.excluded, refs.count
    chunk.rest, chunk.rest_count, chunk.bad = refs.rest, refs.rest_count, refs.bad
    tokens = [(m.group(), m.start()) for m in pat.TOKEN.finditer(refs.text)]
    words = [w for w, _ in tokens]
    heads = [(m.group(), m.start()) for m in pat.TOKEN.finditer(low[start:head])]
    first = next((p for w, p in heads if w not in pat.LEAD_SKIP), None)
    if first is None and refs.spans:
        first = refs.spans[0][0]
    chunk.starts_ref = first is not None and any(a <= first < b for a, b in refs.spans)
    lead = next((p for w, p in heads if w not in pat.LEAD_SKIP | pat.ARTICLES), None)
    chunk.lists = lead is not None and any(a <= lead < b for a, b in refs.spans)
    if chunk.lists:
        last = max(b for _, b in refs.spans)
        after = [w for w, p in tokens if p >= last and w not in pat.NEGATORS]
        chunk.topic = bool(after) and after[0] in pat.TOPIC_WORDS
    verbs = _verbs(raw, start, tokens)
    negations = [i for i, w in enumerate(words) if w in pat.NEGATORS]
    condition = _conditional_si(raw, refs.text, start, tokens)
    doubt = question or refs.unknown or condition or bool(pat.DOUBT.search(refs.text))
    refusal = pat.REJECT.search(refs.text)
    marks = [i for i, _ in verbs]
    if refusal:
        marks.append(sum(1 for _, p in tokens if p < refusal.start()))
    spot = min(marks, default=None)
    if spot is not None and spot <= 3:
        before = tokens[spot][1] if spot < len(tokens) else len(refs.text)
        chunk.starts_verb = not any(a < before for a, _ in refs.spans)
    confirms = [i for i, kind in verbs if kind == "confirm"]
    mentions = [i for i, kind in verbs if kind == "mention"]
    named = bool(chunk.items or chunk.rest)
    chunk.relative = bool(words) and words[0] in pat.RELATIVES and not pat.WHOLE & set(words)
    chunk.marked = bool(pat.TOPIC_MARKERS & set(words))
    terse = {w for w in words if w not in pat.TERSE_FILLER}
    chunk.yes = bool(terse) and terse <= pat.YES_WORDS and not condition
    if named and not doubt and _cannot(words):
        chunk.polarity, chunk.cant = "reject", True  # "El punto 1 no lo puedo confirmar: ..."
    elif confirms:
        k = confirms[0]
        if any(i < k for i in negations):
            cant = any(w in pat.CANT for w in words[:k])
            chunk.polarity = "unclear" if cant or doubt else "reject"
        elif doubt or mentions or any(i > k for i in negations):
            chunk.polarity = "unclear"
        elif not _understood(refs.text, named) or (_clitic(words, k) and not named):
            chunk.polarity = "unclear"  # "confirmo la asistencia", "te confirmo"
        else:
            chunk.polarity = "confirm"
    elif refusal:
        chunk.polarity = "unclear" if doubt else "reject"
    elif mentions:
        chunk.polarity = "unclear"
    elif terse and terse <= pat.NO_WORDS and (named or len(words) == len(terse)):
        chunk.polarity, chunk.bare_no = "reject", not named
    elif chunk.yes and named:
        chunk.polarity = "unclear" if doubt else "confirm"  # "1 y 3 ok", "el resto sí"
    elif chunk.excluded and not named and _all_good(terse):
        # "All good except 2 — reason": item by item, unlike a bare "all good" (see _blanket).
        chunk.polarity = "unclear" if doubt else "confirm"
    elif terse and terse <= pat.ALSO_WORDS and named:
        chunk.polarity = "also"  # "El 2 también"
    elif named and not terse:
        chunk.refs_only = True
    elif negations and words[0] not in pat.EXPLAINS:
        doubt = True  # "No me gusta la fecha": a negation that decides nothing is a doubt
    chunk.doubt = doubt
    chunk.qualifies = chunk.polarity == "none" and bool(pat.QUALIFY.search(refs.text))
    return chunk


def _all_good(terse: set[str]) -> bool:
    """ "all good", "todo bien", "todo ok": words that, before an exception, confirm the rest."""
    heads = terse & pat.ALL_WORDS
    return bool(heads) and bool(terse - heads) and terse - heads <= pat.YES_WORDS


def _cannot(words: list[str]) -> bool:
    """ "no lo puedo confirmar", "I can't commit to": a negated "can" before the verb."""
    verb = next((i for i, w in enumerate(words) if w in pat.CANT_VERBS), None)
    before = words[:verb] if verb is not None else []
    return any(w in pat.NEGATORS for w in before) and any(w in pat.CANT for w in before)


def _verbs(raw: str, offset: int, tokens: list[tuple[str, int]]) -> list[tuple[int, str]]:
    """The confirming verbs of a chunk, by token index: "confirm" or a mere "mention"."""
    words = [w for w, _ in tokens]
    found: list[tuple[int, str]] = []
    for index, (word, position) in enumerate(tokens):
        form = word if word in pat.CONFIRM_FORMS else pat.typo_of(word)
        if form is None:
            if word in pat.MENTION_FORMS:
                found.append((index, "mention"))
            elif word == "de" and words[index + 1 : index + 2] == ["acuerdo"]:
                after = words[index + 2 : index + 3]
                agree = not after or after[0] not in ("a", "al")
                found.append((index, "confirm" if agree else "mention"))
            continue
        accent = raw[offset + position : offset + position + len(word)].lower()
        found.append((index, _verb_kind(words, index, form, accent)))
    return found


def _verb_kind(words: list[str], index: int, form: str, written: str) -> str:
    """Whether a confirming verb confirms here, or only talks about confirming."""
    following = words[index + 1 : index + 2]
    if following in (["que"], ["that"]) or written.endswith(("ó", "é")):
        return "mention"  # "confirmo que lo he recibido", "Ana lo confirmó"
    context = [w for w in words[:index] if w not in pat.NEGATORS]
    previous = context[-1] if context else None
    if form in ("confirmo", "confirmamos", "conforme", "conformes"):
        return "confirm"
    if form.startswith("confirmad") or form == "confirmed":
        return "mention" if previous in pat.NOT_NOW else "confirm"
    if form == "agreed":
        return "mention" if previous in pat.NOT_NOW | pat.SUBJECTS else "confirm"
    # "confirm", "agree", "confirming": in the first person or opening the clause only.
    back = len(context) - 1
    while back >= 0 and context[back] in pat.VERB_ADVERBS:
        back -= 1
    if back < 0 or context[back] in pat.SUBJECTS or context[back] in pat.YES_WORDS:
        return "confirm"
    if context[back] == "to" and back and context[back - 1] in pat.HAPPY_TO:
        return "confirm"
    return "mention"


def _clitic(words: list[str], index: int) -> bool:
    """ "te confirmo" / "os lo confirmo": without an object it means "I'll let you know"."""
    return any(w in pat.CLITICS for w in words[max(0, index - 2) : index])


def _conditional_si(raw: str, text: str, offset: int, tokens: list[tuple[str, int]]) -> bool:
    """Whether a "si" is "if" ("si legal está de acuerdo") rather than "sí" ("Sí, confirmo")."""
    for word, position in tokens:
        if word != "si" or raw[offset + position : offset + position + 2].lower() == "sí":
            continue
        after = text[position + 2 :].lstrip()
        if after and after[0] not in ",.;:!":
            return True
    return False


def _understood(text: str, named: bool) -> bool:
    """Whether a confirmation's object is one a blanket answer may have ("todo", "los acuerdos").

    Anything else ("la asistencia", "el presupuesto") names something this
    reading does not know, so the confirmation is not counted. After a head
    noun, "de/from ..." describes the meeting and is not read.
    """
    headed = False
    for word in pat.TOKEN.findall(_mask(_mask(text, pat.ON_BEHALF), pat.DE_ACUERDO)):
        if word in pat.WHOLE:
            headed = True
        elif headed and word in pat.DESCRIBES:
            return True
        elif not (
            word in pat.FILLER
            or word in pat.CONFIRM_FORMS
            or word in pat.SUBJECTS
            or word in pat.VERB_ADVERBS
            or word in pat.YES_WORDS
            or (named and word in pat.ITEM_WORDS)  # "el punto 1", never "el punto" alone
            or pat.typo_of(word)
        ):
            return False
    return True


def _negative(words: list[str]) -> bool:
    return any(w in pat.NEGATORS for w in words) and bool(words) and words[0] not in pat.EXPLAINS
