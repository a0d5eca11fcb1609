"""The command line: the composition root.

Each command parses its arguments, loads the configuration, builds the
objects it needs and calls the library; nothing else happens here. Errors a
user can fix (:class:`~mailtrack.errors.MailtrackError`) end as one clear line
on stderr and a non-zero exit; anything else is a bug, reported as such, with
the traceback under ``--debug``.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

from mailtrack import __version__
from mailtrack.config import Config, find_config_path, load_config
from mailtrack.errors import ConfigError, ConfigProblem, InputFileError, MailtrackError, describe

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INTERNAL = 70  # EX_SOFTWARE in sysexits.h
EXIT_INTERRUPTED = 130


@dataclass
class AppContext:
    """What every command gets: where the config is, and whether to show tracebacks."""

    config_option: str | None
    debug: bool
    _config: Config | None = None
    log_format: str | None = None

    def configure_logging(self, config: Config) -> None:
        """The configured level and format (the command line's --debug and --log-format win)."""
        from mailtrack import logs

        level = "DEBUG" if self.debug else config.logging.level
        logs.configure(level, self.log_format or config.logging.format)

    def config(self) -> Config:
        """The validated configuration; raises ConfigError when there is none or it is broken."""
        if self._config is None:
            path = find_config_path(self.config_option)
            if path is None:
                raise ConfigError(
                    "mailtrack.toml",
                    [
                        ConfigProblem(
                            "(file)",
                            "no configuration file: pass --config FILE, set MAILTRACK_CONFIG, "
                            "or create ./mailtrack.toml (see config.example.toml)",
                        )
                    ],
                )
            self._config = load_config(path)
        return self._config

    @contextmanager
    def engine(self) -> Iterator[Engine]:
        """An engine on the configured database, disposed of when the command ends."""
        from mailtrack.db.session import make_engine

        engine = make_engine(self.config().database.url)
        try:
            yield engine
        finally:
            engine.dispose()


def handle_errors(function: F) -> F:
    """Turn errors into the exit policy: one line and a status, or a traceback with --debug."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        app: AppContext = click.get_current_context().obj
        try:
            return function(*args, **kwargs)
        except ConfigError as error:
            if app.debug:
                raise
            first = error.problems[0] if error.problems else None
            more = len(error.problems) - 1
            hint = f" (and {more} more: run `mailtrack check-config`)" if more > 0 else ""
            _fail(f"{error.path}: {first}{hint}", error.exit_code)
        except MailtrackError as error:
            if app.debug:
                raise
            _fail(str(error), error.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", EXIT_INTERRUPTED)
        except BrokenPipeError:
            # The reader went away (`mailtrack status | head`): not an error of ours.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except DBAPIError as error:
            # The database is locked or unreachable: not a bug. One line, without the
            # statement SQLAlchemy would print.
            if app.debug:
                raise
            _fail(describe(error), 1)
        except Exception as error:
            if app.debug:
                raise
            _fail(
                f"internal error: {type(error).__name__}: {error} "
                "(this is a bug; run with --debug for the traceback)",
                EXIT_INTERNAL,
            )

    return wrapper  # type: ignore[return-value]


def _fail(message: str, code: int) -> None:
    click.echo(f"mailtrack: {message}", err=True)
    sys.exit(code)


def redact_url(url: str) -> str:
    """A database URL safe to print: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_option",
    metavar="FILE",
    help="Configuration file (default: $MAILTRACK_CONFIG, else ./mailtrack.toml).",
)
@click.option("--debug", is_flag=True, help="Log everything and show tracebacks.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    help="Log lines as text or as JSON objects (default: [logging] format, else text).",
)
@click.version_option(__version__, prog_name="mailtrack")
@click.pass_context
def main(
    context: click.Context, config_option: str | None, debug: bool, log_format: str | None
) -> None:
    """mailtrack: a written, confirmed record of what was agreed in meetings."""
    from mailtrack import logs

    logs.configure(logging.DEBUG if debug else logging.WARNING, log_format or "text")
    context.obj = AppContext(config_option=config_option, debug=debug, log_format=log_format)


@main.command("check-config")
@click.pass_obj
@handle_errors
def check_config(app: AppContext) -> None:
    """Validate the configuration file and report every problem at once."""
    try:
        config = app.config()
    except ConfigError as error:
        click.echo(error.render(), err=True)
        sys.exit(error.exit_code)
    click.echo(f"{config.path}: OK")
    for mailbox in config.mailboxes:
        tracker = mailbox.tracker
        if len(config.mailboxes) > 1:
            click.echo(f"  [{mailbox.label}]")
        source = "imap" if mailbox.imap else "maildir" if mailbox.maildir else "none configured"
        click.echo(f"  tracker   {tracker.name} <{tracker.address}>")
        click.echo(f"  organizers {', '.join(tracker.organizers) or '(nobody)'}")
        click.echo(f"  timezone  {tracker.timezone.key}, language {tracker.language}")
        click.echo(f"  sources   {source}")
    click.echo(f"  data_dir  {config.tracker.data_dir}")
    click.echo(f"  database  {redact_url(config.database.url)}")
    if config.smtp is not None:
        click.echo(f"  smtp      {config.smtp.host}:{config.smtp.port} ({config.smtp.security})")


