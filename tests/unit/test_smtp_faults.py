"""The relay answering 4xx, 5xx, or nothing at all: the real SMTP mailer against aiosmtpd on 127.0.0.1.

A temporary refusal or a silent relay keeps the mail in the outbox and
sends it once the relay is back; a permanent refusal is final and the
request becomes undeliverable, for the organizer to see. Every case counts
what the relay really received, so "nothing lost" and "not sent twice" are
measured where the mail lands.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from support.loop import Loop, minutes_mail
from support.runtime import make_runtime

from mailtrack.assembly import build_mailer
from mailtrack.db.models import OutboxKind, OutboxMessage, OutboxStatus

JUAN, LUIS = "juan@cliente.test", "luis@cliente.test"


class Relay:
    """An SMTP relay whose answers the test sets: "ok", "4xx", "5xx", or "slow" DATA."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.slow_seconds = 0.0
        self.received: list[bytes] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.mode == "4xx":
            return "451 4.3.0 Temporary local problem, try later"
        if self.mode == "5xx" and address.startswith("juan"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.mode == "slow":
            await asyncio.sleep(self.slow_seconds)
        self.received.append(envelope.content)
        return "250 OK queued"


@pytest.fixture
def relay() -> Iterator[tuple[Relay, int]]:
    handler = Relay()
    with socket.socket() as probe:  # a free port (aiosmtpd's Controller cannot take port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def make(tmp_path: Path, port: int, timeout: str = "5s") -> Loop:
    extra = f"""
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
timeout = "{timeout}"
retry_after = "1m"
"""
    runtime = make_runtime(tmp_path, extra)
    return Loop(runtime, mailer=build_mailer(runtime.config))


def requests(loop: Loop) -> list[OutboxMessage]:
    with loop.runtime.sessions() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == OutboxKind.REQUEST)
                .order_by(OutboxMessage.id)
            )
        )


def copies(relay: Relay, message_id: str) -> int:
    return sum(f"Message-ID: {message_id}".encode() in raw for raw in relay.received)


def test_a_4xx_keeps_the_mail_and_sends_it_once_when_the_relay_recovers(
    tmp_path: Path, relay: tuple[Relay, int]
) -> None:
    handler, port = relay
    handler.mode = "4xx"
    loop = make(tmp_path, port)
    loop.deliver(minutes_mail())
    rows = requests(loop)
    assert [r.status for r in rows] == [OutboxStatus.PENDING] * 2
    assert all(r.attempts == 1 and "451" in (r.last_error or "") for r in rows)
    assert handler.received == []
    handler.mode = "ok"
    loop.run()  # not due yet: nothing is sent before the retry time
    assert handler.received == []
    loop.clock.advance(timedelta(minutes=2))
    loop.run()
    assert [r.status for r in requests(loop)] == [OutboxStatus.SENT] * 2
    assert [copies(handler, r.message_id) for r in rows] == [1, 1]


def test_a_5xx_is_final_and_makes_the_request_undeliverable(
    tmp_path: Path, relay: tuple[Relay, int]
) -> None:
    handler, port = relay
    handler.mode = "5xx"
    loop = make(tmp_path, port)
    loop.deliver(minutes_mail())
    by_person = {r.recipients[0]: r for r in requests(loop)}
    assert by_person[JUAN].status == OutboxStatus.FAILED
    assert "550" in (by_person[JUAN].last_error or "")
    assert by_person[LUIS].status == OutboxStatus.SENT
    assert {state for (_, who), state in loop.states().items() if who == JUAN} == {"undeliverable"}
    loop.clock.advance(timedelta(hours=1))
    loop.run()  # a final refusal is never retried
    assert copies(handler, by_person[JUAN].message_id) == 0
    assert copies(handler, by_person[LUIS].message_id) == 1


def test_a_relay_that_never_answers_times_out_and_the_mail_waits(tmp_path: Path) -> None:
    # Accepts TCP connections (the kernel's backlog) but never sends its greeting.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        loop = make(tmp_path, silent.getsockname()[1], timeout="500ms")
        loop.deliver(minutes_mail())
        rows = requests(loop)
        assert [r.status for r in rows] == [OutboxStatus.PENDING] * 2
        assert all(r.attempts == 1 and r.last_error for r in rows)
    finally:
        silent.close()


def test_a_relay_slower_than_the_timeout_after_data_is_retried_at_most_one_extra_copy(
    tmp_path: Path, relay: tuple[Relay, int]
) -> None:
    handler, port = relay
    handler.mode, handler.slow_seconds = "slow", 1.5
    loop = make(tmp_path, port, timeout="500ms")
    loop.deliver(minutes_mail())
    rows = requests(loop)
    # We gave up waiting for the answer: the mail stays in the outbox for a retry.
    assert rows[0].status == OutboxStatus.PENDING
    handler.mode = "ok"
    loop.clock.advance(timedelta(minutes=10))
    loop.run()
    assert [r.status for r in requests(loop)] == [OutboxStatus.SENT] * 2
    # The slow relay did take the first copy in the end: SMTP cannot tell us, so a timeout
    # after DATA may give one extra copy (same Message-ID), never a lost mail.
    assert all(1 <= copies(handler, r.message_id) <= 2 for r in rows)
