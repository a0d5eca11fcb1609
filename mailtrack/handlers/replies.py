"""Replies to our requests: check who wrote, understand what they said, record it, send a receipt.

Nothing counts unless the sender is the person the request went to (or a
configured address of theirs): a valid token proves only that someone saw
the request. A reply whose From differs, or that carries a Sender header of
someone else (Exchange "on behalf of"), is kept as evidence, counts for
nothing, and its organizer is told.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import select

from mailtrack.confirmations import Answer, apply_answers, pending_positions
from mailtrack.db.models import (
    AliasKind,
    AuditEvent,
    ConfirmationRequest,
    ConfirmationState,
    OutboxKind,
    PersonAlias,
)
from mailtrack.handlers import HandlerContext
from mailtrack.mail.quotes import trim
from mailtrack.nlp.intent import understand
from mailtrack.outbound.messages import Sending, notice_mail, receipt_mail
from mailtrack.outbound.outbox import enqueue, take_quota

log = logging.getLogger(__name__)

_STATES: Mapping[str, ConfirmationState] = {
    "confirmed": ConfirmationState.CONFIRMED,
    "rejected": ConfirmationState.REJECTED,
    "unclear": ConfirmationState.UNCLEAR,
}


def sender_is_addressee(
    context: HandlerContext, request: ConfirmationRequest, extra: Mapping[str, set[str]]
) -> tuple[bool, str]:
    """Whether the reply comes from the request's person; and the address it came from."""
    sender = context.parsed.sender.email if context.parsed.sender else ""
    person = request.person
    allowed = {person.email} | extra.get(person.email, set())
    allowed |= set(
        context.session.scalars(
            select(PersonAlias.alias).where(
                PersonAlias.person_id == person.id, PersonAlias.kind == AliasKind.ADDRESS
            )
        )
    )
    on_behalf = context.parsed.addresses("Sender")
    if on_behalf and on_behalf[0].email != sender:
        return False, f"{sender} (sent by {on_behalf[0].email})"
    # "juan@cliente.es <atacante@evil.test>" reads as two mailboxes, the first being the
    # one asked, while mail clients show the second as the sender. A From that names
    # more than one mailbox (in one header or several) proves nobody's answer.
    authors = context.parsed.addresses("From")
    if len(authors) > 1:
        return False, f"{sender} (From names {len(authors)} mailboxes)"
    return sender in allowed, sender


def handle_reply(context: HandlerContext, aliases: Mapping[str, set[str]]) -> None:
    request = context.decision.request
    assert request is not None  # the router found it
    session, now = context.session, context.clock.now()
    verified, sender = sender_is_addressee(context, request, aliases)
    meeting = request.meeting
    # Receipts and notices come from the tracker the meeting belongs to, whatever the way in.
    sending = Sending(context.config.tracker_for(meeting.tracker), now)
    if not verified:
        session.add(
            AuditEvent(
                at=now,
                kind="reply.other_sender",
                meeting_id=meeting.id,
                person_id=request.person_id,
                inbound_message_id=context.row.id,
                message_id=context.row.message_id,
                detail={"sender": sender, "expected": request.person.email, "request": request.id},
            )
        )
        log.warning(
            "inbound #%d %s: reply to request #%d from another address: not counted",
            context.row.id, context.row.message_id, request.id,
        )  # fmt: skip
        if take_quota(
            session,
            meeting.organizer.email,
            "notice",
            now,
            context.config.confirmations.receipts_per_day,
        ):
            title = (
                "Respuesta de otra dirección: no se ha contado"
                if meeting.language == "es"
                else "Reply from another address: not counted"
            )
            lines = [
                f"{'Remitente' if meeting.language == 'es' else 'Sender'}: {sender}",
                f"{'Se pidió a' if meeting.language == 'es' else 'Asked'}: {request.person.email}",
                f"Message-ID: {context.row.message_id or '-'}",
            ]
            enqueue(session, notice_mail(sending, meeting, title, lines), OutboxKind.NOTICE, now)
        return
    trimmed = trim(context.parsed.text, subject=context.parsed.subject)
    entries = len(request.entries)
    intent = understand(trimmed, entries, meeting.language)
    answers = {
        position: Answer(_STATES[answer.state], answer.reason)
        for position, answer in intent.answers.items()
        if answer.state in _STATES
    }
    recorded = apply_answers(
        session,
        request,
        answers,
        inbound=context.row,
        reply_message_id=context.parsed.message_id,
        sender=sender,
        reply_text=trimmed.text,
        now=now,
    )
    session.add(
        AuditEvent(
            at=now,
            kind="reply.recorded",
            meeting_id=meeting.id,
            person_id=request.person_id,
            inbound_message_id=context.row.id,
            message_id=context.row.message_id,
            detail={
                "request": request.id,
                "intent": intent.kind,
                "evidence": intent.evidence[:300],
                "answers": {str(k): v.state.value for k, v in answers.items()},
            },
        )
    )
    config = context.config.confirmations
    if config.receipts and take_quota(session, sender, "receipt", now, config.receipts_per_day):
        unclear = intent.kind in ("unclear", "empty")
        composed = receipt_mail(
            sending,
            request,
            [line for line in recorded if line.state != "unclear"],
            pending_positions(session, request),
            unclear,
            context.parsed.message_id,
        )
        enqueue(session, composed, OutboxKind.RECEIPT, now, request.id)
