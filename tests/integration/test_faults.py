"""Faults around the service: each one recovers by itself, or stops with one clear line; nothing is lost.

Dovecot restarted under an IDLE connection, Postfix stopped and started,
the SQLite database locked by another process (briefly, and longer than its
busy timeout), PostgreSQL restarted, the archive's disk full. The SMTP
relay's 4xx, 5xx and silence are in tests/unit/test_smtp_faults.py
(aiosmtpd); mail lost or doubled by kill -9 in test_crash_loop.py.
"""

from __future__ import annotations

import logging
import random
import secrets
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select
from stack.mailstack import MailStack
from stack.pgserver import PgServer
from support.loop import handlers
from support.mails import make_mail
from support.runtime import make_runtime
from support.service import (
    Mailboxes,
    environment,
    imap_section,
    log_of,
    mailtrack,
    smtp_section,
    wait_for,
    write_config,
)
from support.traffic import is_request, minutes_mail, parse, people

from mailtrack.assembly import (
    Runtime,
    build_mailer,
    build_sender,
    build_service,
    build_source,
    housekeeping,
)
from mailtrack.cli import main
from mailtrack.clock import FrozenClock
from mailtrack.db import session as db_session
from mailtrack.db.models import InboundMessage, OutboxMessage, OutboxStatus
from mailtrack.worker import Backoff, Service

pytestmark = pytest.mark.integration


def states(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(InboundMessage.state, func.count()).group_by(InboundMessage.state)
            ).all()
    finally:
        engine.dispose()
    return {str(state): count for state, count in rows}


def minutes_for(tracker: str, n: int) -> bytes:
    return make_mail(cc=f"Actas <{tracker}>", subject=f"Acta {n} {secrets.token_hex(3)}")


class Running:
    """An in-process service in a thread (quick backoff), stopped like SIGTERM would."""

    def __init__(self, service: Service) -> None:
        service.backoff = Backoff(base=0.2, cap=1.0)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=service.run, args=(self.stop,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the service did not stop"


@pytest.fixture
def tracker(mail_stack: MailStack) -> str:
    address = f"actas-{secrets.token_hex(4)}@tracker.test"
    mail_stack.add_user(address)
    return address


def in_process(
    stack: MailStack, tmp_path: Path, tracker: str, url: str | None = None, extra: str = ""
) -> Runtime:
    return make_runtime(
        tmp_path,
        imap_section(stack, tracker) + extra,
        url=url,
        password=stack.password,
        address=tracker,
    )


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'mailtrack.db'}"


# --------------------------------------------------------------------------- Dovecot


def test_dovecot_restarted_under_idle_the_service_reconnects_by_itself(
    mail_stack: MailStack, tmp_path: Path, tracker: str
) -> None:
    config = write_config(tmp_path, mail_stack, tracker, level="info")
    assert mailtrack(config, "db", "upgrade", password=mail_stack.password).wait(60) == 0
    service = mailtrack(config, "run", password=mail_stack.password)
    try:
        wait_for(lambda: "connected to" in log_of(config), 60, "first IMAP connection")
        time.sleep(0.5)  # in IDLE now
        mail_stack.restart_dovecot()
        for n in range(3):
            mail_stack.deliver_lmtp(tracker, minutes_for(tracker, n))
        wait_for(lambda: states(sqlite_url(tmp_path)).get("processed") == 3, 60, "3 processed")
    finally:
        service.send_signal(signal.SIGTERM)
        code = service.wait(timeout=60)
    log = log_of(config, tail=20000)
    assert code == 0, log
    assert log.count("connected to") >= 2  # it did reconnect
    assert "Traceback" not in log


# --------------------------------------------------------------------------- Postfix


