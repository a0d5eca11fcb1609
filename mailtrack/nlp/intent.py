"""What a reply to a confirmation request says about each item it was asked to confirm.

The request listed items 1..n and said how to answer ("CONFIRMO", "CONFIRMO
1,3", "NO CONFIRMO 2: motivo"); people answer in their own words, in Spanish
or English, above, below or between the quoted items. :func:`understand`
reads the author's own text (:func:`mailtrack.mail.quotes.trim` has set
quotes, signatures and disclaimers apart) and says, per item, "confirmed",
"rejected" (with the reason as written) or "unclear"; items the reply does
not speak to are left out and stay pending.

A wrong "confirmed" is the worst failure of mailtrack, so the reading is
built to fall to "unclear": a reply is cut into sentences and clauses, and a
clause confirms only with a first-person or participle form of the verb
("confirmo", "confirmado", "I confirm", "confirmed", "de acuerdo", "agreed")
or an item-bound "ok" ("1 y 3 ok"), never negated, with an object it fully
understands (nothing, "todo", "los acuerdos", item numbers) and no doubt
word (condition, question, deferral, future, receipt, change request) in
it. A doubt next to a blanket confirmation, an irony marker, a number that
is not an item of this request or a contradiction makes the whole reply
unclear. Numbers that are dates or quantities ("para el 3", "the 7th", "3
días", "1.000 €") are not items, and the words of a reason are never read
for items or verbs. Answers typed between the quoted items belong to the
item the quote block above them ends with, and an item named by its subject
("lo del plan de pruebas") is looked up in the quoted request. The
vocabulary lives in :mod:`mailtrack.nlp.intent_patterns`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from mailtrack.mail.quotes import Segment, Trimmed
from mailtrack.nlp import intent_patterns as pat
from mailtrack.nlp.intent_patterns import normalize

State = Literal["confirmed", "rejected", "unclear"]
Kind = Literal["all", "some", "reject", "mixed", "unclear", "empty"]
Polarity = Literal["confirm", "reject", "also", "unclear", "none"]

_STATES: Mapping[str, State] = {"confirm": "confirmed", "reject": "rejected"}
EVIDENCE_CHARS = 200  # the organizer reads the evidence in a digest line
# An answer is a few lines; a longer own text is a pasted document or a forward, and
# reading it clause by clause would only find more ways to be wrong.
MAX_ANSWER_CHARS = 20_000


@dataclass(frozen=True)
class ItemAnswer:
    """What the reply says about one item; ``reason`` is the refusal's own words, trimmed."""

    state: State
    reason: str | None


@dataclass(frozen=True)
class Intent:
    """What a reply says about the items of its request.

    ``answers`` maps item number to answer; items the reply does not speak
    to are absent (they stay pending). ``evidence`` is the short text the
    decision rests on, shown to the organizer.
    """

    answers: Mapping[int, ItemAnswer]
    kind: Kind
    evidence: str


def understand(trimmed: Trimmed, item_count: int, language: str) -> Intent:
    """Read a trimmed reply to a request of ``item_count`` items.

    ``language`` is the request's; both vocabularies are read whatever it
    is (people answer a Spanish request in English), and it only words the
    evidence of an empty reply.
    """
    if item_count < 1:
        return Intent({}, "unclear", excerpt(trimmed.text))
    if not trimmed.text.strip():
        note = "(sin texto propio)" if language == "es" else "(no text of their own)"
        return Intent(
            {k: ItemAnswer("unclear", None) for k in range(1, item_count + 1)}, "empty", note
        )
    if len(trimmed.text) > MAX_ANSWER_CHARS:
        return unclear(item_count, trimmed.text[:EVIDENCE_CHARS])
    quoted = quoted_items(trimmed.segments, item_count)
    inline = _inline(trimmed.segments, item_count, quoted)
    if inline is not None:
        return inline
    return _decide(read(trimmed.text, item_count, quoted), item_count)


def unclear(item_count: int, evidence: str) -> Intent:
    """Every item unclear: the reply is shown to the organizer and nothing is counted."""
    answers = {k: ItemAnswer("unclear", None) for k in range(1, item_count + 1)}
    return Intent(answers, "unclear", excerpt(evidence))


