"""Several workers on one PostgreSQL: every claim, lease and once-a-day row has one winner.

Each test lets threads (each with its own connections, as separate processes
would have) race for the same rows at the same instant, on the real server.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import func, select, text
from support.loop import Loop, minutes_mail
from support.mails import make_mail
from support.memory import MemorySource
from support.runtime import make_runtime

from mailtrack.assembly import Runtime, build_node, build_processor, open_runtime
from mailtrack.clock import SystemClock
from mailtrack.cluster.leases import Leases
from mailtrack.config import parse_config
from mailtrack.db.migrate import upgrade
from mailtrack.db.models import (
    DigestRun,
    InboundMessage,
    MailboxLease,
    MessageState,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    Person,
    Route,
)
from mailtrack.db.session import make_engine
from mailtrack.digest import send_digests
from mailtrack.handlers import HandlerContext
from mailtrack.ingest.source import Batch, FetchedMail
from mailtrack.ingest.store import Archiver
from mailtrack.meetings import get_person
from mailtrack.outbound.outbox import claim, take_quota
from mailtrack.reminders import send_reminders

pytestmark = pytest.mark.integration
T = TypeVar("T")


@pytest.fixture
def runtime(tmp_path: Path, pg_url: str) -> Iterator[Runtime]:
    runtime = make_runtime(tmp_path, url=pg_url)
    yield runtime
    runtime.dispose()


def race(count: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(i)`` in ``count`` threads released at the same instant; their results."""
    barrier = threading.Barrier(count)
    results: list[T | None] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results  # type: ignore[return-value]


def queue_mail(runtime: Runtime, count: int) -> None:
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        for n in range(count):
            session.add(
                OutboxMessage(
                    kind=OutboxKind.NOTICE,
                    message_id=f"<n{n}@tracker.test>",
                    envelope_from="actas@tracker.test",
                    recipients=["ana@consultora.test"],
                    subject=f"n{n}",
                    raw=b"x",
                    status=OutboxStatus.PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )


def test_outbox_claim_skips_rows_another_worker_is_claiming(runtime: Runtime) -> None:
    queue_mail(runtime, 6)
    now, ttl = runtime.clock.now(), timedelta(minutes=2)
    first = runtime.sessions()
    try:
        first.begin()
        mine = claim(first, now, "worker-a", ttl, limit=3)  # locked until commit
        with runtime.sessions.begin() as second:
            # A blocked claim would hit the timeout and fail the test.
            second.execute(text("SET LOCAL statement_timeout = '3s'"))
            theirs = claim(second, now, "worker-b", ttl, limit=10)
        first.commit()
    finally:
        first.close()
    assert len(mine) == 3 and len(theirs) == 3
    assert not set(mine) & set(theirs)
    with runtime.sessions.begin() as third:
        assert claim(third, now, "worker-c", ttl, limit=10) == []  # all claimed for 2 minutes
    later = now + ttl + timedelta(seconds=1)
    with runtime.sessions.begin() as fourth:
        assert sorted(claim(fourth, later, "worker-c", ttl, limit=10)) == sorted(mine + theirs)


def test_concurrent_claims_never_share_a_row(runtime: Runtime) -> None:
    queue_mail(runtime, 200)
    now = runtime.clock.now()

    def claim_all(index: int) -> list[int]:
        taken: list[int] = []
        while True:
            with runtime.sessions.begin() as session:
                batch = claim(
                    session, now, f"worker-{index}", timedelta(minutes=2), limit=7, in_flight=taken
                )
            if not batch:
                return taken
            taken.extend(batch)

    results = race(4, claim_all)
    everything = [row for taken in results for row in taken]
    assert len(everything) == 200
    assert len(set(everything)) == 200
    assert all(results), "every worker got some rows: the claims ran side by side"


def test_two_workers_never_process_the_same_mail(runtime: Runtime) -> None:
    archiver = Archiver(runtime.sessions, runtime.archive, "memory:test", runtime.clock)
    mails = [FetchedMail(f"1:{n}", make_mail(subject=f"Acta {n}")) for n in range(60)]
    archiver.store(Batch(mails))
    handled: Counter[int] = Counter()
    lock = threading.Lock()

    def count(context: HandlerContext) -> None:
        with lock:
            handled[context.row.id] += 1
        time.sleep(0.005)  # hold the row a little, so the workers overlap

    def work(index: int) -> int:
        processor = build_processor(runtime, {Route.MINUTES: count}, holder=f"worker-{index}")
        done = 0
        while due := processor.due():
            for inbound_id in due:
                outcome = processor.process_one(inbound_id)
                done += outcome is not None
        return done

    results = race(3, work)
    assert sum(results) == 60
    assert set(handled.values()) == {1}
    assert len(handled) == 60
    with runtime.sessions() as session:
        states = Counter(session.scalars(select(InboundMessage.state)))
        holders = Counter(session.scalars(select(InboundMessage.claimed_by)))
    assert states == {MessageState.PROCESSED: 60}
    assert len(holders) > 1, "the work was shared"


def test_exactly_one_worker_takes_a_free_mailbox(runtime: Runtime) -> None:
    def take(index: int) -> bool:
        leases = Leases(runtime.sessions, runtime.clock, f"worker-{index}", timedelta(seconds=30))
        return leases.acquire("imap://actas@imap.test:993") is not None

    assert sum(race(6, take)) == 1
    runtime.clock.advance(timedelta(seconds=31))  # type: ignore[attr-defined]
    assert sum(race(6, take)) == 1  # and exactly one takes it over once it lapsed


def test_concurrent_digests_send_one_per_recipient(runtime: Runtime) -> None:
    loop = Loop(runtime)
    loop.deliver(minutes_mail())  # (today's digest goes out with it)
    now = runtime.clock.now()
    tomorrow = now.date() + timedelta(days=1)
    results = race(3, lambda _: send_digests(runtime.sessions, runtime.config, now, tomorrow))
    assert sorted(recipient for sent in results for recipient in sent) == ["ana@consultora.test"]
    with runtime.sessions() as session:
        digests = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == OutboxKind.DIGEST)
        )
        runs = session.scalar(
            select(func.count()).select_from(DigestRun).where(DigestRun.day == tomorrow)
        )
    assert (digests, runs) == (2, 1)  # today's and tomorrow's, one each


