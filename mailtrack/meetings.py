"""Meetings, their revisions, participants and items, written from an extraction.

A meeting is the thread of its minutes. The first minutes create it;
corrected minutes in the same thread add a revision, compared item by item
with the current ones by a fingerprint of what a person confirms (kind,
text, owners, due date): an unchanged item stays the same row and keeps its
confirmations, a changed or new item is a new row to confirm, and an item
that is gone is marked removed in this revision.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailtrack.db.models import (
    InboundMessage,
    Item,
    ItemKind,
    Meeting,
    MeetingRevision,
    Participant,
    ParticipantRole,
    Person,
)
from mailtrack.db.upsert import insert_ignore
from mailtrack.mail.parsed import ParsedMail
from mailtrack.nlp.dates import fold
from mailtrack.nlp.extract import ExtractedItem, Extraction


def get_person(session: Session, email: str, name: str | None = None) -> Person:
    """The person with this address, created on first sight; display names are remembered.

    Created with an insert that yields to a concurrent one: two workers reading
    minutes with the same new participant both end up with the same row.
    """
    email = email.strip().lower()
    person = session.scalars(select(Person).where(Person.email == email)).one_or_none()
    if person is None:
        insert_ignore(
            session, Person, email=email, display_name=name or None, names=[name] if name else []
        )
        person = session.scalars(select(Person).where(Person.email == email)).one()
    if name and name not in (person.names or []):
        person.names = [*(person.names or []), name][-10:]
        person.display_name = person.display_name or name
    return person


def fingerprint(kind: str, text: str, owners: tuple[str, ...], due: object) -> str:
    """What a person confirms, reduced to a hash: the same item says the same thing."""
    words = " ".join(re.findall(r"\w+", fold(text)))
    key = "|".join([kind, words, ",".join(sorted(owners)), str(due or "")])
    return hashlib.sha256(key.encode()).hexdigest()


def item_fingerprint(item: ExtractedItem) -> str:
    return fingerprint(item.kind, item.text, item.owners, item.due)


def is_tracker(address: str, tracker: str) -> bool:
    """The tracker's own address, or a plus address of it."""
    local, _, domain = address.lower().partition("@")
    tracker_local, _, tracker_domain = tracker.lower().partition("@")
    return domain == tracker_domain and local.split("+")[0] == tracker_local


def _participants(
    session: Session,
    meeting: Meeting,
    parsed: ParsedMail,
    extraction: Extraction,
    other_trackers: Sequence[str] = (),
) -> None:
    roles: dict[str, ParticipantRole] = {}
    for header, role in (("Cc", ParticipantRole.CC), ("To", ParticipantRole.TO)):
        for address in parsed.addresses(header):
            roles[address.email] = role
    if extraction.organizer:
        roles[extraction.organizer] = ParticipantRole.ORGANIZER
    existing = {p.person.email for p in meeting.participants}
    for participant in extraction.participants:
        # No tracker is ever a participant (this one, or another mailbox of the same
        # deployment copied on the minutes): it would be asked to confirm.
        if participant.email in existing or any(
            is_tracker(participant.email, tracker) for tracker in (meeting.tracker, *other_trackers)
        ):
            continue
        person = get_person(session, participant.email, participant.name)
        session.add(
            Participant(
                meeting=meeting,
                person_id=person.id,
                role=roles.get(participant.email, ParticipantRole.CC),
                name=participant.name or None,
            )
        )


def _offset(moment: datetime | None) -> str | None:
    if moment is None or moment.utcoffset() is None:
        return None
    text = moment.strftime("%z")
    return f"{text[:3]}:{text[3:]}"


def _add_item(
    session: Session, meeting: Meeting, item: ExtractedItem, number: int, revision: int
) -> Item:
    owners = [get_person(session, email) for email in item.owners]
    row = Item(
        meeting=meeting,
        number=number,
        kind=ItemKind(item.kind),
        text=item.text,
        external_owner=item.external_owner,
        due=item.due,
        section=item.section,
        fingerprint=item_fingerprint(item),
        revision_added=revision,
        owners=owners,
    )
    session.add(row)
    return row


def create_meeting(
    session: Session,
    tracker: str,
    row: InboundMessage,
    parsed: ParsedMail,
    extraction: Extraction,
    now: datetime,
    other_trackers: Sequence[str] = (),
) -> Meeting:
    """A new meeting (revision 1) with its participants and items."""
    organizer = get_person(session, extraction.organizer or "unknown@invalid", None)
    message_id = parsed.message_id or f"<inbound-{row.id}@mailtrack.invalid>"
    meeting = Meeting(
        tracker=tracker,
        thread_key=message_id,
        subject=parsed.subject[:998] or "(sin asunto)",
        organizer_id=organizer.id,
        language=extraction.language,
        date=parsed.date or now,
        utc_offset=_offset(parsed.date),
        revision=1,
        created_at=now,
        updated_at=now,
    )
    session.add(meeting)
    session.flush()
    session.add(
        MeetingRevision(
            meeting_id=meeting.id,
            number=1,
            inbound_message_id=row.id,
            message_id=message_id,
            subject=meeting.subject,
            date=meeting.date,
            language=meeting.language,
            created_at=now,
        )
    )
    _participants(session, meeting, parsed, extraction, other_trackers)
    for number, item in enumerate(extraction.items, start=1):
        _add_item(session, meeting, item, number, 1)
    session.flush()
    return meeting


@dataclass
class RevisionChange:
    """What a corrected version changed."""

    revision: int
    added: list[Item] = field(default_factory=list)
    kept: list[Item] = field(default_factory=list)
    removed: list[Item] = field(default_factory=list)


def add_revision(
    session: Session,
    meeting: Meeting,
    row: InboundMessage,
    parsed: ParsedMail,
    extraction: Extraction,
    now: datetime,
    other_trackers: Sequence[str] = (),
) -> RevisionChange:
    """Record corrected minutes as the next revision and say which items changed."""
    number = meeting.revision + 1
    change = RevisionChange(number)
    message_id = parsed.message_id or f"<inbound-{row.id}@mailtrack.invalid>"
    session.add(
        MeetingRevision(
            meeting_id=meeting.id,
            number=number,
            inbound_message_id=row.id,
            message_id=message_id,
            subject=parsed.subject[:998] or meeting.subject,
            date=parsed.date or now,
            language=extraction.language,
            created_at=now,
        )
    )
    _participants(session, meeting, parsed, extraction, other_trackers)
    current = list(
        session.scalars(
            select(Item).where(Item.meeting_id == meeting.id, Item.revision_removed.is_(None))
        )
    )
    unmatched = {item.fingerprint: item for item in current}
    for position, extracted in enumerate(extraction.items, start=1):
        same = unmatched.pop(item_fingerprint(extracted), None)
        if same is not None:
            same.number = position
            change.kept.append(same)
        else:
            change.added.append(_add_item(session, meeting, extracted, position, number))
    for gone in unmatched.values():
        gone.revision_removed = number
        change.removed.append(gone)
    meeting.revision = number
    meeting.language = extraction.language
    meeting.updated_at = now
    session.flush()
    return change