@main.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@click.pass_obj
@handle_errors
def db_upgrade(app: AppContext) -> None:
    """Create or migrate the database schema to this version's."""
    from mailtrack.db.migrate import upgrade

    with app.engine() as engine:
        before, after = upgrade(engine)
    where = redact_url(app.config().database.url)
    if before == after:
        click.echo(f"database already at {after}: {where}")
    else:
        click.echo(f"database upgraded {before or '(empty)'} -> {after}: {where}")


@db_group.command("current")
@click.pass_obj
@handle_errors
def db_current(app: AppContext) -> None:
    """Show the schema revision of the database and the one this code needs."""
    from mailtrack.db.migrate import current_revision, head_revision

    with app.engine() as engine:
        current = current_revision(engine)
    click.echo(f"database {current or '(empty)'}, code {head_revision()}")


@main.command("run")
@click.option("--once", is_flag=True, help="Handle all mail there is now, then exit 0.")
@click.pass_obj
@handle_errors
def run_command(app: AppContext, once: bool) -> None:
    """Run the service: read mail (IDLE or poll), record and handle it."""
    from mailtrack.assembly import (
        build_handlers,
        build_mailer,
        build_node,
        build_sender,
        build_source,
        build_sources,
        housekeeping,
        open_runtime,
    )

    config = app.config()
    app.configure_logging(config)
    sources = build_sources(config)
    if not sources:
        build_source(config)  # raises the "no mail source" ConfigError
    mailer = build_mailer(config)
    handlers = build_handlers(config)
    runtime = open_runtime(config)
    stop = threading.Event()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def request_stop(signum: int, _frame: object) -> None:
        if stop.is_set():  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        logging.getLogger("mailtrack").warning(
            "%s received: finishing the mail in hand, then stopping", signal.Signals(signum).name
        )
        stop.set()

    for sig in previous:
        signal.signal(sig, request_stop)
    try:
        sender = build_sender(runtime, mailer)
        node = build_node(runtime, handlers, housekeeping(runtime, sender), sources)
        summary = node.run(stop, once=once)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        runtime.dispose()
    routes = ", ".join(f"{count} {name}" for name, count in sorted(summary.routes.items()))
    click.echo(
        f"archived {summary.archived} new mail(s) ({summary.duplicates} already known); "
        f"processed {summary.processed}{' (' + routes + ')' if routes else ''}; "
        f"failed {summary.failed}; parked {summary.parked}"
    )


@main.command("status")
@click.option(
    "--json", "as_json", is_flag=True, help="Machine-readable output (the documented contract)."
)
@click.option("--meeting", "meeting_id", type=int, metavar="ID", help="Only this meeting.")
@click.option("--person", metavar="EMAIL", help="Only what this person must confirm.")
@click.option("--pending", is_flag=True, help="Only confirmations still waiting for an answer.")
@click.option("--organizer", metavar="EMAIL", help="Only the meetings this person organized.")
@click.option("--mailbox", metavar="ADDRESS", help="Only meetings of this tracker mailbox.")
@click.pass_obj
@handle_errors
def status_command(
    app: AppContext,
    as_json: bool,
    meeting_id: int | None,
    person: str | None,
    pending: bool,
    organizer: str | None,
    mailbox: str | None,
) -> None:
    """What is confirmed, pending, rejected or unclear, by meeting, item and person."""
    from rich.console import Console

    from mailtrack.assembly import open_runtime
    from mailtrack.status import StatusFilter, render_status, status_report

    runtime = open_runtime(app.config())
    try:
        with runtime.sessions() as session:
            report = status_report(
                session, StatusFilter(meeting_id, person, pending, organizer, mailbox)
            )
    finally:
        runtime.dispose()
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        Console().print(render_status(report))


@main.command("unpark")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "everything", is_flag=True, help="Every parked mail.")
@click.pass_obj
@handle_errors
def unpark_command(app: AppContext, ids: tuple[int, ...], everything: bool) -> None:
    """Retry parked mail (shown by `mailtrack status`) after fixing what made it fail."""
    from mailtrack.assembly import open_runtime
    from mailtrack.processing import unpark

    if not ids and not everything:
        raise click.UsageError("name the mail to retry (IDs from `mailtrack status`) or use --all")
    runtime = open_runtime(app.config())
    try:
        done = unpark(runtime.sessions, None if everything else list(ids))
    finally:
        runtime.dispose()
    click.echo(f"{len(done)} mail(s) will be retried by the next `mailtrack run`: {done}")


