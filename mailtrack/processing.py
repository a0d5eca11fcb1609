"""Processing archived mail: route it, hand it to its handler, record the outcome. Never stop.

Each mail is processed in its own transaction: the route, the handler's
writes and the "processed" mark commit together or not at all. Before that
transaction, the attempt is counted in a transaction of its own, so a mail
that kills the process (a parser bug, memory exhausted) is not retried
forever: after ``max_attempts`` it is parked for a human, like Mailman's shunt
queue, and the mails after it go on. A mail whose handling raises is kept
with its error and retried later with a growing delay.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from mailtrack.clock import Clock
from mailtrack.config import Config
from mailtrack.db.models import AuditEvent, InboundMessage, MessageState
from mailtrack.handlers import HandlerContext, Handlers
from mailtrack.handlers.router import Decision, route
from mailtrack.ingest.archive import RawArchive
from mailtrack.mail.parsed import ParsedMail

log = logging.getLogger(__name__)

RETRY_BASE = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=6)


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
    ) -> None:
        self.sessions = sessions
        self.archive = archive
        self.config = config
        self.clock = clock
        self.handlers = handlers or {}
        self.max_attempts = max_attempts

    def due(self, limit: int = 100) -> list[int]:
        """Ids of mail waiting for processing: new, or failed and due for a retry, oldest first."""
        now = self.clock.now()
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(InboundMessage.id)
                    .where(
                        or_(
                            InboundMessage.state == MessageState.RECEIVED,
                            (InboundMessage.state == MessageState.FAILED)
                            & (InboundMessage.next_attempt_at <= now),
                        )
                    )
                    .order_by(InboundMessage.id)
                    .limit(limit)
                )
            )

    def process_one(self, inbound_id: int) -> Outcome | None:
        """Process one mail; returns what happened, or None if it was not waiting any more."""
        claimed = self._claim(inbound_id)
        if claimed is None:
            return None
        if isinstance(claimed, Outcome):
            return claimed
        try:
            with self.sessions.begin() as session:
                row = session.get(InboundMessage, inbound_id)
                assert row is not None  # claimed above; rows are never deleted
                parsed = ParsedMail.from_bytes(self.archive.load(row.raw_path))
                decision = route(session, row, parsed, self.config.tracker)
                handler = self.handlers.get(decision.route)
                if handler is not None:
                    handler(HandlerContext(session, row, parsed, decision, self.config, self.clock))
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

    def _claim(self, inbound_id: int) -> bool | Outcome | None:
        """Count the attempt before trying: a mail that crashes the process still gets parked.

        One UPDATE in its own small transaction (this runs for every mail).
        """
        waiting = (MessageState.RECEIVED, MessageState.FAILED)
        with self.sessions.begin() as session:
            attempts = session.scalar(
                update(InboundMessage)
                .where(InboundMessage.id == inbound_id, InboundMessage.state.in_(waiting))
                .values(attempts=InboundMessage.attempts + 1)
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

    def _record_failure(self, inbound_id: int, error: Exception) -> Outcome:
        description = f"{type(error).__name__}: {error}"[:2000]
        with self.sessions.begin() as session:
            row = session.get(InboundMessage, inbound_id)
            assert row is not None
            row.last_error = description
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
                delay = min(RETRY_BASE * 2 ** (row.attempts - 1), RETRY_MAX)
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
