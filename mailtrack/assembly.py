"""Builds the running service from a configuration: the only place that knows every part.

The CLI calls these builders; tests build the same parts by hand with fakes
at the seams (a memory source, a frozen clock).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mailtrack.aliases import Aliases, load_aliases
from mailtrack.clock import Clock, SystemClock
from mailtrack.cluster.identity import worker_name
from mailtrack.cluster.leases import Leases
from mailtrack.cluster.node import Node, Reader
from mailtrack.config import Config, MailboxConfig, SmtpConfig, TrackerConfig
from mailtrack.db.migrate import require_current
from mailtrack.db.models import Route
from mailtrack.db.session import make_engine, make_sessionmaker
from mailtrack.errors import ConfigError, ConfigProblem
from mailtrack.handlers import HandlerContext, Handlers
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


def build_source(config: Config, mailbox: MailboxConfig | None = None) -> MailSource:
    """The mail source of ``mailbox`` (default: the first); a ConfigError when it has none."""
    mailbox = mailbox or (config.mailboxes[0] if config.mailboxes else None)
    imap = mailbox.imap if mailbox else config.imap
    maildir = mailbox.maildir if mailbox else config.maildir
    if imap is not None:
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
    if maildir is not None:
        return MaildirSource(maildir.path, poll_interval=maildir.poll_interval.total_seconds())
    raise ConfigError(
        str(config.path or "configuration"),
        [ConfigProblem("imap", "no mail source: configure [imap] or [maildir] to run the service")],
    )


def build_sources(config: Config) -> list[tuple[MailboxConfig, MailSource]]:
    """The source of every mailbox that has an account (none are opened here)."""
    return [
        (mailbox, build_source(config, mailbox))
        for mailbox in config.mailboxes
        if mailbox.imap is not None or mailbox.maildir is not None
    ]


def trackers_by_source(config: Config) -> dict[str, TrackerConfig]:
    """Each mail source's name (as archived rows record it) and the tracker it belongs to."""
    return {source.name: mailbox.tracker for mailbox, source in build_sources(config)}


def build_handlers(config: Config, aliases: Aliases | None = None) -> Handlers:
    """The handler of each route. Loads the extraction pipelines (once per process)."""
    from mailtrack.handlers.machine import handle_auto_reply, handle_bounce
    from mailtrack.handlers.minutes import handle_minutes, handle_revision
    from mailtrack.handlers.replies import handle_reply
    from mailtrack.nlp.extract import Extractor

    aliases = aliases if aliases is not None else load_aliases(config.tracker.aliases_file)
    # One extractor per tracker (the pipelines are loaded once and shared): each leaves
    # its own tracker address out of the participants.
    trackers = [mailbox.tracker for mailbox in config.mailboxes] or [config.tracker]
    extractors = {
        tracker.address: Extractor(
            tracker=tracker.address, default_language=tracker.language, aliases=aliases.names
        )
        for tracker in trackers
    }
    return {
        Route.MINUTES: partial(_with_extractor, handle_minutes, extractors),
        Route.REVISION: partial(_with_extractor, handle_revision, extractors),
        Route.REPLY: partial(handle_reply, aliases=aliases.addresses),
        Route.AUTO_REPLY: handle_auto_reply,
        Route.BOUNCE: handle_bounce,
    }


def _with_extractor(
    handler: Callable[..., None], extractors: Mapping[str, Any], context: HandlerContext
) -> None:
    """Call ``handler`` with the extractor of the tracker the mail came in through."""
    extractor = extractors.get(context.tracker.address) or next(iter(extractors.values()))
    handler(context, extractor=extractor)


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


def build_sender(runtime: Runtime, mailer: Mailer, holder: str | None = None) -> Sender:
    smtp = runtime.config.smtp
    timeout = smtp.timeout if smtp else SmtpDefaults.timeout
    return Sender(
        runtime.sessions,
        mailer,
        runtime.clock,
        max_attempts=smtp.max_attempts if smtp else 10,
        retry_after=smtp.retry_after if smtp else SmtpDefaults.retry_after,
        holder=holder or worker_name(),
        # One delivery at its slowest: every SMTP step may take up to the timeout
        # (connect, EHLO, STARTTLS, AUTH before the first mail; MAIL, RCPT, DATA and
        # the end of data for each). The claim is renewed before each mail.
        claim_ttl=8 * timeout + timedelta(seconds=10),
    )


