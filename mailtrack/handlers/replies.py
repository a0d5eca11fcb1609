"""Replies to our requests: check who wrote, understand what they said, record it, send a receipt.

Nothing counts unless the sender is the person the request went to (or a
configured address of theirs): a valid token proves only that someone saw
the request. A reply whose From differs, or that carries a Sender header of
someone else (Exchange "on behalf of"), or that our own receiving server
reports as failing DMARC or DKIM (``[security]``), is kept as evidence,
counts for nothing, and its organizer is told. So is a reply from the right
address that comes too late (after ``[confirmations] reply_window``) or that
reuses the Message-ID of a reply already counted: a Message-ID is what the
record cites as evidence, so it must name one mail.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailtrack.confirmations import Answer, apply_answers, pending_positions
from mailtrack.db.models import (
    AliasKind,
    AuditEvent,
    ConfirmationRequest,
    ConfirmationState,
    InboundMessage,
    MessageState,
    OutboxKind,
    PersonAlias,
    Response,
    Route,
)
from mailtrack.handlers import HandlerContext
from mailtrack.mail import authresults
from mailtrack.mail.quotes import trim
from mailtrack.nlp.intent import understand
from mailtrack.outbound.messages import Sending, first_name, notice_mail, receipt_mail
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


def refusal(context: HandlerContext, request: ConfirmationRequest) -> str | None:
    """Why a reply from the request's own person still cannot count; None when it can."""
    security = context.config.security
    failed = authresults.failures(
        context.parsed.headers("Authentication-Results"),
        security.trusted_authserv_ids,
        security.refuse_on,
    )
    if failed:
        return f"our server's Authentication-Results say {', '.join(failed)}: From is forged"
    window = context.config.confirmations.reply_window
    age = context.clock.now() - request.created_at
    if window and age > window:
        return (
            f"request #{request.id} was sent {age.days} days ago: its token expired after "
            f"{window.days} days ([confirmations] reply_window)"
        )
    message_id = context.parsed.message_id
    if message_id:
        counted = context.session.scalar(
            select(InboundMessage.id)
            .where(
                InboundMessage.message_id == message_id,
                InboundMessage.id != context.row.id,
                InboundMessage.route == Route.REPLY,
                InboundMessage.state == MessageState.PROCESSED,
                # EXISTS, not IN: per mail, it reads the index of that one row's responses.
                select(Response.id)
                .where(Response.inbound_message_id == InboundMessage.id)
                .exists(),
            )
            .limit(1)
        )
        if counted is not None:
            return f"its Message-ID is already the evidence of inbound #{counted}"
    return None


def _not_counted(
    context: HandlerContext, request: ConfirmationRequest, sender: str, reason: str | None
) -> None:
    """Keep the evidence, count nothing, tell the organizer (within the daily cap)."""
    session, now = context.session, context.clock.now()
    meeting = request.meeting
    sending = Sending(context.config.tracker_for(meeting.tracker), now)
    detail: dict[str, object] = {
        "sender": sender,
        "expected": request.person.email,
        "request": request.id,
    }
    if reason:
        detail["reason"] = reason
    session.add(
        AuditEvent(
            at=now,
            kind="reply.not_counted" if reason else "reply.other_sender",
            meeting_id=meeting.id,
            person_id=request.person_id,
            inbound_message_id=context.row.id,
            message_id=context.row.message_id,
            detail=detail,
        )
    )
    log.warning(
        "inbound #%d %s: reply to request #%d %s: not counted",
        context.row.id, context.row.message_id, request.id,
        reason or "from another address",
    )  # fmt: skip
    if not take_quota(
        session,
        meeting.organizer.email,
        "notice",
        now,
        context.config.confirmations.receipts_per_day,
    ):
        return
    spanish = meeting.language == "es"
    if reason:
        title = "Respuesta no contada" if spanish else "Reply not counted"
    else:
        title = (
            "Respuesta de otra dirección: no se ha contado"
            if spanish
            else "Reply from another address: not counted"
        )
    lines = [
        f"{'Remitente' if spanish else 'Sender'}: {sender}",
        f"{'Se pidió a' if spanish else 'Asked'}: {request.person.email}",
        f"Message-ID: {context.row.message_id or '-'}",
    ]
    if reason:
        lines.append(f"{'Motivo' if spanish else 'Reason'}: {reason}")
    enqueue(session, notice_mail(sending, meeting, title, lines), OutboxKind.NOTICE, now)


