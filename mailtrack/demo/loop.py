"""``mailtrack demo``: minutes in, requests out, replies of every kind, reminders, status, digest.

Everything runs on the embedded default in a temporary folder: a SQLite
database, a Maildir the tracker reads, and a Maildir "post office" that
receives what mailtrack sends. No server and no network. The people's
replies are written the way their mail clients would (quoting the request),
including an out-of-office reply, a bounce, a rejection, an unclear answer
and a confirmation sent from the wrong address. The clock is simulated, so
"two days later" takes no time.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from email.utils import format_datetime, make_msgid
from importlib import resources
from pathlib import Path
from typing import Any

from rich.markup import escape

from mailtrack.aliases import Aliases
from mailtrack.assembly import (
    Runtime,
    build_handlers,
    build_sender,
    build_service,
    housekeeping,
    open_runtime,
)
from mailtrack.clock import FrozenClock
from mailtrack.config import Config, parse_config
from mailtrack.db.migrate import upgrade
from mailtrack.db.session import make_engine
from mailtrack.digest import build as build_digest
from mailtrack.digest import compose_digest, recipients
from mailtrack.ingest.maildir import MaildirSource
from mailtrack.outbound.mailers import MaildirMailer

TRACKER = "actas@consultora.test"
START = datetime(2026, 11, 26, 16, 45, tzinfo=UTC)


def _config(root: Path) -> Config:
    text = f"""
