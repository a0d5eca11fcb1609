"""Fixtures for the throwaway servers integration tests run against.

``mail_stack`` (Dovecot + Postfix, see tests/stack/mailstack.py) and ``pg_server``
(PostgreSQL, see tests/stack/pgserver.py) start once per test session, under fresh
``tempfile.mkdtemp()`` directories (pytest's own tmp dirs are mode 0700, which the servers'
unprivileged accounts cannot enter), and are stopped at the end of the session, also after
failures and Ctrl-C. Their work directories are deleted afterwards unless a test failed: then
they are kept so the server logs can be read (the path is in the stack's ``workdir``).

``pg_url`` gives each test its own freshly created database.

Where the servers cannot run (binaries or root missing) the tests that need them are skipped
with the reason, except when ``CI=true``: in CI every integration test must really run, so
the same condition fails them instead.
"""

from __future__ import annotations

import atexit
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from stack.mailstack import MailStack
from stack.pgserver import PgServer


def _unavailable(what: str, reason: str) -> NoReturn:
    """Skip locally, fail in CI: integration tests must never be skipped silently there."""
    message = f"{what} unavailable: {reason}"
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{message} (CI=true, so integration tests may not skip)", pytrace=False)
    pytest.skip(message)


def _discard(workdir: Path, session: pytest.Session) -> None:
    """Remove a server's work directory, unless a test failed and its logs may be needed."""
    if session.testsfailed:
        print(f"\nkeeping {workdir} for its server logs (tests failed)")
        return
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def mail_stack(request: pytest.FixtureRequest) -> Iterator[MailStack]:
    """A running private Dovecot + Postfix, shared by the whole session."""
    ok, reason = MailStack.available()
    if not ok:
        _unavailable("mail stack (Dovecot + Postfix)", reason)
    workdir = Path(tempfile.mkdtemp(prefix="mailtrack-mail-"))
    stack = MailStack.start(workdir)
    # Last line of defence should the session end without running fixture teardown.
    atexit.register(stack.stop)
    try:
        yield stack
    finally:
        stack.stop()
        atexit.unregister(stack.stop)
        _discard(workdir, request.session)


@pytest.fixture(scope="session")
def pg_server(request: pytest.FixtureRequest) -> Iterator[PgServer]:
    """A running private PostgreSQL, shared by the whole session."""
    ok, reason = PgServer.available()
    if not ok:
        _unavailable("PostgreSQL", reason)
    workdir = Path(tempfile.mkdtemp(prefix="mailtrack-pg-"))
    server = PgServer.start(workdir)
    atexit.register(server.stop)
    try:
        yield server
    finally:
        server.stop()
        atexit.unregister(server.stop)
        _discard(workdir, request.session)


@pytest.fixture
def pg_url(pg_server: PgServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """SQLAlchemy URL of a new, empty database for this test; dropped afterwards.

    The name starts with the test's name, to tell databases apart in the server log.
    """
    stem = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")[:40]
    name = f"t_{stem}_{secrets.token_hex(4)}"
    pg_server.create_database(name)
    try:
        yield pg_server.url(name)
    finally:
        # Terminates connections the test left open (e.g. an undisposed engine) first.
        pg_server.drop_database(name)
