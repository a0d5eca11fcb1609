"""A throwaway PostgreSQL server on 127.0.0.1, for integration tests.

mailtrack's production database is PostgreSQL; tests that touch SQL (migrations, locking,
reconnects after a database restart) run against a real server instead of SQLite. This
module creates a private cluster with ``initdb`` under a work directory and runs it with
``pg_ctl`` on a free loopback port. Durability is switched off (``fsync``,
``synchronous_commit``, ``full_page_writes``): the data is thrown away anyway, and it makes
schema creation several times faster.

initdb and pg_ctl refuse to run as root, so when started by root the cluster belongs to, and
runs as, the ``postgres`` system account; otherwise as the current user. In both cases the
database superuser is ``postgres`` and loopback connections are trusted (no password). The
work directory and its parents must be searchable by the account the server runs as
(``tempfile.mkdtemp()`` is; pytest's ``/tmp/pytest-of-root`` is not).

Python API
    ``PgServer.available() -> tuple[bool, str]``: False and the reason when binaries (or,
    as root, the ``postgres`` account) are missing.
    ``PgServer.start(workdir: Path, port: int | None = None) -> PgServer``: initdb (once),
    start, return when it accepts connections.
    ``PgServer.attach(workdir: Path) -> PgServer``: the server described by
    ``workdir/pgserver.json`` (e.g. one started by the script).
    Attributes ``host``, ``port``, ``superuser``, ``workdir``; properties ``data_dir``,
    ``log_file``.
    ``url(dbname="postgres") -> str`` (SQLAlchemy, ``postgresql+psycopg://...``);
    ``dsn(dbname="postgres") -> str`` (libpq URL for psycopg/psql);
    ``create_database(name)``, ``drop_database(name)`` (terminates its connections first);
    ``psql(sql, dbname="postgres") -> str``; ``restart()`` (same port); ``stop()``
    (idempotent) and ``start_again()`` (any pause between them); ``is_running() -> bool``.

Script
    ``python tests/stack/pgserver.py start --dir DIR [--port N]`` starts a daemonised server
    and prints a JSON object with its URL; ``stop --dir DIR``; ``status --dir DIR``.

Stdlib only (no psycopg import), so it runs as a plain script anywhere; SQL goes through
``psql``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import glob
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
SUPERUSER = "postgres"
# The system account that owns the cluster when we run as root.
SERVER_ACCOUNT = "postgres"
STATE_FILE = "pgserver.json"
START_TIMEOUT = 30
_DBNAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

# Appended to postgresql.conf. Throwaway data: trade crash safety for speed.
_CONF_SUFFIX = """
# --- mailtrack throwaway test server (tests/stack/pgserver.py) ---
# No crash safety needed: the cluster is deleted after the run. These make DDL and commits
# (migrations, per-test databases) much faster.
fsync = off
synchronous_commit = off
full_page_writes = off
"""


class PgError(RuntimeError):
    """The server could not be initialised, started, stopped or queried."""


def _bindir() -> Path | None:
    """Directory holding initdb/pg_ctl/postgres/psql, or None.

    PG_BINDIR overrides; then `pg_config --bindir`; then the newest Debian-style
    /usr/lib/postgresql/N/bin (server binaries are not on PATH on Debian).
    """
    candidates: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            candidates.append(Path(out))
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0,
        reverse=True,
    )
    candidates.extend(Path(p) for p in versions)
    for candidate in candidates:
        if all((candidate / name).exists() for name in ("initdb", "pg_ctl", "postgres", "psql")):
            return candidate
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _clean_env() -> dict[str, str]:
    """Our environment without PG* variables, which would redirect psql/pg_ctl elsewhere."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _traversable(path: Path, uid: int, gid: int) -> bool:
    """Whether `uid` (primary group `gid`) may search every directory from / down to `path`."""
    for directory in [path, *path.parents]:
        st = directory.stat()
        if st.st_uid == uid:
            bit = 0o100
        elif st.st_gid == gid:
            bit = 0o010
        else:
            bit = 0o001
        if not st.st_mode & bit:
            return False
    return True


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (PID 1 may never reap it)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return raw[raw.rindex(")") + 2 :].split()[0] != "Z"


