"""A worker's name: unique among the processes sharing a database, and readable in logs.

The host part is the machine's host name, or ``$MAILTRACK_WORKER_HOST`` when
set (containers that share one host name, or a test that plays several
machines on one).
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

_names: dict[int, str] = {}
HOST_ENV = "MAILTRACK_WORKER_HOST"


def host_name() -> str:
    """The host part of this process's worker name."""
    name = os.environ.get(HOST_ENV) or socket.gethostname().split(".")[0]
    return name.replace(":", "-")[:120] or "localhost"


def worker_name() -> str:
    """``host:pid:xxxx``, the same for the life of this process.

    The random suffix tells apart two processes that got the same pid on one
    host (a container restarted as pid 1), so a restarted worker never
    mistakes its predecessor's lease for its own.
    """
    pid = os.getpid()
    if pid not in _names:
        _names[pid] = f"{host_name()}:{pid}:{secrets.token_hex(2)}"
    return _names[pid]


def pid_of(name: str) -> int | None:
    """The process id in a worker name, or None when it has none."""
    parts = name.split(":")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def is_dead_local(name: str) -> bool:
    """Whether ``name`` is a worker of this host whose process is gone.

    Its claims and leases need not wait to run out: after a crash and a
    restart (systemd, a container), the new process takes them back at once.
    A worker of another host, or one whose process id is in use, counts as
    alive: its claims run out by themselves.
    """
    parts = name.split(":")
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    if parts[0] != host_name():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return name != worker_name()  # an earlier process that had our pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # exists, another user's
    return False


class InFlight:
    """Rows this process is handling right now (one registry per table).

    A claim this process holds on a row that is not in here is left from a try
    an exception unwound (or a process that died with our pid): it may be
    taken back at once. Threads of one process never take each other's rows.
    """

    def __init__(self) -> None:
        self._ids: set[int] = set()
        self._lock = threading.Lock()

    @contextmanager
    def holding(self, ids: Iterable[int]) -> Iterator[None]:
        taken = set(ids)
        with self._lock:
            self._ids |= taken
        try:
            yield
        finally:
            with self._lock:
                self._ids -= taken

    def ids(self) -> list[int]:
        with self._lock:
            return sorted(self._ids)


INBOUND_IN_FLIGHT = InFlight()
OUTBOX_IN_FLIGHT = InFlight()


def dead_local(holders: Iterable[str | None]) -> list[str]:
    """Those of ``holders`` that are dead workers of this host (see :func:`is_dead_local`)."""
    return sorted({holder for holder in holders if holder and is_dead_local(holder)})
