"""Insert a row unless it is there: the race-free way to create shared rows with several workers.

"Select, and insert when missing" is a race when two workers do it at once:
both find nothing, both insert, and one transaction dies on the unique
constraint. ``INSERT ... ON CONFLICT DO NOTHING`` (PostgreSQL and SQLite
both have it) lets the loser wait for the winner and carry on; the caller then
selects the row, whoever wrote it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from mailtrack.db.base import Base


def insert_ignore(session: Session, model: type[Base], **values: Any) -> bool:
    """Insert one row of ``model`` unless a unique constraint says it exists; True if inserted."""
    dialect = session.get_bind().dialect.name
    build = postgresql_insert if dialect == "postgresql" else sqlite_insert
    key = next(iter(inspect(model).primary_key))
    # RETURNING says for sure whether a row went in (rowcount is -1 on some drivers).
    statement = build(model).values(**values).on_conflict_do_nothing().returning(key)
    return session.execute(statement).first() is not None
