"""The declarative base, the constraint naming convention and shared column types.

Constraints get deterministic names so Alembic can alter and drop them on both
SQLite and PostgreSQL. Timestamps are stored in UTC and always come back as
aware datetimes, whatever the backend keeps.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Enum, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every mailtrack table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and returned as an aware UTC datetime.

    Naive datetimes are refused on the way in: a timestamp without a zone is a
    bug waiting to shift by an hour.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: mailtrack stores aware UTC timestamps")
        value = value.astimezone(UTC)
        # SQLite has no zone type; store the UTC wall time.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column(enum_class: type[enum.StrEnum]) -> Enum:
    """A portable enum column: a VARCHAR holding the member's value.

    No native enum and no CHECK constraint, so adding a state later is a
    code change, not a table rebuild on SQLite.
    """
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=24,
        values_callable=_values,
        validate_strings=True,
    )


def _values(enum_class: Any) -> list[str]:
    return [member.value for member in enum_class]


def utcnow() -> datetime:
    """Now, aware, in UTC (the default for created/updated columns)."""
    return datetime.now(UTC)