def excerpt(text: str) -> str:
    """``text`` on one line, cut to what a digest line can show."""
    flat = " ".join(text.split())
    return flat if len(flat) <= EVIDENCE_CHARS else flat[: EVIDENCE_CHARS - 1].rstrip() + "…"


# -- a reply read as one text ---------------------------------------------------------


def _decide(reading: Reading, n: int) -> Intent:
    """Turn the clauses of a reply into answers, or into "unclear" when they do not agree."""
    clauses = reading.clauses
    said = " / ".join(c.text for c in clauses if c.polarity != "none" or c.items)
    if reading.broken is not None:
        return unclear(n, reading.broken)
    outside = [c for c in clauses if any(not 1 <= k <= n for k in c.items + c.excluded)]
    if any(c.bad for c in clauses) or outside:
        return unclear(n, next(c.text for c in clauses if c.bad or c in outside))
    decided = [c for c in clauses if c.polarity in ("confirm", "reject")]
    doubts = [c for c in clauses if c.polarity == "unclear"]
    if not decided:
        return unclear(n, said or reading.text)
    if any(c.every for c in doubts):
        return unclear(n, next(c.text for c in doubts if c.every))
    blanket = [c for c in decided if c.every]
    if blanket:
        return _blanket(blanket, clauses, n, said)
    answers: dict[int, ItemAnswer] = {}
    for clause in decided + doubts:
        state = _STATES.get(clause.polarity, "unclear")
        said_about = [(k, state) for k in clause.items]
        # "confirmo 1 y 2 salvo el 2": an exception inside a list refuses (with a why) or doubts.
        refused: State = "rejected" if clause.reason else "unclear"
        said_about += [(k, refused) for k in clause.excluded]
        for k, stated in said_about:
            before = answers.get(k)
            if before is None:
                answers[k] = ItemAnswer(stated, clause.reason if stated == "rejected" else None)
            elif before.state != stated:
                answers[k] = ItemAnswer("unclear", None)
    if not any(a.state != "unclear" for a in answers.values()):
        return unclear(n, said)
    return Intent(answers, kind_of(answers, n), excerpt(said))


def _blanket(blanket: list[Clause], clauses: Sequence[Clause], n: int, said: str) -> Intent:
    """A reply that confirms or rejects everything ("Confirmo", "todo salvo el 2", "no confirmo nada").

    It must be the reply's only statement: next to a doubt or an answer
    about one item, a blanket answer is no longer clear (README rule 2).
    """
    first = blanket[0]
    others = [c for c in clauses if c not in blanket and (c.polarity != "none" or c.items)]
    same = all((c.polarity, c.excluded) == (first.polarity, first.excluded) for c in blanket)
    if others or not same:
        return unclear(n, said)
    if first.polarity == "reject":
        if first.excluded:
            return unclear(n, first.text)
        answers = {k: ItemAnswer("rejected", first.reason) for k in range(1, n + 1)}
        return Intent(answers, "reject", excerpt(first.text))
    if first.excluded and first.reason is None:
        return unclear(n, first.text)  # "todo salvo el 2" without a why: not clearly a refusal
    answers = {
        k: ItemAnswer("rejected", first.reason)
        if k in first.excluded
        else ItemAnswer("confirmed", None)
        for k in range(1, n + 1)
    }
    return Intent(answers, kind_of(answers, n), excerpt(first.text))


def kind_of(answers: Mapping[int, ItemAnswer], n: int) -> Kind:
    """The reply's kind from its answers (the categories of tests/data/replies/README.md)."""
    states = [a.state for a in answers.values()]
    confirmed, rejected = states.count("confirmed"), states.count("rejected")
    if confirmed == n:
        return "all"
    if confirmed and rejected:
        return "mixed"
    if confirmed:
        return "some"
    return "reject" if rejected else "unclear"


# -- answers written between the quoted items -------------------------------------------