def test_concurrent_reminders_are_written_once(runtime: Runtime) -> None:
    loop = Loop(runtime)
    loop.deliver(minutes_mail())
    loop.clock.advance(timedelta(days=3))
    now = runtime.clock.now()
    results = race(3, lambda _: send_reminders(runtime.sessions, runtime.config, now))
    assert sum(results) == 2  # Juan and Luis, once each
    with runtime.sessions() as session:
        reminders = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == OutboxKind.REMINDER)
        )
    assert reminders == 2


def test_daily_caps_hold_under_concurrent_replies(runtime: Runtime) -> None:
    now = runtime.clock.now()

    def take(_: int) -> int:
        taken = 0
        for _ in range(10):
            with runtime.sessions.begin() as session:
                taken += take_quota(session, "juan@cliente.test", "receipt", now, 5)
        return taken

    assert sum(race(4, take)) == 5


def test_two_workers_meeting_the_same_new_person_share_one_row(runtime: Runtime) -> None:
    def meet(index: int) -> int:
        with runtime.sessions.begin() as session:
            person = get_person(session, "Nuevo@Cliente.test", f"Nuevo {index}")
            time.sleep(0.05)  # both transactions are open at once
            return person.id

    ids = race(4, meet)
    assert len(set(ids)) == 1
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 1


def test_live_workers_share_the_mailboxes_and_take_over_from_one_that_stops(
    tmp_path: Path, pg_url: str
) -> None:
    for name in ("a", "b"):
        for sub in ("new", "cur", "tmp"):
            (tmp_path / name / sub).mkdir(parents=True)
    config = parse_config(
        f"""
[tracker]
data_dir = "data"
[[mailbox]]
address = "a@tracker.test"
[mailbox.maildir]
path = "a"
[[mailbox]]
address = "b@tracker.test"
[mailbox.maildir]
path = "b"
[database]
url = "{pg_url}"
[workers]
lease_ttl = "3s"
poll_interval = "100ms"
""",
        path=tmp_path / "mailtrack.toml",
        environ={},
    )
    engine = make_engine(config.database.url)
    upgrade(engine)
    engine.dispose()
    runtime = open_runtime(config, SystemClock())
    sources = [(box, MemorySource(f"memory:{box.tracker.address}")) for box in config.mailboxes]

    def holders() -> Counter[str]:
        with runtime.sessions() as session:
            rows = session.execute(select(MailboxLease.holder, MailboxLease.expires_at)).all()
        now = runtime.clock.now()
        return Counter(holder for holder, until in rows if until > now)

    def eventually(condition: Callable[[], bool], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, holders()
            time.sleep(0.05)

    running: list[tuple[threading.Event, threading.Thread]] = []

    def start(holder: str) -> threading.Event:
        node = build_node(runtime, {}, None, sources, holder=holder)
        stop = threading.Event()
        thread = threading.Thread(target=node.run, args=(stop,), daemon=True)
        thread.start()
        running.append((stop, thread))
        return stop

    try:
        stop_one = start("worker-1")
        eventually(lambda: holders() == {"worker-1": 2})
        start("worker-2")
        eventually(lambda: holders() == {"worker-1": 1, "worker-2": 1})
        stop_one.set()  # a clean stop hands the mailbox over at once, no lease to wait for
        started = time.monotonic()
        eventually(lambda: holders() == {"worker-2": 2})
        assert time.monotonic() - started < 3
    finally:
        for stop, thread in running:
            stop.set()
            thread.join(timeout=10)
        runtime.dispose()
