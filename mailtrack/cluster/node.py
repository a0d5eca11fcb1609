"""The loop of one ``mailtrack run`` process: the mailboxes it holds, and any work that waits.

A process reads only the mailboxes whose lease it holds (see
:mod:`mailtrack.cluster.leases`), but processes any mail waiting in the
database, whoever archived it, and delivers any due mail of the outbox: the
work spreads over every process, the reading of each mailbox stays with one.
With one process and one mailbox (the embedded default) it is the same loop.

All database work happens on this thread. Waiting for new mail (IMAP IDLE, a
Maildir poll) happens on one small thread per held mailbox, which only waits
on its own connection and wakes this loop; the loop never touches a mailbox's
connection while its waiter runs. Between waits the loop wakes every
``poll_interval`` to take work other processes left in the database, renews
its leases every third of their time to live (also between mails, during a
long backlog), and sends reminders and digests every ``scheduled_every``.

During a backlog the loop goes round without sleeping, but processing and
sending each stop after ``poll_interval`` (a *turn*) so that the loop comes back
to the leases: a worker busy with shared work still takes over a mailbox whose
holder died as soon as its lease lapses, and a holder archives new mail of its
mailboxes at every turn (its readers only archive; processing is shared work).

A failing mailbox (server down, login refused) is retried with backoff on its
own while the others go on; a failing database pauses everything with
backoff. A stop request is honoured between mails; the leases are released
on the way out, so another process takes the mailboxes over at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mailtrack.clock import Clock
from mailtrack.cluster.leases import LeaseLostError, Leases
from mailtrack.config import MailboxConfig
from mailtrack.db.models import InboundMessage, MessageState
from mailtrack.errors import DatabaseError, MailSourceError
from mailtrack.ingest.archive import ArchiveError
from mailtrack.processing import Processor
from mailtrack.worker import Backoff, Service, Summary

log = logging.getLogger(__name__)

# A mailbox that fails on its own: the others go on.
MAILBOX_ERRORS: tuple[type[BaseException], ...] = (MailSourceError, ArchiveError, IntegrityError)
# The database itself: everything waits.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (DatabaseError, OperationalError)


class Chores(Protocol):
    """What the loop does besides mail: deliver the outbox; now and then reminders and digests."""

    def flush(self, budget: float | None = None) -> bool:
        """Deliver the outbox's due mail, for about ``budget`` seconds; True if some is left."""

    def scheduled(self) -> None:
        """Write due reminders and today's digests to the outbox."""

    def hook(self, before_each: Callable[[], None]) -> None:
        """Call ``before_each`` before each mail delivered (the loop renews its leases there)."""


@dataclass
class Reader:
    """One configured mailbox as this process sees it."""

    config: MailboxConfig
    service: Service
    held: bool = False
    lost: bool = False
    opened: bool = False
    waiter: threading.Thread | None = None
    interrupt: threading.Event = field(default_factory=threading.Event)
    wait_error: BaseException | None = None
    retry_at: float = 0.0
    backoff: Backoff = field(default_factory=Backoff)
    released_until: datetime | None = None

    @property
    def name(self) -> str:
        """The source's name: the lease and the archived rows are keyed by it."""
        return self.service.source.name

    @property
    def address(self) -> str:
        return self.config.tracker.address or self.name

    @property
    def waiting(self) -> bool:
        return self.waiter is not None and self.waiter.is_alive()


