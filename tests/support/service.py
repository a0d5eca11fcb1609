"""The real ``mailtrack`` CLI as a separate process against the test stack, and the mailboxes it fills.

Crash and fault tests need the service as users run it: its own process
(so ``kill -9`` is a real crash), its own config file, secrets only in its
environment. What it sends is counted where it lands: in the recipients'
Maildirs in Dovecot, read straight from disk (files are never rewritten, so
a file name without its ``:2,flags`` suffix identifies one delivered copy).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import TypeVar

from stack.mailstack import MailStack

IMAP_PASSWORD_ENV = "MT_TEST_IMAP_PASSWORD"
SMTP_PASSWORD_ENV = "MT_TEST_SMTP_PASSWORD"


def write_config(
    folder: Path,
    stack: MailStack,
    address: str,
    *,
    smtp: bool = True,
    database_url: str | None = None,
    level: str = "warning",
    extra: str = "",
) -> Path:
    """A config file for the tracker ``address`` on the stack: IMAP in, Postfix out (``run`` needs both)."""
    config = folder / "mailtrack.toml"
    database = f'[database]\nurl = "{database_url}"\n' if database_url else ""
    relay = (
        f"""[smtp]
host = "{stack.host}"
port = {stack.smtp_port}
security = "starttls"
ca_file = "{stack.ca_file}"
username = "{address}"
password_env = "{SMTP_PASSWORD_ENV}"
"""
        if smtp
        else ""
    )
    config.write_text(
        f"""
[tracker]
address = "{address}"
organizers = ["@consultora.test"]
data_dir = "data"
{database}
[imap]
host = "{stack.host}"
port = {stack.imap_port}
security = "starttls"
ca_file = "{stack.ca_file}"
username = "{address}"
password_env = "{IMAP_PASSWORD_ENV}"
batch_size = 25
{relay}
[logging]
level = "{level}"
{extra}
"""
    )
    return config


def imap_section(stack: MailStack, address: str, **extra: str) -> str:
    """An ``[imap]`` section for in-process runtimes (tests/support/runtime.py, password in PW)."""
    lines = {
        "host": f'"{stack.host}"',
        "port": str(stack.imap_port),
        "security": '"starttls"',
        "ca_file": f'"{stack.ca_file}"',
        "username": f'"{address}"',
        "password_env": '"PW"',
        "poll_interval": '"60s"',
    }
    lines.update(extra)
    return "\n[imap]\n" + "\n".join(f"{key} = {value}" for key, value in lines.items()) + "\n"


def smtp_section(stack: MailStack, **extra: str) -> str:
    """An ``[smtp]`` section: the stack's Postfix, STARTTLS, no login (loopback may relay)."""
    lines = {
        "host": f'"{stack.host}"',
        "port": str(stack.smtp_port),
        "security": '"starttls"',
        "ca_file": f'"{stack.ca_file}"',
    }
    lines.update(extra)
    return "\n[smtp]\n" + "\n".join(f"{key} = {value}" for key, value in lines.items()) + "\n"


def environment(password: str) -> dict[str, str]:
    return {**os.environ, IMAP_PASSWORD_ENV: password, SMTP_PASSWORD_ENV: password}


def mailtrack(config: Path, *args: str, password: str) -> subprocess.Popen[bytes]:
    """Start the real CLI; its output goes to a file (a pipe nobody reads could block it)."""
    with open(log_path(config), "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "mailtrack", "--config", str(config), *args],
            env=environment(password),
            stdout=log,
            stderr=log,
        )


def log_path(config: Path) -> Path:
    return config.parent / "mailtrack.log"


def log_of(config: Path, tail: int = 3000) -> str:
    path = log_path(config)
    return path.read_text(errors="replace")[-tail:] if path.exists() else ""


T = TypeVar("T")


def wait_for(condition: Callable[[], T | None], timeout: float = 60.0, what: str = "") -> T:
    """Poll ``condition`` until it gives something true; its value, or AssertionError at ``timeout``.

    Postfix hands mail to Dovecot after it has answered the sender, so what a
    run sent is in a recipient's mailbox a moment later, not at once.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or 'condition'} not met after {timeout:g} s")
        time.sleep(0.1)


class Mailboxes:
    """What has landed in the stack's Maildirs, read from disk."""

    def __init__(self, stack: MailStack) -> None:
        self.stack = stack
        self._seen: dict[str, set[str]] = {}
        self._stamps: dict[str, tuple[int, ...]] = {}

    def _files(self, user: str) -> list[Path]:
        root = self.stack.maildir(user)
        return [
            path
            for sub in ("new", "cur")
            if (root / sub).is_dir()
            for path in (root / sub).iterdir()
            if path.is_file()
        ]

    def new_messages(self, user: str) -> list[bytes]:
        """Messages delivered to ``user`` since the last call (each copy once)."""
        root = self.stack.maildir(user)
        # A delivery or a move changes the folder's mtime: skip mailboxes that did not change
        # (the load benchmark looks through hundreds of them every second).
        stamp = tuple(
            (root / sub).stat().st_mtime_ns if (root / sub).is_dir() else 0
            for sub in ("new", "cur")
        )
        if self._stamps.get(user) == stamp:
            return []
        seen = self._seen.setdefault(user, set())
        found = []
        complete = True
        for path in self._files(user):
            key = path.name.split(":", 1)[0]
            if key in seen:
                continue
            try:
                found.append(path.read_bytes())
            except FileNotFoundError:  # moved from new/ to cur/ meanwhile: read it next time
                complete = False
                continue
            seen.add(key)
        # Timestamps are coarse: a folder changed within the last second may change again
        # within the same tick, so it is only marked as read once it has been quiet.
        if complete and time.time_ns() - max(stamp) > 1_000_000_000:
            self._stamps[user] = stamp
        return found

    def message_ids(self, user: str) -> Counter[str]:
        """How many copies of each Message-ID ``user`` has received."""
        parser = BytesHeaderParser(policy=compat32)
        counts: Counter[str] = Counter()
        keys: set[str] = set()
        for path in self._files(user):
            key = path.name.split(":", 1)[0]
            if key in keys:
                continue
            keys.add(key)
            with open(path, "rb") as handle:
                headers = parser.parse(handle)
            counts[str(headers.get("Message-ID", "")).strip()] += 1
        return counts
