"""The outbox: mail to send is a row written in the transaction that decided to send it.

So a crash can never lose a decided mail (the row is there) nor send one whose
decision was rolled back (no row). The sender reads due rows, delivers, and
marks each in its own small transaction; a crash between the relay's "250"
and that mark resends the same bytes with the same Message-ID at most once
per crash, which receiving systems see as the same message.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailtrack.db.models import MailQuota, OutboxKind, OutboxMessage, OutboxStatus
from mailtrack.mail.compose import Composed


def enqueue(
    session: Session,
    composed: Composed,
    kind: OutboxKind,
    now: datetime,
    request_id: int | None = None,
) -> OutboxMessage:
    """Write ``composed`` to the outbox (in the caller's transaction)."""
    row = OutboxMessage(
        kind=kind,
        message_id=composed.message_id,
        envelope_from=composed.envelope_from,
        recipients=list(composed.recipients),
        subject=composed.subject[:998],
        raw=composed.raw,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        request_id=request_id,
        created_at=now,
    )
    session.add(row)
    return row


def due(session: Session, now: datetime, limit: int = 50) -> list[int]:
    """Ids of pending mail whose time has come, oldest first."""
    query = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def take_quota(session: Session, address: str, kind: str, day: datetime, cap: int) -> bool:
    """Count one more mail of ``kind`` to ``address`` today; False when the cap is reached.

    The count is written in the caller's transaction, with the mail it allows.
    """
    address = address.lower()
    row = session.scalars(
        select(MailQuota).where(
            MailQuota.address == address, MailQuota.day == day.date(), MailQuota.kind == kind
        )
    ).one_or_none()
    if row is None:
        row = MailQuota(address=address, day=day.date(), kind=kind, count=0)
        session.add(row)
    if row.count >= cap:
        return False
    row.count += 1
    return True


def retry_delay(attempts: int, base: timedelta) -> timedelta:
    """Exponential backoff for a mail the relay refused for now: base, 2x, 4x..., at most 6 h."""
    delay: timedelta = base * 2 ** max(attempts - 1, 0)
    return min(delay, timedelta(hours=6))
