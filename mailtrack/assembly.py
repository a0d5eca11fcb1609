"""Builds the running service from a configuration: the only place that knows every part.

The CLI calls these builders; tests build the same parts by hand with fakes
at the seams (a memory source, a frozen clock).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mailtrack.clock import Clock, SystemClock
from mailtrack.config import Config
from mailtrack.db.migrate import require_current
from mailtrack.db.session import make_engine, make_sessionmaker
from mailtrack.errors import ConfigError, ConfigProblem
from mailtrack.handlers import Handlers
from mailtrack.ingest.archive import RawArchive
from mailtrack.ingest.imap import ImapSettings, ImapSource
from mailtrack.ingest.maildir import MaildirSource
from mailtrack.ingest.source import MailSource
from mailtrack.ingest.store import Archiver
from mailtrack.processing import Processor
from mailtrack.worker import Service


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
