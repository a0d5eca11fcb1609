"""From one mail to its decisions and actions, with owners and due dates: the ``extract`` contract.

The steps, each in its own module: the mail's own text (quotes, signatures
and disclaimers removed; forwarded minutes kept), its language, its
participants, candidate items by layout (``segment``), owners by how minutes
write them (``owners``), dates resolved against the mail's Date header
(``dates``), and two trained classifiers: one says what each candidate is
(action, decision or neither), one whether the mail is minutes at all.
The rest of mailtrack sees only the dataclasses below, never a spaCy Doc.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from mailtrack.mail.guards import machine_headers
from mailtrack.mail.parsed import ParsedMail
from mailtrack.mail.quotes import trim
from mailtrack.nlp import pipelines
from mailtrack.nlp.dates import due_date, find_dates, fold
from mailtrack.nlp.features import classifier_text, document_context, label_kind, neighbour_marks
from mailtrack.nlp.language import guess_language
from mailtrack.nlp.owners import (
    NOBODY,
    Owners,
    find_owners,
    names_participant,
    strip_lead_in,
)
from mailtrack.nlp.people import (
    Participant,
    PeopleIndex,
    roles_in,
    shared_roles,
    table_initials,
)
from mailtrack.nlp.roles import role_of
from mailtrack.nlp.segment import Candidate, field_kind, segment, without_front_matter

MAIL_SAMPLE = 3000
# Owner rules that name a responsible person outright (not "X will..." in running text).
NAMED_OWNER = frozenset({"table", "explicit", "handle", "label", "enclosed", "trailing"})


@dataclass(frozen=True)
class ExtractedItem:
    number: int
    kind: str
    text: str
    owners: tuple[str, ...]
    external_owner: str | None
    due: date | None
    section: str | None


@dataclass(frozen=True)
class Extraction:
    message_id: str | None
    subject: str
    date: datetime | None
    language: str
    is_minutes: bool
    organizer: str | None
    participants: tuple[Participant, ...]
    items: tuple[ExtractedItem, ...] = field(default=())

    def as_contract(self) -> dict[str, Any]:
        """The JSON of ``mailtrack extract --json`` (see the design's contract)."""
        return {
            "message_id": self.message_id,
            "subject": self.subject,
            "date": self.date.isoformat() if self.date else None,
            "language": self.language,
            "is_minutes": self.is_minutes,
            "organizer": self.organizer,
            "participants": [{"email": p.email, "name": p.name} for p in self.participants],
            "items": [
                {
                    "number": item.number,
                    "kind": item.kind,
                    "text": item.text,
                    "owners": list(item.owners),
                    "external_owner": item.external_owner,
                    "due": item.due.isoformat() if item.due else None,
                    "section": item.section,
                }
                for item in self.items
            ],
        }


@dataclass(frozen=True)
class Prepared:
    """A mail cut into candidates with their features: what both training and extraction use."""

    parsed: ParsedMail
    text: str
    language: str
    reference: date
    people: PeopleIndex
    candidates: tuple[Candidate, ...]
    owners: tuple[Owners, ...]
    item_texts: tuple[str, ...]


def participants_of(parsed: ParsedMail, tracker: str | None) -> tuple[Participant, ...]:
    """From, To and Cc, in that order, without the tracker (or its plus addresses)."""
    seen: list[Participant] = []
    tracker_local, _, tracker_domain = (tracker or "").partition("@")
    for address in parsed.addresses("From", "To", "Cc"):
        local, _, domain = address.email.partition("@")
        if tracker and domain == tracker_domain and local.split("+")[0] == tracker_local:
            continue
        if all(person.email != address.email for person in seen):
            seen.append(Participant(address.email, address.name))
    return tuple(seen)


_TITLE_WORD = re.compile(
    r"\b(?:manager|director|clerk|secretary|coordinator|officer|chair|lead|head|agent|"
    r"administrator|coordinador|coordinadora|jefe|jefa|gerente|directora?|administradora?|"
    r"responsable|encargad[oa])\b"
)
_SIGNATURE_ROLE = re.compile(r"^[^\W\d][\w'’.&\- ]{2,48}$")


def signature_roles(raw: str, name: str) -> list[str]:
    """Roles on the line under the sender's name in the mail's last lines (its signature):
    "Strata Manager | Coastal Strata Management Ltd." gives "Strata Manager"."""
    words = fold(name).split()
    if len(words) < 2:
        return []
    lines = [line.strip() for line in raw[-3000:].splitlines()]
    found = []
    for index, line in enumerate(lines[:-1]):
        if fold(line).strip(" ,.-") != " ".join(words):
            continue
        first = re.split(r"\s*[|,·–—]\s*|\s+-\s+", lines[index + 1])[0].strip()
        if (
            _SIGNATURE_ROLE.match(first)
            and len(first.split()) <= 5
            and (
                role_of(first)
                or role_of(first.split()[-1])  # "Town Clerk, Town of Prairie Bluff"
                or _TITLE_WORD.search(fold(first))
            )
        ):
            found.append(first)
    return found


def prepare(
    parsed: ParsedMail,
    *,
    tracker: str | None,
    default_language: str,
    today: date,
    aliases: Mapping[str, str] | None = None,
) -> Prepared:
    """Everything up to the classifiers, the same for training and for extraction."""
    text = trim(parsed.text, keep_forwarded=True, subject=parsed.subject).text
    language = guess_language(f"{parsed.subject}\n{text}", default_language)
    reference = parsed.date.date() if parsed.date else today
    people = PeopleIndex.build(
        participants_of(parsed, tracker),
        parsed.sender.email if parsed.sender else None,
        aliases,
    )
    for role, email in roles_in(text, people).items():
        people.add_alias(role, email)
    shared_roles(text, people)
    table_initials(text, people)
    if parsed.sender:
        # The signature trimming removed says what the organizer is: "Janet Whitford /
        # Strata Manager | Coastal Strata", "Gloria Zapata / Secretaria": "the Strata
        # Manager will send..." is then the organizer.
        for role in signature_roles(parsed.text, parsed.sender.name):
            people.add_alias(role, parsed.sender.email)
    candidates = tuple(segment(text, person=lambda name: names_participant(name, people)))
    owners = tuple(find_owners(candidate, people) for candidate in candidates)
    context = document_context(candidates)
    neighbours = neighbour_marks(candidates)
    item_texts = tuple(
        classifier_text(
            candidate,
            owner,
            bool(candidate.cells.get("due"))
            or bool(find_dates(candidate.text, reference, language)),
            language,
            context,
            marks,
        )
        for candidate, owner, marks in zip(candidates, owners, neighbours, strict=True)
    )
    return Prepared(parsed, text, language, reference, people, candidates, owners, item_texts)


_FIRST_SINGULAR = re.compile(r"\b(?:i|i'?ll|i'?m|i'?ve|my|yo|mi|mis|me encargo)\b")


def _bucket(count: int, edges: tuple[int, ...]) -> int:
    return sum(1 for edge in edges if count >= edge)


def _mail_shape(prepared: Prepared, sample: str) -> list[str]:
    """How many people the text gives work to, speaks through, and how much ``sample``
    (the start of the text) says "I": minutes spread work over several people; a report
    or a plan is one person's."""
    owned = {email for owners in prepared.owners for email in owners.emails}
    speakers = {candidate.speaker for candidate in prepared.candidates if candidate.speaker}
    words = fold(sample)
    singular = len(_FIRST_SINGULAR.findall(words)) * 100 // max(1, len(words.split()))
    return [
        f"MTOWNEDX{_bucket(len(owned), (1, 2, 3, 5))}",
        f"MTSPEAKERSX{_bucket(len(speakers), (1, 2, 3, 5))}",
        f"MTISINGX{_bucket(singular, (1, 2, 4))}",
        f"MTCANDX{_bucket(len(prepared.candidates), (3, 6, 12, 25))}",
    ]


def mail_text(prepared: Prepared) -> str:
    """What the mail classifier reads: layout summary tokens, the subject, the start of the text.

    Only what is known before classifying items: were item predictions (or, in
    training, gold items) part of it, the model would learn "no items, not
    minutes" from the gold answers and trust item predictions it never saw.
    """
    sections = sorted({candidate.section_kind for candidate in prepared.candidates})
    sample = mail_sample(prepared.text)
    cue_counts: dict[str, int] = {}
    for text in prepared.item_texts:
        for token in text.split():
            if token.startswith(("MTCUE", "MTLABEL", "MTMARK")) and token != "MTLABELNONE":  # noqa: S105
                cue_counts[token] = cue_counts.get(token, 0) + 1
    marks = [
        f"MTLANG{prepared.language.upper()}",
        *(f"MTHASSEC{section.upper().replace('_', '')}" for section in sections),
        *(f"{token}X{min(count, 3)}" for token, count in sorted(cue_counts.items())),
        "MTREPLY" if prepared.parsed.references else "MTNEW",
        *_mail_shape(prepared, sample),
    ]
    subject = prepared.parsed.subject
    if _ANSWER_SUBJECT.match(subject):
        marks.append("MTRESUBJ")
    opening = fold(f"{subject}\n{sample[:400]}")
    # What mail that is not minutes says it is, in its subject or first lines, whatever its
    # words: a reminder of a meeting to come, a notice, a bulletin, a quote.
    marks.extend(f"MTGENRE{name}" for name, pattern in _GENRES if pattern.search(opening))
    # Subject words become features of their own: "acta" in a subject says more than in a body.
    marks.extend(f"SUBJ{word}" for word in re.findall(r"[a-z]+", fold(subject)))
    return " ".join(marks) + " MTBODY " + sample


_GENRES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "REMINDER",
        re.compile(
            r"\b(?:recordatorio|reminder|les recuerdo|os recuerdo|convocatoria|you are invited)\b"
        ),
    ),
    (
        "NOTICE",
        re.compile(r"\b(?:notificacion|notification|notice of|aviso de|comunicado|announcement)\b"),
    ),
    ("BULLETIN", re.compile(r"\b(?:boletin|bulletin|newsletter|digest)\b")),
    (
        "QUOTE",
        re.compile(r"\b(?:presupuesto n|cotizacion n|factura n|invoice|quotation|quote n)"),
    ),
)
_URL = re.compile(r"(?:\bhttps?://|\bwww\.)\S+", re.IGNORECASE)


