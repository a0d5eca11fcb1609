"""Processing archived mail: route it, hand it to its handler, record the outcome. Never stop.

Each mail is processed in its own transaction: the route, the handler's
writes and the "processed" mark commit together or not at all. Before that
transaction, the attempt is counted in a transaction of its own, so a mail
that kills the process (a parser bug, memory exhausted) is not retried
forever: after ``max_attempts`` it is parked for a human, like Mailman's shunt
queue, and the mails after it go on. A mail whose handling raises is kept
with its error and retried later with a growing delay.

Several workers may process the same database. Counting the attempt is also
the claim: one conditional UPDATE gives the mail to one worker
(``claimed_by``) until ``next_attempt_at``, and a second worker's UPDATE finds
the condition false (PostgreSQL re-checks it on the row the first one
committed). The handling transaction locks the row first and goes on only if
the claim is still its own, so a worker whose claim ran out can never record
a mail another worker has taken. A claim whose worker is known dead (this
process before a crash, or a process of this host that is gone) is taken back
at once instead of waiting for it to run out. Mail of one thread keeps its order: a mail
whose Message-ID or References name an earlier mail still waiting (a reply
to minutes not recorded yet, a second copy of the same mail) waits for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mailtrack.clock import Clock
from mailtrack.cluster.identity import INBOUND_IN_FLIGHT, dead_local, worker_name
from mailtrack.config import Config, TrackerConfig
from mailtrack.db.models import AuditEvent, InboundMessage, MessageState
from mailtrack.errors import MailtrackError
from mailtrack.handlers import HandlerContext, Handlers
from mailtrack.handlers.router import Decision, route
from mailtrack.ingest.archive import RawArchive
from mailtrack.mail.parsed import ParsedMail

log = logging.getLogger(__name__)

RETRY_BASE = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=6)
# A conflict with another worker (both created the same row, a deadlock) is over
# as soon as the other commits: try again soon rather than in a minute.
RETRY_CONFLICT = timedelta(seconds=2)
# How long a mail waits when an earlier mail of its thread is still being handled.
WAIT_FOR_EARLIER = timedelta(seconds=1)
WAITING = (MessageState.RECEIVED, MessageState.FAILED)
# PostgreSQL's "could not serialize" and "deadlock detected".
CONFLICT_STATES = frozenset({"40001", "40P01"})


class UnknownMailboxError(MailtrackError):
    """Raised when archived mail came from a mailbox the configuration no longer has."""


@dataclass(frozen=True)
class Outcome:
    inbound_id: int
    message_id: str | None
    state: MessageState
    route: str | None
    reason: str | None


class Processor:
    """Routes and handles archived mail, one transaction per mail."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        archive: RawArchive,
        config: Config,
        clock: Clock,
        handlers: Handlers | None = None,
        max_attempts: int = 5,
        *,
        holder: str | None = None,
        claim_ttl: timedelta | None = None,
        trackers: Mapping[str, TrackerConfig] | None = None,
    ) -> None:
        self.sessions = sessions
        self.archive = archive
        self.config = config
        self.clock = clock
        self.handlers = handlers or {}
        self.max_attempts = max_attempts
        self.holder = holder or worker_name()
        self.claim_ttl = claim_ttl or config.processing.claim_ttl
        # The tracker of each mail source, by the source's name (InboundMessage.mailbox).
        self.trackers = dict(trackers or {})
        # Called before each mail: the worker renews its leases there during long backlogs.
        self.before_each: Callable[[], None] | None = None
        self._dead: tuple[float, set[str]] = (0.0, set())

    def _available(self, now: datetime, claiming: int | None = None) -> ColumnElement[bool]:
        """Waiting mail nobody handles now: new, due for a retry, or claimed by a try that died.

        A claim is in flight while ``claimed_by`` is set on waiting mail (a failure
        or a wait clears it). This process's own claims not in flight, and claims
        of dead processes of this host, are taken back without waiting
        (``claiming``: the row this very call is about to claim, in flight already).
        """
        in_flight = [row for row in INBOUND_IN_FLIGHT.ids() if row != claiming]
        return and_(
            InboundMessage.state.in_(WAITING),
            or_(
                InboundMessage.next_attempt_at.is_(None),
                InboundMessage.next_attempt_at <= now,
                and_(
                    InboundMessage.claimed_by == self.holder,
                    InboundMessage.id.not_in(in_flight),
                ),
                InboundMessage.claimed_by.in_(self._dead_holders()),
            ),
        )

    def _dead_holders(self) -> list[str]:
        """Workers of this host that died with mail in hand; looked up every few seconds."""
        checked, dead = self._dead
        if time.monotonic() - checked > 10:
            with self.sessions() as session:
                dead = set(
                    dead_local(
                        session.scalars(
                            select(InboundMessage.claimed_by)
                            .where(
                                InboundMessage.state.in_(WAITING),
                                InboundMessage.claimed_by.is_not(None),
                            )
                            .distinct()
                        )
                    )
                )
            self._dead = (time.monotonic(), dead)
        return sorted(dead)

    def due(self, limit: int = 100) -> list[int]:
        """Ids of mail waiting for processing, oldest first: new or failed, and not claimed now."""
        now = self.clock.now()
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(InboundMessage.id)
                    .where(self._available(now))
                    .order_by(InboundMessage.id)
                    .limit(limit)
                )
            )

    def tracker_of(self, row: InboundMessage) -> TrackerConfig:
        """The tracker of the mailbox ``row`` came in through.

        Raises UnknownMailboxError for mail of a mailbox no longer configured,
        unless there is only one: then it is that one (its source may have been
        renamed, say a new IMAP host name).
        """
        tracker = self.trackers.get(row.mailbox)
        if tracker is not None:
            return tracker
        if len(self.config.mailboxes) <= 1:
            return self.config.tracker
        raise UnknownMailboxError(
            f"mail from {row.mailbox}, which no configured mailbox reads any more"
        )

    def process_one(self, inbound_id: int) -> Outcome | None:
        """Process one mail; returns what happened, or None if it was not ours to process now."""
        if self.before_each is not None:
            self.before_each()
        with INBOUND_IN_FLIGHT.holding([inbound_id]):
            return self._process_claimed(inbound_id)

    def _process_claimed(self, inbound_id: int) -> Outcome | None:
        claimed = self._claim(inbound_id)
        if claimed is None:
            return None
        if isinstance(claimed, Outcome):
            return claimed
        try:
            with self.sessions.begin() as session:
                # Lock the row for the whole handling: a worker whose claim expired
                # meanwhile and tries to take it again waits here, then finds it done.
                row = session.get(InboundMessage, inbound_id, with_for_update=True)
                assert row is not None  # claimed above; rows are never deleted
                if row.claimed_by != self.holder or row.state not in WAITING:
                    log.warning("inbound #%d: claim lost to %s, skipped", row.id, row.claimed_by)
                    return None
                parsed = ParsedMail.from_bytes(self.archive.load(row.raw_path))
                earlier = self._earlier_in_thread(session, row, parsed)
                if earlier is not None:
                    # Not an attempt: give the claim back and come back shortly.
                    row.attempts -= 1
                    row.claimed_by = None
                    row.next_attempt_at = self.clock.now() + WAIT_FOR_EARLIER
                    log.debug("inbound #%d waits for inbound #%d of its thread", row.id, earlier)
                    return None
                tracker = self.tracker_of(row)
                decision = route(session, row, parsed, tracker)
                handler = self.handlers.get(decision.route)
                if handler is not None:
                    handler(
                        HandlerContext(
                            session, row, parsed, decision, self.config, self.clock, tracker
                        )
                    )
                self._mark_processed(session, row, decision)
                outcome = Outcome(
                    row.id, row.message_id, row.state, decision.route, decision.reason
                )
        except Exception as error:  # the loop must survive any one mail
            return self._record_failure(inbound_id, error)
        log.info(
            "inbound #%d %s routed %s: %s",
            outcome.inbound_id,
            outcome.message_id,
            outcome.route,
            outcome.reason,
        )
        return outcome

    def _earlier_in_thread(
        self, session: Session, row: InboundMessage, parsed: ParsedMail
    ) -> int | None:
        """An earlier mail this one depends on that is still waiting, or None.

        Its own Message-ID (a second copy) or one it references (the minutes a
        correction or reply is about). Sequential processing meets them in
        order anyway; several workers may not.
        """
        keys = {key for key in (parsed.message_id, *parsed.references) if key}
        if not keys:
            return None
        return session.scalar(
            select(InboundMessage.id)
            .where(
                InboundMessage.message_id.in_(keys),
                InboundMessage.id < row.id,
                InboundMessage.state.in_(WAITING),
            )
            .limit(1)
        )

    def _claim(self, inbound_id: int) -> bool | Outcome | None:
        """Count the attempt before trying: a mail that crashes the process still gets parked.

        One UPDATE in its own small transaction (this runs for every mail). It is
        also the claim: the mail is this worker's until ``now + claim_ttl``.
        """
        now = self.clock.now()
        with self.sessions.begin() as session:
            attempts = session.scalar(
                update(InboundMessage)
                .where(InboundMessage.id == inbound_id, self._available(now, inbound_id))
                .values(
                    attempts=InboundMessage.attempts + 1,
                    next_attempt_at=now + self.claim_ttl,
                    claimed_by=self.holder,
                )
                .returning(InboundMessage.attempts)
                .execution_options(synchronize_session=False)
            )
            if attempts is None:
                return None
            if attempts <= self.max_attempts:
                return True
            row = session.get(InboundMessage, inbound_id)
            assert row is not None
            row.attempts = attempts - 1
            row.state = MessageState.PARKED
            row.next_attempt_at = None
            row.last_error = row.last_error or (
                f"the process stopped {row.attempts} times while handling this mail"
            )
            self._audit(session, row, "inbound.parked", {"error": row.last_error})
            log.error("inbound #%d %s parked: %s", row.id, row.message_id, row.last_error)
            return Outcome(row.id, row.message_id, row.state, None, row.last_error)

    def _mark_processed(self, session: Session, row: InboundMessage, decision: Decision) -> None:
        row.route = decision.route
        row.route_reason = decision.reason[:2000]
        row.state = MessageState.PROCESSED
        row.processed_at = self.clock.now()
        row.last_error = None
        row.next_attempt_at = None
        self._audit(
            session,
            row,
            f"inbound.{decision.route.value}",
            {"rule": decision.rule, "reason": decision.reason[:500]},
        )

    def _record_failure(self, inbound_id: int, error: Exception) -> Outcome | None:
        description = f"{type(error).__name__}: {error}"[:2000]
        with self.sessions.begin() as session:
            row = session.get(InboundMessage, inbound_id, with_for_update=True)
            assert row is not None
            if row.claimed_by != self.holder or row.state not in WAITING:
                return None  # another worker has it now; its outcome is the one that counts
            row.last_error = description
            row.claimed_by = None  # in flight no more: what waits now is the retry time
            if row.attempts >= self.max_attempts:
                row.state = MessageState.PARKED
                row.next_attempt_at = None
                self._audit(session, row, "inbound.parked", {"error": description[:500]})
                log.error(
                    "inbound #%d %s parked after %d attempts: %s",
                    row.id,
                    row.message_id,
                    row.attempts,
                    description,
                )
            else:
                row.state = MessageState.FAILED
                base = RETRY_CONFLICT if is_conflict(error) else RETRY_BASE
                delay = min(base * 2 ** (row.attempts - 1), RETRY_MAX)
                row.next_attempt_at = self.clock.now() + delay
                log.warning(
                    "inbound #%d %s failed (attempt %d, retry in %s): %s",
                    row.id,
                    row.message_id,
                    row.attempts,
                    delay,
                    description,
                )
            return Outcome(row.id, row.message_id, row.state, None, description)

    def _audit(
        self, session: Session, row: InboundMessage, kind: str, detail: dict[str, object]
    ) -> None:
        session.add(
            AuditEvent(
                at=self.clock.now(),
                kind=kind,
                inbound_message_id=row.id,
                message_id=row.message_id,
                detail=detail,
            )
        )


def is_conflict(error: BaseException) -> bool:
    """Whether ``error`` is a clash with another worker's transaction, which a retry resolves."""
    if isinstance(error, IntegrityError):
        return True
    state = getattr(getattr(error, "orig", None), "sqlstate", None)
    return isinstance(error, DBAPIError) and state in CONFLICT_STATES


def unpark(sessions: sessionmaker[Session], ids: list[int] | None) -> list[int]:
    """Give parked mail (all of it when ``ids`` is None) a fresh set of attempts."""
    with sessions.begin() as session:
        query = select(InboundMessage).where(InboundMessage.state == MessageState.PARKED)
        if ids is not None:
            query = query.where(InboundMessage.id.in_(ids))
        rows = list(session.scalars(query))
        for row in rows:
            row.state = MessageState.RECEIVED
            row.attempts = 0
            row.next_attempt_at = None
            session.add(
                AuditEvent(
                    kind="inbound.unparked",
                    inbound_message_id=row.id,
                    message_id=row.message_id,
                    detail={"last_error": (row.last_error or "")[:500]},
                )
            )
        return [row.id for row in rows]
