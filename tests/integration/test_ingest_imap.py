"""Ingest against the real Dovecot and Postfix of the test stack."""

from __future__ import annotations

import dataclasses
import secrets
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from stack.mailstack import MailStack
from support.hostile import hostile_mails
from support.mails import make_mail
from support.runtime import make_runtime
from support.service import imap_section

from mailtrack.assembly import Runtime, build_service, build_source
from mailtrack.db.models import InboundMessage, MailboxCheckpoint, MessageState, Route
from mailtrack.errors import MailSourceError
from mailtrack.handlers import HandlerContext
from mailtrack.ingest.imap import ImapSource
from mailtrack.worker import Backoff, Service

pytestmark = pytest.mark.integration


@dataclass
class Box:
    """A fresh tracker mailbox on the stack, and a runtime configured to read it."""

    stack: MailStack
    address: str
    runtime: Runtime
    folder: str = "INBOX"

    def deliver(self, raw: bytes, rcpt: str | None = None) -> None:
        self.stack.deliver_lmtp(rcpt or self.address, raw)

    def service(self, **kwargs: object) -> Service:
        service = build_service(self.runtime, build_source(self.runtime.config))
        service.backoff = Backoff(base=0.2, cap=1.0)
        for name, value in kwargs.items():
            setattr(service, name, value)
        return service

    def run_once(self) -> None:
        self.service().run(threading.Event(), once=True)

    def rows(self) -> list[InboundMessage]:
        with self.runtime.sessions() as session:
            return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))

    def processed(self) -> int:
        return sum(row.state == MessageState.PROCESSED for row in self.rows())


@pytest.fixture
def make_box(mail_stack: MailStack, tmp_path: Path) -> Iterator[Callable[..., Box]]:
    runtimes: list[Runtime] = []

    def factory(**extra: str) -> Box:
        address = f"actas-{secrets.token_hex(4)}@tracker.test"
        mail_stack.add_user(address)
        where = tmp_path / address
        where.mkdir()
        runtime = make_runtime(
            where,
            imap_section(mail_stack, address, **extra),
            password=mail_stack.password,
            address=address,
        )
        runtimes.append(runtime)
        return Box(mail_stack, address, runtime)

    yield factory
    for runtime in runtimes:
        runtime.dispose()


def minutes_to(box: Box, n: int = 0) -> bytes:
    return make_mail(cc=f"Actas <{box.address}>", subject=f"Acta {n}")


def wait_for(condition: Callable[[], bool], timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout} s")


def test_mail_sent_through_postfix_is_archived_and_routed(make_box: Callable[..., Box]) -> None:
    box = make_box()
    local, domain = box.address.split("@")
    context = ssl.create_default_context(cafile=str(box.stack.ca_file))
    with smtplib.SMTP(box.stack.host, box.stack.smtp_port, timeout=10) as smtp:
        smtp.starttls(context=context)
        smtp.sendmail("ana@consultora.test", [box.address], minutes_to(box))
        smtp.sendmail(
            "x@elsewhere.test",
            [f"{local}+sometoken@{domain}"],
            make_mail(sender="x@elsewhere.test"),
        )
    wait_for(lambda: box.run_once() or len(box.rows()) == 2, timeout=30)
    routes = {row.from_address: row for row in box.rows()}  # Postfix may deliver in any order
    assert routes["ana@consultora.test"].route == Route.MINUTES
    assert routes["x@elsewhere.test"].route == Route.IGNORED
    assert all(row.state == MessageState.PROCESSED for row in routes.values())
    raw = box.runtime.archive.load(routes["x@elsewhere.test"].raw_path)
    assert f"Delivered-To: {local}+sometoken@{domain}".encode() in raw


def test_fetching_never_marks_mail_as_read(make_box: Callable[..., Box]) -> None:
    box = make_box()
    box.deliver(minutes_to(box))
    box.run_once()
    unseen = box.stack.doveadm("search", "-u", box.address, "mailbox", "INBOX", "UNSEEN")
    assert unseen.strip(), "the mail should still be unread"