def mail_sample(text: str) -> str:
    """The start of the text as the mail classifier reads it: after a static-site page's
    YAML header, with each link one ``MTURL`` token. A page of minutes full of links to
    issues reads, word by word, like the notification mails that are not minutes."""
    return _URL.sub(" MTURL ", without_front_matter(text)[: MAIL_SAMPLE * 2])[:MAIL_SAMPLE]


# The mail classifier's gate leans to "not minutes" (models/configs/mail.cfg, chosen by
# cross-validation). Minutes the classifier is less sure of still pass when their items
# stand where minutes put them: under a "Decisions"/"Acuerdos"/"Action items" heading, or
# marked "ACTION:"/"AGREED:".
STRUCTURED_MINUTES = 0.5
_ITEM_HEADINGS = frozenset({"actions", "decisions"})
# ... and so do minutes whose subject says they are: "Acta reunión Comisión Directiva",
# "Minutes - Board meeting 12 May" (not a reply or a forward: "Re: Acta" answers one).
_ANSWER_SUBJECT = re.compile(r"^\s*(?:re|rv|fw|fwd|aw|tr)\s*:", re.IGNORECASE)
_MINUTES_SUBJECT = re.compile(r"\b(?:acta|actas|minutes|minuta|minutas)\b")


def _subject_names_minutes(subject: str) -> bool:
    return not _ANSWER_SUBJECT.match(subject) and bool(_MINUTES_SUBJECT.search(fold(subject)))


