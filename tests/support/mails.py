"""Build test mails as raw bytes, the way clients send them."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

_counter = itertools.count(1)
MADRID = timezone(timedelta(hours=1))


def make_mail(
    *,
    sender: str = "Ana García <ana@consultora.test>",
    to: str = "Juan Pérez <juan@cliente.test>",
    cc: str | None = "Actas <actas@tracker.test>",
    subject: str = "Acta reunión de seguimiento",
    body: str = "Acuerdos:\n- Juan revisa el contrato antes del viernes.\n",
    html: str | None = None,
    date: datetime | None = None,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A well-formed mail; ``headers`` adds or replaces headers (In-Reply-To, Auto-Submitted...)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = format_datetime(
        date or datetime(2026, 11, 26, 10, next(_counter) % 60, tzinfo=MADRID)
    )
    message["Message-ID"] = message_id or make_msgid(domain="test.example")
    for name, value in (headers or {}).items():
        del message[name]
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return bytes(message)