def words_above_our_text(text: str, request: ConfirmationRequest) -> str | None:
    """What the writer put above our own mail when it comes back unquoted; None if it did not.

    Every mail we send to a person opens with "Hola <first name>:" or "Hello <first
    name>," and ends with "Ref. <ref>". When both are in a reply's own text, our mail
    is there without quote marks (a client that quotes without them, a list or a
    forwarder that re-sent it): only what stands above the greeting is the writer's.
    "" when nothing does (our mail came back alone), and when the greeting is not
    there: then nothing tells the writer's words from ours, and ours say "CONFIRMO".
    """
    if f"Ref. {request.ref}" not in text:
        return None
    first = first_name(request.person)
    greetings = [
        match.start()
        for match in re.finditer(
            rf"^[ \t]*(?:Hola {re.escape(first)}:|Hello {re.escape(first)},)", text, re.MULTILINE
        )
    ]
    if not greetings:
        return ""
    return text[: greetings[0]].strip()


def handle_reply(context: HandlerContext, aliases: Mapping[str, set[str]]) -> None:
    request = context.decision.request
    assert request is not None  # the router found it
    session, now = context.session, context.clock.now()
    verified, sender = sender_is_addressee(context, request, aliases)
    reason = refusal(context, request) if verified else None
    if not verified or reason:
        _not_counted(context, request, sender, reason)
        return
    meeting = request.meeting
    # Receipts and notices come from the tracker the meeting belongs to, whatever the way in.
    sending = Sending(context.config.tracker_for(meeting.tracker), now)
    trimmed = trim(context.parsed.text, subject=context.parsed.subject)
    words = words_above_our_text(trimmed.text, request)
    if words:  # "Confirmo todo" over our request, pasted back without quote marks
        trimmed = trim(words, subject=context.parsed.subject)
    elif words is not None:
        # The footer of our own request, reminder or receipt, unquoted: our mail come
        # back through a list or a forwarder that rewrote its From and Message-ID.
        # Nobody wrote it: record nothing, answer nothing.
        session.add(
            AuditEvent(
                at=now,
                kind="reply.own_text",
                meeting_id=meeting.id,
                person_id=request.person_id,
                inbound_message_id=context.row.id,
                message_id=context.row.message_id,
                detail={"request": request.id},
            )
        )
        log.info(
            "inbound #%d %s: our own text for request #%d came back; ignored",
            context.row.id, context.row.message_id, request.id,
        )  # fmt: skip
        return
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
    unclear = intent.kind in ("unclear", "empty")
    # A reply that records nothing is acknowledged once per request: a helpdesk or a
    # list that answers every mail would otherwise answer each receipt, up to the cap.
    # A person who confirmed earlier and then writes something unclear is told so once.
    if unclear and _unclear_replies_before(session, request, context.row.id) > 0:
        return
    if config.receipts and take_quota(session, sender, "receipt", now, config.receipts_per_day):
        composed = receipt_mail(
            sending,
            request,
            [line for line in recorded if line.state != "unclear"],
            pending_positions(session, request),
            unclear,
            context.parsed.message_id,
        )
        enqueue(session, composed, OutboxKind.RECEIPT, now, request.id)


def _unclear_replies_before(session: Session, request: ConfirmationRequest, inbound_id: int) -> int:
    """Earlier replies to ``request`` that recorded nothing (read from the audit trail)."""
    details = session.scalars(
        select(AuditEvent.detail).where(
            AuditEvent.kind == "reply.recorded",
            AuditEvent.meeting_id == request.meeting_id,
            AuditEvent.person_id == request.person_id,
            AuditEvent.inbound_message_id != inbound_id,
        )
    )
    return sum(
        1
        for detail in details
        if isinstance(detail, dict)
        and detail.get("request") == request.id
        and detail.get("intent") in ("unclear", "empty")
    )
