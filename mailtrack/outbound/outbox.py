"""The outbox: mail to send is a row written in the transaction that decided to send it.

So a crash can never lose a decided mail (the row is there) nor send one whose
decision was rolled back (no row). The sender reads due rows, delivers, and
marks each in its own small transaction; a crash between the relay's "250"
and that mark resends the same bytes with the same Message-ID at most once
per crash, which receiving systems see as the same message.

Several workers share the outbox by claiming rows before sending them: one
UPDATE takes the oldest due rows that no other transaction has locked
(``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite runs the
statement alone), marks them with the worker's name and pushes their
``next_attempt_at`` to the end of the claim. Another worker neither waits for
them nor sees them as due until the claim runs out, which only happens when
the claiming worker died (it extends its claim as it goes).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from mailtrack.db.models import MailQuota, OutboxKind, OutboxMessage, OutboxStatus
from mailtrack.db.upsert import insert_ignore
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


def claim(
    session: Session,
    now: datetime,
    holder: str,
    ttl: timedelta,
    limit: int = 50,
    *,
    in_flight: Sequence[int] = (),
    dead: Sequence[str] = (),
) -> list[int]:
    """Claim up to ``limit`` due rows for ``holder`` until ``now + ttl``; their ids, oldest first.

    Due: pending and past ``next_attempt_at``, or claimed by ``holder`` itself
    but not ``in_flight`` (left by a flush an exception unwound), or claimed by
    a ``dead`` worker. Rows another worker is claiming at this very moment are
    skipped, not waited for.
    """
    due_ids = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            or_(
                OutboxMessage.next_attempt_at <= now,
                and_(OutboxMessage.claimed_by == holder, OutboxMessage.id.not_in(in_flight)),
                OutboxMessage.claimed_by.in_(dead),
            ),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due_ids.scalar_subquery()))
        .values(claimed_by=holder, next_attempt_at=now + ttl)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed)


def claim_holders(session: Session) -> set[str]:
    """Who holds claims on pending rows now (to find dead workers among them)."""
    return {
        holder
        for holder in session.scalars(
            select(OutboxMessage.claimed_by)
            .where(OutboxMessage.status == OutboxStatus.PENDING)
            .where(OutboxMessage.claimed_by.is_not(None))
            .distinct()
        )
        if holder
    }


def extend_claim(
    session: Session, ids: list[int], now: datetime, holder: str, ttl: timedelta
) -> int:
    """Push the end of ``holder``'s claim on ``ids`` (still pending) to ``now + ttl``.

    Returns how many rows are still ``holder``'s: fewer than ``ids`` when its claim
    ran out during a slow delivery and another worker took some of them.
    """
    if not ids:
        return 0
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.claimed_by == holder,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(next_attempt_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def release_claim(session: Session, ids: list[int], now: datetime, holder: str) -> None:
    """Give back ``holder``'s claim on ``ids`` (still pending): due again at once."""
    if not ids:
        return
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.claimed_by == holder,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(claimed_by=None, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )


def take_quota(session: Session, address: str, kind: str, day: datetime, cap: int) -> bool:
    """Count one more mail of ``kind`` to ``address`` today; False when the cap is reached.

    The count is written in the caller's transaction, with the mail it allows, by
    one conditional UPDATE: two workers answering the same person at once can
    neither both take the last unit nor lose a count.
    """
    address = address.lower()
    insert_ignore(session, MailQuota, address=address, day=day.date(), kind=kind, count=0)
    taken = session.scalar(
        update(MailQuota)
        .where(
            MailQuota.address == address,
            MailQuota.day == day.date(),
            MailQuota.kind == kind,
            MailQuota.count < cap,
        )
        .values(count=MailQuota.count + 1)
        .returning(MailQuota.count)
        .execution_options(synchronize_session=False)
    )
    return taken is not None


def retry_delay(attempts: int, base: timedelta) -> timedelta:
    """Exponential backoff for a mail the relay refused for now: base, 2x, 4x..., at most 6 h."""
    delay: timedelta = base * 2 ** max(attempts - 1, 0)
    return min(delay, timedelta(hours=6))