[tracker]
address = "{TRACKER}"
name = "Actas"
organizers = ["@consultora.test"]
timezone = "Europe/Madrid"
language = "es"
data_dir = "{root / "data"}"
[maildir]
path = "{root / "tracker"}"
poll_interval = "1s"
[confirmations]
reminder_after = "2d"
max_reminders = 2
notify_bounces = "immediately"
"""
    return parse_config(text, path=root / "mailtrack.toml", environ={})


def _maildir(path: Path) -> Path:
    for sub in ("tmp", "new", "cur"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return path


def _deliver(box: Path, raw: bytes, to: str) -> None:
    name = f"{time.time_ns()}.demo"
    (box / "tmp" / name).write_bytes(f"Delivered-To: {to}\r\n".encode() + raw)
    (box / "tmp" / name).rename(box / "new" / name)


def _inbox(post: Path, address: str) -> list[Message]:
    box = post / address / "new"
    if not box.is_dir():
        return []
    return [message_from_bytes(path.read_bytes(), policy=default) for path in sorted(box.iterdir())]


def _body(message: Message) -> str:
    part = (
        message.get_body(preferencelist=("plain",)) if isinstance(message, EmailMessage) else None
    )
    return str(part.get_content()) if part is not None else ""


def _reply(
    request: Message,
    sender: str,
    text: str,
    at: datetime,
    *,
    quote: bool = True,
    subject_prefix: str = "Re: ",
    extra: dict[str, str] | None = None,
) -> bytes:
    """A reply as a mail client writes it: Re: subject, threading headers, the request quoted."""
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = request["Reply-To"]
    reply["Subject"] = subject_prefix + str(request["Subject"])
    reply["Date"] = format_datetime(at)
    reply["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].rstrip(">"))
    reply["In-Reply-To"] = request["Message-ID"]
    reply["References"] = request["Message-ID"]
    for name, value in (extra or {}).items():
        reply[name] = value
    quoted = ""
    if quote:
        when = format_datetime(at - timedelta(hours=1))
        quoted = f"\n\nEl {when}, Actas <{TRACKER}> escribió:\n" + "".join(
            f"> {line}\n" for line in _body(request).splitlines()
        )
    reply.set_content(text + quoted)
    return bytes(reply)


def _dsn(request: Message, at: datetime) -> bytes:
    """A delivery status notification (RFC 3464) for a request, as an MTA returns one."""
    failed = str(request["To"]).split("<")[-1].rstrip(">")
    return (
        f"Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.antiguo-proveedor.test>\r\n"
        f"To: {request['Return-Path'] or TRACKER}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {format_datetime(at)}\r\nMessage-ID: {make_msgid(domain='mx.antiguo-proveedor.test')}\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"\r\n\r\n'
        "--dsn\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n"
        "--dsn\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.antiguo-proveedor.test\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        "--dsn\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {request['Message-ID']}\r\nSubject: {request['Subject']}\r\n\r\n--dsn--\r\n"
    ).encode()


def run_demo(print_line: Callable[[Any], None], keep: Path | None = None) -> dict[str, Any]:
    """Run the whole loop and report each step through ``print_line``; returns the final status."""
    from mailtrack.status import render_status

    root = keep or Path(tempfile.mkdtemp(prefix="mailtrack-demo-"))
    started = time.monotonic()
    # The demo narrates each step itself; the service's warnings would say it twice.
    logging.getLogger("mailtrack").setLevel(logging.ERROR)
    try:
        config = _config_with_dirs(root)
        engine = make_engine(config.database.url)
        upgrade(engine)
        engine.dispose()
        clock = FrozenClock(START)
        runtime = open_runtime(config, clock)
        post = root / "post"
        sender = build_sender(runtime, MaildirMailer(post))
        service = build_service(
            runtime,
            MaildirSource(root / "tracker", poll_interval=0.01),
            build_handlers(config, Aliases()),
            housekeeping(runtime, sender),
        )

        def cycle() -> None:
            service.run(threading.Event(), once=True)

        tracker_box = root / "tracker"
        print_line("[bold]1. Ana sends two sets of minutes with the tracker in Cc[/bold]")
        for name in ("minutes_es.eml", "minutes_en.eml"):
            raw = resources.files("mailtrack.demo").joinpath(name).read_bytes()
            _deliver(tracker_box, raw, TRACKER)
        cycle()
        report = _status(runtime)
        for meeting in report["meetings"]:
            count = len(meeting["items"])
            print_line(escape(f"   meeting #{meeting['id']} «{meeting['subject']}»: {count} items"))
            for item in meeting["items"]:
                owners = ", ".join(item["owners"]) or "-"
                due = item["due"] or "-"
                line = f"     {item['number']}. [{item['kind']}] {item['text']} · {owners} · {due}"
                print_line(escape(line))
        print_line("[bold]2. Each person involved gets one request with only their items[/bold]")
        people = sorted(p.name for p in post.iterdir()) if post.exists() else []
        requests: dict[str, Message] = {}
        for person in people:
            for message in _inbox(post, person):
                if "[MT-" in str(message["Subject"]) and not str(message["Subject"]).startswith(
                    "Re:"
                ):
                    requests[person] = message
                    print_line(escape(f"   → {person}: {message['Subject']}"))
        print_line("[bold]3. Replies arrive, written as people write them[/bold]")
        clock.advance(timedelta(hours=2))
        now = clock.now()
        replies = {
            "juan.perez@cliente.test": ("Juan Pérez", "Confirmo, gracias.\n\nJuan"),
            "luis.ortega@cliente.test": (
                "Luis Ortega",
                "Confirmo el 1 y el 2.\nNO CONFIRMO 3: no llego antes del 15/12, necesito hasta el 19.",
            ),
            "sarah.miller@northwind.test": ("Sarah Miller", "I confirm items 1 and 2."),
            "tom.baker@northwind.test": (
                "Tom Baker",
                "Looks fine, but can we move the training to next week?",
            ),
        }
        for person, (name, text) in replies.items():
            request = requests.get(person)
            if request is not None:
                _deliver(tracker_box, _reply(request, f"{name} <{person}>", text, now), TRACKER)
                print_line(escape(f"   ← {person}: {text.splitlines()[0]}"))
        marta = requests.get("marta.ruiz@cliente.test")
        if marta is not None:
            away = _reply(
                marta,
                "Marta Ruiz <marta.ruiz@cliente.test>",
                "Estaré fuera de la oficina hasta el 9 de diciembre, con acceso limitado al correo.",
                now,
                quote=False,
                subject_prefix="Respuesta automática: ",
                extra={"Auto-Submitted": "auto-replied"},
            )
            _deliver(tracker_box, away, TRACKER)
            print_line(
                "   ← marta.ruiz@cliente.test (out-of-office): fuera hasta el 9 de diciembre"
            )
        pedro = requests.get("pedro.sanz@antiguo-proveedor.test")
        if pedro is not None:
            _deliver(tracker_box, _dsn(pedro, now), str(pedro["Return-Path"] or TRACKER))
            print_line(
                "   ← MAILER-DAEMON: the request to pedro.sanz@antiguo-proveedor.test bounced"
            )
        tom = requests.get("tom.baker@northwind.test")
        if tom is not None:
            spoof = _reply(tom, "Tom Baker <tom.baker@personal.test>", "Confirmed.", now)
            _deliver(tracker_box, spoof, TRACKER)
            print_line("   ← tom.baker@personal.test (not the address asked): Confirmed.")
        cycle()
        print_line(
            "[bold]4. Two days later: reminders only to who has not answered (not to Marta, away)[/bold]"
        )
        clock.advance(timedelta(days=2, hours=1))
        cycle()
        for person in people:
            for message in _inbox(post, person):
                if "Recordatorio" in str(message["Subject"]) or "Reminder" in str(
                    message["Subject"]
                ):
                    print_line(escape(f"   → {person}: {message['Subject']}"))
        print_line("[bold]5. Status[/bold]")
        report = _status(runtime)
        print_line(render_status(report))
        print_line("[bold]6. Tomorrow morning's digest for the organizer[/bold]")
        with runtime.sessions() as session:
            for recipient in recipients(session, config):
                digest = build_digest(session, config, recipient, clock.now().date(), clock.now())
                if not digest.empty:
                    composed = compose_digest(digest, config, clock.now())
                    message = message_from_bytes(composed.raw, policy=default)
                    print_line(escape(f"   To: {recipient} — {composed.subject}"))
                    print_line(escape(_body(message)))
        runtime.dispose()
        print_line(
            f"[dim]Demo finished in {time.monotonic() - started:.1f} s; files in {root}[/dim]"
        )
        return report
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)


def _config_with_dirs(root: Path) -> Config:
    _maildir(root / "tracker")
    return _config(root)


def _status(runtime: Runtime) -> dict[str, Any]:
    from mailtrack.status import status_report

    with runtime.sessions() as session:
        return status_report(session)