def test_postfix_stopped_keeps_requests_queued_and_sends_each_once_when_it_is_back(
    mail_stack: MailStack, tmp_path: Path, tracker: str
) -> None:
    rng = random.Random(3)
    tag = secrets.token_hex(3)
    organizer = people(1, tag, rng, domain="consultora.test")[0]
    pool = people(4, tag, rng)
    for person in pool:
        mail_stack.add_user(person.email)
    runtime = in_process(mail_stack, tmp_path, tracker, extra=smtp_section(mail_stack))
    clock = FrozenClock(datetime.now(UTC))
    runtime.clock = clock
    minutes = minutes_mail(1, rng, tracker, organizer, pool, size=3)
    mail_stack.deliver_lmtp(tracker, minutes.raw)

    def run_once() -> None:
        config = runtime.config
        sender = build_sender(runtime, build_mailer(config))
        build_service(
            runtime, build_source(config), handlers(config), housekeeping(runtime, sender)
        ).run(threading.Event(), once=True)

    mail_stack.stop_postfix()
    try:
        run_once()
        with runtime.sessions() as session:
            rows = list(session.scalars(select(OutboxMessage)))
        assert len(rows) >= 3
        assert {row.status for row in rows} == {OutboxStatus.PENDING}
        assert all("cannot connect" in (row.last_error or "") for row in rows)
    finally:
        mail_stack.start_postfix()
    clock.advance(timedelta(minutes=2))
    run_once()
    with runtime.sessions() as session:
        rows = list(session.scalars(select(OutboxMessage)))
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    wait_for(lambda: mail_stack.postfix_queue_size() == 0, 30, "Postfix queue empty")
    boxes = Mailboxes(mail_stack)
    for person in minutes.participants:
        received = [parse(raw) for raw in boxes.new_messages(person.email)]
        requests = [message for message in received if is_request(message)]
        assert len(requests) == 1, person  # one request, delivered once
        copies = [m for m in received if m["Message-ID"] == requests[0]["Message-ID"]]
        assert len(copies) == 1
    runtime.dispose()


# --------------------------------------------------------------------------- SQLite


@pytest.fixture
def held_lock() -> Iterator[Callable[[str, float], None]]:
    """Hold SQLite's write lock from another connection for some seconds, in the background."""
    threads: list[threading.Thread] = []

    def hold(url: str, seconds: float) -> None:
        path = url.removeprefix("sqlite:///")
        ready = threading.Event()

        def holder() -> None:
            connection = sqlite3.connect(path, isolation_level=None)
            connection.execute("BEGIN IMMEDIATE")
            ready.set()
            time.sleep(seconds)
            connection.execute("COMMIT")
            connection.close()

        thread = threading.Thread(target=holder, daemon=True)
        thread.start()
        threads.append(thread)
        assert ready.wait(10)

    yield hold
    for thread in threads:
        thread.join(timeout=60)


