"""Reminders: after ``reminder_after``, at most ``max_reminders``, only for what is still pending.

A reminder goes in the request's thread with its own Message-ID
(``<mt.TOKEN.rN@...>``), listing the pending items with the numbers the
person first saw. Its outbox row and the request's counter are written in
one transaction, and the Message-ID is unique, so a crash cannot send the
same reminder twice. Someone away until a date is reminded after it.

Several workers may look for due reminders at once: each locks the request
row and checks again that the reminder is still due before writing it, so
the second finds the first's count and writes nothing (and should two ever
race past that, the unique Message-ID refuses the second).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mailtrack.config import Config
from mailtrack.confirmations import entries_of, pending_positions
from mailtrack.db.models import (
    AuditEvent,
    ConfirmationRequest,
    Meeting,
    OutboxKind,
    RequestState,
)
from mailtrack.outbound.messages import Sending, reminder_mail
from mailtrack.outbound.outbox import enqueue

log = logging.getLogger(__name__)


def due_reminders(session: Session, config: Config, now: datetime) -> list[int]:
    """Ids of requests whose next reminder is due."""
    policy = config.confirmations
    if policy.max_reminders == 0:
        return []
    candidates = session.execute(
        select(ConfirmationRequest, Meeting.tracker)
        .join(Meeting, Meeting.id == ConfirmationRequest.meeting_id)
        .where(
            ConfirmationRequest.state == RequestState.PENDING,
            ConfirmationRequest.sent_at.is_not(None),
            ConfirmationRequest.reminder_count < policy.max_reminders,
        )
    )
    return [request.id for request, tracker in candidates if is_due(request, tracker, config, now)]


def is_due(request: ConfirmationRequest, tracker: str, config: Config, now: datetime) -> bool:
    """Whether ``request`` (of a meeting of ``tracker``) should get its next reminder now."""
    policy = config.confirmations
    if request.state != RequestState.PENDING or request.sent_at is None:
        return False
    if request.reminder_count >= policy.max_reminders:
        return False
    last = request.reminded_at or request.sent_at
    if now - last < policy.reminder_after:
        return False
    # "Away until" is a day where the person is: the tracker's time zone says which.
    today = now.astimezone(config.tracker_for(tracker).timezone).date()
    return request.away_until is None or request.away_until < today


def send_reminders(sessions: sessionmaker[Session], config: Config, now: datetime) -> int:
    """Write the due reminders to the outbox, each in its own transaction; returns how many."""
    with sessions() as session:
        ids = due_reminders(session, config, now)
    written = 0
    for request_id in ids:
        try:
            written += _remind(sessions, config, now, request_id)
        except IntegrityError:
            log.info("reminder for request #%d written by another worker", request_id)
    return written


def _remind(sessions: sessionmaker[Session], config: Config, now: datetime, request_id: int) -> int:
    """Write the next reminder of one request if it is still due; 1 if written."""
    with sessions.begin() as session:
        # Lock the request; a worker that wrote this reminder meanwhile has committed
        # by the time the lock is ours, and the fresh row says so.
        request = session.get(
            ConfirmationRequest, request_id, with_for_update=True, populate_existing=True
        )
        if request is None:
            return 0
        tracker = config.tracker_for(request.meeting.tracker)
        if not is_due(request, tracker.address, config, now):
            return 0
        pending = set(pending_positions(session, request))
        entries = [
            (position, item)
            for position, item in entries_of(session, request)
            if position in pending
        ]
        if not entries:
            return 0
        number = request.reminder_count + 1
        composed = reminder_mail(Sending(tracker, now), request, entries, number)
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
        return 1
