"""The whole loop through the real Postfix and Dovecot: minutes in by SMTP, requests read over IMAP,
replies written as mail clients write them, status checked."""

from __future__ import annotations

import secrets
import smtplib
import ssl
import threading
import time
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from imapclient import IMAPClient
from stack.mailstack import MailStack
from support.loop import handlers
from support.runtime import make_runtime
from support.service import wait_for

from mailtrack.assembly import (
    Runtime,
    build_mailer,
    build_sender,
    build_service,
    build_source,
    housekeeping,
)
from mailtrack.clock import SystemClock
from mailtrack.status import status_report

pytestmark = pytest.mark.integration


class World:
    """A tracker mailbox, three people with mailboxes, and mailtrack configured against the stack."""

    def __init__(self, stack: MailStack, tmp_path: Path) -> None:
        tag = secrets.token_hex(3)
        self.stack = stack
        self.tracker = f"actas-{tag}@tracker.test"
        self.ana = f"ana-{tag}@consultora.test"
        self.juan = f"juan-{tag}@cliente.test"
        self.luis = f"luis-{tag}@cliente.test"
        for user in (self.tracker, self.ana, self.juan, self.luis):
            stack.add_user(user)
        extra = f"""
[imap]
host = "{stack.host}"
port = {stack.imap_port}
security = "starttls"
ca_file = "{stack.ca_file}"
username = "{self.tracker}"
password_env = "PW"
[smtp]
host = "{stack.host}"
port = {stack.smtp_port}
security = "starttls"
ca_file = "{stack.ca_file}"
"""
        self.runtime: Runtime = make_runtime(
            tmp_path, extra, password=stack.password, address=self.tracker
        )
        self.runtime.clock = SystemClock()

    def send(self, message: bytes, sender: str, recipients: list[str]) -> None:
        context = ssl.create_default_context(cafile=str(self.stack.ca_file))
        with smtplib.SMTP(self.stack.host, self.stack.smtp_port, timeout=10) as smtp:
            smtp.starttls(context=context)
            smtp.sendmail(sender, recipients, message)

    def run_once(self) -> None:
        config = self.runtime.config
        sender = build_sender(self.runtime, build_mailer(config))
        service = build_service(
            self.runtime, build_source(config), handlers(config), housekeeping(self.runtime, sender)
        )
        service.run(threading.Event(), once=True)

    def inbox(self, user: str) -> list[Message]:
        with IMAPClient(self.stack.host, port=self.stack.imap_port, ssl=False) as client:
            client.login(user, self.stack.password)
            client.select_folder("INBOX", readonly=True)
            uids = client.search(["ALL"])
            fetched = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
            return [message_from_bytes(fetched[uid][b"BODY[]"], policy=default) for uid in uids]

    def request_for(self, user: str) -> Message:
        def find() -> Message | None:
            return next(
                (m for m in self.inbox(user) if "[MT-" in str(m["Subject"]) and m["Reply-To"]), None
            )

        found = wait_for(find)
        assert isinstance(found, Message)
        return found

    def status(self) -> dict[str, object]:
        with self.runtime.sessions() as session:
            return status_report(session)


@pytest.fixture
def world(mail_stack: MailStack, tmp_path: Path) -> World:
    return World(mail_stack, tmp_path)


def minutes(world: World) -> bytes:
    message = EmailMessage()
    message["From"] = f"Ana García <{world.ana}>"
    message["To"] = f"Juan Pérez <{world.juan}>, Luis Ortega <{world.luis}>"
    message["Cc"] = f"Actas <{world.tracker}>"
    message["Subject"] = "Acta reunión de seguimiento"
    message["Date"] = format_datetime(
        time.time_ns() and __import__("datetime").datetime.now().astimezone()
    )
    message["Message-ID"] = make_msgid(domain="consultora.test")
    message.set_content(
        "Hola a todos:\n\nAcuerdos:\n1. Se aprueba el presupuesto de la fase 2.\n\n"
        "Tareas:\n- Juan: reiniciar el servidor de staging el sábado.\n"
        "- Luis enviará la oferta revisada antes del 15/12.\n\nUn saludo,\nAna\n"
    )
    return bytes(message)


def outlook_reply(request: Message, sender: str, answer: str) -> bytes:
    """An Outlook-style top-posted reply: the request below a "De: / Enviado:" block, no ">"."""
    original = request.get_body(preferencelist=("plain",)).get_content()
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = str(request["Reply-To"])
    reply["Subject"] = "RE: " + str(request["Subject"])
    reply["Date"] = format_datetime(__import__("datetime").datetime.now().astimezone())
    reply["Message-ID"] = make_msgid(domain="cliente.test")
    reply["In-Reply-To"] = str(request["Message-ID"])
    reply["References"] = str(request["Message-ID"])
    reply.set_content(
        f"{answer}\n\n________________________________\nDe: Actas <{request['From'].addresses[0].addr_spec}>\n"
        f"Enviado: jueves, 26 de noviembre de 2026 11:02\nPara: {sender}\nAsunto: {request['Subject']}\n\n{original}"
    )
    return bytes(reply)


def test_minutes_requests_replies_and_status_through_the_real_servers(world: World) -> None:
    world.send(minutes(world), world.ana, [world.juan, world.luis, world.tracker])
    wait_for(lambda: any("Acta" in str(m["Subject"]) for m in world.inbox(world.tracker)))
    world.run_once()
    juan_request = world.request_for(world.juan)
    luis_request = world.request_for(world.luis)
    assert world.tracker.split("@")[0] + "+" in str(juan_request["Reply-To"])
    assert juan_request["Auto-Submitted"] == "auto-generated"
    assert "Reiniciar el servidor" in juan_request.get_body(preferencelist=("plain",)).get_content()
    assert world.request_for(world.luis)["Message-ID"] != juan_request["Message-ID"]

    world.send(
        outlook_reply(juan_request, f"Juan Pérez <{world.juan}>", "Confirmo."),
        world.juan,
        [str(juan_request["Reply-To"].addresses[0].addr_spec)],
    )
    world.send(
        outlook_reply(
            luis_request,
            f"Luis <{world.luis}>",
            "Confirmo el 1.\r\nNo confirmo el 2: la fecha no es viable.",
        ),
        world.luis,
        [str(luis_request["Reply-To"].addresses[0].addr_spec)],
    )

    def both_recorded() -> bool:
        world.run_once()
        states = [
            row["state"]
            for meeting in world.status()["meetings"]  # type: ignore[union-attr]
            for item in meeting["items"]
            for row in item["confirmations"]
        ]
        return "pending" not in states

    wait_for(both_recorded, timeout=60)
    meeting = world.status()["meetings"][0]  # type: ignore[index]
    states = {
        (item["number"], row["person"]): (row["state"], row["reason"])
        for item in meeting["items"]
        for row in item["confirmations"]
    }
    assert states[(1, world.juan)][0] == "confirmed"
    assert states[(2, world.juan)][0] == "confirmed"
    assert states[(1, world.luis)][0] == "confirmed"
    assert states[(3, world.luis)] == ("rejected", states[(3, world.luis)][1])
    assert "no es viable" in (states[(3, world.luis)][1] or "")
    receipts = wait_for(
        lambda: [m for m in world.inbox(world.juan) if "Recibido" in str(m["Subject"])]
    )
    assert len(receipts) == 1  # type: ignore[arg-type]
