"""Flushing the outbox: deliver due mail, retry what the relay refused for now, give up on refusals.

Each row is marked in its own transaction right after its own delivery, before
the next mail of the batch goes out, so a crash can resend only the one mail
whose "250" had not been recorded yet. A 4xx
or a network failure is retried with growing delays up to ``max_attempts``;
a 5xx is final: the row is marked failed and, for a request, its person
becomes undeliverable, which the organizer sees in status and digest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from mailtrack.clock import Clock
from mailtrack.confirmations import mark_undeliverable
from mailtrack.db.models import ConfirmationRequest, OutboxKind, OutboxMessage, OutboxStatus
from mailtrack.mail.addressing import redact
from mailtrack.outbound.mailers import Delivery, Mailer, Outgoing
from mailtrack.outbound.outbox import due, retry_delay

log = logging.getLogger(__name__)


@dataclass
class Flushed:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    details: list[str] = field(default_factory=list)


class Sender:
    """Delivers the outbox through a mailer."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        mailer: Mailer,
        clock: Clock,
        max_attempts: int = 10,
        retry_after: timedelta = timedelta(minutes=1),
        batch: int = 50,
    ) -> None:
        self.sessions = sessions
        self.mailer = mailer
        self.clock = clock
        self.max_attempts = max_attempts
        self.retry_after = retry_after
        self.batch = batch

    def flush(self) -> Flushed:
        """Send everything due now (in batches), and return what happened."""
        result = Flushed()
        while True:
            with self.sessions() as session:
                ids = due(session, self.clock.now(), self.batch)
                rows = [session.get(OutboxMessage, row_id) for row_id in ids]
                outgoing = [
                    (
                        row.id,
                        Outgoing(row.message_id, row.envelope_from, tuple(row.recipients), row.raw),
                    )
                    for row in rows
                    if row is not None
                ]
            if not outgoing:
                return result
            self._send(outgoing, result)
            if len(outgoing) < self.batch:
                return result

    def _send(self, outgoing: list[tuple[int, Outgoing]], result: Flushed) -> None:
        """Deliver one batch, recording each outcome as soon as the mailer reports it."""
        recorded: set[int] = set()

        def record(index: int, delivery: Delivery) -> None:
            row_id, message = outgoing[index]
            self._record(row_id, message, delivery, result)
            recorded.add(index)

        deliveries = self.mailer.send_many([message for _, message in outgoing], on_delivery=record)
        # Outcomes returned without being reported one by one (the relay could not be
        # reached at all) are recorded now.
        for index, ((row_id, message), delivery) in enumerate(
            zip(outgoing, deliveries, strict=True)
        ):
            if index not in recorded:
                self._record(row_id, message, delivery, result)

    def _record(self, row_id: int, message: Outgoing, delivery: Delivery, result: Flushed) -> None:
        now = self.clock.now()
        with self.sessions.begin() as session:
            row = session.get(OutboxMessage, row_id)
            if row is None or row.status != OutboxStatus.PENDING:
                return
            row.attempts += 1
            if delivery.status == "sent":
                row.status = OutboxStatus.SENT
                row.sent_at = now
                row.last_error = delivery.detail[:2000] if delivery.refused else None
                result.sent += 1
                if row.request_id is not None and row.kind in (
                    OutboxKind.REQUEST,
                    OutboxKind.REMINDER,
                ):
                    request = session.get(ConfirmationRequest, row.request_id)
                    if request is not None and request.sent_at is None:
                        request.sent_at = now
                log.info(
                    "sent %s %s to %d recipient(s)",
                    row.kind.value,
                    redact(message.message_id),
                    len(message.recipients),
                )
                return
            row.last_error = delivery.detail[:2000]
            if delivery.status == "retry" and row.attempts < self.max_attempts:
                row.next_attempt_at = now + retry_delay(row.attempts, self.retry_after)
                result.retrying += 1
                log.warning(
                    "%s %s not sent (attempt %d), retrying at %s: %s",
                    row.kind.value,
                    redact(message.message_id),
                    row.attempts,
                    row.next_attempt_at,
                    redact(delivery.detail),
                )
                return
            row.status = OutboxStatus.FAILED
            result.failed += 1
            result.details.append(f"{message.message_id}: {delivery.detail}")
            log.error(
                "%s %s failed for good: %s",
                row.kind.value,
                redact(message.message_id),
                redact(delivery.detail),
            )
            if row.request_id is not None and row.kind == OutboxKind.REQUEST:
                request = session.get(ConfirmationRequest, row.request_id)
                if request is not None:
                    mark_undeliverable(session, request, f"relay refused: {delivery.detail}", now)
