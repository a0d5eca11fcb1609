"""The mails mailtrack writes: requests, reminders, receipts and notices, from database rows.

Each function turns rows into the context its template needs and composes
the message; the caller writes it to the outbox in its own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from mailtrack.config import TrackerConfig
from mailtrack.db.models import ConfirmationRequest, Item, ItemKind, Meeting, Person
from mailtrack.mail.addressing import (
    bounce_address,
    other_message_id,
    reply_address,
    request_message_id,
)
from mailtrack.mail.compose import Composed, clean, compose, person_address
from mailtrack.status import local_time

KIND_LABELS = {
    "es": {ItemKind.ACTION: "Acción", ItemKind.DECISION: "Decisión"},
    "en": {ItemKind.ACTION: "Action", ItemKind.DECISION: "Decision"},
}
STATE_LABELS = {
    "es": {"confirmed": "confirmado", "rejected": "rechazado", "unclear": "sin aclarar"},
    "en": {"confirmed": "confirmed", "rejected": "rejected", "unclear": "unclear"},
}


def _date(value: date | datetime | None, language: str) -> str:
    if value is None:
        return ""
    day = value.date() if isinstance(value, datetime) else value
    return day.strftime("%d/%m/%Y") if language == "es" else day.strftime("%b %d, %Y")


def _name(person: Person) -> str:
    return clean(person.display_name or person.email.partition("@")[0], 80)


def first_name(person: Person) -> str:
    """How our mails greet ``person``: the first word of their name, else their address."""
    name = _name(person)
    return name.split()[0] if name and "@" not in name else name


def item_lines(entries: Sequence[tuple[int, Item]], language: str) -> list[dict[str, Any]]:
    """Template rows: the position the person sees, kind, text, owners, due."""
    return [
        {
            "position": position,
            "kind_label": KIND_LABELS[language][item.kind],
            "text": clean(item.text, 600),
            "owners": ", ".join(_name(owner) for owner in item.owners)
            or (item.external_owner or ""),
            "due": _date(item.due, language),
        }
        for position, item in entries
    ]


def _meeting_context(meeting: Meeting, language: str) -> dict[str, Any]:
    organizer = meeting.organizer
    return {
        "meeting_subject": clean(meeting.subject, 200),
        "meeting_date": _date(local_time(meeting.date, meeting.utc_offset), language),
        "organizer": f"{_name(organizer)} <{organizer.email}>",
        "organizer_name": _name(organizer),
    }


@dataclass(frozen=True)
class Sending:
    """Where a message goes and who it comes from."""

    tracker: TrackerConfig
    now: datetime


def request_mail(
    sending: Sending,
    request: ConfirmationRequest,
    entries: Sequence[tuple[int, Item]],
    withdrawn: Sequence[Item] = (),
) -> Composed:
    """The request asking one person to confirm their items of one meeting revision."""
    meeting, person = request.meeting, request.person
    language = meeting.language
    tracker = sending.tracker
    context = {
        **_meeting_context(meeting, language),
        "person_name": first_name(person),
        "items": item_lines(entries, language),
        "withdrawn": [clean(item.text, 300) for item in withdrawn],
        "revision": request.revision,
        "ref": request.ref,
    }
    references = (meeting.thread_key,)
    return compose(
        purpose="request",
        language=language,
        context=context,
        tracker_name=tracker.name,
        tracker_address=tracker.address,
        to=person_address(person.display_name, person.email),
        message_id=request.message_id,
        date=sending.now,
        envelope_from=bounce_address(tracker.address, request.token),
        reply_to=reply_address(tracker.address, request.token),
        in_reply_to=meeting.thread_key,
        references=references,
    )


def reminder_mail(
    sending: Sending, request: ConfirmationRequest, entries: Sequence[tuple[int, Item]], number: int
) -> Composed:
    """The n-th reminder of a request, in its thread, listing what is still pending."""
    meeting, person = request.meeting, request.person
    tracker = sending.tracker
    context = {
        **_meeting_context(meeting, meeting.language),
        "person_name": first_name(person),
        "items": item_lines(entries, meeting.language),
        "ref": request.ref,
    }
    return compose(
        purpose="reminder",
        language=meeting.language,
        context=context,
        tracker_name=tracker.name,
        tracker_address=tracker.address,
        to=person_address(person.display_name, person.email),
        message_id=request_message_id(tracker.address, request.token, number),
        date=sending.now,
        envelope_from=bounce_address(tracker.address, request.token),
        reply_to=reply_address(tracker.address, request.token),
        in_reply_to=request.message_id,
        references=(meeting.thread_key, request.message_id),
    )


@dataclass(frozen=True)
class RecordedLine:
    position: int
    state: str
    reason: str | None
    text: str


def receipt_mail(
    sending: Sending,
    request: ConfirmationRequest,
    recorded: Sequence[RecordedLine],
    pending: Sequence[int],
    unclear: bool,
    reply_message_id: str | None,
) -> Composed:
    """The short receipt saying what was recorded from a reply and what is still pending."""
    meeting, person = request.meeting, request.person
    language = meeting.language
    tracker = sending.tracker
    context = {
        **_meeting_context(meeting, language),
        "person_name": first_name(person),
        "unclear": unclear,
        "recorded": [
            {
                "position": line.position,
                "state_label": STATE_LABELS[language].get(line.state, line.state),
                "reason": clean(line.reason or "", 200),
                "text": clean(line.text, 200),
            }
            for line in recorded
        ],
        "pending": [str(position) for position in pending],
        "ref": request.ref,
    }
    return compose(
        purpose="receipt",
        language=language,
        context=context,
        tracker_name=tracker.name,
        tracker_address=tracker.address,
        to=person_address(person.display_name, person.email),
        message_id=other_message_id(tracker.address),
        date=sending.now,
        reply_to=reply_address(tracker.address, request.token),
        in_reply_to=reply_message_id or request.message_id,
        references=tuple(ref for ref in (request.message_id, reply_message_id) if ref),
    )


def notice_mail(
    sending: Sending,
    meeting: Meeting,
    title: str,
    lines: Sequence[str],
) -> Composed:
    """A notice to the meeting's organizer (a bounce, a reply from another address...)."""
    organizer = meeting.organizer
    tracker = sending.tracker
    context = {
        **_meeting_context(meeting, meeting.language),
        "person_name": first_name(organizer),
        "title": clean(title, 200),
        "lines": [clean(line, 500) for line in lines],
    }
    return compose(
        purpose="notice",
        language=meeting.language,
        context=context,
        tracker_name=tracker.name,
        tracker_address=tracker.address,
        to=person_address(organizer.display_name, organizer.email),
        message_id=other_message_id(tracker.address),
        date=sending.now,
        in_reply_to=meeting.thread_key,
        references=(meeting.thread_key,),
    )