def _extractor(app: AppContext, tracker: str | None, language: str | None) -> Any:
    """An Extractor: tracker and language from the options, else the config, else defaults."""
    from mailtrack.nlp.extract import Extractor

    config = None
    if find_config_path(app.config_option) is not None:
        config = app.config()
    return Extractor(
        tracker=tracker or (config.tracker.address if config else None),
        default_language=language or (config.tracker.language if config else "es"),
    )


def _today(app: AppContext) -> date:
    config = app.config() if find_config_path(app.config_option) is not None else None
    zone = config.tracker.timezone if config else None
    return datetime.now(zone).date()


@main.command("extract")
@click.argument("eml", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="The documented JSON contract.")
@click.option("--tracker", metavar="EMAIL", help="The tracker address (default: from the config).")
@click.option("--language", type=click.Choice(["es", "en"]), help="Default language when unclear.")
@click.pass_obj
@handle_errors
def extract_command(
    app: AppContext, eml: Path, as_json: bool, tracker: str | None, language: str | None
) -> None:
    """Show what would be extracted from one mail. Writes nothing."""
    from mailtrack.mail.parsed import ParsedMail

    try:
        raw = eml.read_bytes()
    except OSError as error:
        raise InputFileError(f"cannot read {eml}: {error.strerror or error}") from error
    extractor = _extractor(app, tracker, language)
    if extractor.tracker is None:
        click.echo(
            "mailtrack: warning: no tracker address (no config file, no --tracker): "
            "every recipient counts as a participant, so 'todos'/'everyone' includes the tracker",
            err=True,
        )
    extraction = extractor.extract(ParsedMail.from_bytes(raw), _today(app))
    if as_json:
        click.echo(json.dumps(extraction.as_contract(), ensure_ascii=False, indent=2))
        return
    from rich.console import Console

    from mailtrack.nlp.render import render_extraction

    Console().print(render_extraction(extraction))


@main.command("eval")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Figures and misses as JSON.")
@click.option("--tracker", metavar="EMAIL", default="actas@tracker.test", show_default=True)
@click.pass_obj
@handle_errors
def eval_command(app: AppContext, folder: Path, as_json: bool, tracker: str) -> None:
    """Measure extraction on FOLDER of NNN.eml + NNN.gold.json; list every miss."""
    from rich.progress import Progress

    from mailtrack.nlp.evaluation import evaluate, render

    extractor = _extractor(app, tracker, None)
    with Progress(transient=True, disable=as_json) as bar:
        task = bar.add_task("evaluating", total=None)
        report = evaluate(
            folder,
            extractor.extract,
            lambda done, total: bar.update(task, completed=done, total=total),
        )
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render(report))


@main.command("train")
@click.option(
    "--corpus",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("models/corpus"),
    show_default=True,
    help="Annotated corpus (train/ is used; heldout/ never).",
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("models/pipelines"),
    show_default=True,
)
@click.pass_obj
@handle_errors
def train_command(app: AppContext, corpus: Path, output: Path) -> None:
    """Rebuild the trained pipelines in models/pipelines from the annotated corpus."""
    from mailtrack.nlp.training import train

    configs = corpus.parent / "configs"
    summary = train(corpus, configs, output, progress=lambda line: click.echo(line, err=True))
    click.echo(json.dumps(summary, indent=2))


@main.command("demo")
@click.option(
    "--keep", type=click.Path(file_okay=False, path_type=Path), help="Keep the demo's files here."
)
@click.pass_obj
@handle_errors
def demo_command(app: AppContext, keep: Path | None) -> None:
    """Run the whole loop on the embedded default: no server, no network, under 30 seconds."""
    from rich.console import Console

    from mailtrack.demo.loop import run_demo

    console = Console(highlight=False)
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    run_demo(console.print, keep)


