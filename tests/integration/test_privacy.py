"""Logs never hold mail bodies, reply tokens or secrets: a whole loop logged at DEBUG, then searched.

The loop runs on the real stack with everything a deployment has: IMAP and
SMTP logins whose passwords come from environment variables, minutes and
replies with sentences found nowhere else, requests, receipts, a reminder,
the organizer's digest, and a last pass through the real CLI with
``--debug`` (which logs everything, SQLAlchemy and imapclient included).
Every log line, and every traceback in them, is then searched for each
secret: the passwords, each request's token (the secret part of its
``tracker+TOKEN@`` address and Message-ID), and the distinctive sentences.
"""

from __future__ import annotations

import logging
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path

import pytest
from sqlalchemy import select
from stack.mailstack import MailStack
from support.loop import handlers
from support.service import (
    IMAP_PASSWORD_ENV,
    SMTP_PASSWORD_ENV,
    Mailboxes,
    environment,
    wait_for,
)
from support.service import write_config as service_config
from support.traffic import ReplyWriter, is_request, minutes_mail, parse, people

from mailtrack.assembly import (
    build_mailer,
    build_sender,
    build_service,
    build_source,
    housekeeping,
    open_runtime,
)
from mailtrack.clock import FrozenClock
from mailtrack.config import load_config
from mailtrack.db.migrate import upgrade
from mailtrack.db.models import ConfirmationRequest, OutboxKind, OutboxMessage
from mailtrack.db.session import make_engine

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def secret_stack(mail_stack: MailStack) -> Iterator[MailStack]:
    """A stack of its own, whose one password is a random string no log can hold by chance.

    Asks for ``mail_stack`` only for its availability rule (skip locally, fail in CI).
    """
    workdir = Path(tempfile.mkdtemp(prefix="mailtrack-privacy-"))
    stack = MailStack.start(workdir, password="pw-" + secrets.token_urlsafe(18))
    try:
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)


class Capture(logging.Handler):
    """Every record of every logger, formatted with its traceback, as the user would see it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        with self._lock:
            self.lines.append(text)


@pytest.fixture
def debug_log() -> Iterator[Capture]:
    capture = Capture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(level)


def request_received(boxes: Mailboxes, email: str) -> Message:
    """The request ``email`` got, once Postfix has delivered it."""
    found: list[Message] = []

    def arrived() -> Message | None:
        found.extend(parse(raw) for raw in boxes.new_messages(email))
        return next((m for m in found if is_request(m)), None)

    return wait_for(arrived, 60, f"request to {email}")


def test_a_whole_loop_logged_at_debug_shows_no_body_token_or_secret(
    secret_stack: MailStack,
    tmp_path: Path,
    debug_log: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = secret_stack
    rng = random.Random(5)
    tag = secrets.token_hex(3)
    tracker = f"actas-{tag}@tracker.test"
    organizer = people(1, tag, rng, domain="consultora.test")[0]
    pool = people(3, tag, rng)
    for user in [tracker, organizer.email] + [p.email for p in pool]:
        stack.add_user(user)
    path = service_config(tmp_path, stack, tracker, level="debug")
    for name in (IMAP_PASSWORD_ENV, SMTP_PASSWORD_ENV):
        monkeypatch.setenv(name, stack.password)
    config = load_config(path)
    engine = make_engine(config.database.url)
    upgrade(engine)
    engine.dispose()
    clock = FrozenClock(datetime.now(UTC).replace(hour=9, minute=30))
    runtime = open_runtime(config, clock)

    def run_once() -> None:
        sender = build_sender(runtime, build_mailer(config))
        build_service(
            runtime, build_source(config), handlers(config), housekeeping(runtime, sender)
        ).run(threading.Event(), once=True)

    minutes = minutes_mail(1, rng, tracker, organizer, pool, language="es", size=2)
    stack.deliver_lmtp(tracker, minutes.raw)
    run_once()  # the meeting, two requests through Postfix (with SMTP AUTH)

    boxes = Mailboxes(stack)
    writer = ReplyWriter(random.Random(1), now=clock.now())
    first, second = minutes.participants
    replies = []
    requests = {}
    for person in (first, second):
        requests[person.email] = request_received(boxes, person.email)
    reply = writer.reply(requests[first.email], first.display)
    replies.append(reply)
    stack.deliver_lmtp(reply.rcpt, reply.raw)
    run_once()  # the reply understood, a receipt sent

    clock.advance(timedelta(days=3))
    run_once()  # a reminder to the second person; the organizer's digest

    late = writer.reply(requests[second.email], second.display)
    replies.append(late)
    stack.deliver_lmtp(late.rcpt, late.raw)
    runtime.dispose()
    # The last pass as an operator runs it: the CLI, --debug, secrets in its environment.
    cli = subprocess.run(
        [sys.executable, "-m", "mailtrack", "--debug", "--config", str(path), "run", "--once"],
        env=environment(stack.password),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr[-3000:]

    check = make_engine(config.database.url)
    with check.connect() as connection:
        tokens = list(connection.scalars(select(ConfirmationRequest.token)))
        kinds = set(connection.scalars(select(OutboxMessage.kind)))
    check.dispose()
    # The loop really ran: every kind of mail the test is about was written.
    assert {OutboxKind.REQUEST, OutboxKind.RECEIPT, OutboxKind.REMINDER} <= kinds
    assert OutboxKind.DIGEST in kinds
    assert len(tokens) == 2

    logs = "\n".join(debug_log.lines) + "\n" + cli.stdout + cli.stderr
    # DEBUG really was on, in this process and in the CLI's.
    assert any(line.startswith("DEBUG") for line in debug_log.lines) and "DEBUG" in cli.stderr
    secrets_found = {
        "password": [stack.password],
        "token": tokens,
        "minutes sentence": [minutes.secret_sentence.split()[2]],
        "reply sentence": [r.secret_sentence.split()[2] for r in replies],
    }
    leaks = {
        what: [value for value in values if value in logs]
        for what, values in secrets_found.items()
        if any(value in logs for value in values)
    }
    assert leaks == {}, [line for line in logs.splitlines() if any(
        v in line for values in leaks.values() for v in values
    )][:10]  # fmt: skip