class Housekeeping:
    """The work besides mail: due reminders, the day's digests, and the outbox.

    Called as a whole after each cycle of a :class:`~mailtrack.worker.Service`;
    a :class:`~mailtrack.cluster.node.Node` calls its parts at their own pace.
    """

    def __init__(self, runtime: Runtime, sender: Sender) -> None:
        self.runtime = runtime
        self.sender = sender

    def scheduled(self) -> None:
        from mailtrack.digest import due_now, send_digests
        from mailtrack.reminders import send_reminders

        now = self.runtime.clock.now()
        reminded = send_reminders(self.runtime.sessions, self.runtime.config, now)
        digests = []
        if due_now(self.runtime.config, now):
            digests = send_digests(self.runtime.sessions, self.runtime.config, now)
        if reminded or digests:
            log.info("reminders written %d; digests written %d", reminded, len(digests))

    def flush(self, budget: float | None = None) -> bool:
        """Deliver due mail, for at most about ``budget`` seconds; True if some may be left."""
        flushed = self.sender.flush(budget)
        if flushed.sent or flushed.failed:
            log.info(
                "mail sent %d, retrying %d, failed %d",
                flushed.sent, flushed.retrying, flushed.failed,
            )  # fmt: skip
        return flushed.more

    def hook(self, before_each: Callable[[], None]) -> None:
        self.sender.before_each = before_each

    def __call__(self) -> None:
        self.scheduled()
        self.flush()


def housekeeping(runtime: Runtime, sender: Sender) -> Housekeeping:
    """The work after each cycle: due reminders, the day's digests, then the outbox."""
    return Housekeeping(runtime, sender)


def build_service(
    runtime: Runtime,
    source: MailSource,
    handlers: Handlers | None = None,
    after_cycle: Callable[[], None] | None = None,
) -> Service:
    """The service loop over ``source``."""
    config = runtime.config
    archiver = Archiver(runtime.sessions, runtime.archive, source.name, runtime.clock)
    processor = build_processor(runtime, handlers)
    mailbox = config.mailboxes[0] if config.mailboxes else None
    imap = mailbox.imap if mailbox else config.imap
    folder = imap.folder if imap is not None else "INBOX"
    return Service(
        runtime.sessions, source, archiver, processor, folder=folder, after_cycle=after_cycle
    )


def build_processor(
    runtime: Runtime, handlers: Handlers | None, holder: str | None = None
) -> Processor:
    config = runtime.config
    return Processor(
        runtime.sessions,
        runtime.archive,
        config,
        runtime.clock,
        handlers=handlers,
        max_attempts=config.processing.max_attempts,
        holder=holder or worker_name(),
        claim_ttl=config.processing.claim_ttl,
        trackers=trackers_by_source(config),
    )


def build_node(
    runtime: Runtime,
    handlers: Handlers | None,
    chores: Housekeeping | None,
    sources: list[tuple[MailboxConfig, MailSource]] | None = None,
    holder: str | None = None,
) -> Node:
    """The run loop of this process over every configured mailbox (see mailtrack.cluster).

    ``holder`` names the worker (default: this process's name); tests running two
    workers in one process give each its own.
    """
    config = runtime.config
    holder = holder or worker_name()
    sources = build_sources(config) if sources is None else sources
    processor = build_processor(runtime, handlers, holder)
    processor.trackers.update({source.name: mailbox.tracker for mailbox, source in sources})
    readers = []
    for mailbox, source in sources:
        archiver = Archiver(runtime.sessions, runtime.archive, source.name, runtime.clock)
        folder = mailbox.imap.folder if mailbox.imap is not None else "INBOX"
        service = Service(runtime.sessions, source, archiver, processor, folder=folder)
        readers.append(Reader(mailbox, service))
    leases = Leases(runtime.sessions, runtime.clock, holder, config.workers.lease_ttl)
    return Node(
        sessions=runtime.sessions,
        clock=runtime.clock,
        readers=readers,
        processor=processor,
        leases=leases,
        housekeeping=chores,
        poll_interval=config.workers.poll_interval.total_seconds(),
    )


class SmtpDefaults:
    retry_after = SmtpConfig(host="-").retry_after
    timeout = SmtpConfig(host="-").timeout
