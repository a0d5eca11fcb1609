"""Archiving and processing with an in-memory source: exactly once, failures kept, never blocked."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support.mails import make_mail
from support.memory import MemorySource
from support.runtime import make_runtime

from mailtrack.assembly import Runtime, build_service
from mailtrack.clock import FrozenClock
from mailtrack.db.models import AuditEvent, InboundMessage, MailboxCheckpoint, MessageState, Route
from mailtrack.db.models import Route as R
from mailtrack.handlers import HandlerContext
from mailtrack.ingest.archive import ArchiveError, RawArchive
from mailtrack.processing import unpark
from mailtrack.status import status_report


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    runtime = make_runtime(tmp_path)
    yield runtime
    runtime.dispose()


def rows(runtime: Runtime) -> list[InboundMessage]:
    with runtime.sessions() as session:
        return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def run_once(runtime: Runtime, source: MemorySource, handlers: dict | None = None) -> None:
    build_service(runtime, source, handlers=handlers).run(threading.Event(), once=True)


def test_each_mail_is_archived_and_processed_once_across_runs(runtime: Runtime) -> None:
    source = MemorySource(batch_size=3)
    source.add(*(make_mail(subject=f"Acta {n}") for n in range(7)))
    run_once(runtime, source)
    run_once(runtime, source)  # nothing new: the checkpoint says so
    source.add(make_mail(subject="Acta 8"))
    run_once(runtime, source)
    found = rows(runtime)
    assert len(found) == 8
    assert all(row.state == MessageState.PROCESSED for row in found)
    assert {row.route for row in found} == {Route.MINUTES}
    with runtime.sessions() as session:
        checkpoint = session.scalars(select(MailboxCheckpoint)).one()
    assert checkpoint.last_uid == 8


def test_raw_bytes_are_archived_exactly(runtime: Runtime) -> None:
    raw = make_mail(body="Acuerdos:\n- Ñandú revisa el acta.\n")
    source = MemorySource()
    source.add(raw)
    run_once(runtime, source)
    row = rows(runtime)[0]
    assert runtime.archive.load(row.raw_path) == raw
    assert row.sha256 == RawArchive.digest(raw)
    assert row.size == len(raw)


def test_identical_bytes_seen_again_are_not_a_second_mail(runtime: Runtime) -> None:
    raw = make_mail()
    source = MemorySource()
    source.add(raw, raw)
    run_once(runtime, source)
    assert len(rows(runtime)) == 1


def test_same_message_id_from_two_deliveries_counts_once(runtime: Runtime) -> None:
    first = make_mail(message_id="<same@x>", headers={"Delivered-To": "actas@tracker.test"})
    second = make_mail(message_id="<same@x>", headers={"Delivered-To": "actas+x@tracker.test"})
    source = MemorySource()
    source.add(first, second)
    run_once(runtime, source)
    found = rows(runtime)
    assert [row.route for row in found] == [Route.MINUTES, Route.DUPLICATE]


def test_a_failing_mail_is_retried_then_parked_and_never_blocks_the_next(runtime: Runtime) -> None:
    clock = runtime.clock
    assert isinstance(clock, FrozenClock)

    def explode(context: HandlerContext) -> None:
        if "boom" in context.parsed.subject:
            raise RuntimeError("handler bug")

    source = MemorySource()
    source.add(make_mail(subject="boom"), make_mail(subject="fine"))
    handlers = {R.MINUTES: explode}
    run_once(runtime, source, handlers)
    boom, fine = rows(runtime)
    assert fine.state == MessageState.PROCESSED
    assert boom.state == MessageState.FAILED
    assert boom.last_error == "RuntimeError: handler bug"
    for _ in range(10):
        clock.advance(timedelta(hours=7))
        run_once(runtime, source, handlers)
    boom = rows(runtime)[0]
    assert boom.state == MessageState.PARKED
    assert boom.attempts == 5
    with runtime.sessions() as session:
        report = status_report(session)
        kinds = list(session.scalars(select(AuditEvent.kind)))
    assert report["parked"][0]["id"] == boom.id
    assert report["parked"][0]["error"] == "RuntimeError: handler bug"
    assert report["inbound"]["parked"] == 1
    assert "inbound.parked" in kinds


def test_a_mail_that_kills_the_process_is_parked_after_max_attempts(runtime: Runtime) -> None:
    source = MemorySource()
    source.add(make_mail(subject="poison"))

    def die(context: HandlerContext) -> None:
        raise KeyboardInterrupt  # stands for a process killed mid-mail: no failure recorded

    for _ in range(5):
        with pytest.raises(KeyboardInterrupt):
            run_once(runtime, source, {R.MINUTES: die})
    run_once(runtime, source, {R.MINUTES: die})
    row = rows(runtime)[0]
    assert row.state == MessageState.PARKED
    assert "stopped 5 times" in (row.last_error or "")


def test_unpark_gives_a_parked_mail_a_new_chance(runtime: Runtime) -> None:
    source = MemorySource()
    source.add(make_mail(subject="poison"))
    calls = {"n": 0}

    def flaky(context: HandlerContext) -> None:
        calls["n"] += 1
        if calls["n"] <= 5:
            raise ValueError("not yet")

    clock = runtime.clock
    assert isinstance(clock, FrozenClock)
    for _ in range(6):
        run_once(runtime, source, {R.MINUTES: flaky})
        clock.advance(timedelta(hours=7))
    assert rows(runtime)[0].state == MessageState.PARKED
    assert unpark(runtime.sessions, None) == [rows(runtime)[0].id]
    run_once(runtime, source, {R.MINUTES: flaky})
    assert rows(runtime)[0].state == MessageState.PROCESSED


def test_a_handler_failure_rolls_back_everything_it_wrote(runtime: Runtime) -> None:
    def write_then_fail(context: HandlerContext) -> None:
        context.session.add(AuditEvent(kind="half-done", detail={}))
        context.session.flush()
        raise RuntimeError("after writing")

    source = MemorySource()
    source.add(make_mail())
    run_once(runtime, source, {R.MINUTES: write_then_fail})
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).where(AuditEvent.kind == "half-done")) == 0


def test_a_full_disk_commits_nothing_and_the_batch_is_fetched_again(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = MemorySource()
    source.add(make_mail(), make_mail())
    original = RawArchive.store
    calls = {"n": 0}

    def full_once(self: RawArchive, raw: bytes):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise ArchiveError(
                "cannot write to the mail archive: [Errno 28] No space left on device"
            )
        return original(self, raw)

    monkeypatch.setattr(RawArchive, "store", full_once)
    with pytest.raises(ArchiveError):
        run_once(runtime, source)
    assert rows(runtime) == []
    run_once(runtime, source)
    assert len(rows(runtime)) == 2


def test_sources_are_told_only_after_the_commit(runtime: Runtime) -> None:
    source = MemorySource()
    source.add(make_mail(), make_mail())
    run_once(runtime, source)
    assert source.committed_refs == ["1:1", "1:2"]
    assert sorted(source.processed_refs) == ["1:1", "1:2"]


def test_stop_request_finishes_the_mail_in_hand(runtime: Runtime) -> None:
    stop = threading.Event()

    def stop_during(context: HandlerContext) -> None:
        stop.set()  # SIGTERM arrives while this mail is being handled

    source = MemorySource()
    source.add(make_mail(subject="first"), make_mail(subject="second"))
    build_service(runtime, source, handlers={R.MINUTES: stop_during}).run(stop)
    first, second = rows(runtime)
    assert first.state == MessageState.PROCESSED
    assert second.state == MessageState.RECEIVED  # archived, handled by the next run