def quoted_items(segments: Sequence[Segment], n: int) -> dict[int, frozenset[str]]:
    """The words of each item of our request as the reply quotes it, when all n are there.

    They let "lo del plan de pruebas" name an item; a quote that does not
    list exactly items 1..n is some other list, and names nothing.
    """
    found: dict[int, frozenset[str]] = {}
    for segment in segments:
        if segment.kind != "quote":
            continue
        for line in segment.text.split("\n"):
            match = pat.QUOTED_ITEM.match(line)
            if match and int(match[1]) not in found:
                words = normalize(match[2]).replace("/", " ").split()
                found[int(match[1])] = frozenset(w.strip(".,:;()[]") for w in words)
    return found if set(found) == set(range(1, n + 1)) else {}


def _last_item(segment: Segment, n: int) -> int | None:
    """The item a quote block ends with (its wrapped lines allowed), if it ends with one."""
    last: int | None = None
    gap = False
    for line in segment.text.split("\n"):
        bare = line.strip(" \t>")
        match = pat.QUOTED_ITEM.match(line)
        if match:
            number = int(match[1])
            last, gap = (number if 1 <= number <= n else None), False
        elif not bare:
            gap = True
        elif gap:
            last = None
    return last


def _inline(
    segments: Sequence[Segment], n: int, quoted: Mapping[int, frozenset[str]]
) -> Intent | None:
    """Answers typed under each quoted item, or None when the reply is not written that way.

    An answer belongs to the item the quote block above it ends with. The
    reply counts as inline only when an answer stands *between* items (a
    quoted item follows it), so "Confirmo los puntos 1, 2 y 3" typed under
    the whole list is read as ordinary text.
    """
    parts = [s for s in segments if s.text.strip() and s.kind in ("own", "quote", "header")]
    bound: list[tuple[int, str]] = []
    loose: list[str] = []
    between = False
    for index, part in enumerate(parts):
        if part.kind != "own":
            continue
        above = parts[index - 1] if index else None
        item = _last_item(above, n) if above is not None and above.kind == "quote" else None
        if item is None:
            loose.append(part.text)
            continue
        bound.append((item, part.text))
        later = [p for p in parts[index + 1 :] if p.kind == "quote"]
        between = between or any(_last_item_any(p) for p in later)
    if not bound or not between:
        return None
    for text in loose:  # "Te contesto entre líneas." may stand above; nothing else may
        reading = read(text, n, quoted)
        decides = [c for c in reading.clauses if c.polarity in ("confirm", "reject") or c.items]
        doubts = any(c.polarity != "none" for c in reading.clauses)
        if reading.broken or decides or (doubts and not pat.ANNOUNCE.search(normalize(text))):
            return unclear(n, text)
    answers: dict[int, ItemAnswer] = {}
    said: list[str] = []
    for item, text in bound:
        answer = _answer_for(read(text, n, quoted), item)
        before = answers.get(item)
        answers[item] = (
            answer if before is None or before == answer else ItemAnswer("unclear", None)
        )
        said.append(f"{item}: {' '.join(text.split())}")
    if not any(a.state != "unclear" for a in answers.values()):
        return unclear(n, " / ".join(said))
    return Intent(answers, kind_of(answers, n), excerpt(" / ".join(said)))


def _last_item_any(segment: Segment) -> bool:
    return any(pat.QUOTED_ITEM.match(line) for line in segment.text.split("\n"))


def _answer_for(reading: Reading, item: int) -> ItemAnswer:
    """One inline answer, for the item above it: it must say one thing, about that item only."""
    said = [c for c in reading.clauses if c.polarity != "none" or c.items]
    if reading.broken or not said or any(c.bad for c in said):
        return ItemAnswer("unclear", None)
    if any(c.items and set(c.items) != {item} for c in said) or any(c.excluded for c in said):
        return ItemAnswer("unclear", None)
    polarities = {c.polarity for c in said}
    if polarities == {"confirm"}:
        return ItemAnswer("confirmed", None)
    if polarities == {"reject"}:
        return ItemAnswer("rejected", next((c.reason for c in said if c.reason), None))
    return ItemAnswer("unclear", None)


# -- reading a text: sentences, clauses, chunks -----------------------------------------


