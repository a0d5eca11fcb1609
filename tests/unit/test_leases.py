"""Mailbox leases: one reader at a time, taken over when the holder stops renewing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support.mails import make_mail
from support.runtime import make_runtime

from mailtrack.assembly import Runtime
from mailtrack.clock import FrozenClock
from mailtrack.cluster.identity import host_name, is_dead_local, pid_of, worker_name
from mailtrack.cluster.leases import LeaseLostError, Leases
from mailtrack.db.models import InboundMessage, MailboxCheckpoint
from mailtrack.ingest.source import Batch, Checkpoint, FetchedMail
from mailtrack.ingest.store import Archiver

TTL = timedelta(seconds=30)
BOX = "imap://actas@imap.test:993"


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    runtime = make_runtime(tmp_path)
    yield runtime
    runtime.dispose()


def leases(runtime: Runtime, holder: str) -> Leases:
    return Leases(runtime.sessions, runtime.clock, holder, TTL)


def clock_of(runtime: Runtime) -> FrozenClock:
    assert isinstance(runtime.clock, FrozenClock)
    return runtime.clock


def test_one_holder_at_a_time_until_the_lease_lapses(runtime: Runtime) -> None:
    a, b = leases(runtime, "host-a:1:aaaa"), leases(runtime, "host-b:2:bbbb")
    first = a.acquire(BOX)
    assert first is not None and first.generation == 1
    assert b.acquire(BOX) is None
    clock_of(runtime).advance(TTL - timedelta(seconds=1))
    assert b.acquire(BOX) is None  # still live
    clock_of(runtime).advance(timedelta(seconds=2))
    taken = b.acquire(BOX)
    assert taken is not None and taken.holder == "host-b:2:bbbb" and taken.generation == 2
    assert a.renew([BOX]) == set()  # the old holder learns it lost the mailbox
    assert b.renew([BOX]) == {BOX}


def test_renewing_keeps_the_lease_as_long_as_the_holder_lives(runtime: Runtime) -> None:
    a, b = leases(runtime, "host-a:1:aaaa"), leases(runtime, "host-b:2:bbbb")
    assert a.acquire(BOX) is not None
    for _ in range(10):
        clock_of(runtime).advance(TTL / 3)
        assert a.renew([BOX]) == {BOX}
        assert b.acquire(BOX) is None
    assert a.acquire(BOX) is not None  # acquiring its own lease again is a renewal
    assert a.states()[BOX].generation == 1


def test_a_released_lease_is_taken_over_at_once(runtime: Runtime) -> None:
    a, b = leases(runtime, "host-a:1:aaaa"), leases(runtime, "host-b:2:bbbb")
    assert a.acquire(BOX) is not None
    a.release([BOX])
    assert b.acquire(BOX) is not None


def test_archiving_after_losing_the_lease_is_refused_and_writes_nothing(runtime: Runtime) -> None:
    a, b = leases(runtime, "host-a:1:aaaa"), leases(runtime, "host-b:2:bbbb")
    assert a.acquire(BOX) is not None
    archiver = Archiver(
        runtime.sessions,
        runtime.archive,
        BOX,
        runtime.clock,
        guard=lambda session: a.fence(session, BOX),
    )
    first = Batch([FetchedMail("1:1", make_mail(subject="uno"))], Checkpoint("INBOX", 1, 1))
    assert len(archiver.store(first).new_ids) == 1
    # The holder stalls past its time; another worker takes the mailbox over.
    clock_of(runtime).advance(TTL + timedelta(seconds=1))
    assert b.acquire(BOX) is not None
    late = Batch([FetchedMail("1:2", make_mail(subject="dos"))], Checkpoint("INBOX", 1, 2))
    with pytest.raises(LeaseLostError):
        archiver.store(late)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 1
        checkpoint = session.scalars(select(MailboxCheckpoint)).one()
    assert checkpoint.last_uid == 1  # the new holder fetches UID 2 itself


def test_fencing_renews_the_lease(runtime: Runtime) -> None:
    a, b = leases(runtime, "host-a:1:aaaa"), leases(runtime, "host-b:2:bbbb")
    assert a.acquire(BOX) is not None
    clock_of(runtime).advance(TTL - timedelta(seconds=1))
    with runtime.sessions.begin() as session:
        a.fence(session, BOX)
    clock_of(runtime).advance(timedelta(seconds=5))
    assert b.acquire(BOX) is None


def test_workers_share_mailboxes_evenly_among_the_live(runtime: Runtime) -> None:
    a, b, c = (leases(runtime, f"host-{n}:{n}:000{n}") for n in (1, 2, 3))
    a.heartbeat()
    assert a.fair_share(2) == 2
    b.heartbeat()
    c.heartbeat()
    assert a.fair_share(2) == 1
    assert a.fair_share(5) == 2
    clock_of(runtime).advance(TTL + timedelta(seconds=1))
    a.heartbeat()  # b and c were not seen for a whole lease: they are gone
    assert a.fair_share(2) == 2
    b.heartbeat()
    b.leave()
    assert a.fair_share(2) == 2


def test_a_lease_of_a_dead_process_of_this_host_is_taken_at_once(runtime: Runtime) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    host = host_name()
    dead = f"{host}:{int(gone.stdout)}:dead"
    assert is_dead_local(dead)
    assert not is_dead_local(worker_name())
    assert not is_dead_local(f"{host}:{os.getppid()}:live")
    assert not is_dead_local(f"elsewhere-{host}:{int(gone.stdout)}:dead")
    assert leases(runtime, dead).acquire(BOX) is not None
    state = leases(runtime, worker_name()).acquire(BOX)  # no need to wait for the lease to lapse
    assert state is not None and state.generation == 2


def test_worker_names_carry_host_and_pid() -> None:
    name = worker_name()
    assert pid_of(name) == os.getpid()
    assert name.startswith(host_name() + ":")
    assert pid_of("no-pid-here") is None
