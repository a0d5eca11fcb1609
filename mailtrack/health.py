"""`mailtrack health`: can this deployment do its work right now? One line per part.

Checked, each on its own so one failure does not hide another: the database
(reachable, schema current), the raw archive (writable here, and the newest
archived mail readable: workers on several machines must share data_dir), each
mailbox's account (login and folder), the SMTP relay (connect, TLS, login),
and the outbox (stuck when its oldest waiting mail is older than
``[health] outbox_max_age``). Which worker reads each mailbox is reported
too, as information: a deployment may run ``run --once`` from a timer.

Meant for monitoring, a container HEALTHCHECK or a systemd timer: exit 0
when every part is healthy, 1 otherwise.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from mailtrack.clock import Clock, SystemClock
from mailtrack.config import Config
from mailtrack.db.migrate import require_current
from mailtrack.db.models import InboundMessage, MailboxLease, OutboxMessage, OutboxStatus
from mailtrack.db.session import make_engine, make_sessionmaker
from mailtrack.errors import MailtrackError
from mailtrack.ingest.archive import RawArchive


@dataclass(frozen=True)
class Check:
    """The verdict on one part: ``ok`` False is a failure, None is information only."""

    part: str
    ok: bool | None
    detail: str


def check_all(
    config: Config, clock: Clock | None = None, outbox_max_age: timedelta | None = None
) -> list[Check]:
    """Every check, in order: database, archive, mailboxes, relay, outbox, readers."""
    clock = clock or SystemClock()
    max_age = outbox_max_age or config.health.outbox_max_age
    checks: list[Check] = []
    engine = make_engine(config.database.url, connect_args=_connect_timeout(config))
    try:
        database = _database(engine, config)
        checks.append(database)
        if database.ok:
            with make_sessionmaker(engine)() as session:
                checks.append(_archive(session, config))
                checks.extend(_mailboxes(config))
                checks.append(_smtp(config))
                checks.append(_outbox(session, clock.now(), max_age))
                checks.extend(_readers(session, config, clock.now()))
        else:
            checks.append(_archive(None, config))
            checks.extend(_mailboxes(config))
            checks.append(_smtp(config))
    finally:
        engine.dispose()
    return checks


def _connect_timeout(config: Config) -> dict[str, object]:
    # A database that does not answer must not hang the health check.
    return {"connect_timeout": 10} if config.database.url.startswith("postgresql") else {}


def _database(engine: Engine, config: Config) -> Check:
    where = make_url(config.database.url).render_as_string(hide_password=True)
    try:
        require_current(engine)
    except MailtrackError as error:
        return Check("database", False, f"{where}: {error}")
    return Check("database", True, f"{where}: reachable, schema current")


def _archive(session: Session | None, config: Config) -> Check:
    data_dir = config.tracker.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".health-", delete=True):
            pass
    except OSError as error:
        return Check("archive", False, f"{data_dir} is not writable: {error}")
    if session is None:
        return Check("archive", True, f"{data_dir} writable")
    newest = session.scalar(
        select(InboundMessage.raw_path).order_by(InboundMessage.id.desc()).limit(1)
    )
    if newest is not None:
        try:
            RawArchive(data_dir).load(newest)
        except MailtrackError:
            return Check(
                "archive",
                False,
                f"the newest archived mail ({newest}) is not in {data_dir}: every worker "
                "must see the same data_dir (a shared file system across machines)",
            )
    return Check("archive", True, f"{data_dir} writable, newest archived mail readable")


def _mailboxes(config: Config) -> list[Check]:
    from mailtrack.assembly import build_sources

    checks = []
    for mailbox, source in build_sources(config):
        part = f"mailbox {mailbox.tracker.address or mailbox.label}"
        checks.append(_probe(part, source.open, source.close, source.name))
    return checks


def _probe(part: str, open_: Callable[[], None], close: Callable[[], None], where: str) -> Check:
    try:
        open_()
    except MailtrackError as error:
        return Check(part, False, str(error))
    except OSError as error:  # pragma: no cover - sources wrap these; kept as a last guard
        return Check(part, False, f"{where}: {error}")
    close()
    return Check(part, True, f"{where}: login and folder OK")


def _smtp(config: Config) -> Check:
    from mailtrack.assembly import build_mailer
    from mailtrack.outbound.mailers import SmtpMailer

    if config.smtp is None:
        return Check("smtp", False, "no [smtp] relay configured: nothing can be sent")
    mailer = build_mailer(config)
    assert isinstance(mailer, SmtpMailer)
    where = f"{config.smtp.host}:{config.smtp.port}"
    try:
        greeting = mailer.check()
    except MailtrackError as error:
        return Check(f"smtp {where}", False, str(error))
    return Check(f"smtp {where}", True, f"connected, {config.smtp.security}: {greeting}")


def _outbox(session: Session, now: datetime, max_age: timedelta) -> Check:
    try:
        waiting, oldest = session.execute(
            select(func.count(), func.min(OutboxMessage.created_at)).where(
                OutboxMessage.status == OutboxStatus.PENDING
            )
        ).one()
    except SQLAlchemyError as error:  # pragma: no cover - the database check ran just before
        return Check("outbox", False, f"cannot read the outbox: {error}")
    if not waiting or oldest is None:
        return Check("outbox", True, "nothing waiting to be sent")
    age = now - _aware(oldest)
    if age <= max_age:
        return Check("outbox", True, f"{waiting} mail(s) waiting, the oldest for {_span(age)}")
    last_error = session.scalar(
        select(OutboxMessage.last_error)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
        .order_by(OutboxMessage.created_at)
        .limit(1)
    )
    because = (
        f"; last error: {last_error[:200]}" if last_error else "; no worker seems to be sending"
    )
    return Check(
        "outbox",
        False,
        f"stuck: {waiting} mail(s) waiting, the oldest for {_span(age)} "
        f"(more than {_span(max_age)}){because}",
    )


def _readers(session: Session, config: Config, now: datetime) -> list[Check]:
    from mailtrack.assembly import build_sources

    leases = {row.mailbox: row for row in session.scalars(select(MailboxLease))}
    checks = []
    for mailbox, source in build_sources(config):
        part = f"reader {mailbox.tracker.address or mailbox.label}"
        lease = leases.get(source.name)
        if lease is None:
            detail = "never read by a worker yet"
        elif _aware(lease.expires_at) > now:
            detail = f"read by worker {lease.holder}"
        else:
            detail = f"no worker reads it now (last: {lease.holder}, lease lapsed "
            detail += f"{_span(now - _aware(lease.expires_at))} ago)"
        checks.append(Check(part, None, detail))
    return checks


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
