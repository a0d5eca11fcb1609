"""Engines and sessions: SQLite tuned for a single host, PostgreSQL through psycopg 3.

SQLite gets WAL (readers never block the writer), foreign keys on (off by
default in SQLite), a busy timeout so a second process waits instead of
failing, and ``synchronous=NORMAL``, which in WAL mode loses no committed
transaction on a process crash. The ORM refuses to update or delete an
:class:`~mailtrack.db.models.AuditEvent`; the migrations add the same rule as
database triggers, so raw SQL cannot rewrite history either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from mailtrack.db.models import AuditEvent
from mailtrack.errors import DatabaseError

SQLITE_BUSY_TIMEOUT_MS = 15_000


def make_engine(url: str, **options: Any) -> Engine:
    """Create an engine for ``url``; for a SQLite file, create its folder first.

    Raises DatabaseError for a URL SQLAlchemy cannot use.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise DatabaseError(f"bad database URL: {error}") from error
    # Statement parameters are mail text, addresses and reply tokens: never let an error
    # message or an engine log line carry them (``--debug`` turns engine logging on).
    options.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    options.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **options)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory; use one ``with factory.begin() as session:`` per unit of work."""
    return sessionmaker(engine, expire_on_commit=False)


@event.listens_for(Session, "before_flush")
def _audit_is_append_only(session: Session, _context: Any, _instances: Any) -> None:
    for instance in (*session.dirty, *session.deleted):
        if isinstance(instance, AuditEvent) and (
            instance in session.deleted or session.is_modified(instance)
        ):
            raise DatabaseError("audit events are append-only: they are never changed or deleted")
