"""The archiving step: raw bytes to the archive, a row per mail, the checkpoint, one transaction.

Order matters for never losing a mail: the raw files are written and flushed
first, then one database transaction inserts the rows and advances the
checkpoint. A crash before the commit leaves files the retry rewrites in
place (same bytes, same path) and a checkpoint that still points before the
batch, so the batch is fetched again. A crash after the commit leaves nothing
to redo. Mail already archived (same SHA-256, or after a UIDVALIDITY change
the same Message-ID and sender) is not inserted twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mailtrack.clock import Clock
from mailtrack.db.models import InboundMessage, MailboxCheckpoint
from mailtrack.ingest.archive import RawArchive
from mailtrack.ingest.source import Batch, Checkpoint
from mailtrack.mail.parsed import ParsedMail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Archived:
    """What one batch added: the new rows' ids, and every ref now safely stored."""

    new_ids: list[int]
    refs: list[str]
    duplicates: int


def load_checkpoint(session: Session, mailbox: str, folder: str) -> Checkpoint | None:
    row = session.scalars(
        select(MailboxCheckpoint).where(
            MailboxCheckpoint.mailbox == mailbox, MailboxCheckpoint.folder == folder
        )
    ).one_or_none()
    if row is None or row.uidvalidity is None:
        return None
    return Checkpoint(folder, row.uidvalidity, row.last_uid)


def known_refs(session: Session, mailbox: str) -> set[str]:
    """References already archived from ``mailbox`` (a Maildir source skips these)."""
    return set(
        session.scalars(select(InboundMessage.source_ref).where(InboundMessage.mailbox == mailbox))
    )


class Archiver:
    """Stores batches from one source."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        archive: RawArchive,
        mailbox: str,
        clock: Clock,
        guard: Callable[[Session], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.archive = archive
        self.mailbox = mailbox
        self.clock = clock
        # Runs first in each batch's transaction and raises to refuse the batch: with
        # several workers, it checks this one still holds the mailbox's lease.
        self.guard = guard

    def store(self, batch: Batch) -> Archived:
        """Archive every mail of ``batch`` and advance its checkpoint, all or nothing.

        Raises ArchiveError (disk) or a database error; then nothing was committed.
        """
        stored = [(mail, self.archive.store(mail.raw)) for mail in batch.mails]
        new_ids: list[int] = []
        duplicates = 0
        with self.sessions.begin() as session:
            if self.guard is not None:
                self.guard(session)
            hashes = {item.sha256 for _, item in stored}
            seen_hashes = (
                set(
                    session.scalars(
                        select(InboundMessage.sha256).where(InboundMessage.sha256.in_(hashes))
                    )
                )
                if hashes
                else set()
            )
            refs = {mail.ref for mail, _ in stored}
            seen_refs = (
                set(
                    session.scalars(
                        select(InboundMessage.source_ref).where(
                            InboundMessage.mailbox == self.mailbox,
                            InboundMessage.source_ref.in_(refs),
                        )
                    )
                )
                if refs
                else set()
            )
            rows: list[InboundMessage] = []
            for mail, item in stored:
                parsed = ParsedMail.headers_only(mail.raw)
                message_id = parsed.message_id
                if item.sha256 in seen_hashes or mail.ref in seen_refs:
                    duplicates += 1
                    continue
                if batch.rescan and message_id and self._seen_message(session, parsed):
                    duplicates += 1
                    continue
                seen_hashes.add(item.sha256)
                sender = parsed.sender
                rows.append(
                    InboundMessage(
                        sha256=item.sha256,
                        raw_path=item.path,
                        size=item.size,
                        mailbox=self.mailbox,
                        source_ref=mail.ref,
                        message_id=message_id,
                        from_address=sender.email[:320] if sender else None,
                        subject=parsed.subject[:998],
                        header_date=parsed.date,
                        received_at=self.clock.now(),
                    )
                )
            session.add_all(rows)
            if batch.checkpoint is not None:
                self._advance(session, batch.checkpoint)
            session.flush()
            new_ids = [row.id for row in rows]
        if duplicates:
            log.info("%s: %d mail(s) already archived, skipped", self.mailbox, duplicates)
        return Archived(new_ids, [mail.ref for mail in batch.mails], duplicates)

    def _seen_message(self, session: Session, parsed: ParsedMail) -> bool:
        sender = parsed.sender.email if parsed.sender else None
        found = session.scalars(
            select(InboundMessage.id).where(
                InboundMessage.mailbox == self.mailbox,
                InboundMessage.message_id == parsed.message_id,
                InboundMessage.from_address == sender,
            )
        ).first()
        return found is not None

    def _advance(self, session: Session, checkpoint: Checkpoint) -> None:
        row = session.scalars(
            select(MailboxCheckpoint).where(
                MailboxCheckpoint.mailbox == self.mailbox,
                MailboxCheckpoint.folder == checkpoint.folder,
            )
        ).one_or_none()
        if row is None:
            row = MailboxCheckpoint(mailbox=self.mailbox, folder=checkpoint.folder, last_uid=0)
            session.add(row)
        if row.uidvalidity != checkpoint.uidvalidity:
            row.uidvalidity = checkpoint.uidvalidity
            row.last_uid = 0
        row.last_uid = max(row.last_uid or 0, checkpoint.last_uid)
        row.updated_at = self.clock.now()
