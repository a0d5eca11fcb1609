"""Flushing the outbox: deliver due mail, retry what the relay refused for now, give up on refusals.

Each row is marked in its own transaction right after its own delivery, before
the next mail of the batch goes out, so a crash can resend only the one mail
whose "250" had not been recorded yet. A 4xx
or a network failure is retried with growing delays up to ``max_attempts``;
a 5xx is final: the row is marked failed and, for a request, its person
becomes undeliverable, which the organizer sees in status and digest.

Rows are claimed before they are sent (:func:`~mailtrack.outbound.outbox.claim`),
so several workers flushing the same outbox never send one row twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from mailtrack.clock import Clock
from mailtrack.cluster.identity import OUTBOX_IN_FLIGHT, dead_local, worker_name
from mailtrack.confirmations import mark_undeliverable
from mailtrack.db.models import ConfirmationRequest, OutboxKind, OutboxMessage, OutboxStatus
from mailtrack.mail.addressing import redact
from mailtrack.outbound.mailers import Delivery, Mailer, Outgoing
from mailtrack.outbound.outbox import (
    claim,
    claim_holders,
    extend_claim,
    release_claim,
    retry_delay,
)

log = logging.getLogger(__name__)


@dataclass
class Flushed:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    details: list[str] = field(default_factory=list)
    more: bool = False  # the budget ran out with due mail possibly left


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
        *,
        holder: str | None = None,
        claim_ttl: timedelta = timedelta(minutes=2),
    ) -> None:
        self.sessions = sessions
        self.mailer = mailer
        self.clock = clock
        self.max_attempts = max_attempts
        self.retry_after = retry_after
        self.batch = batch
        # Several workers share the outbox: a batch is claimed under this name for
        # claim_ttl, extended after each mail (so it need only cover one delivery),
        # and the batch stops if another worker took the rest meanwhile.
        self.holder = holder or worker_name()
        self.claim_ttl = claim_ttl
        # Called after each mail (the worker renews its mailbox leases there).
        self.before_each: Callable[[], None] | None = None

    def flush(self, budget: float | None = None) -> Flushed:
        """Send everything due now (in batches), and return what happened.

        With ``budget`` (seconds), no new batch is claimed once it is spent: a
        worker's loop must come back to its mailbox leases during a long backlog;
        what is left is sent at its next turn (or by another worker).
        """
        result = Flushed()
        deadline = None if budget is None else time.monotonic() + budget
        with self.sessions() as session:
            dead = dead_local(claim_holders(session))
        while True:
            with self.sessions.begin() as session:
                ids = claim(
                    session,
                    self.clock.now(),
                    self.holder,
                    self.claim_ttl,
                    self.batch,
                    in_flight=OUTBOX_IN_FLIGHT.ids(),
                    dead=dead,
                )
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
            with OUTBOX_IN_FLIGHT.holding(ids):
                self._send(outgoing, result)
            if len(outgoing) < self.batch:
                return result
            if deadline is not None and time.monotonic() >= deadline:
                result.more = True
                return result

    def _send(self, outgoing: list[tuple[int, Outgoing]], result: Flushed) -> None:
        """Deliver one batch, recording each outcome as soon as the mailer reports it."""
        recorded: set[int] = set()

        def record(index: int, delivery: Delivery) -> bool:
            row_id, message = outgoing[index]
            self._record(row_id, message, delivery, result)
            recorded.add(index)
            rest = [row for row, _ in outgoing[index + 1 :]]
            if rest:
                # Before the next mail goes out, make sure the rest are still ours and keep
                # a whole claim ahead of it. A relay slow enough to outlast the claim may
                # have let another worker take them: sending on would send them twice.
                now = self.clock.now()
                with self.sessions.begin() as session:
                    kept = extend_claim(session, rest, now, self.holder, self.claim_ttl)
                    if kept < len(rest):
                        release_claim(session, rest, now, self.holder)
                if kept < len(rest):
                    log.warning(
                        "outbox claim ran out during a slow delivery; %d mail(s) left to "
                        "whoever holds them now",
                        len(rest),
                    )
                    return False
            if self.before_each is not None:
                self.before_each()
            return True

        deliveries = self.mailer.send_many([message for _, message in outgoing], on_delivery=record)
        # Outcomes returned without being reported one by one (the relay could not be
        # reached at all) are recorded now. A batch stopped early has fewer outcomes.
        for index, ((row_id, message), delivery) in enumerate(
            zip(outgoing, deliveries, strict=False)
        ):
            if index not in recorded:
                self._record(row_id, message, delivery, result)

    def _record(self, row_id: int, message: Outgoing, delivery: Delivery, result: Flushed) -> None:
        now = self.clock.now()
        with self.sessions.begin() as session:
            row = session.get(OutboxMessage, row_id, with_for_update=True)
            if row is None or row.status != OutboxStatus.PENDING:
                return
            if row.claimed_by != self.holder:
                # Our claim ran out and another worker took the row: its outcome counts.
                log.warning(
                    "%s %s: claim lost to %s", row.kind.value, row.message_id, row.claimed_by
                )
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
                row.claimed_by = None  # not in flight: what waits now is the retry time
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
