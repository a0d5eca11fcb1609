"""Builds the running service from a configuration: the only place that knows every part.

The CLI calls these builders; tests build the same parts by hand with fakes
at the seams (a memory source, a frozen clock).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mailtrack.aliases import Aliases, load_aliases
from mailtrack.clock import Clock, SystemClock
from mailtrack.config import Config, SmtpConfig
from mailtrack.db.migrate import require_current
from mailtrack.db.models import Route
from mailtrack.db.session import make_engine, make_sessionmaker
from mailtrack.errors import ConfigError, ConfigProblem
from mailtrack.handlers import Handlers
from mailtrack.ingest.archive import RawArchive
from mailtrack.ingest.imap import ImapSettings, ImapSource
from mailtrack.ingest.maildir import MaildirSource
from mailtrack.ingest.source import MailSource
from mailtrack.ingest.store import Archiver
from mailtrack.outbound.mailers import Mailer, SmtpMailer
from mailtrack.outbound.sender import Sender
from mailtrack.processing import Processor
from mailtrack.worker import Service

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The parts a run needs, built once."""

    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    archive: RawArchive
    clock: Clock

    def dispose(self) -> None:
        self.engine.dispose()


def open_runtime(config: Config, clock: Clock | None = None) -> Runtime:
    """Connect to the database (which must be migrated) and open the archive."""
    engine = make_engine(config.database.url)
    try:
        require_current(engine)
    except Exception:
        engine.dispose()
        raise
    config.tracker.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return Runtime(
        config,
        engine,
        make_sessionmaker(engine),
        RawArchive(config.tracker.data_dir),
        clock or SystemClock(),
    )


def build_source(config: Config) -> MailSource:
    """The configured mail source; a ConfigError when there is none."""
    if config.imap is not None:
        imap = config.imap
        return ImapSource(
            ImapSettings(
                host=imap.host,
                port=imap.port,
                security=imap.security,
                username=imap.username,
                password=imap.password.reveal() if imap.password else None,
                oauth_token_command=imap.oauth_token_command,
                ca_file=imap.ca_file,
                folder=imap.folder,
                processed_folder=imap.processed_folder,
                idle=imap.idle,
                poll_interval=imap.poll_interval.total_seconds(),
                idle_refresh=imap.idle_refresh.total_seconds(),
                timeout=imap.connect_timeout.total_seconds(),
                batch_size=imap.batch_size,
            )
        )
    if config.maildir is not None:
        return MaildirSource(
            config.maildir.path, poll_interval=config.maildir.poll_interval.total_seconds()
        )
    raise ConfigError(
        str(config.path or "configuration"),
        [ConfigProblem("imap", "no mail source: configure [imap] or [maildir] to run the service")],
    )


def build_handlers(config: Config, aliases: Aliases | None = None) -> Handlers:
    """The handler of each route. Loads the extraction pipelines (once per process)."""
    from mailtrack.handlers.machine import handle_auto_reply, handle_bounce
    from mailtrack.handlers.minutes import handle_minutes, handle_revision
    from mailtrack.handlers.replies import handle_reply
    from mailtrack.nlp.extract import Extractor

    aliases = aliases if aliases is not None else load_aliases(config.tracker.aliases_file)
    extractor = Extractor(
        tracker=config.tracker.address,
        default_language=config.tracker.language,
        aliases=aliases.names,
    )
    return {
        Route.MINUTES: partial(handle_minutes, extractor=extractor),
        Route.REVISION: partial(handle_revision, extractor=extractor),
        Route.REPLY: partial(handle_reply, aliases=aliases.addresses),
        Route.AUTO_REPLY: handle_auto_reply,
        Route.BOUNCE: handle_bounce,
    }


def build_mailer(config: Config) -> Mailer:
    """The SMTP relay of ``[smtp]``; a ConfigError when there is none."""
    smtp = config.smtp
    if smtp is None:
        raise ConfigError(
            str(config.path or "configuration"),
            [ConfigProblem("smtp", "no [smtp] relay configured: mailtrack cannot send requests")],
        )
    return SmtpMailer(
        host=smtp.host,
        port=smtp.port,
        security=smtp.security,
        username=smtp.username,
        password=smtp.password.reveal() if smtp.password else None,
        ca_file=smtp.ca_file,
        timeout=smtp.timeout.total_seconds(),
    )


def build_sender(runtime: Runtime, mailer: Mailer) -> Sender:
    smtp = runtime.config.smtp
    return Sender(
        runtime.sessions,
        mailer,
        runtime.clock,
        max_attempts=smtp.max_attempts if smtp else 10,
        retry_after=smtp.retry_after if smtp else SmtpDefaults.retry_after,
    )


def housekeeping(runtime: Runtime, sender: Sender) -> Callable[[], None]:
    """The work after each cycle: due reminders, the day's digests, then the outbox."""
    from mailtrack.digest import due_now, send_digests
    from mailtrack.reminders import send_reminders

    def run() -> None:
        now = runtime.clock.now()
        reminded = send_reminders(runtime.sessions, runtime.config, now)
        if due_now(runtime.config, now):
            send_digests(runtime.sessions, runtime.config, now)
        flushed = sender.flush()
        if reminded or flushed.sent or flushed.failed:
            log.info(
                "reminders written %d; mail sent %d, retrying %d, failed %d",
                reminded, flushed.sent, flushed.retrying, flushed.failed,
            )  # fmt: skip

    return run


def build_service(
    runtime: Runtime,
    source: MailSource,
    handlers: Handlers | None = None,
    after_cycle: Callable[[], None] | None = None,
) -> Service:
    """The service loop over ``source``."""
    config = runtime.config
    archiver = Archiver(runtime.sessions, runtime.archive, source.name, runtime.clock)
    processor = Processor(
        runtime.sessions,
        runtime.archive,
        config,
        runtime.clock,
        handlers=handlers,
        max_attempts=config.processing.max_attempts,
    )
    folder = config.imap.folder if config.imap is not None else "INBOX"
    return Service(
        runtime.sessions, source, archiver, processor, folder=folder, after_cycle=after_cycle
    )


class SmtpDefaults:
    retry_after = SmtpConfig(host="-").retry_after