class Node:
    """Runs the mailboxes this process holds and the shared work, until stopped."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        clock: Clock,
        readers: list[Reader],
        processor: Processor,
        leases: Leases,
        housekeeping: Chores | None = None,
        poll_interval: float = 2.0,
        scheduled_every: float = 30.0,
        wait_timeout: float = 600.0,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.readers = readers
        self.processor = processor
        self.leases = leases
        self.housekeeping = housekeeping
        self.poll_interval = poll_interval
        self.scheduled_every = scheduled_every
        self.wait_timeout = wait_timeout
        self.renew_every = leases.ttl.total_seconds() / 3
        self.summary = Summary()
        self.wake = threading.Event()
        self.backoff = Backoff()
        self._renewed = 0.0
        self._scheduled = 0.0
        self._present = True
        for reader in readers:
            reader.service.summary = self.summary
            reader.service.process_inline = False
            reader.service.archiver.guard = self._fence(reader)
        processor.before_each = self.heartbeat
        if housekeeping is not None:
            housekeeping.hook(self.heartbeat)

    # -- the loop -------------------------------------------------------------------------

    def run(self, stop: threading.Event, once: bool = False) -> Summary:
        """Loop until ``stop`` is set; with ``once``, one pass over everything, then return."""
        log.info(
            "worker %s starting: %d mailbox(es), lease %s s, poll every %s s",
            self.leases.holder, len(self.readers), self.leases.ttl.total_seconds(),
            self.poll_interval,
        )  # fmt: skip
        # A one-off run takes what is free but is not counted among the workers that
        # share the mailboxes: they would hand it mailboxes it is about to give back.
        self._present = not once
        turn = None if once else self.poll_interval
        try:
            while not stop.is_set():
                try:
                    self._leases(once)
                    self._read(stop, once)
                    busy = self._process(stop, turn)
                    busy = self._housekeep(once, turn) or busy
                    self.backoff.reset()
                except DATABASE_ERRORS as error:
                    if once:
                        raise
                    delay = self.backoff.next_delay()
                    log.warning("database: %s; retrying in %.1f s", error, delay)
                    self._sleep(stop, delay)
                    continue
                if once:
                    break
                if busy:
                    continue  # more work waits: round again, without sleeping
                self._start_waiters()
                self._sleep(stop, self._next_wake())
        finally:
            self._shutdown()
        return self.summary

    def heartbeat(self) -> None:
        """Renew leases and presence when a third of their time has passed (cheap otherwise)."""
        if time.monotonic() - self._renewed < self.renew_every:
            return
        self._renewed = time.monotonic()
        held = [reader for reader in self.readers if reader.held and not reader.lost]
        kept = self.leases.renew(reader.name for reader in held)
        for reader in held:
            if reader.name not in kept:
                log.warning("lost the lease of mailbox %s to another worker", reader.address)
                reader.lost = True
        if self._present:
            self.leases.heartbeat()

    def _leases(self, once: bool) -> None:
        """Renew, drop what was lost, take free mailboxes up to a fair share (all with once)."""
        self.heartbeat()
        for reader in self.readers:
            if reader.lost:
                self._drop(reader)
        free = [reader for reader in self.readers if not reader.held]
        share = len(self.readers) if once else self.leases.fair_share(len(self.readers))
        if free:
            now = self.clock.now()
            states = self.leases.states(reader.name for reader in free)
            for reader in free:
                if sum(r.held for r in self.readers) >= share:
                    break
                state = states.get(reader.name)
                if state is not None and state.live(now) and state.holder != self.leases.holder:
                    if once:
                        log.warning(
                            "mailbox %s is read by worker %s now: not read by this run",
                            reader.address, state.holder,
                        )  # fmt: skip
                    continue
                taken = self.leases.acquire(reader.name)
                if taken is not None:
                    reader.held, reader.lost = True, False
                    log.info(
                        "reading mailbox %s (lease generation %d)", reader.address, taken.generation
                    )
        held = [reader for reader in self.readers if reader.held]
        if not once and len(held) > share:
            # A new worker joined: hand one mailbox over (it takes it at its next tick).
            reader = held[-1]
            log.info("handing mailbox %s over to another worker", reader.address)
            self._drop(reader)
            self.leases.release([reader.name])

    def _read(self, stop: threading.Event, once: bool) -> None:
        """Archive new mail of every held mailbox whose waiter has returned."""
        for reader in self.readers:
            if stop.is_set():
                return
            if not reader.held or reader.lost or reader.waiting:
                continue
            self._collect_waiter(reader)
            if reader.wait_error is None and time.monotonic() < reader.retry_at:
                continue
            try:
                if reader.wait_error is not None:
                    error, reader.wait_error = reader.wait_error, None
                    raise error
                if not reader.opened:
                    reader.service.source.open()
                    reader.opened = True
                reader.service.cycle(stop)
                self._release_processed(reader)
                reader.backoff.reset()
            except LeaseLostError as error:
                log.warning("%s", error)
                self._drop(reader)
            except MAILBOX_ERRORS as error:
                if once:
                    raise
                self._close(reader)
                delay = reader.backoff.next_delay()
                reader.retry_at = time.monotonic() + delay
                log.warning("mailbox %s: %s; retrying in %.1f s", reader.address, error, delay)

    def _process(self, stop: threading.Event, turn: float | None) -> bool:
        """Handle mail waiting in the database, whichever process archived it.

        Everything with ``turn`` None; else until ``turn`` seconds are spent, and
        then True if mail may still be waiting.
        """
        deadline = None if turn is None else time.monotonic() + turn
        while not stop.is_set():
            due = self.processor.due()
            if not due:
                return False
            for inbound_id in due:
                if stop.is_set():
                    return False
                if deadline is not None and time.monotonic() >= deadline:
                    return True
                outcome = self.processor.process_one(inbound_id)
                if outcome is not None:
                    self.summary.count(outcome)
        return False

    def _housekeep(self, once: bool, turn: float | None) -> bool:
        """Reminders and digests when due, then the outbox; True if mail is left to send."""
        if self.housekeeping is None:
            return False
        if once or time.monotonic() - self._scheduled >= self.scheduled_every:
            self._scheduled = time.monotonic()
            self.housekeeping.scheduled()
        return self.housekeeping.flush(turn)

    # -- waiting ----------------------------------------------------------------------------

    def _start_waiters(self) -> None:
        for reader in self.readers:
            if not reader.held or not reader.opened or reader.waiting or reader.lost:
                continue
            self._collect_waiter(reader)
            reader.interrupt.clear()
            timeout = self.wait_timeout
            imap = reader.config.imap
            if imap is not None and imap.processed_folder:
                timeout = min(timeout, 30.0)  # come back to move what others processed
            reader.waiter = threading.Thread(
                target=self._wait,
                args=(reader, timeout),
                name=f"wait {reader.address}",
                daemon=True,
            )
            reader.waiter.start()

    def _wait(self, reader: Reader, timeout: float) -> None:
        try:
            reader.service.source.wait(timeout, reader.interrupt)
        except BaseException as error:  # handed to the loop, which decides
            reader.wait_error = error
        finally:
            self.wake.set()

    def _collect_waiter(self, reader: Reader) -> None:
        if reader.waiter is not None and not reader.waiter.is_alive():
            reader.waiter.join()
            reader.waiter = None

    def _next_wake(self) -> float:
        delays = [self.poll_interval, max(0.05, self.renew_every - self._since(self._renewed))]
        now = time.monotonic()
        delays.extend(
            reader.retry_at - now
            for reader in self.readers
            if reader.held and reader.retry_at > now
        )
        return max(0.05, min(delays))

    @staticmethod
    def _since(moment: float) -> float:
        return time.monotonic() - moment

    def _sleep(self, stop: threading.Event, seconds: float) -> None:
        """Wait ``seconds``, or less when a mailbox has news or ``stop`` is set."""
        deadline = time.monotonic() + seconds
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.wake.wait(min(remaining, 0.5)):
                break
        self.wake.clear()

    # -- mailboxes ---------------------------------------------------------------------------

    def _fence(self, reader: Reader) -> Callable[[Session], None]:
        def guard(session: Session) -> None:
            self.leases.fence(session, reader.name)

        return guard

    def _release_processed(self, reader: Reader) -> None:
        """Move mail that other nodes processed: the reader releases only what it processed itself."""
        imap = reader.config.imap
        if imap is None or not imap.processed_folder:
            return
        now = self.clock.now()
        with self.sessions() as session:
            query = select(InboundMessage.source_ref).where(
                InboundMessage.mailbox == reader.name,
                InboundMessage.state == MessageState.PROCESSED,
            )
            if reader.released_until is not None:
                # Clocks of several machines differ a little: look back a minute more.
                since = reader.released_until - timedelta(minutes=1)
                query = query.where(InboundMessage.processed_at >= since)
            refs = list(session.scalars(query))
        reader.released_until = now
        if refs:
            reader.service.source.processed(refs)

    def _close(self, reader: Reader) -> None:
        reader.interrupt.set()
        if reader.waiter is not None:
            reader.waiter.join(timeout=5)
            reader.waiter = None
        if reader.opened:
            reader.service.source.close()
            reader.opened = False

    def _drop(self, reader: Reader) -> None:
        """Stop reading a mailbox this process no longer holds."""
        self._close(reader)
        reader.held = reader.lost = False
        reader.wait_error = None

    def _shutdown(self) -> None:
        held = [reader.name for reader in self.readers if reader.held and not reader.lost]
        for reader in self.readers:
            self._close(reader)
        try:
            self.leases.release(held)
            if self._present:
                self.leases.leave()
        except DATABASE_ERRORS as error:
            log.warning(
                "could not release the mailbox leases (they lapse by themselves): %s", error
            )
        log.info("worker %s stopped", self.leases.holder)
