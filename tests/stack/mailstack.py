"""A throwaway Dovecot 2.3 + Postfix mail stack on 127.0.0.1, for integration tests.

mailtrack reads minutes over IMAP, sends over SMTP and receives replies; its tests run that
against real servers rather than fakes, so protocol details (IDLE, STARTTLS, UIDVALIDITY,
plus-addressing, delivery through a queue) behave as in production. This module starts private
instances from their own config files under one work directory (``dovecot -c FILE`` and
``postfix -c DIR start``); the system instances are never used or touched.

What runs
    Dovecot: IMAP (plain + STARTTLS) and IMAPS (implicit TLS) on two free loopback ports, LMTP
    on a third. One static password for every user; every address (full address as the user
    name, e.g. ``actas@tracker.test``) gets a Maildir under ``DIR/mail/<user>/Maildir``.
    ``actas+TOKEN@tracker.test`` is delivered into ``actas@tracker.test``'s INBOX, with a
    ``Delivered-To`` header that keeps the ``+TOKEN``.
    Postfix: SMTP on a free loopback port, STARTTLS offered, AUTH PLAIN/LOGIN through Dovecot's
    auth socket, mail from 127.0.0.0/8 relayed without auth; every domain is handed to
    Dovecot's LMTP port, so any test address works.
    TLS: a private CA and a server certificate for ``localhost`` / ``127.0.0.1`` are generated
    at start with the ``openssl`` CLI; clients verify with :attr:`MailStack.ca_file`.

Needs root (Postfix's master and Dovecot drop privileges themselves). Mail files belong to a
dedicated unprivileged account, ``mailtrack-test``, created on first use (Dovecot refuses to
store mail as uid 0). The work directory and all its parents must be traversable by that
account and by ``postfix``: a fresh ``tempfile.mkdtemp()`` directory is fine, pytest's
``/tmp/pytest-of-root`` (mode 0700) is not.

Python API
    ``MailStack.available() -> tuple[bool, str]``: False and the reason when root or a binary
    is missing.
    ``MailStack.start(workdir: Path, users: Sequence[str] = DEFAULT_USERS,
    password: str = DEFAULT_PASSWORD) -> MailStack``: start everything, return once every
    port accepts connections.
    ``MailStack.attach(workdir: Path) -> MailStack``: the stack described by
    ``workdir/mailstack.json`` (e.g. one started by the script).
    Attributes: ``host``, ``imap_port``, ``imaps_port``, ``lmtp_port``, ``smtp_port``,
    ``password``, ``users``, ``workdir``; properties ``ca_file``, ``dovecot_log``,
    ``postfix_log``.
    ``maildir(user) -> Path``; ``add_user(user) -> Path`` (creates the Maildir; any address
    is accepted anyway); ``deliver_lmtp(rcpt, message, mail_from=...)`` and
    ``deliver_lmtp_many(items)`` (direct LMTP delivery, bypassing Postfix, for benchmarks);
    ``restart_dovecot()`` (same ports; IMAP clients are disconnected); ``stop_postfix()``,
    ``start_postfix()`` and ``postfix_queue_size()`` (mail not yet delivered); ``doveadm(*args) -> str``;
    ``status() -> dict[str, bool]``; ``stop()`` (idempotent).

Script
    ``python tests/stack/mailstack.py start --dir DIR [--users a@x.test,b@y.test]`` starts a
    daemonised stack and prints a JSON object (host, ports, password, ca_file, dir, users);
    ``stop --dir DIR`` stops it; ``status --dir DIR`` prints which daemons run.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
DEFAULT_USERS: tuple[str, ...] = ("actas@tracker.test",)
DEFAULT_PASSWORD = "mailtrack-test"
MAIL_ACCOUNT = "mailtrack-test"
STATE_FILE = "mailstack.json"
# Name both servers use for themselves (HELO, LMTP greeting, Received headers), so headers
# do not depend on the machine; nothing ever resolves it.
STACK_HOSTNAME = "mailstack.test"
# Where Debian keeps Dovecot's pre-generated DH parameters (only used by DHE cipher suites).
DOVECOT_DH_FILE = Path("/usr/share/dovecot/dh.pem")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
# Unix socket paths are limited to 108 bytes; Dovecot's longest socket name under base_dir
# ("token-login/tokenlogin") needs about 25 of them.
MAX_BASE_DIR_LEN = 80
_SEARCH_PATH = os.pathsep.join(
    [os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"]
)
_USER_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$")
_PASSWORD_RE = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")


class StackError(RuntimeError):
    """A server of the stack could not be configured, started or stopped."""


# --------------------------------------------------------------------------- helpers


def _which(name: str) -> str | None:
    return shutil.which(name, path=_SEARCH_PATH)


def _run(
    cmd: Sequence[str], *, timeout: float = 30.0, check: bool = True, **kwargs: Any
) -> tuple[int, str, str]:
    """Run a command and return (returncode, stdout, stderr).

    Output goes through temporary files, not pipes: a daemon that inherits a pipe from its
    launcher would keep it open and make us wait for it forever.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.run(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            timeout=timeout,
            check=False,
            **kwargs,
        )
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if check and proc.returncode != 0:
        raise StackError(
            f"{' '.join(cmd)} exited with {proc.returncode}:\n{stdout}{stderr}".rstrip()
        )
    return proc.returncode, stdout, stderr


