"""mailtrack instances on the real stack with a clock tests move, and the robots around them.

A :class:`Tracker` is one mailtrack (its own address, database and IMAP
account) run in-process exactly as ``mailtrack run --once`` runs: mail read
from Dovecot over IMAP, sent through Postfix. Its clock is a FrozenClock so a
test can let days pass for reminders and digests without sleeping.

The robots are mail systems that answer by themselves: each reads its own
Maildir in Dovecot (from disk) and sends what it answers through Postfix, as
a real one would. They answer *every* mail they get, including mail marked
``Auto-Submitted`` that RFC 3834 says they must leave alone: what is tested
is that mailtrack, not the robot, breaks the loop.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from email.utils import format_datetime, make_msgid
from pathlib import Path

from stack.mailstack import MailStack

from mailtrack.assembly import (
    Runtime,
    build_mailer,
    build_sender,
    build_service,
    build_source,
    housekeeping,
)
from mailtrack.clock import FrozenClock
from support.loop import handlers
from support.runtime import make_runtime
from support.service import Mailboxes, imap_section, smtp_section, wait_for


def settle(stack: MailStack) -> None:
    """Wait until Postfix has handed everything it holds to Dovecot."""
    wait_for(lambda: stack.postfix_queue_size() == 0, what="Postfix queue empty")


def send_smtp(stack: MailStack, raw: bytes, envelope_from: str, recipients: list[str]) -> None:
    """Submit a mail to the stack's Postfix, as any mail system would (STARTTLS, no login)."""
    context = ssl.create_default_context(cafile=str(stack.ca_file))
    with smtplib.SMTP(stack.host, stack.smtp_port, timeout=30) as smtp:
        smtp.starttls(context=context)
        smtp.sendmail(envelope_from, recipients, raw)


class Tracker:
    """One mailtrack on the stack: its own address, SQLite database and IMAP account."""

    def __init__(
        self, stack: MailStack, folder: Path, address: str, clock: FrozenClock, extra: str = ""
    ) -> None:
        stack.add_user(address)
        folder.mkdir(parents=True, exist_ok=True)
        self.address = address
        self.runtime: Runtime = make_runtime(
            folder,
            imap_section(stack, address) + smtp_section(stack) + extra,
            password=stack.password,
            address=address,
        )
        self.runtime.clock = clock

    def run_once(self) -> None:
        """What ``mailtrack run --once`` does: read all mail, handle it, send what is due."""
        config = self.runtime.config
        sender = build_sender(self.runtime, build_mailer(config))
        service = build_service(
            self.runtime, build_source(config), handlers(config), housekeeping(self.runtime, sender)
        )
        service.run(threading.Event(), once=True)


def parse(raw: bytes) -> Message:
    return message_from_bytes(raw, policy=default)


def answer_address(mail: Message) -> str:
    """Where a naive responder answers: Reply-To if any, else From."""
    for name in ("Reply-To", "From"):
        header = mail[name]
        if header is not None and header.addresses:
            return str(header.addresses[0].addr_spec)
    return ""


@dataclass
class Robot:
    """A mail system at ``address`` that answers every mail it receives.

    ``respond`` turns one received mail into (raw mail, envelope sender,
    recipients) to send, or None. ``received`` keeps every mail it got.
    """

    address: str
    respond: Callable[[Robot, Message], tuple[bytes, str, list[str]] | None]
    received: list[Message] = field(default_factory=list)
    answered: int = 0

    def step(self, stack: MailStack, boxes: Mailboxes) -> int:
        sent = 0
        for raw in boxes.new_messages(self.address):
            mail = parse(raw)
            self.received.append(mail)
            out = self.respond(self, mail)
            if out is not None:
                send_smtp(stack, *out)
                sent += 1
        self.answered += sent
        return sent


def _reply_base(robot: Robot, mail: Message, subject: str, body: str) -> EmailMessage:
    reply = EmailMessage()
    reply["From"] = f"Robot <{robot.address}>"
    reply["To"] = answer_address(mail)
    reply["Subject"] = subject
    reply["Date"] = format_datetime(datetime.now().astimezone())
    reply["Message-ID"] = make_msgid(domain=robot.address.partition("@")[2])
    if mail["Message-ID"]:
        reply["In-Reply-To"] = str(mail["Message-ID"])
        reply["References"] = str(mail["Message-ID"])
    reply.set_content(body)
    return reply