def _items_under_their_heading(candidates: tuple[Candidate, ...], kinds: list[str]) -> bool:
    return any(
        kind != "none"
        and (
            candidate.section_kind in _ITEM_HEADINGS
            or label_kind(candidate.label) in ("ACTION", "DECISION")
        )
        for candidate, kind in zip(candidates, kinds, strict=True)
    )


class Extractor:
    """Extracts items from mails with the trained pipelines (loaded once per process)."""

    def __init__(
        self,
        *,
        tracker: str | None,
        default_language: str,
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        self.tracker = tracker
        self.default_language = default_language
        self.aliases = aliases or {}
        self.items_nlp = pipelines.load("items")
        self.mail_nlp = pipelines.load("mail")

    def extract(self, parsed: ParsedMail, today: date, gate: bool = True) -> Extraction:
        """Extract the items of ``parsed``; with ``gate`` (the default), a mail the mail
        classifier finds is not minutes yields none. ``is_minutes`` always says what it found."""
        prepared = prepare(
            parsed,
            tracker=self.tracker,
            default_language=self.default_language,
            today=today,
            aliases=self.aliases,
        )
        kinds = [doc._.mt_kind for doc in self.items_nlp.pipe(prepared.item_texts)]
        mail = self.mail_nlp(mail_text(prepared))
        # Mail a program sent by its headers (RFC 3834 Auto-Submitted, Precedence: bulk):
        # a ticket update or a newsletter that reads like minutes is not minutes (the
        # service's router never takes it for minutes either). A list's copy of minutes
        # ("Precedence: list") is still minutes as a document.
        machine = machine_headers(parsed) not in (None, "Precedence: list")
        is_minutes = not machine and (
            bool(mail._.mt_is_minutes)
            or (
                mail.cats.get("minutes", 0.0) >= STRUCTURED_MINUTES
                and (
                    _subject_names_minutes(parsed.subject)
                    or _items_under_their_heading(prepared.candidates, kinds)
                )
            )
        )
        items: list[ExtractedItem] = []
        if is_minutes or not gate:
            for candidate, owners, predicted in zip(
                prepared.candidates, prepared.owners, kinds, strict=True
            ):
                if predicted == "none" or _attendance_line(candidate.text):
                    # "Present: Deborah Kaplan, Toshiaki Koike, ..." is a field of the
                    # minutes, whatever the classifier makes of its many names.
                    continue
                # Someone named as responsible makes it an action: a decision has no doer.
                named = owners.emails and owners.how in NAMED_OWNER
                kind = "action" if predicted == "decision" and named else predicted
                items.append(self._item(len(items) + 1, candidate, owners, kind, prepared))
        deadline = _deadline_for_all(prepared)
        if deadline:
            # "Antes del domingo dejar finalizadas todas las tareas": the date of every
            # action that names none of its own.
            items = [
                replace(item, due=deadline) if item.kind == "action" and not item.due else item
                for item in items
            ]
        sender = parsed.sender.email if parsed.sender else None
        return Extraction(
            parsed.message_id,
            parsed.subject,
            parsed.date,
            prepared.language,
            is_minutes,
            sender,
            prepared.people.participants,
            tuple(items),
        )

    @staticmethod
    def _item(
        number: int, candidate: Candidate, owners: Owners, kind: str, prepared: Prepared
    ) -> ExtractedItem:
        if kind == "decision":
            owners = NOBODY
        due: date | None = None
        if kind == "action":
            cell = candidate.cells.get("due")
            source = cell if cell else candidate.text
            due = due_date(source, prepared.reference, prepared.language)
        return ExtractedItem(
            number=number,
            kind=kind,
            text=item_text(candidate, owners),
            owners=owners.emails,
            external_owner=owners.external if kind == "action" else None,
            due=due,
            section=candidate.section,
        )


def _attendance_line(text: str) -> bool:
    """A field of who came: "Present: A, B, C", "Apologies: Fr. Liam Doherty"; not
    "Apologies: Kim will send her report" (a sentence after the field name)."""
    return field_kind(text) == "attendance" and (text.count(",") >= 2 or len(text.split()) <= 5)


# A line that sets the date of all the tasks at once.
_ALL_TASKS = re.compile(
    r"\b(?:todas las (?:tareas|acciones)|todos los (?:pendientes|compromisos|encargos)|"
    r"all (?:the |of the |our )?(?:tasks|actions|action items|open actions))\b|"
    # "Tener todo para el lunes", "Have everything done by Friday": everything, not "todo el
    # stand" or "everything for the inspection", which is one task
    r"^(?:intentar )?(?:tener|dejar|terminar|acabar|entregar) todo"
    r"(?: (?:listo|hecho|terminado|preparado|cerrado|entregado))? (?:para|antes)\b|"
    r"^(?:try to )?(?:have|get|finish) everything(?: (?:done|ready|finished|delivered))? "
    r"(?:by|before)\b"
)


def _deadline_for_all(prepared: Prepared) -> date | None:
    """The date a line gives every task ("all actions to be completed by Friday"), if any."""
    for candidate in prepared.candidates:
        if candidate.group or candidate.speaker:
            continue  # "Luis:" / "- Tener todo listo para el lunes": Luis's, not everyone's
        if _ALL_TASKS.search(fold(candidate.text)):
            # only a deadline ("antes del domingo", "by Friday"), never the date of a
            # meeting ("review of all open actions from the 20 April meeting")
            cued = [
                mention
                for mention in find_dates(candidate.text, prepared.reference, prepared.language)
                if mention.cued
            ]
            if cued:
                return cued[-1].value
    return None


def item_text(candidate: Candidate, owners: Owners) -> str:
    """The item as people will read it in their request: without lead-ins or an owner label."""
    text = strip_lead_in(candidate.text)
    if owners.how == "label":
        text = re.sub(r"^[^:–—-]{1,60}?(?::|\s[-–—]\s)\s*", "", text, count=1)
    text = text.strip(" *_")
    # "Juan: reiniciar el servidor" is asked as "Reiniciar el servidor", a sentence of its own.
    return text[:1].upper() + text[1:]