def test_sqlite_locked_briefly_by_another_process_only_delays(
    mail_stack: MailStack,
    tmp_path: Path,
    tracker: str,
    held_lock: Callable[[str, float], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    runtime = in_process(mail_stack, tmp_path, tracker)
    running = Running(build_service(runtime, build_source(runtime.config)))
    try:
        held_lock(sqlite_url(tmp_path), 1.5)
        for n in range(3):
            mail_stack.deliver_lmtp(tracker, minutes_for(tracker, n))
        wait_for(lambda: states(sqlite_url(tmp_path)) == {"processed": 3}, 30, "3 processed")
    finally:
        running.close()
        runtime.dispose()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_sqlite_locked_longer_than_the_busy_timeout_retries_until_it_is_free(
    mail_stack: MailStack,
    tmp_path: Path,
    tracker: str,
    held_lock: Callable[[str, float], None],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(db_session, "SQLITE_BUSY_TIMEOUT_MS", 200)
    runtime = in_process(mail_stack, tmp_path, tracker)
    running = Running(build_service(runtime, build_source(runtime.config)))
    try:
        time.sleep(0.5)
        held_lock(sqlite_url(tmp_path), 4)
        for n in range(3):
            mail_stack.deliver_lmtp(tracker, minutes_for(tracker, n))
        wait_for(lambda: "locked" in caplog.text, 30, "a warning about the lock")
        wait_for(lambda: states(sqlite_url(tmp_path)) == {"processed": 3}, 60, "3 processed")
    finally:
        running.close()
        runtime.dispose()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert all("retrying" in line for line in warnings), warnings
    assert all("INSERT" not in line and "SELECT" not in line for line in warnings), warnings


def test_run_once_on_a_locked_database_stops_with_one_clear_line(
    mail_stack: MailStack,
    tmp_path: Path,
    tracker: str,
    held_lock: Callable[[str, float], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = write_config(tmp_path, mail_stack, tracker)
    assert mailtrack(config, "db", "upgrade", password=mail_stack.password).wait(60) == 0
    mail_stack.deliver_lmtp(tracker, minutes_for(tracker, 1))
    monkeypatch.setattr(db_session, "SQLITE_BUSY_TIMEOUT_MS", 200)
    monkeypatch.chdir(tmp_path)  # data_dir is relative to the config; be where it is
    held_lock(sqlite_url(tmp_path), 4)
    result = CliRunner().invoke(
        main, ["--config", str(config), "run", "--once"], env=environment(mail_stack.password)
    )
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1, result.output
    assert len(lines) == 1, lines
    assert lines[0].startswith("mailtrack: database"), lines
    assert "locked" in lines[0] and "INSERT" not in lines[0] and "bug" not in lines[0]


# --------------------------------------------------------------------------- PostgreSQL


def test_postgresql_restarted_the_service_waits_and_loses_nothing(
    mail_stack: MailStack,
    pg_server: PgServer,
    pg_url: str,
    tmp_path: Path,
    tracker: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="mailtrack")  # what the service did, if it fails
    runtime = in_process(mail_stack, tmp_path, tracker, url=pg_url)
    running = Running(build_service(runtime, build_source(runtime.config)))
    try:
        for n in range(2):
            mail_stack.deliver_lmtp(tracker, minutes_for(tracker, n))
        try:
            wait_for(lambda: states(pg_url) == {"processed": 2}, 30, "2 processed")
        except AssertionError as error:
            # Seen once in a full CI run, never alone: say where the mail was.
            raise AssertionError(
                f"{error}; states {states(pg_url)}; thread alive {running.thread.is_alive()}; "
                f"log:\n{caplog.text[-4000:]}"
            ) from None
        pg_server.stop()
        try:
            for n in range(2, 5):
                mail_stack.deliver_lmtp(tracker, minutes_for(tracker, n))
            wait_for(lambda: "retrying" in caplog.text, 30, "a warning while it is down")
        finally:
            pg_server.start_again()
        wait_for(lambda: states(pg_url) == {"processed": 5}, 60, "5 processed")
    finally:
        running.close()
        runtime.dispose()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert all("INSERT" not in line and "SELECT" not in line for line in warnings), warnings


# --------------------------------------------------------------------------- disk full


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path/data/archive`` on a 1 MB tmpfs (we are root, like the mail stack needs)."""
    archive = tmp_path / "data" / "archive"
    archive.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(archive)], check=True)
    try:
        yield archive
    finally:
        subprocess.run(["umount", "-l", str(archive)], check=False)


def fill(disk: Path) -> list[Path]:
    """Fill ``disk`` to the last byte; returns the filler files (delete them to free the space)."""
    fillers = []
    for name, chunk in (("filler", 65536), ("filler-tail", 1)):
        fillers.append(disk / name)
        with open(disk / name, "wb", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * chunk)
            except OSError:
                pass
    return fillers


def test_archive_disk_full_run_once_says_so_and_the_service_waits_for_space(
    mail_stack: MailStack, tmp_path: Path, tracker: str, small_disk: Path
) -> None:
    config = write_config(tmp_path, mail_stack, tracker)
    assert mailtrack(config, "db", "upgrade", password=mail_stack.password).wait(60) == 0
    fillers = fill(small_disk)
    for n in range(3):
        mail_stack.deliver_lmtp(tracker, minutes_for(tracker, n))
    once = subprocess.run(
        [sys.executable, "-m", "mailtrack", "--config", str(config), "run", "--once"],
        env=environment(mail_stack.password),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert once.returncode == 1
    (line,) = once.stderr.strip().splitlines()
    assert line.startswith("mailtrack: cannot write to the mail archive"), line
    assert line.endswith("No space left on device"), line
    assert states(sqlite_url(tmp_path)) == {}  # nothing half-recorded

    service = mailtrack(config, "run", password=mail_stack.password)
    try:
        wait_for(lambda: "No space left on device" in log_of(config), 60, "a warning")
        assert service.poll() is None  # it waits, it does not die
        for filler in fillers:
            filler.unlink()
        wait_for(lambda: states(sqlite_url(tmp_path)) == {"processed": 3}, 60, "3 processed")
    finally:
        service.send_signal(signal.SIGTERM)
        code = service.wait(timeout=60)
    assert code == 0
    assert "Traceback" not in log_of(config, tail=50000)
    assert len(list(small_disk.rglob("*.eml"))) == 3
