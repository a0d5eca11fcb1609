"""Configuration: a TOML file turned into typed, frozen objects, validated at start.

The file is read with :mod:`tomllib` and checked section by section; every
problem (unknown key, wrong type, bad duration, unknown time zone, unset
environment variable for a secret...) is collected with its key and line, and
all of them are raised together in one :class:`~mailtrack.errors.ConfigError`,
so a user fixes the file in one pass.

Secrets never live in the file: it names environment variables
(``password_env``) and the value is read from the environment at load time.
Relative paths (``data_dir``, a SQLite URL, ``ca_file``...) are relative to the
directory of the configuration file, so the service finds the same files
whatever its working directory.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailtrack.errors import ConfigError, ConfigProblem

DEFAULT_CONFIG_NAME = "mailtrack.toml"
CONFIG_ENV = "MAILTRACK_CONFIG"

Language = Literal["es", "en"]
Security = Literal["tls", "starttls", "none"]
LANGUAGES: tuple[Language, ...] = ("es", "en")
SECURITIES: tuple[Security, ...] = ("tls", "starttls", "none")
AUTH_METHODS = ("dmarc", "dkim", "spf")


class Secret:
    """A secret read from the environment; its repr never shows the value."""

    __slots__ = ("_value", "env")

    def __init__(self, env: str, value: str) -> None:
        self.env = env
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one call that needs it (a login)."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret(env={self.env!r}, value=<redacted>)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and (self.env, self._value) == (other.env, other._value)

    def __hash__(self) -> int:
        return hash((self.env, self._value))


@dataclass(frozen=True)
class TrackerConfig:
    """``[tracker]`` or one ``[[mailbox]]``: who the tracker is and whose minutes it accepts.

    With several mailboxes each has its own TrackerConfig (its address, name,
    organizers, time zone and language); ``data_dir`` and ``aliases_file`` are
    the deployment's and the same in all of them.
    """

    address: str
    name: str = "Actas"
    organizers: tuple[str, ...] = ()
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    language: Language = "es"
    data_dir: Path = Path("data")
    aliases_file: Path | None = None

    def may_organize(self, address: str) -> bool:
        """Whether ``address`` may submit minutes: listed itself, or its @domain is."""
        address = address.strip().lower()
        domain = "@" + address.rpartition("@")[2]
        return any(entry in (address, domain) for entry in self.organizers)


@dataclass(frozen=True)
class DatabaseConfig:
    """``[database]``: an SQLAlchemy URL (SQLite by default, PostgreSQL through psycopg 3)."""

    url: str


@dataclass(frozen=True)
class ImapConfig:
    """``[imap]``: the mailbox the tracker reads."""

    host: str
    username: str
    port: int = 993
    security: Security = "tls"
    ca_file: Path | None = None
    auth: str = "login"
    password: Secret | None = None
    oauth_token_command: str | None = None
    folder: str = "INBOX"
    processed_folder: str | None = None
    idle: bool = True
    poll_interval: timedelta = timedelta(seconds=60)
    idle_refresh: timedelta = timedelta(minutes=10)
    connect_timeout: timedelta = timedelta(seconds=30)
    batch_size: int = 100


@dataclass(frozen=True)
class MaildirConfig:
    """``[maildir]``: a local Maildir the tracker reads instead of IMAP."""

    path: Path
    poll_interval: timedelta = timedelta(seconds=2)


@dataclass(frozen=True)
class ProcessingConfig:
    """``[processing]``: how hard to try before a mail is parked for a human."""

    max_attempts: int = 5
    # How long one worker may take over one mail before another may try it.
    claim_ttl: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class MailboxConfig:
    """One tracker mailbox: the tracker it is, and the account its mail arrives in.

    The single-mailbox form (``[tracker]`` with ``[imap]`` or ``[maildir]``) is
    one of these; ``[[mailbox]]`` sections give several. ``label`` says where
    it was configured (``tracker`` or ``mailbox[2]``), for messages.
    """

    tracker: TrackerConfig
    imap: ImapConfig | None = None
    maildir: MaildirConfig | None = None
    label: str = "tracker"


@dataclass(frozen=True)
class WorkersConfig:
    """``[workers]``: how several ``mailtrack run`` processes share the mailboxes and the work."""

    # A mailbox whose reader stops renewing its lease is taken over after this.
    lease_ttl: timedelta = timedelta(seconds=60)
    # How often an idle worker looks in the database for work others left there.
    poll_interval: timedelta = timedelta(seconds=2)


@dataclass(frozen=True)
class HealthConfig:
    """``[health]``: what `mailtrack health` calls unhealthy."""

    # The outbox is stuck when its oldest waiting mail is older than this.
    outbox_max_age: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class SmtpConfig:
    """``[smtp]``: the relay outgoing mail is handed to."""

    host: str
    port: int = 587
    security: Security = "starttls"
    ca_file: Path | None = None
    username: str | None = None
    password: Secret | None = None
    timeout: timedelta = timedelta(seconds=30)
    max_attempts: int = 10
    retry_after: timedelta = timedelta(minutes=1)


@dataclass(frozen=True)
class ConfirmationsConfig:
    """``[confirmations]``: who must confirm what, receipts, reminders, bounce notices."""

    reminder_after: timedelta = timedelta(days=2)
    max_reminders: int = 2
    decisions_by: str = "participants"  # participants | none
    actions_by: str = "owners"  # owners | participants
    organizer_confirms: bool = False
    receipts: bool = True
    receipts_per_day: int = 5
    notify_bounces: str = "digest"  # digest | immediately
    # How long a request's token is answered; timedelta() = forever. A reply after it
    # is kept as evidence and shown to the organizer, but counts for nothing.
    reply_window: timedelta = timedelta(days=90)


@dataclass(frozen=True)
class SecurityConfig:
    """``[security]``: which Authentication-Results headers to believe, and what they veto.

    Only headers added by our own receiving server (its RFC 8601 authserv-id)
    mean anything: anyone can write the header into a mail they forge.
    """

    trusted_authserv_ids: tuple[str, ...] = ()  # empty: Authentication-Results not read
    refuse_on: tuple[str, ...] = ("dmarc", "dkim")  # methods whose "fail" vetoes a reply


@dataclass(frozen=True)
class DigestConfig:
    """``[digest]``: the daily mail to organizers."""

    time: time = time(8, 0)
    recipients: tuple[str, ...] = ("organizer",)


@dataclass(frozen=True)
class LoggingConfig:
    """``[logging]``: how much the service says, and how (text, or JSON lines)."""

    level: str = "INFO"
    format: str = "text"  # text | json


@dataclass(frozen=True)
class Config:
    """The whole configuration. Built once in the CLI and passed down; never global."""

    path: Path | None
    tracker: TrackerConfig
    database: DatabaseConfig
    imap: ImapConfig | None = None
    maildir: MaildirConfig | None = None
    smtp: SmtpConfig | None = None
    processing: ProcessingConfig = ProcessingConfig()
    confirmations: ConfirmationsConfig = ConfirmationsConfig()
    digest: DigestConfig = DigestConfig()
    logging: LoggingConfig = LoggingConfig()
    # Every tracker mailbox, in the order configured; never empty once loaded
    # (the single-mailbox form is one entry whose account may be missing).
    mailboxes: tuple[MailboxConfig, ...] = ()
    workers: WorkersConfig = WorkersConfig()
    health: HealthConfig = HealthConfig()
    security: SecurityConfig = SecurityConfig()

    @property
    def tracker_addresses(self) -> tuple[str, ...]:
        """The address of every configured mailbox."""
        return tuple(mailbox.tracker.address for mailbox in self.mailboxes) or (
            self.tracker.address,
        )

    def tracker_for(self, address: str) -> TrackerConfig:
        """The tracker a meeting belongs to, by its address.

        A meeting of a mailbox no longer configured keeps its address (replies
        to it still come back there) with the defaults of the first mailbox.
        """
        address = address.strip().lower()
        for mailbox in self.mailboxes:
            if mailbox.tracker.address == address:
                return mailbox.tracker
        if address == self.tracker.address or not address:
            return self.tracker
        return replace(self.tracker, address=address)


# --- reading -----------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_DURATION_UNITS = {
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_LONGEST = timedelta(days=36525)
_ADDRESS = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
_DOMAIN = re.compile(r"^@[^@\s<>\"]+\.[^@\s<>\"]+$")
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def parse_duration(text: str) -> timedelta:
    """Parse ``"90s"``, ``"2d"``, ``"1h30m"``, ``"500ms"`` into a timedelta.

    Raises ValueError for anything else (``"2x"``, ``"10"``, ``""``): a bare
    number is refused because its unit would be a guess.
    """
    compact = text.replace(" ", "").lower()
    if not compact:
        raise ValueError("empty duration")
    total = timedelta()
    position = 0
    for match in _DURATION_PART.finditer(compact):
        if match.start() != position:
            break
        try:
            total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        except OverflowError:
            raise ValueError(f"duration too long: {text!r}") from None
        position = match.end()
    if position != len(compact):
        raise ValueError(f"not a duration: {text!r} (use a number and a unit: ms, s, m, h, d, w)")
    # Every duration is added to a date at run time: past a century it could not be.
    if total > _LONGEST:
        raise ValueError(f"duration too long: {text!r} (at most 100 years)")
    return total


def key_lines(text: str) -> dict[str, int]:
    """Map ``section.key`` to the line where it is set, for error messages.

    A small line scanner rather than a TOML parser: tomllib reports no
    positions, and a line number is only a help, so a miss costs nothing.
    The N-th ``[[mailbox]]`` (an array of tables) is ``mailbox[N]``, counting
    from 1, and a ``[mailbox.imap]`` after it is ``mailbox[N].imap``.
    """
    lines: dict[str, int] = {}
    section = ""
    header = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"]+)\s*\]\]?")
    assignment = re.compile(r"^\s*([A-Za-z0-9_\-\"]+)\s*=")
    arrays: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if match := header.match(line):
            section = match.group(2).replace('"', "")
            if match.group(1) == "[[":
                arrays[section] = arrays.get(section, 0) + 1
                section = f"{section}[{arrays[section]}]"
            else:
                head, dot, rest = section.partition(".")
                if dot and head in arrays:
                    section = f"{head}[{arrays[head]}].{rest}"
            lines.setdefault(section, number)
        elif match := assignment.match(line):
            key = match.group(1).replace('"', "")
            lines.setdefault(f"{section}.{key}" if section else key, number)
    return lines


class _Reader:
    """Reads one table of the document, collecting problems instead of raising."""

    def __init__(
        self,
        loader: _Loader,
        section: str,
        table: Mapping[str, Any],
    ) -> None:
        self._loader = loader
        self.section = section
        self._table = table
        self._seen: set[str] = set()

    def problem(self, key: str, message: str) -> None:
        self._loader.problem(f"{self.section}.{key}", message)

    def has(self, key: str) -> bool:
        return key in self._table

    def _get(self, key: str, kind: type | tuple[type, ...], kind_name: str) -> Any:
        self._seen.add(key)
        if key not in self._table:
            return None
        value = self._table[key]
        # bool is an int subclass in Python; a port of `true` is a mistake.
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            self.problem(key, f"expected {kind_name}, got a boolean")
            return None
        if not isinstance(value, kind):
            self.problem(key, f"expected {kind_name}, got {type(value).__name__} {value!r}")
            return None
        return value

    def required(self, key: str) -> None:
        if key not in self._table:
            self.problem(key, "is required")

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        if required:
            self.required(key)
        value = self._get(key, str, "a string")
        if value is None:
            return default
        if not value.strip():
            self.problem(key, "must not be empty")
            return default
        return str(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, bool, "true or false")
        return default if value is None else bool(value)

    def integer(self, key: str, default: int, *, low: int, high: int) -> int:
        value = self._get(key, int, "an integer")
        if value is None:
            return default
        if not low <= value <= high:
            self.problem(key, f"must be between {low} and {high}, got {value}")
            return default
        return int(value)

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        value = self.string(key)
        if value is None:
            return default
        if value.lower() not in options:
            self.problem(key, f"must be one of {', '.join(options)}; got {value!r}")
            return default
        return value.lower()

    def duration(self, key: str, default: timedelta, *, positive: bool = True) -> timedelta:
        value = self.string(key)
        if value is None:
            return default
        try:
            parsed = parse_duration(value)
        except ValueError as error:
            self.problem(key, str(error))
            return default
        if positive and parsed <= timedelta():
            self.problem(key, "must be longer than zero")
            return default
        return parsed

    def string_list(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self._get(key, list, "a list of strings")
        if value is None:
            return default
        if not all(isinstance(item, str) for item in value):
            self.problem(key, "every entry must be a string")
            return default
        return tuple(str(item).strip() for item in value)

    def path(self, key: str, default: Path | None = None) -> Path | None:
        value = self.string(key)
        if value is None:
            return default
        return self._loader.resolve(Path(os.path.expanduser(value)))

    def existing_file(self, key: str) -> Path | None:
        path = self.path(key)
        if path is not None and not path.is_file():
            self.problem(key, f"no such file: {path}")
        return path

    def secret(self, key: str, *, required: bool) -> Secret | None:
        """Read the *name* of an environment variable and the secret it holds."""
        env = self.string(key, required=required)
        if env is None:
            return None
        value = self._loader.environ.get(env)
        if value is None:
            self.problem(key, f"environment variable {env} is not set")
            return None
        return Secret(env, value)

    def table(self, key: str) -> Mapping[str, Any] | None:
        """A sub-table (``[mailbox.imap]``), or None when absent or not a table."""
        value = self._get(key, dict, f"a table ([{self.section}.{key}])")
        return value if isinstance(value, dict) else None

    def finish(self) -> None:
        """Report keys this section does not know (likely typos)."""
        for key in self._table:
            if key not in self._seen:
                close = difflib.get_close_matches(key, sorted(self._seen), n=1)
                self.problem(
                    key, f"unknown key (did you mean {close[0]!r}?)" if close else "unknown key"
                )


class _Loader:
    def __init__(self, path: Path | None, environ: Mapping[str, str], lines: dict[str, int]):
        self.path = path
        self.base = path.parent if path is not None else Path.cwd()
        self.environ = environ
        self.lines = lines
        self.problems: list[ConfigProblem] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(ConfigProblem(key, message, self.lines.get(key)))

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else (self.base / path).resolve()

    def reader(self, document: Mapping[str, Any], section: str) -> _Reader | None:
        if section not in document:
            return None
        table = document[section]
        if not isinstance(table, dict):
            self.problem(section, "must be a table ([" + section + "])")
            return None
        return _Reader(self, section, table)

    def build(self, document: Mapping[str, Any]) -> Config | None:
        known = {
            "tracker", "database", "imap", "maildir", "smtp", "processing", "confirmations",
            "digest", "logging", "mailbox", "workers", "health", "security",
        }  # fmt: skip
        for key in document:
            if key not in known:
                self.problem(
                    key, "unknown section" if isinstance(document[key], dict) else "unknown key"
                )
        several = "mailbox" in document
        tracker = self._tracker(document, several)
        database = self._database(document, tracker)
        imap: ImapConfig | None = None
        maildir: MaildirConfig | None = None
        if several:
            for section in ("imap", "maildir"):
                if section in document:
                    self.problem(
                        section,
                        f"with [[mailbox]] sections each mailbox has its own [mailbox.{section}]:"
                        " move this one below the [[mailbox]] it belongs to",
                    )
            mailboxes = self._mailboxes(document, tracker)
        else:
            imap = self._imap(self.reader(document, "imap"))
            maildir = self._maildir(self.reader(document, "maildir"))
            if imap is not None and maildir is not None:
                self.problem(
                    "maildir", "use either [imap] or [maildir] as the mail source, not both"
                )
            mailboxes = (MailboxConfig(tracker, imap, maildir),) if tracker else ()
        smtp = self._smtp(document)
        processing = self._processing(document)
        confirmations = self._confirmations(document)
        digest = self._digest(document)
        logging_config = self._logging(document)
        workers = self._workers(document)
        health = self._health(document)
        security = self._security(document)
        if self.problems or tracker is None or not mailboxes:
            return None
        return Config(
            path=self.path,
            tracker=mailboxes[0].tracker,
            database=database,
            imap=imap,
            maildir=maildir,
            smtp=smtp,
            processing=processing,
            confirmations=confirmations,
            digest=digest,
            logging=logging_config,
            mailboxes=mailboxes,
            workers=workers,
            health=health,
            security=security,
        )

    def _tracker(self, document: Mapping[str, Any], several: bool) -> TrackerConfig | None:
        """``[tracker]``: the one tracker, or with ``[[mailbox]]`` what the mailboxes share."""
        reader = self.reader(document, "tracker")
        if reader is None:
            if "tracker" in document:
                return None
            if several:
                return TrackerConfig(address="", data_dir=self.resolve(Path("data")))
            self.problem("tracker", "section is required (at least tracker.address)")
            return None
        if several and reader.has("address"):
            reader.string("address")
            reader.problem(
                "address",
                "with [[mailbox]] sections each mailbox has its own address; [tracker] holds "
                "only what they share (name, organizers, timezone, language, data_dir, "
                "aliases_file)",
            )
        tracker = self._identity(reader, None, require_address=not several)
        data_dir = reader.path("data_dir", self.resolve(Path("data"))) or self.resolve(Path("data"))
        aliases_file = reader.existing_file("aliases_file")
        reader.finish()
        return replace(tracker, data_dir=data_dir, aliases_file=aliases_file)

    def _identity(
        self, reader: _Reader, defaults: TrackerConfig | None, *, require_address: bool
    ) -> TrackerConfig:
        """Address, name, organizers, time zone and language of one tracker.

        What a ``[[mailbox]]`` leaves out comes from ``defaults`` (``[tracker]``);
        organizers default to the tracker's own domain.
        """
        address = reader.string("address", required=True) if require_address else None
        if address is not None and not _ADDRESS.match(address):
            reader.problem("address", f"not an e-mail address: {address!r}")
        address = (address or "").strip().lower()
        name = reader.string("name", defaults.name if defaults else "Actas") or "Actas"
        organizers = reader.string_list("organizers", ())
        cleaned: list[str] = []
        for entry in (organizer.lower() for organizer in organizers):
            if not (_ADDRESS.match(entry) or _DOMAIN.match(entry)):
                reader.problem("organizers", f"{entry!r} is neither an address nor an @domain")
            cleaned.append(entry)
        if not reader.has("organizers"):
            if defaults is not None and defaults.organizers:
                cleaned.extend(defaults.organizers)
            elif address:
                # Default: colleagues on the tracker's own domain may submit minutes.
                cleaned.append("@" + address.rpartition("@")[2])
        zone = defaults.timezone if defaults else ZoneInfo("UTC")
        zone_name = reader.string("timezone")
        if zone_name is not None:
            try:
                zone = ZoneInfo(zone_name)
            except (ZoneInfoNotFoundError, ValueError):
                reader.problem(
                    "timezone",
                    f"unknown time zone {zone_name!r} (use an IANA name such as Europe/Madrid)",
                )
        language = reader.choice("language", LANGUAGES, defaults.language if defaults else "es")
        return TrackerConfig(
            address=address,
            name=name,
            organizers=tuple(cleaned),
            timezone=zone,
            language=language,  # type: ignore[arg-type]  # checked by choice()
            data_dir=defaults.data_dir if defaults else Path("data"),
            aliases_file=defaults.aliases_file if defaults else None,
        )

    def _mailboxes(
        self, document: Mapping[str, Any], defaults: TrackerConfig | None
    ) -> tuple[MailboxConfig, ...]:
        """Every ``[[mailbox]]``: its tracker, and the one account its mail arrives in."""
        entries = document["mailbox"]
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            self.problem(
                "mailbox", "write each tracker mailbox as a [[mailbox]] section (array of tables)"
            )
            return ()
        found: list[MailboxConfig] = []
        addresses: dict[str, str] = {}
        accounts: dict[str, str] = {}
        for number, table in enumerate(entries, start=1):
            label = f"mailbox[{number}]"
            reader = _Reader(self, label, table)
            for shared in ("data_dir", "aliases_file"):
                if reader.has(shared):
                    reader.string(shared)
                    reader.problem(shared, "is shared by every mailbox: set it in [tracker]")
            tracker = self._identity(reader, defaults, require_address=True)
            imap_table, maildir_table = reader.table("imap"), reader.table("maildir")
            reader.finish()
            imap = self._imap(_Reader(self, f"{label}.imap", imap_table) if imap_table else None)
            maildir = self._maildir(
                _Reader(self, f"{label}.maildir", maildir_table) if maildir_table else None
            )
            if imap_table is None and maildir_table is None:
                self.problem(
                    label,
                    "no mail account: add a [mailbox.imap] or [mailbox.maildir] table "
                    "below this [[mailbox]]",
                )
            elif imap_table is not None and maildir_table is not None:
                self.problem(f"{label}.maildir", "use either imap or maildir, not both")
            base = _base_address(tracker.address)
            if base and base in addresses:
                self.problem(
                    f"{label}.address",
                    f"{tracker.address} is the same mailbox as {addresses[base]}'s address "
                    "(plus addresses of one mailbox deliver to it)",
                )
            addresses.setdefault(base, label)
            account = _account_key(imap, maildir)
            if account and account in accounts:
                self.problem(
                    f"{label}.{'imap' if imap else 'maildir'}",
                    f"reads the same account as {accounts[account]} ({account}); "
                    "give each mailbox its own",
                )
            accounts.setdefault(account, label)
            found.append(MailboxConfig(tracker, imap, maildir, label))
        if not found:
            self.problem("mailbox", "at least one [[mailbox]] is needed")
        return tuple(found)

    def _database(
        self, document: Mapping[str, Any], tracker: TrackerConfig | None
    ) -> DatabaseConfig:
        data_dir = tracker.data_dir if tracker else self.resolve(Path("data"))
        default = f"sqlite:///{data_dir / 'mailtrack.db'}"
        reader = self.reader(document, "database")
        if reader is None:
            return DatabaseConfig(default)
        url = reader.string("url", default) or default
        if not url.startswith(("sqlite:", "postgresql")):
            reader.problem("url", "must be a sqlite:/// or postgresql+psycopg:// URL")
        elif url.startswith("postgresql") and not url.startswith("postgresql+psycopg:"):
            reader.problem(
                "url", "PostgreSQL URLs must use the psycopg 3 driver: postgresql+psycopg://..."
            )
        url = self._resolve_sqlite(url)
        reader.finish()
        return DatabaseConfig(url)

    def _resolve_sqlite(self, url: str) -> str:
        prefix = "sqlite:///"
        if not url.startswith(prefix) or url == "sqlite:///:memory:":
            return url
        path = Path(url[len(prefix) :])
        return prefix + str(self.resolve(path))

    def _imap(self, reader: _Reader | None) -> ImapConfig | None:
        if reader is None:
            return None
        host = reader.string("host", required=True) or ""
        username = reader.string("username", required=True) or ""
        security = reader.choice("security", SECURITIES, "tls")
        port = reader.integer("port", 993 if security == "tls" else 143, low=1, high=65535)
        ca_file = reader.existing_file("ca_file")
        auth = reader.choice("auth", ("login", "xoauth2"), "login")
        password = reader.secret("password_env", required=auth == "login")
        command = reader.string("oauth_token_command", required=auth == "xoauth2")
        idle_refresh = reader.duration("idle_refresh", timedelta(minutes=10))
        if idle_refresh >= timedelta(minutes=29):
            # RFC 2177: servers may drop an IDLE after 30 minutes of inactivity.
            reader.problem("idle_refresh", "must be shorter than 29m (servers end IDLE at 30m)")
        config = ImapConfig(
            host=host,
            username=username,
            port=port,
            security=security,  # type: ignore[arg-type]  # checked by choice()
            ca_file=ca_file,
            auth=auth,
            password=password,
            oauth_token_command=command,
            folder=reader.string("folder", "INBOX") or "INBOX",
            processed_folder=reader.string("processed_folder"),
            idle=reader.boolean("idle", True),
            poll_interval=reader.duration("poll_interval", timedelta(seconds=60)),
            idle_refresh=idle_refresh,
            connect_timeout=reader.duration("connect_timeout", timedelta(seconds=30)),
            batch_size=reader.integer("batch_size", 100, low=1, high=5000),
        )
        reader.finish()
        return config

    def _maildir(self, reader: _Reader | None) -> MaildirConfig | None:
        if reader is None:
            return None
        reader.required("path")
        path = reader.path("path")
        if path is not None and not (path / "new").is_dir():
            reader.problem("path", f"not a Maildir (no new/ folder): {path}")
        config = MaildirConfig(
            path=path or Path(),
            poll_interval=reader.duration("poll_interval", timedelta(seconds=2)),
        )
        reader.finish()
        return config

    def _processing(self, document: Mapping[str, Any]) -> ProcessingConfig:
        reader = self.reader(document, "processing")
        if reader is None:
            return ProcessingConfig()
        config = ProcessingConfig(
            max_attempts=reader.integer("max_attempts", 5, low=1, high=100),
            claim_ttl=reader.duration("claim_ttl", timedelta(minutes=5)),
        )
        reader.finish()
        return config

    def _workers(self, document: Mapping[str, Any]) -> WorkersConfig:
        reader = self.reader(document, "workers")
        if reader is None:
            return WorkersConfig()
        lease_ttl = reader.duration("lease_ttl", timedelta(seconds=60))
        poll_interval = reader.duration("poll_interval", timedelta(seconds=2))
        if lease_ttl < timedelta(seconds=3):
            reader.problem("lease_ttl", "must be at least 3s (it is renewed every third of it)")
        reader.finish()
        return WorkersConfig(lease_ttl=lease_ttl, poll_interval=poll_interval)

    def _health(self, document: Mapping[str, Any]) -> HealthConfig:
        reader = self.reader(document, "health")
        if reader is None:
            return HealthConfig()
        config = HealthConfig(
            outbox_max_age=reader.duration("outbox_max_age", timedelta(minutes=15))
        )
        reader.finish()
        return config

    def _smtp(self, document: Mapping[str, Any]) -> SmtpConfig | None:
        reader = self.reader(document, "smtp")
        if reader is None:
            return None
        host = reader.string("host", required=True) or ""
        security = reader.choice("security", SECURITIES, "starttls")
        port = reader.integer("port", 465 if security == "tls" else 587, low=1, high=65535)
        username = reader.string("username")
        password = reader.secret("password_env", required=username is not None)
        if password is not None and username is None:
            reader.problem("username", "is required when password_env is set")
        config = SmtpConfig(
            host=host,
            port=port,
            security=security,  # type: ignore[arg-type]  # checked by choice()
            ca_file=reader.existing_file("ca_file"),
            username=username,
            password=password,
            timeout=reader.duration("timeout", timedelta(seconds=30)),
            max_attempts=reader.integer("max_attempts", 10, low=1, high=100),
            retry_after=reader.duration("retry_after", timedelta(minutes=1)),
        )
        reader.finish()
        return config

    def _confirmations(self, document: Mapping[str, Any]) -> ConfirmationsConfig:
        reader = self.reader(document, "confirmations")
        if reader is None:
            return ConfirmationsConfig()
        config = ConfirmationsConfig(
            reminder_after=reader.duration("reminder_after", timedelta(days=2)),
            max_reminders=reader.integer("max_reminders", 2, low=0, high=20),
            decisions_by=reader.choice("decisions_by", ("participants", "none"), "participants"),
            actions_by=reader.choice("actions_by", ("owners", "participants"), "owners"),
            organizer_confirms=reader.boolean("organizer_confirms", False),
            receipts=reader.boolean("receipts", True),
            receipts_per_day=reader.integer("receipts_per_day", 5, low=0, high=100),
            notify_bounces=reader.choice("notify_bounces", ("digest", "immediately"), "digest"),
            reply_window=reader.duration("reply_window", timedelta(days=90), positive=False),
        )
        if config.reply_window < timedelta():
            reader.problem("reply_window", "must not be negative (0 means forever)")
        reader.finish()
        return config

    def _security(self, document: Mapping[str, Any]) -> SecurityConfig:
        reader = self.reader(document, "security")
        if reader is None:
            return SecurityConfig()
        trusted: tuple[str, ...] = ()
        if reader.has("trusted_authserv_id") and isinstance(
            document["security"].get("trusted_authserv_id"), str
        ):
            one = reader.string("trusted_authserv_id")
            trusted = (one,) if one else ()
        else:
            trusted = reader.string_list("trusted_authserv_id", ())
        refuse_on = reader.string_list("refuse_on", ("dmarc", "dkim"))
        for method in refuse_on:
            if method.lower() not in AUTH_METHODS:
                reader.problem(
                    "refuse_on", f"unknown method {method!r}; use {', '.join(AUTH_METHODS)}"
                )
        reader.finish()
        return SecurityConfig(
            trusted_authserv_ids=tuple(entry.strip().lower() for entry in trusted if entry.strip()),
            refuse_on=tuple(method.lower() for method in refuse_on),
        )

    def _digest(self, document: Mapping[str, Any]) -> DigestConfig:
        reader = self.reader(document, "digest")
        if reader is None:
            return DigestConfig()
        at = time(8, 0)
        text = reader.string("time")
        if text is not None:
            match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text.strip())
            if match is None:
                reader.problem("time", f"expected HH:MM (24-hour), got {text!r}")
            else:
                at = time(int(match.group(1)), int(match.group(2)))
        recipients = reader.string_list("recipients", ("organizer",))
        cleaned: list[str] = []
        for entry in (recipient.lower() for recipient in recipients):
            if entry != "organizer" and not _ADDRESS.match(entry):
                reader.problem("recipients", f'{entry!r} is neither "organizer" nor an address')
            cleaned.append(entry)
        reader.finish()
        return DigestConfig(time=at, recipients=tuple(cleaned))

    def _logging(self, document: Mapping[str, Any]) -> LoggingConfig:
        reader = self.reader(document, "logging")
        if reader is None:
            return LoggingConfig()
        level = reader.choice("level", tuple(level.lower() for level in _LEVELS), "info")
        log_format = reader.choice("format", ("text", "json"), "text")
        reader.finish()
        return LoggingConfig(level=level.upper(), format=log_format)


def _base_address(address: str) -> str:
    """``actas+x@d`` and ``actas@d`` are one mailbox: plus addresses deliver to the same place."""
    local, _, domain = address.partition("@")
    return f"{local.split('+')[0]}@{domain}" if domain else ""


def _account_key(imap: ImapConfig | None, maildir: MaildirConfig | None) -> str:
    """What makes two mailboxes the same account (and the same mail source name)."""
    if imap is not None:
        return f"{imap.username.lower()} on {imap.host.lower()}:{imap.port}"
    if maildir is not None:
        return str(maildir.path)
    return ""


def parse_config(
    text: str,
    *,
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Parse and validate configuration text.

    Raises ConfigError listing every problem found (TOML syntax errors stop the
    reading at the first, since nothing after it can be trusted).
    """
    label = str(path) if path is not None else "<config>"
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line_match = re.search(r"line (\d+)", str(error))
        line = int(line_match.group(1)) if line_match else None
        raise ConfigError(
            label, [ConfigProblem("(syntax)", f"not valid TOML: {error}", line)]
        ) from error
    loader = _Loader(path, os.environ if environ is None else environ, key_lines(text))
    config = loader.build(document)
    if config is None:
        raise ConfigError(label, loader.problems)
    return config


def find_config_path(explicit: str | None, environ: Mapping[str, str] | None = None) -> Path | None:
    """The file to read: ``--config``, else ``$MAILTRACK_CONFIG``, else ``./mailtrack.toml``.

    None when nothing was named and ``./mailtrack.toml`` does not exist.
    """
    environ = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV])
    default = Path(DEFAULT_CONFIG_NAME)
    return default if default.exists() else None


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate the configuration file at ``path``.

    Raises ConfigError when the file is missing, unreadable, or invalid.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise ConfigError(str(path), [ConfigProblem("(file)", "no such file")]) from error
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(str(path), [ConfigProblem("(file)", f"cannot read: {error}")]) from error
    return parse_config(text, path=path.resolve(), environ=environ)
