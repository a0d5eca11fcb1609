"""Who must do an action: owner mentions found by how minutes write them, resolved to people.

In the order tried (the first that finds someone wins):

1. a table's owner column ("Responsable", "Owner", "Lead");
2. an explicit mark: "Responsable: X", "Owner - X", "assigned to X", "a cargo de X",
   "AI: X", a trailing "(X)" or "[X]" or "- X", "@X", "→ X";
3. a label before the text: "X: revisar el contrato", "X – revisar";
4. the subject of the sentence: "X se encarga de", "X will", "X to send", "X y Y
   revisarán", "Quedamos en que X revisa", a speaker's "I'll" in "Geoffrey: I'll...";
5. the group and the self: "todos", "everyone" (every participant); "yo", "me
   encargo", "I'll" (the sender).

A mention that names nobody among the participants is kept as written: the
external owner ("el proveedor", "Legal", "Marta, de Legal").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailtrack.nlp.dates import fold
from mailtrack.nlp.people import PeopleIndex
from mailtrack.nlp.segment import Candidate

_NAME = r"(?:@?[A-ZÁÉÍÓÚÑÜ][\w'’áéíóúñü.-]*|@[\w.-]+|[a-z][a-z0-9]{2,}(?:[._-][a-z0-9]+)?|yo|I|me)"
_NAMES = rf"{_NAME}(?:\s+{_NAME}){{0,3}}"
_LIST = rf"{_NAMES}(?:\s*(?:,|/|&|\+|\by\b|\band\b|\be\b)\s*{_NAMES})*"
_TITLE = (
    r"(?:(?:[Ee]l|[Ll]a|[Tt]he)\s+)?"
    r"(?:(?:Sr|Sra|Srta|Dr|Dra|Dña|Don|D|Mr|Mrs|Ms|Miss|Prof|Ing|Lic)\.?\s+)?"
)
# Bracketed or parenthesised names anywhere: "[Mati] [mié 11]", "(Paul, Yuki)", "– Beatriz –".
_ENCLOSED = re.compile(
    r"\[(?P<bracket>[^\[\]]{2,40})\]|\((?P<paren>[^()]{2,60})\)|\s[-–—]\s+(?P<dashed>[^-–—]{2,30}?)\s+[-–—]\s"
)

_EXPLICIT = [
    re.compile(
        rf"(?:responsables?|resp\.|owners?|encargad[oa]s?|asignad[oa]s? a|assigned to|"
        rf"a cargo de|led by|owner is)\s*[:\-–=]?\s*(?P<who>{_TITLE}{_LIST}|[^.;,)\]]{{2,40}})",
        re.IGNORECASE,
    ),
    re.compile(rf"\bAI\s*[:\-–]\s*(?P<who>{_LIST})"),
    re.compile(rf"(?:→|->|=>)\s*(?P<who>{_TITLE}{_LIST})"),
]
_TRAILING = re.compile(
    rf"(?:\((?P<paren>{_TITLE}{_LIST}|[^()]{{2,40}})\)|\[(?P<bracket>{_TITLE}{_LIST})\]|"
    rf"\s[-–—]\s*(?P<dash>{_TITLE}{_LIST}))\s*[.;]?\s*$"
)
_HANDLE = re.compile(r"(?<![\w.])@(?P<who>[A-Za-z][\w.-]*[A-Za-z0-9])")
_LEADING_LABEL = re.compile(rf"^\s*(?P<who>{_TITLE}{_LIST})\s*(?::|\s[-–—]\s)\s*\S")
_LEAD_IN = re.compile(
    r"^(?:quedamos en que|se acord[oó] que|se acuerda que|acordamos que|se decidi[oó] que|"
    r"decidimos que|we agreed that|it was agreed that|it was decided that|agreed that|"
    r"consensus was that|also,?|tambi[eé]n)\s+",
    re.IGNORECASE,
)
_SUBJECT_VERB = re.compile(
    # "Sergio (@sdelquin) creará ...": a handle or a role may stand between name and verb
    rf"^(?P<who>{_TITLE}{_LIST})(?:\s*\([^()]{{1,40}}\))?\s+"
    r"(?:se encarga|se encargar[aá]n?|se compromete|se comprometen|"
    r"will|'ll|to\s+[a-z]|shall|is going to|are going to|agreed to|agrees to|volunteered to|owns|"
    r"takes|se ocupa|se ocupar[aá]n?|queda encargad|quedan encargad|har[aá]n?\b|"
    r"[a-záéíóúñ]+(?:r[aá]n?|ar[aá]|er[aá]|ir[aá])\b|"
    r"[a-záéíóúñ]+(?:a|e)\b|[a-z]+s\b)",
)
_SELF = re.compile(
    r"\b(?:yo|me encargo|me ocupo|me comprometo|lo hago yo|lo preparo yo|lo env[ií]o yo|"
    r"me toca|i'll|i will|i'm going to|i am going to|i can take|i take|myself|i own)\b",
    re.IGNORECASE,
)
_EVERYONE = re.compile(
    r"\b(?:todos|todas|todo el equipo|todo el mundo|cada uno|cada una|everyone|everybody|"
    r"all of us|the whole team|whole team|all participants|all attendees|each of us|all)\b",
    re.IGNORECASE,
)
_EVERYONE_FIRST = re.compile(
    r"^(?:todos|todas|todo el equipo|cada uno|cada una|everyone|everybody|all of us|"
    r"the whole team|each of us|all)\b",
    re.IGNORECASE,
)
_NOT_NAMES = frozenset(
    fold(word)
    for word in (
        "se el la los las un una lo que y de del para con en al por the a an to we it this that "
        "they he she i you our all everyone todos nadie nobody tbd tbc n/a na pending pendiente "
        "done hecho ok si sí no and or also then next new old item items action actions acción "
        "acciones tarea tareas decision decisión owner responsable due fecha status estado "
        "team equipo everyone".split()
    )
)


@dataclass(frozen=True)
class Owners:
    emails: tuple[str, ...]
    external: str | None
    how: str  # which rule found them ("" when nobody)


NOBODY = Owners((), None, "")


def find_owners(candidate: Candidate, people: PeopleIndex) -> Owners:
    """The owners of a candidate action, resolved against ``people``."""
    text = candidate.text
    cell = candidate.cells.get("owner")
    if cell:
        return _resolve(cell, people, "table") or Owners((), _external(cell), "table")
    for pattern in _EXPLICIT:
        for match in pattern.finditer(text):
            found = _resolve(match.group("who"), people, "explicit")
            if found:
                return found
            external = _external(match.group("who"))
            if external:
                return Owners((), external, "explicit")
    for match in _HANDLE.finditer(text):
        found = _resolve(match.group("who"), people, "handle")
        if found:
            return found
    trailing = _TRAILING.search(text)
    if trailing:
        who = trailing.group("paren") or trailing.group("bracket") or trailing.group("dash") or ""
        found = _resolve(who, people, "trailing")
        if found:
            return found
    for enclosed in _ENCLOSED.finditer(text):
        who = enclosed.group("bracket") or enclosed.group("paren") or enclosed.group("dashed") or ""
        found = _resolve(who, people, "enclosed")
        if found:
            return found
    if candidate.speaker:
        how = "speaker" if _SELF.search(text) else "label"
        found = _resolve(candidate.speaker, people, how, short_prefix=candidate.marker == "label")
        if found:
            return found
    if candidate.marker == "label" and (candidate.label or "").startswith(
        ("action", "accion", "todo", "ai")
    ):
        # MeetBot and friends: "ACTION: nick verb ...", the doer comes first.
        first = text.split(maxsplit=1)[0] if text.split() else ""
        found = _resolve(first, people, "label")
        if found:
            return found
    leading = _LEADING_LABEL.match(text)
    if leading:
        found = _resolve(leading.group("who"), people, "label")
        if found:
            return found
    body = _LEAD_IN.sub("", text.strip(), count=1)
    subject = _SUBJECT_VERB.match(body)
    if subject:
        found = _resolve(subject.group("who"), people, "subject")
        if found:
            return found
    if _EVERYONE_FIRST.match(body):
        return Owners(tuple(people.everyone), None, "everyone")
    if _SELF.search(text) and people.sender:
        return Owners((people.sender,), None, "self")
    if trailing:
        who = trailing.group("paren") or trailing.group("bracket") or ""
        external = _external(who)
        if external:
            return Owners((), external, "trailing")
    return NOBODY


_ME = frozenset({"yo", "me", "i", "myself", "mi", "moi"})


def _split_names(text: str) -> list[str]:
    parts = re.split(r"\s*(?:,|/|&|;|\by\b|\band\b|\be\b|\+)\s*", text.strip())
    return [part.strip(" .:;()[]*_") for part in parts if part.strip(" .:;()[]*_")]


def _resolve(text: str, people: PeopleIndex, how: str, short_prefix: bool = False) -> Owners | None:
    """Every name in ``text`` that resolves to exactly one participant; None if none does."""
    if _EVERYONE.fullmatch(text.strip().lower()):
        return Owners(tuple(people.everyone), None, how)
    emails: list[str] = []
    for name in _split_names(text):
        if fold(name) in _ME and people.sender:
            found = {people.sender}
        elif fold(name) in _NOT_NAMES:
            continue
        else:
            found = people.resolve(name, short_prefix=short_prefix)
        if len(found) != 1:
            # "Juan Pérez (Legal)" or "Ana García, project lead": try the leading words.
            words = name.split()
            while len(found) != 1 and len(words) > 1:
                words = words[:-1]
                found = people.resolve(" ".join(words))
        if len(found) == 1:
            email = next(iter(found))
            if email not in emails:
                emails.append(email)
    return Owners(tuple(emails), None, how) if emails else None


def _external(text: str) -> str | None:
    """An owner named but not a participant: kept as written, if it looks like a name or a role."""
    cleaned = text.strip().strip(".;:,()[]*_ ")
    if not cleaned or len(cleaned) > 40 or fold(cleaned) in _NOT_NAMES:
        return None
    if re.fullmatch(r"(?:tbd|tbc|n/?a|-+|—|pendiente|nadie|nobody|none|\?+)", fold(cleaned)):
        return None
    if re.match(r"^\d", cleaned) or re.search(r"\d{1,2}[/.-]\d{1,2}", cleaned):
        return None
    return cleaned


def strip_lead_in(text: str) -> str:
    """Text without an agreement lead-in: "Quedamos en que Ana revisa" -> "Ana revisa"."""
    return _LEAD_IN.sub("", text.strip(), count=1)