def test_idle_records_new_mail_within_seconds(make_box: Callable[..., Box]) -> None:
    box = make_box()  # poll_interval is 60 s: only IDLE can make this fast
    stop = threading.Event()
    thread = threading.Thread(target=box.service().run, args=(stop,))
    thread.start()
    try:
        time.sleep(1.0)  # let it reach IDLE
        box.deliver(minutes_to(box))
        # Without IDLE the mail would wait for the 60 s poll; the margin below that is for
        # loading the pipelines with the first minutes on a loaded machine (the latency
        # itself is measured in benchmarks/ingest.py: about 0.6 s).
        elapsed = wait_for(lambda: box.processed() == 1, timeout=45)
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()
    assert elapsed < 45


def test_restarting_dovecot_during_idle_reconnects_and_picks_up_mail(
    make_box: Callable[..., Box],
) -> None:
    box = make_box()
    stop = threading.Event()
    thread = threading.Thread(target=box.service().run, args=(stop,))
    thread.start()
    try:
        time.sleep(1.0)
        box.stack.restart_dovecot()
        box.deliver(minutes_to(box, 1))
        # Generous: the reconnection backs off with jitter, and the first minutes load
        # the extraction pipelines (20 s and more on a loaded 2-core machine).
        wait_for(lambda: box.processed() == 1, timeout=90)
        box.deliver(minutes_to(box, 2))
        wait_for(lambda: box.processed() == 2, timeout=60)
    finally:
        stop.set()
        thread.join(timeout=20)
    assert [row.state for row in box.rows()] == [MessageState.PROCESSED] * 2


def test_uidvalidity_change_rescans_without_duplicates(make_box: Callable[..., Box]) -> None:
    box = make_box(folder='"Tracker"')
    user = box.address
    box.stack.doveadm("mailbox", "create", "-u", user, "Tracker")
    mails = [minutes_to(box, n) for n in range(3)]
    saved = box.stack.workdir / f"{secrets.token_hex(4)}.eml"
    for raw in mails:
        saved.write_bytes(raw)
        box.stack.doveadm("save", "-u", user, "-m", "Tracker", str(saved))
    box.run_once()
    assert len(box.rows()) == 3
    with box.runtime.sessions() as session:
        before = session.scalars(select(MailboxCheckpoint.uidvalidity)).one()
    # Recreate the folder: same mails, new UIDVALIDITY, UIDs from 1 again; plus one new mail.
    box.stack.doveadm("mailbox", "delete", "-u", user, "Tracker")
    time.sleep(1.1)  # Dovecot derives UIDVALIDITY from the clock
    box.stack.doveadm("mailbox", "create", "-u", user, "Tracker")
    for raw in [*mails, minutes_to(box, 99)]:
        saved.write_bytes(raw)
        box.stack.doveadm("save", "-u", user, "-m", "Tracker", str(saved))
    box.run_once()
    rows = box.rows()
    assert len(rows) == 4
    assert rows[-1].subject == "Acta 99"
    with box.runtime.sessions() as session:
        after = session.scalars(select(MailboxCheckpoint)).one()
    assert after.uidvalidity != before
    assert after.last_uid == 4


def test_processed_mail_is_moved_only_after_the_commit(make_box: Callable[..., Box]) -> None:
    box = make_box(processed_folder='"Processed"')
    box.deliver(minutes_to(box, 1))
    box.deliver(minutes_to(box, 2))
    box.run_once()
    assert len(box.rows()) == 2
    status = box.stack.doveadm(
        "mailbox", "status", "-u", box.address, "messages", "INBOX", "Processed"
    )
    counts = dict(line.split(" messages=") for line in status.strip().splitlines())
    assert counts == {"INBOX": "0", "Processed": "2"}


