"""Who must confirm what, the requests that ask them, and what their answers change.

Policy (DESIGN "Who must confirm", configurable in ``[confirmations]``): an
action is confirmed by its owners among the participants; a decision, or an
action without such an owner, by every participant but the organizer. Each
person gets one request per meeting revision listing only their items,
numbered 1..n in the order of the minutes; "confirmo 1 y 3" always refers to
that list. All of it is written in the caller's transaction, outbox rows
included.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailtrack.config import ConfirmationsConfig
from mailtrack.db.models import (
    AuditEvent,
    Confirmation,
    ConfirmationRequest,
    ConfirmationState,
    InboundMessage,
    Item,
    ItemKind,
    Meeting,
    OutboxKind,
    Person,
    RequestItem,
    RequestState,
    Response,
)
from mailtrack.mail.addressing import new_ref, new_token, request_message_id
from mailtrack.outbound.messages import RecordedLine, Sending, request_mail
from mailtrack.outbound.outbox import enqueue

log = logging.getLogger(__name__)

ANSWERED = (ConfirmationState.CONFIRMED, ConfirmationState.REJECTED)


def confirmers(
    item: Item, meeting: Meeting, participants: list[Person], policy: ConfirmationsConfig
) -> list[Person]:
    """The people who must confirm ``item``, per the configured policy."""
    organizer_id = meeting.organizer_id
    everyone = [p for p in participants if policy.organizer_confirms or p.id != organizer_id]
    if item.kind == ItemKind.DECISION:
        return everyone if policy.decisions_by == "participants" else []
    participant_ids = {p.id for p in participants}
    owners = [o for o in item.owners if o.id in participant_ids]
    if policy.actions_by == "owners" and owners:
        return [o for o in owners if policy.organizer_confirms or o.id != organizer_id]
    return everyone


def _unique_token(session: Session) -> tuple[str, str]:
    while True:
        token, ref = new_token(), new_ref()
        taken = session.scalars(
            select(ConfirmationRequest.id).where(
                (ConfirmationRequest.token == token) | (ConfirmationRequest.ref == ref)
            )
        ).first()
        if taken is None:
            return token, ref


def request_confirmations(
    session: Session,
    meeting: Meeting,
    items: list[Item],
    revision: int,
    policy: ConfirmationsConfig,
    sending: Sending,
    withdrawn: Mapping[int, list[Item]] | None = None,
) -> list[ConfirmationRequest]:
    """Create the confirmations and one request (and its outbox mail) per person involved.

    ``withdrawn`` maps a person id to items removed by this revision that they
    had been asked about: their request says so, even when nothing new is asked.
    """
    withdrawn = withdrawn or {}
    participants = [p.person for p in meeting.participants]
    per_person: dict[int, list[Item]] = {}
    people: dict[int, Person] = {p.id: p for p in participants}
    for item in sorted(items, key=lambda entry: entry.number):
        for person in confirmers(item, meeting, participants, policy):
            per_person.setdefault(person.id, []).append(item)
            people[person.id] = person
    for person_id in withdrawn:
        per_person.setdefault(person_id, [])
    requests: list[ConfirmationRequest] = []
    for person_id, person_items in per_person.items():
        found = people.get(person_id) or session.get(Person, person_id)
        if found is None:
            continue
        person = found
        token, ref = _unique_token(session)
        request = ConfirmationRequest(
            meeting_id=meeting.id,
            revision=revision,
            person_id=person.id,
            token=token,
            ref=ref,
            message_id=request_message_id(sending.tracker.address, token),
            state=RequestState.PENDING if person_items else RequestState.WITHDRAWN,
            created_at=sending.now,
        )
        request.meeting, request.person = meeting, person
        session.add(request)
        session.flush()
        entries = list(enumerate(person_items, start=1))
        for position, item in entries:
            session.add(RequestItem(request_id=request.id, position=position, item_id=item.id))
            existing = session.scalars(
                select(Confirmation).where(
                    Confirmation.item_id == item.id, Confirmation.person_id == person.id
                )
            ).one_or_none()
            if existing is None:
                session.add(
                    Confirmation(
                        item_id=item.id,
                        person_id=person.id,
                        state=ConfirmationState.PENDING,
                        request_id=request.id,
                        updated_at=sending.now,
                    )
                )
        composed = request_mail(sending, request, entries, withdrawn.get(person_id, []))
        enqueue(session, composed, OutboxKind.REQUEST, sending.now, request.id)
        requests.append(request)
        session.add(
            AuditEvent(
                at=sending.now,
                kind="request.created",
                meeting_id=meeting.id,
                person_id=person.id,
                message_id=request.message_id,
                detail={"revision": revision, "items": [item.number for item in person_items]},
            )
        )
    return requests


def entries_of(session: Session, request: ConfirmationRequest) -> list[tuple[int, Item]]:
    """The request's items with the positions the person saw."""
    rows = session.execute(
        select(RequestItem.position, Item)
        .join(Item, Item.id == RequestItem.item_id)
        .where(RequestItem.request_id == request.id)
        .order_by(RequestItem.position)
    ).all()
    return [(position, item) for position, item in rows]