def rfc3834_responder(robot: Robot, mail: Message) -> tuple[bytes, str, list[str]] | None:
    """A vacation responder that labels its answers as RFC 3834 says (and sends from <>)."""
    reply = _reply_base(
        robot,
        mail,
        f"Respuesta automática: {mail['Subject']}",
        "Estoy fuera de la oficina, sin acceso al correo. Responderé a mi vuelta.\n",
    )
    reply["Auto-Submitted"] = "auto-replied"
    reply["Precedence"] = "auto_reply"
    reply["X-Autoreply"] = "yes"
    return bytes(reply), "", [answer_address(mail)]


def naive_responder(robot: Robot, mail: Message) -> tuple[bytes, str, list[str]] | None:
    """A home-made out-of-office script: no header says it is automatic, it answers everything."""
    reply = _reply_base(
        robot,
        mail,
        f"Out of office: {mail['Subject']}",
        "Thanks for your mail. I am out of the office and will read it when I am back.\n",
    )
    return bytes(reply), robot.address, [answer_address(mail)]


def ticket_responder(robot: Robot, mail: Message) -> tuple[bytes, str, list[str]] | None:
    """A helpdesk acknowledgement: "Re:" subject, no out-of-office words, no headers at all."""
    reply = _reply_base(
        robot,
        mail,
        f"Re: {mail['Subject']}",
        "Thank you for contacting us. Your message has been received and a member of our "
        "team will get back to you shortly.\n\nSupport team\n",
    )
    return bytes(reply), robot.address, [answer_address(mail)]


def echoing_list(
    members: list[str], *, list_headers: bool, keep_message_id: bool = True
) -> Callable[[Robot, Message], tuple[bytes, str, list[str]] | None]:
    """A mailing list that sends every mail it gets to all its members (the tracker among them).

    With ``list_headers`` it behaves like Mailman: From kept, ``List-Id``,
    ``Precedence: list``, envelope sender ``LIST-bounces@``. Without, like a
    bare alias expander that rewrites From to itself (DMARC mitigation) and
    drops every header it does not know, ours included; ``keep_message_id``
    False also gives the copy a Message-ID of its own.
    """

    def respond(robot: Robot, mail: Message) -> tuple[bytes, str, list[str]] | None:
        local, _, domain = robot.address.partition("@")
        if list_headers:  # the whole mail as it came, plus the list's headers
            mailman = parse(mail.as_bytes())
            mailman["List-Id"] = f"Equipo <{local}.{domain}>"
            mailman["Precedence"] = "list"
            mailman["List-Unsubscribe"] = f"<mailto:{local}-leave@{domain}>"
            mailman["Sender"] = f"{local}-bounces@{domain}"
            subject = str(mailman["Subject"])
            del mailman["Subject"]
            mailman["Subject"] = f"[Equipo] {subject}"
            return mailman.as_bytes(), f"{local}-bounces@{domain}", list(members)
        copy = EmailMessage()
        name = mail["From"].addresses[0].display_name if mail["From"] else ""
        copy["From"] = f'"{name} via Equipo" <{robot.address}>'
        copy["Reply-To"] = str(mail["From"])
        copy["To"] = robot.address
        copy["Subject"] = f"[Equipo] {mail['Subject']}"
        copy["Date"] = str(mail["Date"])
        copy["Message-ID"] = (
            str(mail["Message-ID"]) if keep_message_id else make_msgid(domain=domain)
        )
        for name in ("In-Reply-To", "References"):
            if mail[name]:
                copy[name] = str(mail[name])
        body = mail.get_body(preferencelist=("plain",))
        copy.set_content(str(body.get_content()) if body is not None else "")
        return bytes(copy), robot.address, list(members)

    return respond


def outbox_counts(tracker: Tracker) -> dict[str, dict[str, int]]:
    """Recipient -> kind of mail -> how many the tracker's outbox holds (sent or not)."""
    from sqlalchemy import select

    from mailtrack.db.models import OutboxMessage

    counts: dict[str, dict[str, int]] = {}
    with tracker.runtime.sessions() as session:
        for kind, recipients in session.execute(
            select(OutboxMessage.kind, OutboxMessage.recipients)
        ):
            for recipient in recipients:
                per = counts.setdefault(recipient.lower(), {})
                per[kind.value] = per.get(kind.value, 0) + 1
    return counts


def from_tracker(mail: Message, tracker: str) -> bool:
    header = mail["From"]
    return bool(header and header.addresses and header.addresses[0].addr_spec.lower() == tracker)