def test_processed_refs_are_moved_by_any_connection_and_only_for_the_current_folder(
    make_box: Callable[..., Box],
) -> None:
    # The source keeps no per-mail state between fetch and move (a months-long service
    # must not grow): a ref names its UID, so another connection (another worker of a
    # cluster) can move it, and a ref from an earlier UIDVALIDITY is left alone.
    box = make_box(processed_folder='"Processed"')
    for n in range(3):
        box.deliver(minutes_to(box, n))
    source = build_source(box.runtime.config)
    assert isinstance(source, ImapSource)
    source.open()
    try:
        refs = [mail.ref for batch in source.fetch(None, set()) for mail in batch.mails]
        assert len(refs) == 3
        other = ImapSource(source.settings)
        other.open()
        try:
            stale = f"{(other.uidvalidity or 0) + 1}:{refs[1].partition(':')[2]}"
            other.processed([refs[0], stale, "not-a-ref"])
        finally:
            other.close()
    finally:
        source.close()
    status = box.stack.doveadm(
        "mailbox", "status", "-u", box.address, "messages", "INBOX", "Processed"
    )
    counts = dict(line.split(" messages=") for line in status.strip().splitlines())
    assert counts == {"INBOX": "2", "Processed": "1"}


def test_certificate_checks(make_box: Callable[..., Box], mail_stack: MailStack) -> None:
    box = make_box(port=str(mail_stack.imaps_port), security='"tls"')
    box.deliver(minutes_to(box))
    box.run_once()  # implicit TLS, verified with the private CA
    assert len(box.rows()) == 1
    source = build_source(box.runtime.config)
    assert isinstance(source, ImapSource)
    untrusted = ImapSource(dataclasses.replace(source.settings, ca_file=None))
    with pytest.raises(MailSourceError, match="certificate not trusted"):
        untrusted.open()


def test_a_wrong_password_is_a_clear_error(make_box: Callable[..., Box]) -> None:
    box = make_box()
    source = build_source(box.runtime.config)
    assert isinstance(source, ImapSource)
    wrong = ImapSource(dataclasses.replace(source.settings, password="wrong"))
    with pytest.raises(MailSourceError, match="refused the login"):
        wrong.open()


def test_hostile_mails_are_archived_and_routed_or_parked(make_box: Callable[..., Box]) -> None:
    box = make_box()
    box.deliver(minutes_to(box, 0))
    for _, raw in hostile_mails():
        # LMTP cannot carry a zero-byte mail; the unit tests parse that one.
        box.deliver(raw if raw.strip() else b"Subject: empty\r\n\r\n")
    box.deliver(minutes_to(box, 51))
    box.run_once()
    rows = box.rows()
    assert len(rows) == 52
    assert all(row.state in (MessageState.PROCESSED, MessageState.PARKED) for row in rows)
    assert all(row.route_reason or row.last_error for row in rows)
    assert rows[0].route == Route.MINUTES and rows[-1].route == Route.MINUTES
    big = max(rows, key=lambda row: row.size)
    assert big.size > 20 * 1024 * 1024
    assert len(box.runtime.archive.load(big.raw_path)) == big.size


def test_mail_arriving_while_others_are_processed_is_not_left_for_the_idle_refresh(
    make_box: Callable[..., Box],
) -> None:
    """A server announces new mail once, inside whatever response comes next; a FETCH or
    SEARCH that swallowed that EXISTS must not leave the mail waiting for the next IDLE."""
    box = make_box()
    delivered = threading.Event()

    def slow_first(context: HandlerContext) -> None:
        if context.parsed.subject == "Acta 1" and not delivered.is_set():
            box.deliver(minutes_to(box, 2))  # arrives while this mail is being handled
            delivered.set()
            time.sleep(0.5)

    box.deliver(minutes_to(box, 1))
    service = build_service(
        box.runtime, build_source(box.runtime.config), handlers={Route.MINUTES: slow_first}
    )
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,))
    thread.start()
    try:
        # poll_interval is 60 s and the IDLE refresh 10 min: only the check can make it quick
        wait_for(lambda: box.processed() == 2, timeout=15)
    finally:
        stop.set()
        thread.join(timeout=20)
