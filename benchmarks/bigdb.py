"""`status` and `digest` for one organizer with 1,000,000 items in the database; target under 1 s.

    sudo .venv/bin/python benchmarks/bigdb.py [--items 1000000] [--url URL] [--repeat 5]

Without ``--url`` it starts a private PostgreSQL (tests/stack/pgserver.py).
The schema comes from the migrations (``mailtrack db upgrade``); the data is
written with COPY (PostgreSQL) or executemany in one transaction (SQLite), in
the shape mailtrack writes it: 10 items per meeting, 3 participants, one
request per participant, 2 people to confirm each item (85 % confirmed,
10 % pending, 3 % rejected, 2 % unclear, each answer with its response row),
one inbound mail and one audit event per meeting, two tracker mailboxes.
Organizers: one heavy (every 50th meeting: 2 %, 20,000 items of 1,000,000)
and 999 typical ones (about 1,000 items each).

Measured, for the heavy and a typical organizer: the library calls behind the
commands (``status_report`` with ``--organizer``, with and without
``--pending``; ``digest.build`` for that recipient), median of ``--repeat``
runs on a warm cache, and the commands as a user runs them (a new process
each time: Python start and imports included).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

ITEMS_PER_MEETING = 10
PARTICIPANTS = 3
PEOPLE = 20_000
ORGANIZERS = 1_000
HEAVY_EVERY = 50  # the heavy organizer has every 50th meeting
TRACKERS = ("actas@consultora.test", "proyectos@cliente.test")
START = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
STATES = ("confirmed",) * 85 + ("pending",) * 10 + ("rejected",) * 3 + ("unclear",) * 2


def organizer_of(meeting: int) -> int:
    """Person id (1-based) of the organizer of meeting index ``meeting``."""
    return 1 if meeting % HEAVY_EVERY == 0 else 2 + meeting % (ORGANIZERS - 1)


def participants_of(meeting: int) -> list[int]:
    return [ORGANIZERS + 1 + (meeting * 7 + j * 1013) % PEOPLE for j in range(PARTICIPANTS)]


def confirmers_of(meeting: int, number: int) -> list[int]:
    """The two people who confirm item ``number`` (0-based) of a meeting."""
    people = participants_of(meeting)
    return [people[number % PARTICIPANTS], people[(number + 1) % PARTICIPANTS]]


class Generator:
    """Rows of every table, computed from the meeting index (same numbers on every pass)."""

    def __init__(self, meetings: int) -> None:
        self.meetings = meetings

    def when(self, meeting: int) -> datetime:
        return START + timedelta(minutes=7 * meeting)

    def person(self) -> Iterator[tuple[Any, ...]]:
        for n in range(1, ORGANIZERS + PEOPLE + 1):
            if n <= ORGANIZERS:
                email = "ana.heavy@consultora.test" if n == 1 else f"org{n}@consultora.test"
            else:
                email = f"p{n}@cliente.test"
            yield (n, email, f"Persona {n}", "[]", START)

    def meeting(self) -> Iterator[tuple[Any, ...]]:
        for m in range(self.meetings):
            at = self.when(m)
            yield (m + 1, TRACKERS[m % 2], f"<acta-{m}@consultora.test>", f"Acta {m}",
                   organizer_of(m), "es", at, "+01:00", 1, at, at)  # fmt: skip

    def meeting_revision(self) -> Iterator[tuple[Any, ...]]:
        for m in range(self.meetings):
            at = self.when(m)
            yield (m + 1, m + 1, 1, m + 1, f"<acta-{m}@consultora.test>", f"Acta {m}", at, "es", at)

    def participant(self) -> Iterator[tuple[Any, ...]]:
        row = 0
        for m in range(self.meetings):
            for person in participants_of(m):
                row += 1
                yield (row, m + 1, person, "to", None)

    def inbound_message(self) -> Iterator[tuple[Any, ...]]:
        for m in range(self.meetings):
            at = self.when(m)
            yield (m + 1, f"{m:064x}", f"archive/{m:064x}.eml", 5000, "imap://bench", f"1:{m}",
                   f"<acta-{m}@consultora.test>", f"org{organizer_of(m)}@consultora.test",
                   f"Acta {m}", at, at, "minutes", "bench", "processed", 1, None, None, at,
                   "bench:1:0000")  # fmt: skip

    def audit_event(self) -> Iterator[tuple[Any, ...]]:
        for m in range(self.meetings):
            yield (m + 1, self.when(m), "meeting.created", m + 1, None, m + 1,
                   f"<acta-{m}@consultora.test>", '{"items": 10}')  # fmt: skip

    def item(self) -> Iterator[tuple[Any, ...]]:
        for m in range(self.meetings):
            at = self.when(m)
            for j in range(ITEMS_PER_MEETING):
                kind = "decision" if j % 3 == 0 else "action"
                due = (at + timedelta(days=7 + j)).date() if kind == "action" else None
                yield (m * ITEMS_PER_MEETING + j + 1, m + 1, j + 1, kind,
                       f"Punto {j + 1} de la reunión {m}: revisar el contrato y enviar la oferta",
                       None, due, "Acuerdos", f"{m:032x}{j:032x}", 1, None, at)  # fmt: skip

    def item_owner(self) -> Iterator[tuple[Any, ...]]:
        for m in range(self.meetings):
            for j in range(ITEMS_PER_MEETING):
                if j % 3:
                    yield (m * ITEMS_PER_MEETING + j + 1, confirmers_of(m, j)[0])

    def confirmation_request(self) -> Iterator[tuple[Any, ...]]:
        for m in range(self.meetings):
            at = self.when(m)
            for j, person in enumerate(participants_of(m)):
                token = f"t{m}x{j}"
                yield (m * PARTICIPANTS + j + 1, m + 1, 1, person, token, f"{m:07d}{j}",
                       f"<mt.{token}@tracker.test>", "pending", at, at, None, 0, None, None)  # fmt: skip

    def _request_id(self, m: int, person: int) -> int:
        return m * PARTICIPANTS + participants_of(m).index(person) + 1

    def request_item(self) -> Iterator[tuple[Any, ...]]:
        for m in range(self.meetings):
            positions: dict[int, int] = {}
            for j in range(ITEMS_PER_MEETING):
                for person in confirmers_of(m, j):
                    request = self._request_id(m, person)
                    positions[request] = positions.get(request, 0) + 1
                    yield (request, positions[request], m * ITEMS_PER_MEETING + j + 1)

    def _confirmations(self) -> Iterator[tuple[int, int, int, int, str, datetime]]:
        rng = random.Random(5)
        row = 0
        for m in range(self.meetings):
            at = self.when(m)
            for j in range(ITEMS_PER_MEETING):
                for person in confirmers_of(m, j):
                    row += 1
                    state = rng.choice(STATES)
                    yield row, m, j, person, state, at

    def confirmation(self) -> Iterator[tuple[Any, ...]]:
        for row, m, j, person, state, at in self._confirmations():
            reason = "la fecha no es viable" if state == "rejected" else None
            response = row if state != "pending" else None
            yield (row, m * ITEMS_PER_MEETING + j + 1, person, state, reason,
                   self._request_id(m, person), response, at + timedelta(hours=3))  # fmt: skip

    def response(self) -> Iterator[tuple[Any, ...]]:
        for row, m, j, person, state, at in self._confirmations():
            if state == "pending":
                continue
            reason = "la fecha no es viable" if state == "rejected" else None
            yield (row, m * ITEMS_PER_MEETING + j + 1, person, self._request_id(m, person), None,
                   state, reason, f"<r{m}x{person}@cliente.test>", f"p{person}@cliente.test", True,
                   "Confirmo." if state == "confirmed" else "No lo tengo claro.",
                   at + timedelta(hours=3), at + timedelta(hours=3))  # fmt: skip


TABLES = (
    "person", "inbound_message", "meeting", "meeting_revision", "participant", "item",
    "item_owner", "confirmation_request", "request_item", "response", "confirmation",
    "audit_event",
)  # fmt: skip


def columns(table: str) -> list[str]:
    from mailtrack.db.base import Base
    from mailtrack.db.models import InboundMessage  # noqa: F401  (registers the tables)

    return [column.name for column in Base.metadata.tables[table].columns]


def load(url: str, items: int, progress: Callable[[str], None]) -> dict[str, int]:
    """Write the data set; rows per table."""
    from mailtrack.db.migrate import upgrade
    from mailtrack.db.session import make_engine

    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    generator = Generator(items // ITEMS_PER_MEETING)
    counts: dict[str, int] = {}
    if url.startswith("postgresql"):
        import psycopg

        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn) as connection:
            # The rows are consistent by construction: skip the per-row foreign key
            # triggers while loading (a superuser's setting; the test server's is one).
            connection.execute("SET session_replication_role = replica")
            for table in TABLES:
                started = time.monotonic()
                names = ", ".join(columns(table))
                count = 0
                with connection.cursor() as cursor:
                    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                        for row in getattr(generator, table)():
                            copy.write_row(row)
                            count += 1
                            if count % 500_000 == 0:
                                progress(f"{table}: {count} rows...")
                    if "id" in columns(table):
                        cursor.execute(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))"
                        )
                connection.commit()
                counts[table] = count
                progress(f"{table}: {count} rows in {time.monotonic() - started:.0f} s")
            connection.execute("ANALYZE")
    else:
        import sqlite3

        path = url.removeprefix("sqlite:///")
        connection = sqlite3.connect(path)
        connection.execute("PRAGMA journal_mode=WAL")
        for table in TABLES:
            started = time.monotonic()
            names = columns(table)
            placeholders = ", ".join("?" for _ in names)
            statement = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders})"
            count = 0
            batch: list[tuple[Any, ...]] = []
            for row in getattr(generator, table)():
                batch.append(tuple(_sqlite(value) for value in row))
                if len(batch) == 20_000:
                    connection.executemany(statement, batch)
                    count += len(batch)
                    batch.clear()
            connection.executemany(statement, batch)
            count += len(batch)
            connection.commit()
            counts[table] = count
            progress(f"{table}: {count} rows in {time.monotonic() - started:.0f} s")
        connection.execute("ANALYZE")
        connection.close()
    return counts


def count_rows(url: str) -> dict[str, int]:
    """Rows per table of a database loaded before (``--loaded``)."""
    from sqlalchemy import text

    from mailtrack.db.session import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as db:
            return {
                table: int(db.scalar(text(f"SELECT count(*) FROM {table}"))) for table in TABLES
            }
    finally:
        engine.dispose()


def _sqlite(value: Any) -> Any:
    """Values as SQLAlchemy stores them in SQLite (naive UTC timestamps, ISO dates)."""
    if isinstance(value, datetime):
        return (
            value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def slowest_statements(engine: Any, call: Callable[[], Any], top: int = 5) -> list[str]:
    """The ``top`` slowest SQL statements of one call, with their times (``--explain``)."""
    from sqlalchemy import event

    timings: list[tuple[float, str]] = []
    starts: list[float] = []

    def before(*_: Any) -> None:
        starts.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        timings.append((time.perf_counter() - starts.pop(), " ".join(statement.split())))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    timings.sort(reverse=True)
    total = sum(seconds for seconds, _ in timings)
    lines = [f"{len(timings)} statements, {total * 1000:.0f} ms in all; slowest:"]
    lines += [f"  {seconds * 1000:7.1f} ms  {sql[:220]}" for seconds, sql in timings[:top]]
    return lines


def measure(
    url: str, repeat: int, workdir: Path, explain: bool = False
) -> list[tuple[str, str, float, float, int]]:
    """(organizer, what, median ms, max ms, size) for each query, then the commands."""
    from mailtrack.config import parse_config
    from mailtrack.db.session import make_engine, make_sessionmaker
    from mailtrack.digest import build
    from mailtrack.status import StatusFilter, status_report

    config_path = workdir / "mailtrack.toml"
    config_path.write_text(
        '[tracker]\ndata_dir = "data"\n'
        + "".join(
            f'[[mailbox]]\naddress = "{tracker}"\n[mailbox.maildir]\npath = "box{n}"\n'
            for n, tracker in enumerate(TRACKERS)
        )
        + f'[database]\nurl = "{url}"\n'
    )
    for n in range(len(TRACKERS)):
        for sub in ("new", "cur", "tmp"):
            (workdir / f"box{n}" / sub).mkdir(parents=True, exist_ok=True)
    config = parse_config(config_path.read_text(), path=config_path, environ={})
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    results = []
    for who in ("ana.heavy@consultora.test", "org500@consultora.test"):
        calls: dict[str, Callable[[Any], int]] = {
            "status --organizer": lambda s, w=who: _size(
                status_report(s, StatusFilter(organizer=w))
            ),
            "status --organizer --pending": lambda s, w=who: _size(
                status_report(s, StatusFilter(organizer=w, pending_only=True))
            ),
            "digest --print --recipient": lambda s, w=who: len(
                build(s, config, w, now.date(), now).meetings
            ),
        }
        for name, call in calls.items():
            timings = []
            size = 0
            for _ in range(repeat + 1):  # the first run warms the cache and is not counted
                with sessions() as session:
                    started = time.perf_counter()
                    size = call(session)
                    timings.append((time.perf_counter() - started) * 1000)
            results.append((who, name, statistics.median(timings[1:]), max(timings[1:]), size))
            if explain:
                with sessions() as session:
                    lines = slowest_statements(engine, lambda c=call, s=session: c(s))
                print(f"{who} {name}: " + "\n".join(lines), file=sys.stderr, flush=True)
    engine.dispose()
    commands = {
        "`mailtrack status --organizer X --json`": ["status", "--organizer", "{who}", "--json"],
        "`mailtrack digest --print --recipient X`": ["digest", "--print", "--recipient", "{who}"],
    }
    for who in ("ana.heavy@consultora.test", "org500@consultora.test"):
        for name, args in commands.items():
            timings = []
            for _ in range(3):
                started = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-m", "mailtrack", "--config", str(config_path),
                     *(a.replace("{who}", who) for a in args)],
                    capture_output=True, check=False,
                )  # fmt: skip
                timings.append((time.perf_counter() - started) * 1000)
                assert done.returncode == 0, done.stderr.decode()
            results.append((who, name, statistics.median(timings), max(timings), len(done.stdout)))
    return results


def _size(report: dict[str, Any]) -> int:
    return sum(len(meeting["items"]) for meeting in report["meetings"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--url", help="an empty database (default: a private PostgreSQL)")
    parser.add_argument(
        "--loaded", action="store_true", help="--url already holds the data set: measure only"
    )
    parser.add_argument(
        "--keep", action="store_true", help="leave the private PostgreSQL running (prints its URL)"
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--explain", action="store_true", help="print each query's slowest SQL statements"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mailtrack-bigdb-"))
    server = None
    try:
        url = args.url
        if url is None:
            from stack.pgserver import PgServer

            ok, reason = PgServer.available()
            if not ok:
                print(f"bigdb: {reason}", file=sys.stderr)
                return 2
            server = PgServer.start(Path(tempfile.mkdtemp(prefix="mailtrack-bigdb-pg-")))
            server.create_database("bigdb")
            url = server.url("bigdb")
        started = time.monotonic()
        if args.loaded:
            counts = count_rows(url)
        else:
            counts = load(
                url, args.items, lambda line: print(f"  {line}", file=sys.stderr, flush=True)
            )
        seconds = time.monotonic() - started
        results = measure(url, args.repeat, workdir, args.explain)
    finally:
        if server is not None and args.keep:
            print(f"kept: --url {url} (stop: pg_ctl -D {server.data_dir} stop)", file=sys.stderr)
        elif server is not None:
            server.stop()
            shutil.rmtree(server.workdir, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
    backend = "PostgreSQL 15" if url.startswith("postgresql") else "SQLite"
    rows = sum(counts.values())
    print(f"\n`sudo .venv/bin/python benchmarks/bigdb.py {' '.join(sys.argv[1:])}` on "
          f"{platform.machine()} Linux, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{backend}: {counts['item']:,} items, {counts['confirmation']:,} confirmations, "
          f"{counts['meeting']:,} meetings, {rows:,} rows in all, loaded in {seconds:.0f} s.\n")  # fmt: skip
    print("| organizer | what | median ms | max ms | size |\n|---|---|---|---|---|")
    for who, name, median, worst, size in results:
        label = "heavy (20,000 items)" if who.startswith("ana.heavy") else "typical (1,000 items)"
        print(f"| {label} | {name} | {median:.0f} | {worst:.0f} | {size} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