@dataclass
class Clause:
    """One statement of a reply: what it does (``polarity``) to which items.

    ``every`` is a statement about the whole request (no item named);
    ``excluded`` the items of "todo salvo el 2"; ``bad`` a number or
    reference that cannot be trusted; ``text`` the original words.
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
    reason_from: int | None = None  # where its reason starts in the text, once it has one
    paragraph: int = 0

    @property
    def every(self) -> bool:
        return not self.items


@dataclass(frozen=True)
class Reading:
    """A text read into clauses; ``broken`` says why nothing in it can count (irony...)."""

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
    yes: bool = False  # a bare "ok", "sí", "yes"


def read(text: str, n: int, quoted: Mapping[int, frozenset[str]]) -> Reading:
    """Read ``text`` (a reply's own words) into clauses about the items 1..n."""
    low = normalize(text)
    irony = pat.IRONY.search(low)
    emoji = next((c for c in text if c in pat.IRONY_EMOJI), None)
    if irony or emoji:
        return Reading([], excerpt(text), text)
    for pattern in (pat.URL_OR_ADDRESS, pat.TRACKER_REF, pat.INLINE_TAG, pat.POSTSCRIPT):
        low = _mask(low, pattern)
    low = _mask(low, pat.HARMLESS)
    clauses: list[Clause] = []
    waiting: Clause | None = None  # a refusal whose reason may be the next sentence
    for start, end, paragraph in _sentences(text, low):
        chunks = _chunks_of(text, low, start, end, n, quoted)
        if (
            waiting is not None
            and waiting.paragraph == paragraph
            and not any(_opens_reason(c) for c in chunks)
        ):
            waiting.reason_from, waiting.reason = start, _reason(text, start, end)
            waiting = None
            continue
        waiting = None
        current: Clause | None = None
        for chunk in chunks:
            current = _take(clauses, current, chunk, text, n, paragraph)
        if current is not None and _collects(current) and current.reason is None:
            waiting = current
    for clause in clauses:
        if clause.bare_no and clause.reason is None:
            clause.polarity = "unclear"  # "No." alone: a refusal or an answer to something else
    return Reading(clauses, None, text)


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
    elif current is not None and not _opens(chunk):
        if chunk.doubt or chunk.bad or chunk.polarity in ("unclear", "reject"):
            current.polarity = "unclear"  # a doubt beside a statement takes it back
            current.bad = current.bad or chunk.bad
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
    if polarity == "none" and (items or chunk.doubt):
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
        paragraph=paragraph,
    )
    if chunk.reason_at is not None and _collects(clause):
        clause.reason_from = chunk.reason_at
        clause.reason = _reason(text, chunk.reason_at, chunk.tail)
    elif chunk.reason_at is not None and polarity == "confirm":
        tail = text[chunk.reason_at : chunk.tail]
        if pat.DOUBT.search(normalize(tail)) or _negative(pat.TOKEN.findall(normalize(tail))):
            clause.polarity = "unclear"
    return clause


def _collects(clause: Clause) -> bool:
    """Whether what follows this clause in its sentence is its reason."""
    return clause.polarity == "reject" or (clause.polarity == "confirm" and bool(clause.excluded))


def _opens(chunk: _Chunk) -> bool:
    """Whether a chunk starts a clause of its own rather than qualifying the one before."""
    return bool(
        chunk.items
        or chunk.rest
        or chunk.excluded
        or chunk.polarity in ("confirm", "reject", "also")
        or chunk.starts_verb
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


def _chunks_of(
    raw: str, low: str, start: int, end: int, n: int, quoted: Mapping[int, frozenset[str]]
) -> list[_Chunk]:
    """The chunks of one sentence, each read (see :func:`_read_chunk`)."""
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
        question = ask and (opening < 0 or b > start + opening)
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
    terse = {w for w in words if w not in pat.TERSE_FILLER}
    chunk.yes = bool(terse) and terse <= pat.YES_WORDS and not condition
    if confirms:
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
    elif terse and terse <= pat.ALSO_WORDS and named:
        chunk.polarity = "also"  # "El 2 también"
    elif named and not terse:
        chunk.refs_only = True
    elif negations and words[0] not in pat.EXPLAINS:
        doubt = True  # "No me gusta la fecha": a negation that decides nothing is a doubt
    chunk.doubt = doubt
    return chunk


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
