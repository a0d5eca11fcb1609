"""Machine mail about our requests: out-of-office noted, bounces make requests undeliverable.

Neither is ever answered. The request a machine mail is about is found by
the keys it carries back: the VERP bounce token in the address it was
delivered to, our Message-ID (in References, or in the returned headers of a
bounce), the subject reference, and as a last resort the failed recipient of
a bounce among the requests sent to that address.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from mailtrack.confirmations import mark_undeliverable
from mailtrack.db.models import AuditEvent, ConfirmationRequest, OutboxKind, Person, RequestState
from mailtrack.handlers import HandlerContext
from mailtrack.handlers.router import RECIPIENT_HEADERS
from mailtrack.mail.addressing import find_keys
from mailtrack.outbound.messages import Sending, notice_mail
from mailtrack.outbound.outbox import enqueue, take_quota

log = logging.getLogger(__name__)
RECENT = timedelta(days=60)


def request_of(context: HandlerContext) -> ConfirmationRequest | None:
    """The request this machine mail is about, or None."""
    parsed, tracker = context.parsed, context.tracker.address
    machine = context.decision.machine
    references = list(parsed.references)
    if machine is not None and machine.original_message_id:
        references.append(machine.original_message_id)
    recipients = [a.email for a in parsed.addresses(*RECIPIENT_HEADERS)]
    keys = find_keys(recipients, references, parsed.subject, tracker)
    session = context.session
    for token in [*keys.bounce_tokens, *(token for token, _ in keys.tokens)]:
        found = session.scalars(
            select(ConfirmationRequest).where(ConfirmationRequest.token == token)
        ).one_or_none()
        if found is not None:
            return found
    for ref in keys.refs:
        found = session.scalars(
            select(ConfirmationRequest).where(ConfirmationRequest.ref == ref)
        ).one_or_none()
        if found is not None:
            return found
    if machine is not None and machine.kind == "bounce":
        since = context.clock.now() - RECENT
        for address in machine.failed_recipients:
            found = session.scalars(
                select(ConfirmationRequest)
                .join(Person, Person.id == ConfirmationRequest.person_id)
                .where(Person.email == address, ConfirmationRequest.created_at >= since)
                .order_by(ConfirmationRequest.id.desc())
            ).first()
            if found is not None:
                return found
    return None


def handle_auto_reply(context: HandlerContext) -> None:
    """Note an out-of-office ("away until ...") on its request; never answer it."""
    request = request_of(context)
    machine = context.decision.machine
    away = machine.away_until if machine else None
    if request is not None and away is not None:
        request.away_until = away
    context.session.add(
        AuditEvent(
            at=context.clock.now(),
            kind="autoreply.noted",
            meeting_id=request.meeting_id if request else None,
            person_id=request.person_id if request else None,
            inbound_message_id=context.row.id,
            message_id=context.row.message_id,
            detail={
                "request": request.id if request else None,
                "away_until": away.isoformat() if away else None,
                "reason": machine.reason if machine else "",
            },
        )
    )


def handle_bounce(context: HandlerContext) -> None:
    """A delivery failure: the request becomes undeliverable and its organizer is told."""
    machine = context.decision.machine
    request = request_of(context)
    now = context.clock.now()
    if request is None:
        context.session.add(
            AuditEvent(
                at=now,
                kind="bounce.unmatched",
                inbound_message_id=context.row.id,
                message_id=context.row.message_id,
                detail={"failed": list(machine.failed_recipients) if machine else []},
            )
        )
        return
    failed = ", ".join(machine.failed_recipients) if machine else ""
    reason = f"bounce: {failed}" if failed else "bounce"
    if request.state != RequestState.UNDELIVERABLE:
        mark_undeliverable(context.session, request, reason, now)
        log.warning("request #%d to %s bounced", request.id, request.person.email)
    config = context.config.confirmations
    meeting = request.meeting
    if config.notify_bounces == "immediately" and take_quota(
        context.session, meeting.organizer.email, "notice", now, config.receipts_per_day
    ):
        title = (
            f"No se pudo entregar la petición a {request.person.email}"
            if meeting.language == "es"
            else f"The request to {request.person.email} could not be delivered"
        )
        enqueue(
            context.session,
            notice_mail(
                Sending(context.config.tracker_for(meeting.tracker), now), meeting, title, [reason]
            ),
            OutboxKind.NOTICE,
            now,
        )
