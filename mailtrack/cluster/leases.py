"""Mailbox leases: one reader per mailbox at a time, taken over when its holder stops renewing.

A lease is a row per mailbox: who holds it and until when. The holder renews
it every third of its time to live; when it dies (``kill -9``, a machine
gone), the lease lapses and any other worker takes it over, so a mailbox is
never left unread for longer than the time to live. Every statement is a
single conditional UPDATE (or an insert that yields to a concurrent one), so
two workers can never both win: PostgreSQL re-checks the condition on the
row the first one committed.

Renewing is not enough to be safe on its own (a holder may stall past its
time, say a long garbage collection, and wake up after a takeover), so
archiving *fences*: each batch's transaction renews the lease only if this
worker still holds it, or fails. The lease row stays locked until that commit,
so a takeover either happens before (and the batch is refused) or after (and
sees the batch and the checkpoint it advanced).

The worker table says who is alive; workers share the mailboxes evenly among
the live ones, so a new worker relieves a busy one and the death of one moves
only its own mailboxes.

Times come from each worker's clock: machines sharing a database need NTP,
as for any lease (a skew of a few seconds against a time to live of a minute
is harmless).
"""

from __future__ import annotations

import logging
import math
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from mailtrack import __version__
from mailtrack.clock import Clock
from mailtrack.cluster.identity import is_dead_local
from mailtrack.db.models import MailboxLease, WorkerPresence
from mailtrack.db.upsert import insert_ignore
from mailtrack.errors import MailtrackError

log = logging.getLogger(__name__)


class LeaseLostError(MailtrackError):
    """Raised when a worker acts on a mailbox whose lease another worker has taken over."""


@dataclass(frozen=True)
class LeaseState:
    """One lease as a reader (health, tests) sees it."""

    mailbox: str
    holder: str
    generation: int
    expires_at: datetime

    def live(self, now: datetime) -> bool:
        """Whether its holder may still be reading: not lapsed, not a dead process of this host."""
        return self.expires_at > now and not is_dead_local(self.holder)


class Leases:
    """The leases of one worker, and its presence among the workers."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        holder: str,
        ttl: timedelta,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.holder = holder
        self.ttl = ttl

    # -- presence ---------------------------------------------------------------------

    def heartbeat(self) -> None:
        """Say this worker is alive (registering it the first time)."""
        now = self.clock.now()
        with self.sessions.begin() as session:
            inserted = insert_ignore(
                session,
                WorkerPresence,
                holder=self.holder,
                host=socket.gethostname()[:255],
                pid=os.getpid(),
                version=__version__[:32],
                started_at=now,
                seen_at=now,
            )
            if not inserted:
                session.execute(
                    update(WorkerPresence)
                    .where(WorkerPresence.holder == self.holder)
                    .values(seen_at=now)
                    .execution_options(synchronize_session=False)
                )

    def leave(self) -> None:
        """Say this worker stops: the others share its mailboxes at once."""
        with self.sessions.begin() as session:
            session.execute(delete(WorkerPresence).where(WorkerPresence.holder == self.holder))

    def live_workers(self, session: Session) -> int:
        """How many workers were seen within one time to live (this one included)."""
        since = self.clock.now() - self.ttl
        names = set(
            session.scalars(select(WorkerPresence.holder).where(WorkerPresence.seen_at > since))
        )
        return len(names | {self.holder})

    def fair_share(self, mailboxes: int) -> int:
        """How many of ``mailboxes`` this worker should hold: an even share among the live."""
        with self.sessions() as session:
            workers = self.live_workers(session)
        return max(1, math.ceil(mailboxes / workers))

    # -- leases -----------------------------------------------------------------------

    def states(self, mailboxes: Iterable[str] | None = None) -> dict[str, LeaseState]:
        """The current lease of each mailbox that has one."""
        query = select(MailboxLease)
        if mailboxes is not None:
            query = query.where(MailboxLease.mailbox.in_(list(mailboxes)))
        with self.sessions() as session:
            return {
                row.mailbox: LeaseState(row.mailbox, row.holder, row.generation, row.expires_at)
                for row in session.scalars(query)
            }

    def acquire(self, mailbox: str) -> LeaseState | None:
        """Take the lease of ``mailbox`` if it is free, lapsed or already ours; None if not."""
        now = self.clock.now()
        until = now + self.ttl
        with self.sessions.begin() as session:
            if insert_ignore(
                session,
                MailboxLease,
                mailbox=mailbox,
                holder=self.holder,
                generation=1,
                acquired_at=now,
                renewed_at=now,
                expires_at=until,
            ):
                return LeaseState(mailbox, self.holder, 1, until)
            previous = session.scalar(
                select(MailboxLease.holder).where(MailboxLease.mailbox == mailbox)
            )
            generation = session.scalar(
                update(MailboxLease)
                .where(MailboxLease.mailbox == mailbox, MailboxLease.holder == self.holder)
                .values(renewed_at=now, expires_at=until)
                .returning(MailboxLease.generation)
                .execution_options(synchronize_session=False)
            )
            if generation is None:
                # Lapsed, or held by a process of this host that is gone (a restart
                # after a crash need not wait for its own old lease to run out).
                lapsed = MailboxLease.expires_at <= now
                if previous and is_dead_local(previous):
                    lapsed = or_(lapsed, MailboxLease.holder == previous)
                generation = session.scalar(
                    update(MailboxLease)
                    .where(MailboxLease.mailbox == mailbox, lapsed)
                    .values(
                        holder=self.holder,
                        generation=MailboxLease.generation + 1,
                        acquired_at=now,
                        renewed_at=now,
                        expires_at=until,
                    )
                    .returning(MailboxLease.generation)
                    .execution_options(synchronize_session=False)
                )
                if generation is not None and previous and previous != self.holder:
                    # Either its holder handed it over (a fair share) or stopped renewing.
                    log.warning(
                        "took over mailbox %s from %s (released, lapsed or gone)", mailbox, previous
                    )
        if generation is None:
            return None
        return LeaseState(mailbox, self.holder, generation, until)

    def renew(self, mailboxes: Iterable[str]) -> set[str]:
        """Extend the leases this worker holds; returns those still its own."""
        now = self.clock.now()
        kept: set[str] = set()
        with self.sessions.begin() as session:
            for mailbox in mailboxes:
                if self._extend(session, mailbox, now) is not None:
                    kept.add(mailbox)
        return kept

    def fence(self, session: Session, mailbox: str) -> None:
        """In the caller's transaction: renew the lease, or raise LeaseLostError if not ours.

        The row stays locked until the caller commits, so no takeover can pass
        between this check and the writes it guards.
        """
        if self._extend(session, mailbox, self.clock.now()) is None:
            raise LeaseLostError(f"mailbox {mailbox} is now read by another worker")

    def release(self, mailboxes: Iterable[str]) -> None:
        """Let the leases lapse now, so another worker takes them over at once."""
        names = list(mailboxes)
        if not names:
            return
        now = self.clock.now()
        with self.sessions.begin() as session:
            session.execute(
                update(MailboxLease)
                .where(MailboxLease.mailbox.in_(names), MailboxLease.holder == self.holder)
                .values(expires_at=now)
                .execution_options(synchronize_session=False)
            )

    def _extend(self, session: Session, mailbox: str, now: datetime) -> str | None:
        return session.scalar(
            update(MailboxLease)
            .where(MailboxLease.mailbox == mailbox, MailboxLease.holder == self.holder)
            .values(renewed_at=now, expires_at=now + self.ttl)
            .returning(MailboxLease.mailbox)
            .execution_options(synchronize_session=False)
        )
