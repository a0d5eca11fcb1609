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
reading of sentences and clauses lives in :mod:`mailtrack.nlp.intent_reading`,
the vocabulary in :mod:`mailtrack.nlp.intent_patterns`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from mailtrack.mail.quotes import Segment, Trimmed
from mailtrack.nlp import intent_patterns as pat
from mailtrack.nlp.intent_patterns import normalize
from mailtrack.nlp.intent_reading import Clause, Polarity, Reading, read

State = Literal["confirmed", "rejected", "unclear"]
Kind = Literal["all", "some", "reject", "mixed", "unclear", "empty"]

__all__ = ["Clause", "Intent", "ItemAnswer", "Polarity", "Reading", "read", "understand"]

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
    # A plain detail about an item ("Para el punto 3: queda en 12.500 €") leaves its answer
    # as the rest of the reply gives it; alone, the item was spoken about: unclear.
    details = [c for c in clauses if c.info]
    doubts = [c for c in clauses if c.polarity == "unclear" and not c.info]
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
            why = clause.item_reasons.get(k, clause.reason)
            if before is None:
                answers[k] = ItemAnswer(stated, why if stated == "rejected" else None)
            elif before.state != stated:
                answers[k] = ItemAnswer("unclear", None)
    for clause in details:
        for k in clause.items:
            answers.setdefault(k, ItemAnswer("unclear", None))
    if not any(a.state != "unclear" for a in answers.values()):
        return unclear(n, said)
    return Intent(answers, kind_of(answers, n), excerpt(said))


def _blanket(blanket: list[Clause], clauses: Sequence[Clause], n: int, said: str) -> Intent:
    """A reply that confirms or rejects everything ("Confirmo", "todo salvo el 2", "no confirmo nada").

    It must be the reply's only statement: next to a doubt or an answer
    about one item, a blanket answer is no longer clear (README rule 2).
    """
    first = blanket[0]
    others = [
        c for c in clauses if c not in blanket and (c.polarity != "none" or c.items) and not c.info
    ]
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
    said = [c for c in reading.clauses if c.polarity != "none" or c.items or c.yes]
    if reading.broken or not said or any(c.bad for c in said):
        return ItemAnswer("unclear", None)
    if any(c.items and set(c.items) != {item} for c in said) or any(c.excluded for c in said):
        return ItemAnswer("unclear", None)
    # Under its item, a bare "Yes" / "Sí" / "Ok" is bound to it ("[DB] Yes, by Friday").
    polarities = {"confirm" if c.yes and c.polarity == "none" else c.polarity for c in said}
    if polarities == {"confirm"}:
        return ItemAnswer("confirmed", None)
    if polarities == {"reject"}:
        return ItemAnswer("rejected", next((c.reason for c in said if c.reason), None))
    return ItemAnswer("unclear", None)
