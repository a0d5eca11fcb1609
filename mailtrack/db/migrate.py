"""Schema migrations with Alembic, run from inside the package (no alembic.ini needed).

``mailtrack db upgrade`` calls :func:`upgrade`; the service calls
:func:`require_current` at start so it never runs on a schema it does not know.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from mailtrack.errors import DatabaseError

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> AlembicConfig:
    """An Alembic configuration pointing at our migrations and at ``engine``."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest migration this code ships."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise DatabaseError("no migrations found in the package")
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database.

    Raises DatabaseError when the database cannot be reached.
    """
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as error:
        raise DatabaseError(f"cannot reach the database: {_short(error)}") from error


def upgrade(engine: Engine, target: str = "head") -> tuple[str | None, str]:
    """Bring the schema to ``target``; returns (revision before, revision after).

    Raises DatabaseError when the database cannot be reached or a migration fails.
    """
    before = current_revision(engine)
    try:
        command.upgrade(alembic_config(engine), target)
    except SQLAlchemyError as error:
        raise DatabaseError(f"migration failed: {_short(error)}") from error
    after = current_revision(engine)
    return before, after or ""


def require_current(engine: Engine) -> None:
    """Raise DatabaseError unless the schema is at this code's head revision."""
    current = current_revision(engine)
    head = head_revision()
    if current != head:
        found = "an empty database" if current is None else f"schema revision {current}"
        raise DatabaseError(
            f"found {found}, this mailtrack needs {head}: run `mailtrack db upgrade`"
        )


def _short(error: SQLAlchemyError) -> str:
    """The first line of a driver error, without SQLAlchemy's background link."""
    text = str(getattr(error, "orig", None) or error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def new_revision(message: str) -> None:
    """Developer tool: write a migration for the difference between the models and head.

    Runs against a scratch SQLite database brought to head first, so the new
    migration holds only what changed. Review it before committing.
    """
    import tempfile

    from mailtrack.db.session import make_engine

    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{scratch}/scratch.db")
        try:
            upgrade(engine)
            command.revision(alembic_config(engine), message=message, autogenerate=True)
        finally:
            engine.dispose()


if __name__ == "__main__":  # pragma: no cover - developer entry point
    import sys

    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m mailtrack.db.migrate revision "what changed"')
    new_revision(sys.argv[2])