@main.command("digest")
@click.option(
    "--print", "print_only", is_flag=True, help="Show the digests; send nothing (default)."
)
@click.option("--send", is_flag=True, help="Send today's digests now (once per recipient per day).")
@click.option(
    "--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), help="The day (YYYY-MM-DD)."
)
@click.option("--recipient", metavar="EMAIL", help="With --print: only this recipient's digest.")
@click.pass_obj
@handle_errors
def digest_command(
    app: AppContext, print_only: bool, send: bool, day: datetime | None, recipient: str | None
) -> None:
    """What each organizer still has to chase: pending, rejected, unclear, bounced, overdue."""
    from mailtrack.assembly import build_mailer, build_sender, open_runtime
    from mailtrack.digest import build, local_day, recipients, render_text, send_digests

    if print_only and send:
        raise click.UsageError("choose --print or --send")
    if recipient and send:
        raise click.UsageError("--recipient goes with --print (--send sends every digest due)")
    config = app.config()
    runtime = open_runtime(config)
    try:
        now = runtime.clock.now()
        when = day.date() if day else local_day(now, config.tracker.timezone)
        if not send:
            with runtime.sessions() as session:
                found = False
                who = [recipient.strip().lower()] if recipient else recipients(session, config)
                for address in who:
                    digest = build(session, config, address, when, now)
                    if not digest.empty:
                        found = True
                        click.echo(f"To: {address}\n{render_text(digest, config)}")
                if not found:
                    click.echo("Nothing to report: no digest would be sent.")
            return
        sender = build_sender(runtime, build_mailer(config))
        sent = send_digests(runtime.sessions, config, now, when)
        flushed = sender.flush()
        click.echo(
            f"digests written: {len(sent)} {sent}; mail sent {flushed.sent}, failed {flushed.failed}"
        )
    finally:
        runtime.dispose()


@main.command("export")
@click.argument("meeting", type=int)
@click.option(
    "--format", "fmt", type=click.Choice(["md", "html", "pdf"]), default="md", show_default=True
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE."
)
@click.option(
    "--with-raw",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write the archived .eml files the record cites into DIR.",
)
@click.pass_obj
@handle_errors
def export_command(
    app: AppContext, meeting: int, fmt: str, output: Path | None, with_raw: Path | None
) -> None:
    """The written record of MEETING: items, and per person who confirmed what, when, with evidence."""
    from mailtrack.assembly import open_runtime
    from mailtrack.export import ExportError, build_record, copy_raw, render, render_pdf

    runtime = open_runtime(app.config())
    try:
        with runtime.sessions() as session:
            record = build_record(session, meeting, runtime.clock.now())
            copied = copy_raw(session, runtime.archive, record, with_raw) if with_raw else []
    finally:
        runtime.dispose()
    data = render_pdf(record) if fmt == "pdf" else render(record, fmt).encode()
    if output is None and fmt == "pdf":
        raise click.UsageError("a PDF needs -o FILE")
    if output is None:
        click.echo(data.decode(), nl=False)
    else:
        try:
            output.write_bytes(data)
        except OSError as error:
            raise ExportError(f"cannot write {output}: {error.strerror or error}") from error
        click.echo(f"wrote {output} ({len(data)} bytes)", err=True)
    if copied:
        click.echo(f"wrote {len(copied)} archived mail(s) to {with_raw}", err=True)


@main.group("archive")
def archive_group() -> None:
    """The raw mail archive."""


@archive_group.command("verify")
@click.pass_obj
@handle_errors
def archive_verify(app: AppContext) -> None:
    """Re-hash every archived mail; report any file that changed or is missing (exit 1 if any)."""
    from mailtrack.assembly import open_runtime
    from mailtrack.export import verify_archive

    runtime = open_runtime(app.config())
    try:
        with runtime.sessions() as session:
            result = verify_archive(session, runtime.archive)
    finally:
        runtime.dispose()
    for line in result.missing:
        click.echo(f"missing: {line}")
    for line in result.changed:
        click.echo(f"changed: {line}")
    click.echo(
        f"{result.checked} archived mail(s) checked: {len(result.missing)} missing, "
        f"{len(result.changed)} changed"
    )
    if not result.ok:
        sys.exit(1)


@main.command("health")
@click.option(
    "--outbox-max-age",
    metavar="DURATION",
    help="The outbox is stuck when its oldest waiting mail is older (default: [health]).",
)
@click.pass_obj
@handle_errors
def health_command(app: AppContext, outbox_max_age: str | None) -> None:
    """Check the database, archive, mailboxes, SMTP relay and outbox; exit 1 if any fails."""
    from mailtrack.config import parse_duration
    from mailtrack.health import check_all

    max_age = None
    if outbox_max_age is not None:
        try:
            max_age = parse_duration(outbox_max_age)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--outbox-max-age") from error
    failed = 0
    for check in check_all(app.config(), outbox_max_age=max_age):
        if check.ok is False:
            failed += 1
            click.echo(f"mailtrack: health: {check.part}: {check.detail}", err=True)
        else:
            click.echo(f"{'ok  ' if check.ok else 'info'}  {check.part}: {check.detail}")
    if failed:
        sys.exit(1)


def run() -> None:  # pragma: no cover - console entry used by `python -m mailtrack`
    main(prog_name="mailtrack")


if __name__ == "__main__":  # pragma: no cover
    run()
