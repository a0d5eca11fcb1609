"""The written record of a meeting: who agreed to what, when, and the mail that proves it.

``mailtrack export MEETING`` renders, from the database alone, the meeting
(subject, date, organizer, participants, revisions), each item (kind, text,
owners, due, when it was added or withdrawn) and, per person, the trail:
requested, reminded, answered, state, reason, the reply text as received,
its Message-ID and the SHA-256 of the archived raw mail, which
``mailtrack archive verify`` can check against the archive at any time.

Markdown and HTML come from templates (HTML escaped: everything in it came
from mail); PDF is WeasyPrint rendering that HTML with a URL fetcher that
fetches nothing, so a record never loads remote content.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailtrack.db.models import (
    Confirmation,
    ConfirmationRequest,
    InboundMessage,
    Item,
    Meeting,
    MeetingRevision,
    Response,
)
from mailtrack.errors import MailtrackError
from mailtrack.ingest.archive import RawArchive
from mailtrack.mail.compose import environment
from mailtrack.status import local_time


class ExportError(MailtrackError):
    """Raised when the meeting to export does not exist or the output cannot be written."""


@dataclass
class Trail:
    person: str
    name: str
    state: str
    requested_at: datetime | None
    reminded_at: datetime | None
    answered_at: datetime | None
    reason: str | None
    reply_text: str | None
    reply_message_id: str | None
    raw_sha256: str | None
    verified_sender: bool | None


@dataclass
class RecordItem:
    number: int
    kind: str
    text: str
    owners: list[str]
    external_owner: str | None
    due: str | None
    revision_added: int
    revision_removed: int | None
    trails: list[Trail] = field(default_factory=list)


@dataclass
class Record:
    id: int
    subject: str
    date: datetime
    organizer: str
    language: str
    participants: list[tuple[str, str]]
    revisions: list[dict[str, Any]]
    items: list[RecordItem]
    generated_at: datetime


def build_record(session: Session, meeting_id: int, now: datetime) -> Record:
    """Everything the record says, read from the database. Raises ExportError when unknown."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise ExportError(f"no meeting #{meeting_id} (see `mailtrack status`)")
    revisions = []
    for revision in session.scalars(
        select(MeetingRevision)
        .where(MeetingRevision.meeting_id == meeting.id)
        .order_by(MeetingRevision.number)
    ):
        inbound = (
            session.get(InboundMessage, revision.inbound_message_id)
            if revision.inbound_message_id
            else None
        )
        revisions.append(
            {
                "number": revision.number,
                "date": local_time(revision.date, meeting.utc_offset),
                "message_id": revision.message_id,
                "subject": revision.subject,
                "sha256": inbound.sha256 if inbound else None,
            }
        )
    items = []
    for item in session.scalars(
        select(Item).where(Item.meeting_id == meeting.id).order_by(Item.id)
    ):
        record_item = RecordItem(
            number=item.number,
            kind=item.kind.value,
            text=item.text,
            owners=[owner.email for owner in item.owners],
            external_owner=item.external_owner,
            due=item.due.isoformat() if item.due else None,
            revision_added=item.revision_added,
            revision_removed=item.revision_removed,
        )
        for confirmation in session.scalars(
            select(Confirmation).where(Confirmation.item_id == item.id).order_by(Confirmation.id)
        ):
            record_item.trails.append(_trail(session, confirmation))
        items.append(record_item)
    items.sort(key=lambda entry: (entry.revision_removed is not None, entry.number))
    return Record(
        id=meeting.id,
        subject=meeting.subject,
        date=local_time(meeting.date, meeting.utc_offset),
        organizer=meeting.organizer.email,
        language=meeting.language,
        participants=[
            (p.person.email, p.name or p.person.display_name or "") for p in meeting.participants
        ],
        revisions=revisions,
        items=items,
        generated_at=now,
    )


def _trail(session: Session, confirmation: Confirmation) -> Trail:
    request = (
        session.get(ConfirmationRequest, confirmation.request_id)
        if confirmation.request_id
        else None
    )
    response: Response | None = confirmation.response
    inbound = (
        session.get(InboundMessage, response.inbound_message_id)
        if response and response.inbound_message_id
        else None
    )
    person = confirmation.person
    return Trail(
        person=person.email,
        name=person.display_name or "",
        state=confirmation.state.value,
        requested_at=request.sent_at or request.created_at if request else None,
        reminded_at=request.reminded_at if request else None,
        answered_at=response.received_at if response else None,
        reason=confirmation.reason,
        reply_text=response.reply_text if response else None,
        reply_message_id=response.reply_message_id if response else None,
        raw_sha256=inbound.sha256 if inbound else None,
        verified_sender=response.verified_sender if response else None,
    )


def render(record: Record, fmt: str) -> str:
    """The record as Markdown ("md") or HTML ("html")."""
    template = environment().get_template(f"export/record.{fmt}.j2")
    return template.render(record=record, es=record.language == "es")


def render_pdf(record: Record) -> bytes:
    """The HTML record printed to PDF by WeasyPrint; nothing is fetched from anywhere."""
    from weasyprint import HTML

    def refuse(url: str, *_: Any, **__: Any) -> dict[str, Any]:
        raise ValueError(f"the record loads no external resource ({url[:60]})")

    document = HTML(string=render(record, "html"), url_fetcher=refuse, base_url=None)
    pdf: bytes = document.write_pdf()
    return pdf


def copy_raw(session: Session, archive: RawArchive, record: Record, folder: Path) -> list[Path]:
    """Write the archived raw mails the record cites beside it, named by their SHA-256."""
    folder.mkdir(parents=True, exist_ok=True)
    hashes = {revision["sha256"] for revision in record.revisions if revision["sha256"]}
    hashes |= {
        trail.raw_sha256 for item in record.items for trail in item.trails if trail.raw_sha256
    }
    written = []
    for row in session.scalars(select(InboundMessage).where(InboundMessage.sha256.in_(hashes))):
        target = folder / f"{row.sha256}.eml"
        shutil.copyfile(archive.data_dir / row.raw_path, target)
        written.append(target)
    return sorted(written)


@dataclass
class Verification:
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.changed)


def verify_archive(session: Session, archive: RawArchive) -> Verification:
    """Re-hash every archived mail; report files that are missing or no longer match their hash."""
    result = Verification()
    for row in session.execute(
        select(InboundMessage.id, InboundMessage.sha256, InboundMessage.raw_path)
    ):
        result.checked += 1
        path = archive.data_dir / row.raw_path
        try:
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except FileNotFoundError:
            result.missing.append(f"#{row.id} {row.raw_path}")
            continue
        if digest.hexdigest() != row.sha256:
            result.changed.append(f"#{row.id} {row.raw_path}")
    return result
