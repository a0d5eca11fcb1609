"""Reminders: after ``reminder_after``, at most ``max_reminders``, only for what is still pending.

A reminder goes in the request's thread with its own Message-ID
(``<mt.TOKEN.rN@...>``), listing the pending items with the numbers the
person first saw. Its outbox row and the request's counter are written in
one transaction, and the Message-ID is unique, so a crash cannot send the
same reminder twice. Someone away until a date is reminded after it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mailtrack.config import Config
from mailtrack.confirmations import entries_of, pending_positions
from mailtrack.db.models import AuditEvent, ConfirmationRequest, OutboxKind, RequestState
from mailtrack.outbound.messages import Sending, reminder_mail
from mailtrack.outbound.outbox import enqueue


def due_reminders(session: Session, config: Config, now: datetime) -> list[int]:
    """Ids of requests whose next reminder is due."""
    policy = config.confirmations
    if policy.max_reminders == 0:
        return []
    candidates = session.scalars(
        select(ConfirmationRequest).where(
            ConfirmationRequest.state == RequestState.PENDING,
            ConfirmationRequest.sent_at.is_not(None),
            ConfirmationRequest.reminder_count < policy.max_reminders,
        )
    )
    today = now.astimezone(config.tracker.timezone).date()
    ready = []
    for request in candidates:
        last = request.reminded_at or request.sent_at
        assert last is not None
        if now - last < policy.reminder_after:
            continue
        if request.away_until is not None and request.away_until >= today:
            continue
        ready.append(request.id)
    return ready


def send_reminders(sessions: sessionmaker[Session], config: Config, now: datetime) -> int:
    """Write the due reminders to the outbox, each in its own transaction; returns how many."""
    with sessions() as session:
        ids = due_reminders(session, config, now)
    written = 0
    for request_id in ids:
        with sessions.begin() as session:
            request = session.get(ConfirmationRequest, request_id)
            if request is None or request.state != RequestState.PENDING:
                continue
            pending = set(pending_positions(session, request))
            entries = [
                (position, item)
                for position, item in entries_of(session, request)
                if position in pending
            ]
            if not entries:
                continue
            number = request.reminder_count + 1
            composed = reminder_mail(Sending(config.tracker, now), request, entries, number)
            enqueue(session, composed, OutboxKind.REMINDER, now, request.id)
            request.reminder_count = number
            request.reminded_at = now
            session.add(
                AuditEvent(
                    at=now,
                    kind="request.reminded",
                    meeting_id=request.meeting_id,
                    person_id=request.person_id,
                    message_id=composed.message_id,
                    detail={"reminder": number, "pending": sorted(pending)},
                )
            )
            written += 1
    return written