@dataclasses.dataclass
class PgServer:
    """A private PostgreSQL cluster; see the module docstring."""

    workdir: Path
    port: int
    bindir: Path
    # System account the server runs as, or None for the current user.
    os_user: str | None
    superuser: str = SUPERUSER
    host: str = HOST

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.workdir / "run"

    @property
    def log_file(self) -> Path:
        return self.workdir / "postgres.log"

    # ---- availability and life cycle

    @staticmethod
    def available() -> tuple[bool, str]:
        """(True, "") if a private server can be started here, else (False, why not)."""
        if _bindir() is None:
            return False, (
                "PostgreSQL server binaries (initdb, pg_ctl, postgres, psql) not found; "
                "install postgresql-15 or set PG_BINDIR"
            )
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(SERVER_ACCOUNT)
            except KeyError:
                return False, f"running as root but there is no {SERVER_ACCOUNT!r} account"
        return True, ""

    @classmethod
    def start(cls, workdir: Path, port: int | None = None) -> PgServer:
        """Create the cluster (first time only) and start it; return when it accepts queries."""
        ok, reason = cls.available()
        if not ok:
            raise PgError(reason)
        bindir = _bindir()
        assert bindir is not None
        workdir = Path(workdir).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        if (workdir / STATE_FILE).exists() and cls.attach(workdir).is_running():
            raise PgError(f"a server is already running in {workdir}")
        os_user = SERVER_ACCOUNT if os.geteuid() == 0 else None
        server = cls(workdir=workdir, port=port or _free_port(), bindir=bindir, os_user=os_user)
        server._prepare()
        for attempt in range(3):
            server._save_state()
            try:
                server._start()
            except PgError as exc:
                # The free port was taken before the server bound it: pick another one.
                if port is None and "in use" in str(exc) and attempt < 2:
                    server.port = _free_port()
                    continue
                raise
            except BaseException:
                # Interrupted or timed out while pg_ctl waited: the postmaster may be up.
                server.stop()
                raise
            return server
        raise AssertionError("unreachable")

    @classmethod
    def attach(cls, workdir: Path) -> PgServer:
        """The server whose state `start` saved in `workdir` (running or not)."""
        workdir = Path(workdir).resolve()
        try:
            state = json.loads((workdir / STATE_FILE).read_text())
        except FileNotFoundError:
            raise PgError(f"no {STATE_FILE} in {workdir}: no server was started there") from None
        return cls(
            workdir=workdir,
            port=state["port"],
            bindir=Path(state["bindir"]),
            os_user=state["os_user"],
            superuser=state["superuser"],
            host=state["host"],
        )

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (what the script prints)."""
        return {
            "url": self.url(),
            "dsn": self.dsn(),
            "host": self.host,
            "port": self.port,
            "user": self.superuser,
            "dir": str(self.workdir),
            "log": str(self.log_file),
        }

    def is_running(self) -> bool:
        """Whether the postmaster of this cluster is alive."""
        pid = self._postmaster_pid()
        return pid is not None and _alive(pid)

    def restart(self) -> None:
        """Stop (fast mode: clients are disconnected) and start again on the same port."""
        self.stop()
        self._start()

    def start_again(self) -> None:
        """Start a server stopped with :meth:`stop`, on the same port and data directory."""
        self._start()

    def stop(self) -> None:
        """Stop the server (``pg_ctl stop -m fast``) and wait for it; idempotent.

        Falls back to SIGQUIT, then SIGKILL, if pg_ctl cannot stop it in time.
        """
        pid = self._postmaster_pid()
        if pid is None or not _alive(pid):
            return
        _, output = self._run_as_server(
            [self._bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "30", "stop"],
            check=False,
        )
        # SIGQUIT is PostgreSQL's "immediate shutdown"; SIGKILL only as the last resort.
        for signo in (signal.SIGQUIT, signal.SIGKILL):
            if not _alive(pid):
                return
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signo)
            deadline = time.monotonic() + 5.0
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
        if _alive(pid):
            raise PgError(f"postmaster {pid} did not stop (pg_ctl said: {output.strip()})")

    # ---- connections and SQL

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3 driver) for `dbname`."""
        return f"postgresql+psycopg://{self.superuser}@{self.host}:{self.port}/{dbname}"

    def dsn(self, dbname: str = "postgres") -> str:
        """libpq connection URL for `dbname` (psycopg.connect, psql)."""
        return f"postgresql://{self.superuser}@{self.host}:{self.port}/{dbname}"

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        """Run SQL with psql (unaligned, tuples only) and return its output."""
        cmd = [self._bin("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
        cmd += ["-d", self.dsn(dbname), "-c", sql]
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=60,
            env=_clean_env(),
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if proc.returncode != 0:
            raise PgError(f"psql failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout

    def create_database(self, name: str) -> None:
        """CREATE DATABASE `name` (letters, digits, underscore; at most 63 characters)."""
        self.psql(f'CREATE DATABASE "{self._checked_name(name)}"')

    def drop_database(self, name: str) -> None:
        """DROP DATABASE `name` if it exists, terminating sessions still connected to it."""
        # WITH (FORCE) (PostgreSQL 13+) terminates the remaining backends first, so a test
        # that leaked a connection pool cannot block the cleanup.
        self.psql(f'DROP DATABASE IF EXISTS "{self._checked_name(name)}" WITH (FORCE)')

    # ---- internals

    @staticmethod
    def _checked_name(name: str) -> str:
        if not _DBNAME_RE.match(name):
            raise PgError(f"unsafe database name {name!r}: use [A-Za-z_][A-Za-z0-9_]{{0,62}}")
        return name

    def _bin(self, name: str) -> str:
        return str(self.bindir / name)

    def _account(self) -> pwd.struct_passwd | None:
        return pwd.getpwnam(self.os_user) if self.os_user else None

    def _run_as_server(self, cmd: Sequence[str], check: bool = True) -> tuple[int, str]:
        """Run a server tool as the cluster's owner; return (exit code, combined output).

        Output goes to a temporary file rather than a pipe: pg_ctl's postmaster child must
        not inherit a pipe we are waiting on.
        """
        account = self._account()
        creds: dict[str, Any] = {}
        if account is not None:
            # Switch uid, gid and drop root's supplementary groups, like `runuser -u`.
            creds = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        with tempfile.TemporaryFile() as out:
            proc = subprocess.run(
                list(cmd),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env=_clean_env(),
                timeout=120,
                start_new_session=True,
                check=False,
                **creds,
            )
            out.seek(0)
            output = out.read().decode(errors="replace")
        if check and proc.returncode != 0:
            raise PgError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{output}".rstrip())
        return proc.returncode, output

    def _prepare(self) -> None:
        """Create directories with the right owner and run initdb unless already done."""
        account = self._account()
        self.workdir.chmod(0o755)
        if account is not None and not _traversable(self.workdir, account.pw_uid, account.pw_gid):
            raise PgError(
                f"{self.workdir} or a parent is not searchable by {self.os_user}; use a "
                "directory such as tempfile.mkdtemp() (pytest's tmp_path is mode 0700)"
            )
        # The server account cannot create entries in the root-owned work directory itself.
        # PostgreSQL requires its data directory to be private (0700).
        self.data_dir.mkdir(exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        self.log_file.touch(exist_ok=True)
        modes = {self.data_dir: 0o700, self.socket_dir: 0o755, self.log_file: 0o644}
        for path, mode in modes.items():
            path.chmod(mode)
            if account is not None:
                os.chown(path, account.pw_uid, account.pw_gid)
        if (self.data_dir / "PG_VERSION").exists():
            return
        # trust: a loopback-only throwaway server, clients need no password.
        initdb = [self._bin("initdb"), "-D", str(self.data_dir), "-U", self.superuser]
        self._run_as_server([*initdb, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"])
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(_CONF_SUFFIX)

    def _start(self) -> None:
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses={self.host}"
        pg_ctl = [self._bin("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file)]
        try:
            self._run_as_server([*pg_ctl, "-w", "-t", str(START_TIMEOUT), "-o", options, "start"])
        except PgError as exc:
            tail = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-15:])
            raise PgError(f"{exc}\n--- {self.log_file} ---\n{tail}") from None
        # pg_ctl -w has seen the server report "ready"; make sure TCP answers too.
        deadline = time.monotonic() + START_TIMEOUT
        while not _port_open(self.port):
            if time.monotonic() > deadline:
                raise PgError(f"PostgreSQL is not listening on {self.host}:{self.port}")
            time.sleep(0.02)

    def _postmaster_pid(self) -> int | None:
        try:
            first = (self.data_dir / "postmaster.pid").read_text().splitlines()[0]
        except (FileNotFoundError, IndexError, PermissionError):
            return None
        return int(first) if first.strip().isdigit() else None

    def _save_state(self) -> None:
        state = {
            "port": self.port,
            "bindir": str(self.bindir),
            "os_user": self.os_user,
            "superuser": self.superuser,
            "host": self.host,
        }
        (self.workdir / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: start / stop / status a server in a directory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("start", "initdb if needed, start a daemonised server, print its JSON description"),
        ("stop", "stop the server started in --dir"),
        ("status", "print the description and whether the server runs"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--dir", required=True, type=Path, help="work directory of the server")
        if name == "start":
            cmd.add_argument("--port", type=int, default=None, help="default: a free port")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            server = PgServer.start(args.dir, port=args.port)
            print(json.dumps(server.describe(), indent=2))
        elif args.command == "stop":
            PgServer.attach(args.dir).stop()
        else:
            server = PgServer.attach(args.dir)
            print(json.dumps(server.describe() | {"running": server.is_running()}, indent=2))
    except PgError as exc:
        print(f"pgserver: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