def _free_ports(count: int) -> list[int]:
    """Ask the kernel for `count` distinct free loopback ports.

    All sockets stay bound until every port is known, so the ports differ from each other.
    Another process may still grab one before our servers bind it; start() retries then.
    """
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((HOST, 0))
            socks.append(sock)
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _proc_stat(pid: int) -> tuple[str, str, int, int] | None:
    """(command name, state, process group, session) of a process, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name sits in parentheses and may itself contain spaces or parentheses.
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return name, fields[0], int(fields[2]), int(fields[3])


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie.

    Daemons are re-parented to PID 1, which in containers does not always reap them; a zombie
    has released its ports and files, so it counts as stopped.
    """
    stat = _proc_stat(pid)
    return stat is not None and stat[1] != "Z"


def _group_members(leader: int) -> list[int]:
    """Live processes in the session or process group that `leader` leads (itself excluded)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == leader:
            continue
        stat = _proc_stat(int(entry.name))
        if stat and stat[1] != "Z" and leader in (stat[2], stat[3]):
            members.append(int(entry.name))
    return members


def _read_pid(pid_file: Path) -> int | None:
    try:
        text = pid_file.read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def _daemon_pid(pid_file: Path, command: str) -> int | None:
    """PID from a pid file, only if that process is alive and is the expected program.

    A stale pid file may name a PID the kernel has since given to something unrelated.
    """
    pid = _read_pid(pid_file)
    if pid is None:
        return None
    stat = _proc_stat(pid)
    if stat is None or stat[1] == "Z" or stat[0] != command:
        return None
    return pid


def _stop_daemon(
    pid_file: Path, command: str, timeout: float = STOP_TIMEOUT, grace: float = 0.05
) -> None:
    """SIGTERM a master daemon, wait until it and its children are gone; SIGKILL as last resort.

    Both Dovecot's and Postfix's masters call setsid(), so their children are exactly the
    members of the session they lead; waiting for those too means no process of this stack
    outlives stop(). Children still alive `grace` seconds after the master got SIGTERM get a
    SIGTERM of their own: Dovecot's auth, anvil and log processes otherwise wait up to 30 s
    for clients that are not coming back (e.g. Postfix's smtpd holding an auth connection),
    and the master waits a further second for them.
    """
    pid = _daemon_pid(pid_file, command)
    if pid is None:
        return
    stat = _proc_stat(pid)
    # Only follow the session if the master leads it; otherwise it would be our own session.
    leads_group = stat is not None and pid in (stat[2], stat[3])

    def remaining() -> list[int]:
        procs = [pid] if _alive(pid) else []
        return procs + (_group_members(pid) if leads_group else [])

    def signal_all(procs: list[int], signo: int) -> None:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc, signo)

    signal_all([pid], signal.SIGTERM)
    started = time.monotonic()
    children_told = False
    while time.monotonic() - started < timeout:
        procs = remaining()
        if not procs:
            return
        if not children_told and time.monotonic() - started >= grace:
            signal_all([proc for proc in procs if proc != pid], signal.SIGTERM)
            children_told = True
        time.sleep(0.01)
    signal_all(remaining(), signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while remaining() and time.monotonic() < deadline:
        time.sleep(0.01)


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)"
    return f"--- last lines of {path} ---\n" + "\n".join(text.splitlines()[-lines:])


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


def _mail_account() -> tuple[int, int]:
    """(uid, gid) that owns the mail files, creating the dedicated system account if needed.

    Dovecot will not write mail as root, and a dedicated account keeps test mail apart from
    real users. Falls back to `nobody` where useradd is unavailable.
    """
    try:
        entry = pwd.getpwnam(MAIL_ACCOUNT)
    except KeyError:
        useradd = _which("useradd")
        if useradd:
            _run(
                [
                    useradd,
                    "--system",
                    "--user-group",
                    "--no-create-home",
                    "--home-dir",
                    "/nonexistent",
                    "--shell",
                    "/usr/sbin/nologin",
                    "--comment",
                    "mailtrack throwaway test mail",
                    MAIL_ACCOUNT,
                ],
                check=False,
            )
        try:
            # Looked up again: a concurrent start may have created it while useradd failed.
            entry = pwd.getpwnam(MAIL_ACCOUNT)
        except KeyError:
            entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.write_text(text)
    path.chmod(mode)


# --------------------------------------------------------------------------- TLS


_OPENSSL_CONFIG = """\
# Throwaway test CA and server certificate; see mailstack.py.
[req]
distinguished_name = dn
prompt = no

[dn]
CN = {cn}

[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[server_ext]
# Clients verify the name they connected to: "localhost" or the literal 127.0.0.1.
subjectAltName = DNS:localhost, IP:127.0.0.1
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""


def _make_certificates(tls_dir: Path) -> None:
    """Create ca.crt (+ ca.key) and server.crt/server.key signed by it, with the openssl CLI.

    P-256 keys are generated in milliseconds (RSA would cost most of the start-up time), and
    the extensions (SKI/AKI, key usage) satisfy strict X.509 checking in newer Pythons.
    """
    openssl = _which("openssl") or "openssl"
    tls_dir.mkdir(parents=True, exist_ok=True)
    tls_dir.chmod(0o755)
    keyopts = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ca_cnf = tls_dir / "ca.cnf"
    server_cnf = tls_dir / "server.cnf"
    _write(ca_cnf, _OPENSSL_CONFIG.format(cn="mailtrack throwaway test CA"))
    _write(server_cnf, _OPENSSL_CONFIG.format(cn="localhost"))
    ca_key, ca_crt = tls_dir / "ca.key", tls_dir / "ca.crt"
    key, csr, crt = tls_dir / "server.key", tls_dir / "server.csr", tls_dir / "server.crt"
    _run([openssl, "req", "-x509", "-config", str(ca_cnf), "-extensions", "ca_ext", *keyopts,
          "-keyout", str(ca_key), "-out", str(ca_crt), "-days", "30"])  # fmt: skip
    _run([openssl, "req", "-new", "-config", str(server_cnf), *keyopts,
          "-keyout", str(key), "-out", str(csr)])  # fmt: skip
    _run([openssl, "x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key),
          "-set_serial", f"0x{secrets.token_hex(8)}", "-days", "30",
          "-extfile", str(server_cnf), "-extensions", "server_ext", "-out", str(crt)])  # fmt: skip
    # Both daemons read the key as root before dropping privileges; nobody else needs it.
    for private in (ca_key, key):
        private.chmod(0o600)
    for public in (ca_crt, crt):
        public.chmod(0o644)


# --------------------------------------------------------------------------- the stack


@dataclasses.dataclass
class MailStack:
    """A running (or stopped) private Dovecot + Postfix; see the module docstring."""

    workdir: Path
    imap_port: int
    imaps_port: int
    lmtp_port: int
    smtp_port: int
    password: str
    mail_uid: int
    mail_gid: int
    users: list[str]
    host: str = HOST

    # ---- paths

    @property
    def ca_file(self) -> Path:
        """PEM file of the private CA that signed the servers' certificate."""
        return self.workdir / "tls" / "ca.crt"

    @property
    def dovecot_conf(self) -> Path:
        return self.workdir / "dovecot" / "dovecot.conf"

    @property
    def dovecot_base_dir(self) -> Path:
        return self.workdir / "dovecot" / "run"

    @property
    def dovecot_log(self) -> Path:
        return self.workdir / "dovecot" / "dovecot.log"

    @property
    def postfix_conf_dir(self) -> Path:
        return self.workdir / "postfix" / "etc"

    @property
    def postfix_queue_dir(self) -> Path:
        return self.workdir / "postfix" / "queue"

    @property
    def postfix_log(self) -> Path:
        return self.workdir / "postfix" / "postfix.log"

    @property
    def mail_root(self) -> Path:
        return self.workdir / "mail"

    def maildir(self, user: str) -> Path:
        """The Maildir of `user` (full address, without +detail)."""
        return self.mail_root / user.lower() / "Maildir"

    # ---- availability

    @staticmethod
    def available() -> tuple[bool, str]:
        """(True, "") if this machine can run the stack, else (False, what is missing)."""
        if sys.platform != "linux":
            return False, "the mail stack needs Linux"
        if os.geteuid() != 0:
            return False, "the mail stack needs root (Postfix's master and Dovecot run as root)"
        missing = [
            name
            for name in ("dovecot", "doveadm", "postfix", "postconf", "openssl")
            if _which(name) is None
        ]
        if missing:
            return False, f"missing binaries: {', '.join(missing)} (run .ci/install-system)"
        for path in ("/usr/lib/dovecot/imap", "/usr/lib/dovecot/lmtp"):
            if not Path(path).exists():
                return False, f"missing {path} (install dovecot-imapd and dovecot-lmtpd)"
        for account in ("postfix", "dovecot", "dovenull"):
            try:
                pwd.getpwnam(account)
            except KeyError:
                return False, f"system user {account!r} is missing (package not installed?)"
        return True, ""

    # ---- life cycle

    @classmethod
    def start(
        cls,
        workdir: Path,
        users: Sequence[str] = DEFAULT_USERS,
        password: str = DEFAULT_PASSWORD,
    ) -> MailStack:
        """Configure and start Dovecot and Postfix under `workdir`; return when all ports listen."""
        ok, reason = cls.available()
        if not ok:
            raise StackError(reason)
        if not _PASSWORD_RE.match(password):
            raise StackError("password must be 1-64 characters of [A-Za-z0-9._~-]")
        for user in users:
            if not _USER_RE.match(user):
                raise StackError(f"not a plain mail address: {user!r}")
        workdir = Path(workdir).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        if (workdir / STATE_FILE).exists():
            previous = cls.attach(workdir)
            if any(previous.status().values()):
                raise StackError(f"a mail stack is already running in {workdir}")
        # Clients (and Dovecot's/Postfix's unprivileged processes) must reach files in here.
        workdir.chmod(0o755)
        uid, gid = _mail_account()
        postfix_entry = pwd.getpwnam("postfix")
        for who, (u, g) in {
            MAIL_ACCOUNT: (uid, gid),
            "postfix": (postfix_entry.pw_uid, postfix_entry.pw_gid),
        }.items():
            if not _traversable(workdir, u, g):
                raise StackError(
                    f"{workdir} or one of its parents is not searchable by {who}; use a "
                    "directory such as tempfile.mkdtemp() (pytest's tmp_path is mode 0700)"
                )
        if len(str(workdir / "dovecot" / "run")) > MAX_BASE_DIR_LEN:
            raise StackError(f"{workdir} is too long a path for unix sockets; use a shorter one")

        _make_certificates(workdir / "tls")
        last_error: StackError | None = None
        for _attempt in range(3):
            imap, imaps, lmtp, smtp = _free_ports(4)
            stack = cls(
                workdir=workdir,
                imap_port=imap,
                imaps_port=imaps,
                lmtp_port=lmtp,
                smtp_port=smtp,
                password=password,
                mail_uid=uid,
                mail_gid=gid,
                users=[],
            )
            stack._configure()
            for user in users:
                stack.add_user(user)
            # Saved before anything runs, so `stop --dir` can clean up after a failed start.
            stack._save_state()
            try:
                stack._start_servers()
            except StackError as exc:
                stack.stop()
                last_error = exc
                # A port taken between _free_ports() and the bind: try again with new ones.
                if "in use" in str(exc):
                    continue
                raise
            except BaseException:
                # Interrupted or timed out: leave no half-started daemon behind.
                stack.stop()
                raise
            return stack
        assert last_error is not None
        raise last_error

    @classmethod
    def attach(cls, workdir: Path) -> MailStack:
        """The stack whose state `start` saved in `workdir` (running or not)."""
        workdir = Path(workdir).resolve()
        try:
            state = json.loads((workdir / STATE_FILE).read_text())
        except FileNotFoundError:
            raise StackError(f"no {STATE_FILE} in {workdir}: no stack was started there") from None
        return cls(
            workdir=workdir,
            imap_port=state["imap_port"],
            imaps_port=state["imaps_port"],
            lmtp_port=state["lmtp_port"],
            smtp_port=state["smtp_port"],
            password=state["password"],
            mail_uid=state["mail_uid"],
            mail_gid=state["mail_gid"],
            users=list(state["users"]),
            host=state["host"],
        )

    def describe(self) -> dict[str, Any]:
        """JSON-ready description for clients (what the script prints)."""
        return {
            "host": self.host,
            "imap_port": self.imap_port,
            "imaps_port": self.imaps_port,
            "lmtp_port": self.lmtp_port,
            "smtp_port": self.smtp_port,
            "password": self.password,
            "ca_file": str(self.ca_file),
            "dir": str(self.workdir),
            "users": self.users,
            "dovecot_log": str(self.dovecot_log),
            "postfix_log": str(self.postfix_log),
        }

    def _save_state(self) -> None:
        state = self.describe() | {"mail_uid": self.mail_uid, "mail_gid": self.mail_gid}
        _write(self.workdir / STATE_FILE, json.dumps(state, indent=2) + "\n")

    def status(self) -> dict[str, bool]:
        """Which master daemons of this stack are running."""
        return {
            "dovecot": self._dovecot_pid() is not None,
            "postfix": self._postfix_pid() is not None,
        }

    def stop(self) -> None:
        """Stop Postfix, then Dovecot, and wait until all their processes are gone.

        Postfix goes first so that it does not try (and defer) deliveries into a Dovecot that
        is shutting down. Safe to call repeatedly and on a stack that never fully started.
        """
        _stop_daemon(self.postfix_queue_dir / "pid" / "master.pid", "master")
        _stop_daemon(self.dovecot_base_dir / "master.pid", "dovecot")

    def restart_dovecot(self) -> None:
        """Stop Dovecot and start it again on the same ports (IMAP clients get disconnected)."""
        _stop_daemon(self.dovecot_base_dir / "master.pid", "dovecot")
        self._start_dovecot()
        self._wait_for_ports(
            {"imap": self.imap_port, "imaps": self.imaps_port, "lmtp": self.lmtp_port}
        )

    def stop_postfix(self) -> None:
        """Stop Postfix only (SMTP clients get "connection refused" until ``start_postfix``)."""
        _stop_daemon(self.postfix_queue_dir / "pid" / "master.pid", "master")

    def start_postfix(self) -> None:
        """Start Postfix again on the same port (after ``stop_postfix``); mail queued is kept."""
        self._start_postfix()
        self._wait_for_ports({"smtp": self.smtp_port})

    def postfix_queue_size(self) -> int:
        """Messages Postfix still holds (not yet handed to Dovecot): 0 once all is delivered."""
        count = 0
        for queue in ("maildrop", "incoming", "active", "deferred", "hold"):
            folder = self.postfix_queue_dir / queue
            if folder.is_dir():
                count += sum(1 for path in folder.rglob("*") if path.is_file())
        return count

    # ---- users, mail and admin

    def add_user(self, user: str) -> Path:
        """Create `user`'s Maildir (owned by the mail account) and return its path.

        Optional: the static userdb accepts every address and Dovecot creates a Maildir on
        first delivery or login. Creating it up front makes `maildir(user)` exist at once.
        """
        if not _USER_RE.match(user):
            raise StackError(f"not a plain mail address: {user!r}")
        maildir = self.maildir(user)
        for path in (maildir.parent, maildir, *(maildir / sub for sub in ("cur", "new", "tmp"))):
            path.mkdir(mode=0o700, exist_ok=True)
            os.chown(path, self.mail_uid, self.mail_gid)
        if user.lower() not in self.users:
            self.users.append(user.lower())
            if (self.workdir / STATE_FILE).exists():
                self._save_state()
        return maildir

    def deliver_lmtp(
        self, rcpt: str, message: bytes, mail_from: str = "sender@mailstack.test"
    ) -> None:
        """Deliver one message to one recipient straight into Dovecot over LMTP.

        Synchronous (the message is stored when this returns), unlike SMTP through Postfix's
        queue. Raises smtplib.SMTPException if Dovecot refuses it.
        """
        self.deliver_lmtp_many([(rcpt, message)], mail_from=mail_from)

    def deliver_lmtp_many(
        self, items: Iterable[tuple[str, bytes]], mail_from: str = "sender@mailstack.test"
    ) -> int:
        """Deliver (recipient, message) pairs over one LMTP connection; return how many.

        One recipient per transaction: LMTP answers DATA once per recipient, and smtplib reads
        only one answer.
        """
        count = 0
        with smtplib.LMTP(self.host, self.lmtp_port, timeout=30) as lmtp:
            for rcpt, message in items:
                lmtp.sendmail(mail_from, [rcpt], message)
                count += 1
        return count

    def doveadm(self, *args: str) -> str:
        """Run ``doveadm ARGS`` against this Dovecot instance and return its standard output.

        E.g. ``doveadm("mailbox", "status", "-u", user, "uidvalidity", "INBOX")``.
        """
        doveadm = _which("doveadm") or "doveadm"
        _, stdout, _ = _run([doveadm, "-c", str(self.dovecot_conf), *args])
        return stdout

    # ---- internals

    def _dovecot_pid(self) -> int | None:
        return _daemon_pid(self.dovecot_base_dir / "master.pid", "dovecot")

    def _postfix_pid(self) -> int | None:
        return _daemon_pid(self.postfix_queue_dir / "pid" / "master.pid", "master")

    def _configure(self) -> None:
        self.mail_root.mkdir(exist_ok=True)
        os.chown(self.mail_root, self.mail_uid, self.mail_gid)
        self.mail_root.chmod(0o750)
        self._configure_dovecot()
        self._configure_postfix()

    def _configure_dovecot(self) -> None:
        root = self.workdir / "dovecot"
        (root / "state").mkdir(parents=True, exist_ok=True)
        tls = self.workdir / "tls"
        dh = f"ssl_dh = <{DOVECOT_DH_FILE}" if DOVECOT_DH_FILE.exists() else ""
        # Unique per work directory: names the processes in ps and keeps instances apart.
        instance = "mailtrack-" + hashlib.sha256(str(self.workdir).encode()).hexdigest()[:8]
        config = f"""\
# Throwaway Dovecot for mailtrack's tests, written by tests/stack/mailstack.py.
# Everything lives under {self.workdir}; nothing from /etc/dovecot is read.
instance_name = {instance}
# Sockets, pid file, state and log of this instance only.
base_dir = {self.dovecot_base_dir}
state_dir = {root / "state"}
log_path = {self.dovecot_log}
verbose_proctitle = yes
# No stats service clients: processes would otherwise wait up to 5 s for stats-writer
# while the stack shuts down, and tests need no statistics.
stats_writer_socket_path =

protocols = imap lmtp
listen = {self.host}
hostname = {STACK_HOSTNAME}
# Login processes run as dovenull, internal services as dovecot (Debian's accounts).
default_internal_user = dovecot
default_login_user = dovenull
# Mail is written as the dedicated test account only.
first_valid_uid = {self.mail_uid}
last_valid_uid = {self.mail_uid}
first_valid_gid = {self.mail_gid}
last_valid_gid = {self.mail_gid}

# One password for every user; the userdb accepts any address (full address = user name).
passdb {{
  driver = static
  args = password={self.password}
}}
userdb {{
  driver = static
  args = uid={self.mail_uid} gid={self.mail_gid} home={self.mail_root}/%u allow_all_users=yes
}}
mail_location = maildir:~/Maildir
# Tests log in with plain LOGIN on the unencrypted port too (loopback only).
disable_plaintext_auth = no
auth_mechanisms = plain login
# Wrong-password tests would otherwise wait 2 s per failure (see also anvil below).
auth_failure_delay = 0
# Benchmarks and reliability tests open many connections per user and IP (default 10).
mail_max_userip_connections = 1000
# Throwaway data: skip fsync for speed.
mail_fsync = never
# IDLE reacts to inotify (500 ms); this is only the fallback poll if inotify runs out.
mailbox_idle_check_interval = 1 secs

# actas+TOKEN@domain is delivered to actas@domain's INBOX (not a TOKEN folder); the
# Delivered-To header keeps the full RCPT TO address (lmtp_hdr_delivery_address = final).
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
lmtp_hdr_delivery_address = final

ssl = yes
ssl_cert = <{tls / "server.crt"}
ssl_key = <{tls / "server.key"}
ssl_min_protocol = TLSv1.2
{dh}

service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.imaps_port}
    ssl = yes
  }}
  # One long-lived login process serves all connections: no fork per connection.
  service_count = 0
  process_min_avail = 1
}}

service lmtp {{
  inet_listener lmtp {{
    address = {self.host}
    port = {self.lmtp_port}
  }}
}}

service anvil {{
  # Without access to this socket the auth process disables its "auth penalty" (failed
  # logins from one IP delay the next attempts by 2, 4, 8, 15 s): every test runs from
  # 127.0.0.1, so one wrong-password test would slow down all later logins.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}

service auth {{
  # Postfix's smtpd authenticates SMTP clients (SASL PLAIN/LOGIN) through this socket.
  unix_listener auth-postfix {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
"""
        _write(self.dovecot_conf, config)

    def _configure_postfix(self) -> None:
        root = self.workdir / "postfix"
        conf = self.postfix_conf_dir
        conf.mkdir(parents=True, exist_ok=True)
        # Postfix insists on a root-owned queue directory; `postfix start` creates the
        # subdirectories (and the data directory) with the owners and modes it wants.
        self.postfix_queue_dir.mkdir(parents=True, exist_ok=True)
        self.postfix_queue_dir.chmod(0o755)
        data = root / "data"
        tls = self.workdir / "tls"
        lmtp = f"lmtp:inet:{self.host}:{self.lmtp_port}"
        main_cf = f"""\
# Throwaway Postfix for mailtrack's tests, written by tests/stack/mailstack.py.
# Started with `postfix -c {conf} start`; /etc/postfix is not read.
compatibility_level = 3.6
queue_directory = {self.postfix_queue_dir}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
# A fixed name: the machine's hostname may not be a FQDN and nothing needs to resolve it.
myhostname = {STACK_HOSTNAME}
mydomain = {STACK_HOSTNAME}
myorigin = $myhostname
inet_interfaces = {self.host}
inet_protocols = ipv4

# No local delivery at all: every domain is relayed to Dovecot's LMTP, so tests can use
# any address.
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relayhost =
default_transport = {lmtp}
relay_transport = {lmtp}
recipient_delimiter = +
# Dovecot 2.3's LMTP refuses SMTPUTF8; with it on, such mail would bounce.
smtputf8_enable = no

# Loopback clients relay without authentication; authenticated clients may too.
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {self.dovecot_base_dir / "auth-postfix"}
# Tests may AUTH with or without STARTTLS (loopback only).
smtpd_tls_auth_only = no

# STARTTLS offered, not required.
smtpd_tls_security_level = may
smtpd_tls_cert_file = {tls / "server.crt"}
smtpd_tls_key_file = {tls / "server.key"}
lmtp_tls_security_level = none

# Fast delivery: no DNS (addresses are literal 127.0.0.1), no throttling, quick retries of
# deferred mail (e.g. while a test restarts Dovecot).
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtpd_peername_lookup = no
in_flow_delay = 0
smtpd_error_sleep_time = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
biff = no
append_dot_mydomain = no

# Log to a file in the work directory (no syslog needed); postlogd writes it.
maillog_file = {self.postfix_log}
maillog_file_prefixes = {self.workdir}
"""
        # No chroot (column 5 = n): the jail would need copies of system files, and smtpd must
        # reach Dovecot's auth socket by its absolute path.
        master_cf = f"""\
# service type private unpriv chroot wakeup maxproc command
{self.host}:{self.smtp_port} inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
lmtp unix - - n - - lmtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""
        # Postfix re-reads a config file modified within the last second ("hot" file, in case
        # an editor is still writing it), dozing 300 ms each round: ~1.5 s per start. Dating
        # the freshly written files back avoids that wait.
        stale = time.time() - 10
        for name, text in (("main.cf", main_cf), ("master.cf", master_cf)):
            _write(conf / name, text)
            os.utime(conf / name, (stale, stale))

    def _start_dovecot(self) -> None:
        dovecot = _which("dovecot") or "dovecot"
        try:
            _run([dovecot, "-c", str(self.dovecot_conf)], start_new_session=True)
        except StackError as exc:
            raise StackError(f"{exc}\n{_log_tail(self.dovecot_log)}") from None

    def _start_postfix(self) -> None:
        postfix = _which("postfix") or "postfix"
        try:
            _run([postfix, "-c", str(self.postfix_conf_dir), "start"], start_new_session=True)
        except StackError as exc:
            raise StackError(f"{exc}\n{_log_tail(self.postfix_log)}") from None

    def _start_servers(self) -> None:
        self._start_dovecot()
        self._start_postfix()
        self._wait_for_ports(
            {
                "imap": self.imap_port,
                "imaps": self.imaps_port,
                "lmtp": self.lmtp_port,
                "smtp": self.smtp_port,
            }
        )

    def _wait_for_ports(self, ports: dict[str, int]) -> None:
        pending = dict(ports)
        deadline = time.monotonic() + START_TIMEOUT
        while pending:
            for name, port in list(pending.items()):
                if _port_open(port):
                    del pending[name]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise StackError(
                    f"ports not listening after {START_TIMEOUT:.0f} s: {pending}\n"
                    f"{_log_tail(self.dovecot_log)}\n{_log_tail(self.postfix_log)}"
                )
            time.sleep(0.02)


# --------------------------------------------------------------------------- script


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: start / stop / status a stack in a directory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("start", "start a daemonised stack and print its JSON description"),
        ("stop", "stop the stack started in --dir"),
        ("status", "print which daemons of the stack in --dir run"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--dir", required=True, type=Path, help="work directory of the stack")
        if name == "start":
            cmd.add_argument(
                "--users",
                default=",".join(DEFAULT_USERS),
                help="comma-separated addresses whose Maildirs are created up front",
            )
            cmd.add_argument("--password", default=DEFAULT_PASSWORD)
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            users = [user.strip() for user in args.users.split(",") if user.strip()]
            stack = MailStack.start(args.dir, users=users, password=args.password)
            print(json.dumps(stack.describe(), indent=2))
        elif args.command == "stop":
            MailStack.attach(args.dir).stop()
        else:
            stack = MailStack.attach(args.dir)
            print(json.dumps(stack.describe() | {"running": stack.status()}, indent=2))
    except StackError as exc:
        print(f"mailstack: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
