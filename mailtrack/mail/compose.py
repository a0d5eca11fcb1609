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
# Control characters, and the Unicode line breaks str.splitlines() honours (the
# email package refuses them in a header, which would fail the whole mail).
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
# A Message-ID we may repeat in In-Reply-To/References: printable ASCII, one "@".
_SAFE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")


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
    """Text safe for a header or a one-line field: no control characters, bounded length.

    "=?" is broken up too: it opens an RFC 2047 encoded word, and the email
    package (CPython 3.11 before 3.11.10, gh-121650) decodes encoded words in
    the header values it is given and writes what they hold as it is, so a
    name or subject written ``=?utf-8?q?=0D=0ABcc:_x@evil.test?=`` would reach
    the wire as a line break and a Bcc header.
    """
    return _UNSAFE.sub(" ", text).replace("=?", "= ?").strip()[:limit]


def safe_message_id(value: str | None) -> str | None:
    """``value`` if it is a plain ``<id@host>`` we may repeat in a header, else None.

    Message-IDs come from mail; one holding an encoded word would inject a
    header into In-Reply-To/References the way :func:`clean` describes.
    """
    if value and _SAFE_ID.fullmatch(value) and "=?" not in value:
        return value
    return None


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
    in_reply_to = safe_message_id(in_reply_to)
    references = tuple(ref for ref in references if safe_message_id(ref))
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
