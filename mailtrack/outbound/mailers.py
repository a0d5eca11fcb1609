"""Mailers: how an outbox row reaches the world. SMTP; Maildir for the demo; memory for tests.

A mailer never raises for an outcome it expects: it returns a
:class:`Delivery` saying sent, temporary failure (retry later) or permanent
failure (do not retry), per recipient when the relay refuses some and not
others (as aiosmtplib reports partial refusals). It also reports each
outcome the moment it is known (``on_delivery``), so the outbox marks a
mail sent right after the relay's "250", before the next mail goes out: a
crash then resends at most the one mail in flight, not a whole batch.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiosmtplib

from mailtrack.errors import MailSendError


@dataclass(frozen=True)
class Outgoing:
    message_id: str
    envelope_from: str
    recipients: tuple[str, ...]
    raw: bytes


@dataclass(frozen=True)
class Delivery:
    """What happened to one message."""

    status: str  # "sent" | "retry" | "failed"
    detail: str = ""
    refused: tuple[str, ...] = ()


DeliveryCallback = Callable[[int, Delivery], "bool | None"]
"""Called with (index in the batch, outcome) as soon as one message's outcome is known.

It returns False to stop the batch there: the messages after it are not sent and
get no Delivery (the outbox found they are no longer this worker's to send).
"""


class Mailer(Protocol):
    def send_many(
        self, messages: Sequence[Outgoing], on_delivery: DeliveryCallback | None = None
    ) -> list[Delivery]:
        """Deliver ``messages`` (one connection for all where possible), one Delivery each.

        ``on_delivery`` is called for each message as soon as its outcome is known.
        """
        ...


@dataclass
class SmtpMailer:
    """Delivers through an SMTP relay with aiosmtplib: implicit TLS, STARTTLS or plain; AUTH."""

    host: str
    port: int
    security: str = "starttls"
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    timeout: float = 30.0

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def send_many(
        self, messages: Sequence[Outgoing], on_delivery: DeliveryCallback | None = None
    ) -> list[Delivery]:
        if not messages:
            return []
        return asyncio.run(self._send_all(messages, on_delivery))

    def check(self) -> str:
        """Connect, negotiate TLS, log in if configured, and quit: the relay's greeting.

        Raises MailSendError saying what failed (for ``mailtrack health``).
        """
        return asyncio.run(self._check())

    def _client(self) -> aiosmtplib.SMTP:
        """A client for the relay, not yet connected: TLS, STARTTLS or plain; AUTH if set."""
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=self.security == "tls",
            start_tls=self.security == "starttls",
            tls_context=self._tls() if self.security != "none" else None,
            timeout=self.timeout,
            username=self.username,
            password=self.password,
        )

    async def _check(self) -> str:
        client = self._client()
        where = f"{self.host}:{self.port}"
        try:
            response = await client.connect()
        except aiosmtplib.SMTPAuthenticationError as error:
            raise MailSendError(f"SMTP relay {where} refused our login: {error.message}") from error
        except (aiosmtplib.SMTPException, OSError) as error:
            raise MailSendError(f"cannot connect to SMTP relay {where}: {error}") from error
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()
        return response.message.splitlines()[0] if response.message else ""

    async def _send_all(
        self, messages: Sequence[Outgoing], on_delivery: DeliveryCallback | None
    ) -> list[Delivery]:
        client = self._client()
        where = f"{self.host}:{self.port}"
        try:
            await client.connect()
        except aiosmtplib.SMTPAuthenticationError as error:
            raise MailSendError(f"SMTP relay {where} refused our login: {error.message}") from error
        except (aiosmtplib.SMTPException, OSError) as error:
            # Unreachable for now: every message waits for the next try.
            return [Delivery("retry", f"cannot connect to {where}: {error}")] * len(messages)
        results: list[Delivery] = []
        try:
            for index, message in enumerate(messages):
                results.append(await self._send_one(client, message))
                if on_delivery is not None and on_delivery(index, results[-1]) is False:
                    break
        finally:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
        return results

    async def _send_one(self, client: aiosmtplib.SMTP, message: Outgoing) -> Delivery:
        try:
            refused, response = await client.sendmail(
                message.envelope_from, list(message.recipients), message.raw
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [item.code for item in error.recipients]
            detail = "; ".join(
                f"{item.recipient}: {item.code} {item.message}" for item in error.recipients
            )
            permanent = all(code >= 500 for code in codes)
            return Delivery(
                "failed" if permanent else "retry",
                detail,
                tuple(r.recipient for r in error.recipients),
            )
        except aiosmtplib.SMTPResponseException as error:
            return Delivery(
                "failed" if error.code >= 500 else "retry", f"{error.code} {error.message}"
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            return Delivery("retry", str(error))
        if refused:
            detail = "; ".join(
                f"{rcpt}: {reply.code} {reply.message}" for rcpt, reply in refused.items()
            )
            return Delivery("sent", detail, tuple(refused))
        return Delivery("sent", response)


@dataclass
class MaildirMailer:
    """Drops each message into ``root/<recipient>/new/``: the demo's post office, no server."""

    root: Path

    def send_many(
        self, messages: Sequence[Outgoing], on_delivery: DeliveryCallback | None = None
    ) -> list[Delivery]:
        results = []
        for index, message in enumerate(messages):
            for recipient in message.recipients:
                box = self.root / recipient.lower()
                for sub in ("tmp", "new", "cur"):
                    (box / sub).mkdir(parents=True, exist_ok=True)
                name = f"{time.time_ns()}.{os.getpid()}.mailtrack"
                temporary = box / "tmp" / name
                trace = f"Return-Path: <{message.envelope_from}>\r\nDelivered-To: {recipient}\r\n"
                temporary.write_bytes(trace.encode() + message.raw)
                os.replace(temporary, box / "new" / name)
            results.append(Delivery("sent", "delivered to Maildir"))
            if on_delivery is not None and on_delivery(index, results[-1]) is False:
                break
        return results


@dataclass
class MemoryMailer:
    """Keeps what was sent, for tests; can be told to answer with failures."""

    sent: list[Outgoing] = field(default_factory=list)
    answers: list[Delivery] = field(default_factory=list)

    def send_many(
        self, messages: Sequence[Outgoing], on_delivery: DeliveryCallback | None = None
    ) -> list[Delivery]:
        results = []
        for index, message in enumerate(messages):
            answer = self.answers.pop(0) if self.answers else Delivery("sent")
            if answer.status == "sent":
                self.sent.append(message)
            results.append(answer)
            if on_delivery is not None and on_delivery(index, answer) is False:
                break
        return results
