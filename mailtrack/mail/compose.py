"""Outgoing mail: templates rendered into complete RFC 5322 messages, the same every time.

Every message mailtrack sends carries ``Auto-Submitted: auto-generated``
(RFC 3834: other robots must not answer it), ``X-Auto-Response-Suppress:
All`` (asks Exchange not to send out-of-office replies) and mailtrack's own
loop header, and comes From the tracker. Its Message-ID is chosen by the
caller and fixed when the outbox row is written, so resending after a crash
sends the very same mail.

Templates live in ``templates/email/<purpose>.<lang>.{subject,txt,html}.j2``.
HTML is autoescaped: names, subjects and item texts come from mail, and
mail is untrusted. Header values are checked for line breaks by the
standard library's policy, and built from already-cleaned text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from mailtrack.mail.guards import LOOP_HEADER

PACKAGE = Path(__file__).resolve().parents[1]
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


def templates_dir() -> Path:
    """The installed copy inside the package, else the repository's templates/."""
    for candidate in (PACKAGE / "_data" / "templates", PACKAGE.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("templates/ not found next to the mailtrack package")


@cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(templates_dir())),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render(purpose: str, language: str, part: str, context: dict[str, Any]) -> str:
    """Render ``templates/email/<purpose>.<language>.<part>.j2``."""
    return environment().get_template(f"email/{purpose}.{language}.{part}.j2").render(**context)


@dataclass(frozen=True)
class Composed:
    """A finished message and how to deliver it."""

    message_id: str
    envelope_from: str
    recipients: tuple[str, ...]
    subject: str
    raw: bytes


def clean(text: str, limit: int = 200) -> str:
    """Text safe for a header or a one-line field: no control characters, bounded length."""
    return _UNSAFE.sub(" ", text).strip()[:limit]


def compose(
    *,
    purpose: str,
    language: str,
    context: dict[str, Any],
    tracker_name: str,
    tracker_address: str,
    to: Address,
    message_id: str,
    date: datetime,
    envelope_from: str | None = None,
    reply_to: str | None = None,
    in_reply_to: str | None = None,
    references: tuple[str, ...] = (),
) -> Composed:
    """Render a purpose's templates and build the message (text and HTML alternatives)."""
    language = language if language in ("es", "en") else "es"
    full_context = {"tracker_name": tracker_name, "lang": language, **context}
    subject = clean(render(purpose, language, "subject", full_context), 250)
    message = EmailMessage(policy=SMTP)
    message["From"] = Address(clean(tracker_name, 80), addr_spec=tracker_address)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    if reply_to:
        message["Reply-To"] = Address(clean(tracker_name, 80), addr_spec=reply_to)
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message[LOOP_HEADER] = tracker_address
    message["Content-Language"] = language
    message.set_content(render(purpose, language, "txt", full_context))
    message.add_alternative(
        render(purpose, language, "html", {**full_context, "title": subject}), subtype="html"
    )
    return Composed(
        message_id=message_id,
        envelope_from=envelope_from or tracker_address,
        recipients=(to.addr_spec,),
        subject=subject,
        raw=message.as_bytes(),
    )


def person_address(name: str | None, email: str) -> Address:
    """An Address for a person whose display name came from mail (cleaned)."""
    display = clean(name or "", 80)
    local, _, domain = email.partition("@")
    return Address(display_name=display, username=local, domain=domain)
