"""The schema on both backends: built by migrations, equal to the models, keeping its promises."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from mailtrack.db.base import Base
from mailtrack.db.migrate import current_revision, head_revision, require_current, upgrade
from mailtrack.db.models import (
    AuditEvent,
    ConfirmationRequest,
    DigestRun,
    ItemKind,
    Meeting,
    Person,
)
from mailtrack.db.session import make_engine, make_sessionmaker
from mailtrack.errors import DatabaseError


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'data' / 'mailtrack.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_upgrade_builds_every_table_from_empty(engine: Engine) -> None:
    assert current_revision(engine) is None
    before, after = upgrade(engine)
    assert (before, after) == (None, head_revision())
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    require_current(engine)


def test_upgrade_twice_is_a_no_op(engine: Engine) -> None:
    upgrade(engine)
    assert upgrade(engine) == (head_revision(), head_revision())


def test_models_and_migrations_agree(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_service_refuses_an_unmigrated_database(engine: Engine) -> None:
    with pytest.raises(DatabaseError, match="mailtrack db upgrade"):
        require_current(engine)


def test_timestamps_come_back_as_aware_utc(engine: Engine) -> None:
    upgrade(engine)
    factory = make_sessionmaker(engine)
    madrid_noon = datetime(2026, 11, 26, 12, 0, tzinfo=timezone(timedelta(hours=1)))
    with factory.begin() as session:
        person = Person(email="ana@consultora.test", names=["Ana"])
        session.add(person)
        session.flush()
        session.add(
            Meeting(
                tracker="actas@tracker.test",
                thread_key="<m1@x>",
                subject="Acta",
                organizer_id=person.id,
                language="es",
                date=madrid_noon,
            )
        )
    with factory() as session:
        meeting = session.scalars(select(Meeting)).one()
        assert meeting.date == madrid_noon
        assert meeting.date.tzinfo is UTC
        assert meeting.created_at.tzinfo is UTC


def test_naive_timestamps_are_refused(engine: Engine) -> None:
    upgrade(engine)
    factory = make_sessionmaker(engine)
    with pytest.raises(Exception, match="naive datetime"), factory.begin() as session:
        session.add(AuditEvent(kind="x", at=datetime(2026, 1, 1)))


def test_one_request_per_person_per_meeting_revision(engine: Engine) -> None:
    upgrade(engine)
    factory = make_sessionmaker(engine)
    with factory.begin() as session:
        person = Person(email="juan@cliente.test", names=[])
        session.add(person)
        session.flush()
        meeting = Meeting(
            tracker="actas@tracker.test",
            thread_key="<m@x>",
            subject="s",
            organizer_id=person.id,
            language="es",
            date=datetime.now(UTC),
        )
        session.add(meeting)
        session.flush()
        ids = (meeting.id, person.id)
    request = {"meeting_id": ids[0], "revision": 1, "person_id": ids[1]}
    with factory.begin() as session:
        session.add(ConfirmationRequest(**request, token="t1", ref="MT-AAAA", message_id="<a@x>"))
    with pytest.raises(IntegrityError), factory.begin() as session:
        session.add(ConfirmationRequest(**request, token="t2", ref="MT-BBBB", message_id="<b@x>"))


def test_digest_runs_once_per_recipient_per_day(engine: Engine) -> None:
    upgrade(engine)
    factory = make_sessionmaker(engine)
    day = datetime(2026, 11, 27, tzinfo=UTC).date()
    with factory.begin() as session:
        session.add(DigestRun(recipient="ana@consultora.test", day=day))
    with pytest.raises(IntegrityError), factory.begin() as session:
        session.add(DigestRun(recipient="ana@consultora.test", day=day))


def test_audit_trail_is_append_only_even_in_raw_sql(engine: Engine) -> None:
    upgrade(engine)
    factory = make_sessionmaker(engine)
    with factory.begin() as session:
        session.add(AuditEvent(kind="minutes.received", detail={"n": 1}))
    with pytest.raises(DatabaseError), factory.begin() as session:
        event = session.scalars(select(AuditEvent)).one()
        event.kind = "rewritten"
    for statement in ("UPDATE audit_event SET kind = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with factory() as session:
        assert session.scalars(select(AuditEvent.kind)).all() == ["minutes.received"]


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    upgrade(engine)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO meeting (tracker, thread_key, subject, organizer_id, language, date,"
                " revision, created_at, updated_at) VALUES ('t', 'k', 's', 999, 'es',"
                " CURRENT_TIMESTAMP, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_unreachable_database_is_a_clear_error() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(DatabaseError, match="cannot reach the database"):
        current_revision(engine)
    engine.dispose()


def test_item_kind_values_match_the_contract() -> None:
    assert {kind.value for kind in ItemKind} == {"action", "decision"}
