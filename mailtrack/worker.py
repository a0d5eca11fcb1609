"""The service loop: fetch and archive, process, wait for mail; survive every failure it can.

One cycle archives whatever the source has (one transaction per batch),
processes what is waiting, then waits: IMAP IDLE, or a poll. A dead
connection, an unreachable database or a full disk is logged and retried
with exponential backoff and full jitter (so many workers do not retry in
step); nothing is committed halfway, so nothing is lost meanwhile. With
``once`` the same work is done a single time and any such failure ends the
run with a clear error instead.

A stop request (SIGTERM, SIGINT) is honoured between mails: the mail in hand
is finished and committed first.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mailtrack.db.models import InboundMessage, MessageState
from mailtrack.errors import DatabaseError, MailSourceError, describe
from mailtrack.ingest.archive import ArchiveError
from mailtrack.ingest.source import MailSource
from mailtrack.ingest.store import Archiver, known_refs, load_checkpoint
from mailtrack.processing import Outcome, Processor

log = logging.getLogger(__name__)

RECOVERABLE: tuple[type[BaseException], ...] = (
    MailSourceError,
    ArchiveError,
    DatabaseError,
    OperationalError,
)


@dataclass
class Backoff:
    """Exponential backoff with full jitter: wait a random time up to base * 2^n, capped."""

    base: float = 1.0
    cap: float = 300.0
    failures: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * 2**self.failures)
        self.failures += 1
        return self.rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.failures = 0


@dataclass
class Summary:
    """What a run did, for the CLI and the tests."""

    archived: int = 0
    duplicates: int = 0
    processed: int = 0
    failed: int = 0
    parked: int = 0
    routes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: Outcome) -> None:
        if outcome.state == MessageState.PROCESSED:
            self.processed += 1
            key = outcome.route or "?"
            self.routes[key] = self.routes.get(key, 0) + 1
        elif outcome.state == MessageState.PARKED:
            self.parked += 1
        else:
            self.failed += 1


class Service:
    """Runs one mail source through archiving and processing."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        source: MailSource,
        archiver: Archiver,
        processor: Processor,
        folder: str = "INBOX",
        wait_timeout: float = 600.0,
        after_cycle: Callable[[], None] | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.sessions = sessions
        self.source = source
        self.archiver = archiver
        self.processor = processor
        self.folder = folder
        self.wait_timeout = wait_timeout
        self.after_cycle = after_cycle
        self.backoff = backoff or Backoff()
        self.summary = Summary()
        # A Node processes in its own loop, within a time budget, so that a long
        # backlog never keeps it from its leases: its readers only archive.
        self.process_inline = True
        self._open = False

    def run(self, stop: threading.Event, once: bool = False) -> Summary:
        """Loop until ``stop`` is set (or one pass with ``once``)."""
        try:
            while not stop.is_set():
                try:
                    self._ensure_open()
                    self.cycle(stop)
                    self.backoff.reset()
                    if once:
                        break
                    self.source.wait(self.wait_timeout, stop)
                except RECOVERABLE as error:
                    if once:
                        raise
                    self._close()
                    delay = self.backoff.next_delay()
                    log.warning("%s; retrying in %.1f s", describe(error), delay)
                    stop.wait(delay)
        finally:
            self._close()
        return self.summary

    def _ensure_open(self) -> None:
        if not self._open:
            self.source.open()
            self._open = True

    def _close(self) -> None:
        if self._open:
            self.source.close()
            self._open = False

    def cycle(self, stop: threading.Event) -> None:
        """Archive everything new, then process everything due, then the after-cycle work."""
        with self.sessions() as session:
            checkpoint = load_checkpoint(session, self.source.name, self.folder)
            known = known_refs(session, self.source.name) if checkpoint is None else set()
        for batch in self.source.fetch(checkpoint, known):
            archived = self.archiver.store(batch)
            self.source.committed(archived.refs)
            self.summary.archived += len(archived.new_ids)
            self.summary.duplicates += archived.duplicates
            if self.process_inline:
                self.process_due(stop)
            if stop.is_set():
                return
        if self.process_inline:
            self.process_due(stop)
        if self.after_cycle is not None and not stop.is_set():
            self.after_cycle()

    def process_due(self, stop: threading.Event) -> None:
        while not stop.is_set():
            due = self.processor.due()
            if not due:
                return
            done: list[int] = []
            for inbound_id in due:
                if stop.is_set():
                    break
                outcome = self.processor.process_one(inbound_id)
                if outcome is not None:
                    self.summary.count(outcome)
                    if outcome.state == MessageState.PROCESSED:
                        done.append(inbound_id)
            self._release(done)

    def _release(self, inbound_ids: list[int]) -> None:
        """Tell the source which mails are fully handled (it may move them away)."""
        if not inbound_ids:
            return
        with self.sessions() as session:
            refs = list(
                session.scalars(
                    select(InboundMessage.source_ref).where(
                        InboundMessage.id.in_(inbound_ids),
                        InboundMessage.mailbox == self.source.name,
                    )
                )
            )
        self.source.processed(refs)