@dataclass(frozen=True)
class Answer:
    state: ConfirmationState
    reason: str | None


def apply_answers(
    session: Session,
    request: ConfirmationRequest,
    answers: Mapping[int, Answer],
    *,
    inbound: InboundMessage,
    reply_message_id: str | None,
    sender: str,
    reply_text: str,
    now: datetime,
) -> list[RecordedLine]:
    """Record a verified sender's answers (by position) as responses and current states.

    Only items still current are touched: a reply to an older revision applies
    to the items that did not change. An "unclear" never overrides an answer
    the person already gave; it is still kept as evidence.
    """
    recorded: list[RecordedLine] = []
    for position, item in entries_of(session, request):
        answer = answers.get(position)
        if answer is None or item.revision_removed is not None:
            continue
        session.add(
            Response(
                item_id=item.id,
                person_id=request.person_id,
                request_id=request.id,
                inbound_message_id=inbound.id,
                state=answer.state,
                reason=answer.reason,
                reply_message_id=reply_message_id,
                sender=sender,
                verified_sender=True,
                reply_text=reply_text[:4000],
                received_at=now,
                created_at=now,
            )
        )
        session.flush()
        response = session.scalars(
            select(Response).where(
                Response.inbound_message_id == inbound.id, Response.item_id == item.id
            )
        ).first()
        confirmation = session.scalars(
            select(Confirmation).where(
                Confirmation.item_id == item.id, Confirmation.person_id == request.person_id
            )
        ).one_or_none()
        if confirmation is None:
            continue
        if answer.state == ConfirmationState.UNCLEAR and confirmation.state in ANSWERED:
            continue
        confirmation.state = answer.state
        confirmation.reason = answer.reason
        confirmation.response_id = response.id if response else None
        confirmation.updated_at = now
        recorded.append(RecordedLine(position, answer.state.value, answer.reason, item.text))
    _refresh_request_state(session, request, now)
    return recorded


def pending_positions(session: Session, request: ConfirmationRequest) -> list[int]:
    """Positions of the request whose items still wait for an answer."""
    positions = []
    for position, item in entries_of(session, request):
        if item.revision_removed is not None:
            continue
        state = session.scalar(
            select(Confirmation.state).where(
                Confirmation.item_id == item.id, Confirmation.person_id == request.person_id
            )
        )
        if state not in ANSWERED:
            positions.append(position)
    return positions


def _refresh_request_state(session: Session, request: ConfirmationRequest, now: datetime) -> None:
    if request.state not in (RequestState.PENDING, RequestState.ANSWERED):
        return
    if pending_positions(session, request):
        request.state = RequestState.PENDING
    else:
        request.state = RequestState.ANSWERED
        request.answered_at = request.answered_at or now


def mark_undeliverable(
    session: Session, request: ConfirmationRequest, reason: str, now: datetime
) -> None:
    """A request that bounced: its person cannot be asked; their open items say so."""
    request.state = RequestState.UNDELIVERABLE
    for _, item in entries_of(session, request):
        confirmation = session.scalars(
            select(Confirmation).where(
                Confirmation.item_id == item.id, Confirmation.person_id == request.person_id
            )
        ).one_or_none()
        if confirmation is not None and confirmation.state not in ANSWERED:
            confirmation.state = ConfirmationState.UNDELIVERABLE
            confirmation.reason = reason[:500]
            confirmation.updated_at = now
    session.add(
        AuditEvent(
            at=now,
            kind="request.undeliverable",
            meeting_id=request.meeting_id,
            person_id=request.person_id,
            message_id=request.message_id,
            detail={"reason": reason[:500]},
        )
    )


def withdraw(session: Session, items: Iterable[Item], now: datetime) -> dict[int, list[Item]]:
    """Withdraw open confirmations of removed items; returns person id -> their removed items."""
    by_person: dict[int, list[Item]] = {}
    for item in items:
        for confirmation in session.scalars(
            select(Confirmation).where(Confirmation.item_id == item.id)
        ):
            if confirmation.state not in ANSWERED:
                confirmation.state = ConfirmationState.WITHDRAWN
                confirmation.updated_at = now
            by_person.setdefault(confirmation.person_id, []).append(item)
    return by_person
