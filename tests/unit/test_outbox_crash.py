"""A crash in the middle of a batch of outgoing mail resends at most the mail in flight."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from support.loop import make_loop, minutes_mail

from mailtrack.assembly import build_sender
from mailtrack.db.models import OutboxKind, OutboxMessage, OutboxStatus
from mailtrack.outbound.mailers import Delivery, DeliveryCallback, Outgoing


class ProcessDied(BaseException):
    """Stands for kill -9: nothing after it runs, not even except/finally of the sender."""


class DiesDuringBatch:
    """A relay that accepts ``accepted`` mails of the batch, then the process dies."""

    def __init__(self, accepted: int) -> None:
        self.accepted = accepted
        self.delivered: list[str] = []

    def send_many(
        self, messages: Sequence[Outgoing], on_delivery: DeliveryCallback | None = None
    ) -> list[Delivery]:
        results = []
        for index, message in enumerate(messages):
            if index == self.accepted:
                raise ProcessDied
            self.delivered.append(message.message_id)
            results.append(Delivery("sent", "250 ok"))
            if on_delivery is not None:
                on_delivery(index, results[-1])
        return results


def test_mail_the_relay_accepted_is_marked_sent_before_the_next_goes_out(tmp_path: Path) -> None:
    loop = make_loop(tmp_path)
    loop.mailer.answers = [Delivery("retry", "421 later")] * 2  # keep both requests queued
    loop.deliver(minutes_mail())
    loop.clock.advance(timedelta(minutes=5))  # both are due again
    relay = DiesDuringBatch(accepted=1)
    with pytest.raises(ProcessDied):
        build_sender(loop.runtime, relay).flush()
    with loop.runtime.sessions() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.REQUEST)
        ).all()
        by_id = {row.message_id: row.status for row in rows}
    assert len(relay.delivered) == 1
    # The accepted mail is recorded as sent: a restart will not send it again.
    assert by_id[relay.delivered[0]] == OutboxStatus.SENT
    assert list(by_id.values()).count(OutboxStatus.PENDING) == 1


class SlowRelayLosesTheClaim:
    """A relay so slow on the first mail that the batch's claim runs out meanwhile.

    While it "delivers" the first mail, another worker claims the rest (what a
    second process does once the claim has lapsed).
    """

    def __init__(self, sessions: object) -> None:
        self.sessions = sessions
        self.delivered: list[str] = []

    def send_many(
        self, messages: Sequence[Outgoing], on_delivery: DeliveryCallback | None = None
    ) -> list[Delivery]:
        results = []
        for index, message in enumerate(messages):
            if index == 0:
                with self.sessions.begin() as session:  # type: ignore[attr-defined]
                    for row in session.scalars(select(OutboxMessage)):
                        if row.message_id != message.message_id:
                            row.claimed_by = "another-worker"
            self.delivered.append(message.message_id)
            results.append(Delivery("sent", "250 ok"))
            if on_delivery is not None and on_delivery(index, results[-1]) is False:
                break
        return results


def test_a_batch_stops_when_another_worker_took_the_rest_during_a_slow_delivery(
    tmp_path: Path,
) -> None:
    loop = make_loop(tmp_path)
    loop.mailer.answers = [Delivery("retry", "421 later")] * 2  # keep both requests queued
    loop.deliver(minutes_mail())
    loop.clock.advance(timedelta(minutes=5))  # both are due again
    relay = SlowRelayLosesTheClaim(loop.runtime.sessions)
    build_sender(loop.runtime, relay).flush()
    # Only the mail in flight went out; the other is the other worker's to send.
    assert len(relay.delivered) == 1
    with loop.runtime.sessions() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.REQUEST)
        ).all()
    taken = [row for row in rows if row.message_id != relay.delivered[0]]
    assert [row.status for row in taken] == [OutboxStatus.PENDING]
    assert taken[0].claimed_by == "another-worker"
