"""The whole confirmation loop in memory: a memory source, a memory mailer, a frozen clock."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from mailtrack.aliases import Aliases
from mailtrack.assembly import Runtime, build_handlers, build_sender, build_service, housekeeping
from mailtrack.clock import FrozenClock
from mailtrack.config import Config
from mailtrack.outbound.mailers import MemoryMailer
from mailtrack.status import status_report
from support.memory import MemorySource
from support.runtime import make_runtime

TRACKER = "actas@tracker.test"
MINUTES = """Hola a todos:

Acta de la reunión de seguimiento.

Acuerdos:
1. Se aprueba el presupuesto de la fase 2 por 12.000 €.

Tareas:
- Juan: reiniciar el servidor de staging el sábado.
- Luis enviará la oferta revisada antes del 15/12.

Un saludo,
Ana
"""


def handlers(config: Config) -> Any:
    """The real handlers for ``config`` (the pipelines load once per process and are cached)."""
    return build_handlers(config, Aliases())


@dataclass
class Loop:
    runtime: Runtime
    source: MemorySource = field(default_factory=MemorySource)
    mailer: MemoryMailer = field(default_factory=MemoryMailer)

    @property
    def clock(self) -> FrozenClock:
        assert isinstance(self.runtime.clock, FrozenClock)
        return self.runtime.clock

    def run(self) -> None:
        sender = build_sender(self.runtime, self.mailer)
        service = build_service(
            self.runtime,
            self.source,
            handlers(self.runtime.config),
            housekeeping(self.runtime, sender),
        )
        service.run(threading.Event(), once=True)

    def deliver(self, raw: bytes) -> None:
        self.source.add(raw)
        self.run()

    def sent(self, to: str | None = None) -> list[Message]:
        found = [message_from_bytes(m.raw, policy=default) for m in self.mailer.sent]
        return [m for m in found if to is None or to in str(m["To"])]

    def requests_to(self, address: str) -> list[Message]:
        return [m for m in self.sent(address) if "[MT-" in str(m["Subject"]) and m["Reply-To"]]

    def status(self) -> dict[str, Any]:
        with self.runtime.sessions() as session:
            return status_report(session)

    def states(self) -> dict[tuple[int, str], str]:
        return {
            (item["number"], row["person"]): row["state"]
            for meeting in self.status()["meetings"]
            for item in meeting["items"]
            for row in item["confirmations"]
        }


def make_loop(tmp_path: Path, extra: str = "") -> Loop:
    return Loop(make_runtime(tmp_path, extra))


def minutes_mail(
    body: str = MINUTES, message_id: str = "<acta-1@consultora.test>", **headers: str
) -> bytes:
    message = EmailMessage()
    message["From"] = "Ana García <ana@consultora.test>"
    message["To"] = "Juan Pérez <juan@cliente.test>, Luis Ortega <luis@cliente.test>"
    message["Cc"] = f"Actas <{TRACKER}>"
    message["Subject"] = headers.pop("Subject", "Acta reunión de seguimiento")
    message["Date"] = "Thu, 26 Nov 2026 10:00:00 +0100"
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return bytes(message)


def reply_to(
    request: Message, sender: str, text: str, *, quote: bool = True, **headers: str
) -> bytes:
    """A reply as Gmail writes it: the request quoted below the answer."""
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = str(request["Reply-To"])
    reply["Subject"] = headers.pop("Subject", "Re: " + str(request["Subject"]))
    reply["Date"] = format_datetime(request["Date"].datetime)
    reply["Message-ID"] = make_msgid(domain="cliente.test")
    reply["In-Reply-To"] = str(request["Message-ID"])
    reply["References"] = str(request["Message-ID"])
    for name, value in headers.items():
        reply[name.replace("_", "-")] = value
    body = text
    if quote:
        original = request.get_body(preferencelist=("plain",))
        quoted = "".join(f"> {line}\n" for line in str(original.get_content()).splitlines())
        body += f"\n\nEl jue, 26 nov 2026 a las 11:02, Actas <{TRACKER}> escribió:\n{quoted}"
    reply.set_content(body)
    return bytes(reply)
