"""One received mail, parsed once, as plain values the rest of mailtrack reads.

Parsing never raises. The standard library's parser (``compat32`` policy)
records defects instead of failing, and everything here is decoded with
fallbacks: an undeclared or wrong charset, 8-bit bytes in headers, a broken
base64 body or a mail of zero bytes gives text with replacement characters
and a defect note, not an exception.

Why not mail-parser: it flattens every text part of a mail into one list, so
the text of a forwarded message attached to a reply would read as the reply
itself (a "confirmo" inside an attachment must count for nothing), and it
re-encodes every attachment to base64 while parsing (a 20 MB attachment
costs about 50 MB). Here the body is chosen by MIME structure: the
``multipart/alternative`` preference, ``related`` roots, inline parts of
``mixed``, never an attachment or an attached message.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.errors import HeaderParseError
from email.header import Header, decode_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from functools import cached_property

from mailtrack.mail.html import html_to_text

MAX_TEXT_CHARS = 1_000_000  # a body longer than this is cut: no minutes or reply is that long
MAX_MIME_DEPTH = 50  # deeper nesting is not read: hostile mail must not cost more
_MSGID = re.compile(r"<[^<>\s]+>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FOLD = re.compile(r"\r?\n[ \t]*")


@dataclass(frozen=True)
class Address:
    """A mailbox from a header: the display name as written and the lowercased address."""

    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text of ``data`` in ``charset``; an unknown or wrong charset falls back to UTF-8, cp1252."""
    candidates = [charset] if charset else []
    candidates += ["utf-8", "cp1252"]
    for candidate in candidates:
        try:
            codecs.lookup(candidate)
            return data.decode(candidate)
        # ValueError: a NUL in the name ("utf\x00"); UnicodeError (not a decode error):
        # codecs like "idna" that refuse bytes in their own way.
        except (LookupError, ValueError):
            continue
    return data.decode("utf-8", errors="replace")  # pragma: no cover - cp1252 maps almost all


def _recover_8bit(value: object) -> str:
    """Header text with raw 8-bit bytes decoded (UTF-8, else cp1252).

    compat32 hands such headers over as a ``Header`` in the "unknown-8bit"
    charset (whose ``str()`` has replacement characters) or as a string with
    surrogate escapes; both still hold the original bytes.
    """
    if isinstance(value, Header):
        return "".join(
            decode_bytes(chunk, None if charset in (None, "unknown-8bit") else charset)
            if isinstance(chunk, bytes)
            else chunk
            for chunk, charset in decode_header(value)
        )
    text = str(value)
    if not any("\udc80" <= char <= "\udcff" for char in text):
        return text
    return decode_bytes(text.encode("ascii", errors="surrogateescape"), None)


_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_UNQUOTABLE = re.compile(r'["\\\x00-\x1f\x7f]')


def _atomize(value: str) -> str:
    """An address header with each RFC 2047 encoded word made a quoted string.

    An encoded word is one atom of a display name (RFC 2047 section 5), but
    the address parser reads its raw text: a ``:``, ``,``, ``<`` or ``@``
    written inside one (``=?utf-8?q?Luis=0D=0ABcc:_x@evil.test?= <luis@...>``)
    would start a group or a mailbox, and mail would go to an address the
    sender's own client showed as a name.
    """
    if "=?" not in value:
        return value
    return _ENCODED_WORD.sub(
        lambda word: '"' + _UNQUOTABLE.sub(" ", decode_header_value(word.group(0))) + '"', value
    )


def decode_header_value(value: object) -> str:
    """A header as readable text: RFC 2047 words decoded, folding and control characters removed.

    Control characters go because a CR or LF smuggled into a decoded name or
    subject must never reach a header we write.
    """
    if value is None:
        return ""
    text = _recover_8bit(value)
    try:
        chunks = decode_header(text)
    except (ValueError, LookupError, AssertionError, HeaderParseError):  # "=?utf-8?b?!!?="
        chunks = [(text, None)]
    parts: list[str] = []
    for chunk, charset in chunks:
        parts.append(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
    joined = "".join(parts)
    return _CONTROL.sub("", _FOLD.sub(" ", joined)).strip()


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except (LookupError, ValueError):  # pragma: no cover - compat32 returns the raw parameter
        return None


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    if disposition == "attachment":
        return True
    try:
        named = bool(part.get_filename())
    except (ValueError, LookupError, TypeError):
        named = False
    return disposition != "inline" and named


@dataclass
class _Body:
    plain: list[str]
    html: list[str]
    attached: list[Message]


class ParsedMail:
    """A received mail. Headers are read on demand and the body only when asked for.

    Build it with :meth:`from_bytes`; it never raises.
    """

    def __init__(self, message: Message, size: int, defects: list[str]) -> None:
        self.message = message
        self.size = size
        self.defects = defects

    @classmethod
    def headers_only(cls, raw: bytes) -> ParsedMail:
        """Parse only the header block (several times faster); the body reads as empty."""
        try:
            message = BytesHeaderParser(policy=compat32).parsebytes(raw)
        except Exception:  # the parser is meant to be total; defend anyway
            message = Message()
        return cls(message, len(raw), [])

    @classmethod
    def from_bytes(cls, raw: bytes) -> ParsedMail:
        """Parse raw RFC 5322 bytes; a mail that cannot be parsed at all becomes an empty one."""
        defects: list[str] = []
        try:
            message = message_from_bytes(raw, policy=compat32)
        except Exception as error:  # the parser is meant to be total; defend anyway
            defects.append(f"unparseable: {type(error).__name__}")
            message = Message()
        if not raw.strip():
            defects.append("empty message")
        defects.extend(type(defect).__name__ for defect in message.defects)
        return cls(message, len(raw), defects)

    # -- headers --------------------------------------------------------------

    def header(self, name: str) -> str | None:
        """The first ``name`` header, decoded; None when absent."""
        value = self.message.get(name)
        return None if value is None else decode_header_value(value)

    def headers(self, name: str) -> list[str]:
        """Every ``name`` header, decoded, in order."""
        return [decode_header_value(value) for value in self.message.get_all(name) or []]

    def raw_header(self, name: str) -> str | None:
        """The first ``name`` header, unfolded but not RFC 2047-decoded (for addresses and ids)."""
        value = self.message.get(name)
        if value is None:
            return None
        return _CONTROL.sub("", _FOLD.sub(" ", _recover_8bit(value))).strip()

    def addresses(self, *names: str) -> list[Address]:
        """The mailboxes in the named headers (To, Cc, ...), decoded, lowercased, deduplicated."""
        raw = [
            _atomize(_recover_8bit(value))
            for name in names
            for value in self.message.get_all(name) or []
        ]
        found: list[Address] = []
        seen: set[str] = set()
        for display, written in getaddresses(raw):
            address = written.strip().strip("<>").lower()
            if "@" not in address or address in seen or any(c.isspace() for c in address):
                continue
            seen.add(address)
            found.append(Address(decode_header_value(display).strip("\"' "), address))
        return found

    @cached_property
    def sender(self) -> Address | None:
        """The From mailbox (the first one, if a mail has several)."""
        found = self.addresses("From")
        return found[0] if found else None

    @cached_property
    def message_id(self) -> str | None:
        """The Message-ID as ``<id>``, or None when missing or malformed."""
        value = self.raw_header("Message-ID")
        match = _MSGID.search(value or "")
        return match.group(0) if match else None

    @cached_property
    def references(self) -> list[str]:
        """Message-IDs this mail answers: In-Reply-To first, then References, without repeats."""
        ids: list[str] = []
        for name in ("In-Reply-To", "References"):
            for value in self.message.get_all(name) or []:
                for found in _MSGID.findall(_recover_8bit(value)):
                    if found not in ids:
                        ids.append(found)
        return ids

    @cached_property
    def subject(self) -> str:
        return self.header("Subject") or ""

    @cached_property
    def date(self) -> datetime | None:
        """The Date header as an aware datetime in the sender's own offset; None if unreadable."""
        value = self.raw_header("Date")
        if not value:
            return None
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)

    @cached_property
    def return_path(self) -> str | None:
        """The envelope sender as delivered (``""`` for the null sender ``<>``); None if absent."""
        value = self.raw_header("Return-Path")
        if value is None:
            return None
        return value.strip().strip("<>").strip().lower()

    @property
    def content_type(self) -> str:
        return self.message.get_content_type()

    # -- body -----------------------------------------------------------------

    @cached_property
    def _body(self) -> _Body:
        body = _Body([], [], [])
        self._collect(self.message, body, 0)
        return body

    def _collect(self, part: Message, body: _Body, depth: int) -> None:
        if depth > MAX_MIME_DEPTH:
            if "MIME nesting too deep" not in self.defects:
                self.defects.append("MIME nesting too deep")
            return
        ctype = part.get_content_type()
        if depth > 0 and _is_attachment(part):
            if ctype == "message/rfc822":
                body.attached.extend(self._attached(part))
            return
        if ctype == "message/rfc822":
            body.attached.extend(self._attached(part))
            return
        if not part.is_multipart():
            if ctype in ("text/plain", "text/enriched"):
                body.plain.append(self._text_of(part))
            elif ctype == "text/html":
                body.html.append(self._text_of(part))
            return
        children = [child for child in part.get_payload() if isinstance(child, Message)]
        if ctype == "multipart/alternative":
            # Each alternative says the same thing: keep the best plain and the best HTML.
            for child in children:
                alternative = _Body([], [], [])
                self._collect(child, alternative, depth + 1)
                if alternative.plain and not body.plain:
                    body.plain.extend(alternative.plain)
                if alternative.html and not body.html:
                    body.html.extend(alternative.html)
                body.attached.extend(alternative.attached)
            return
        if ctype in ("multipart/related", "multipart/report") and children:
            # related: the root renders the rest; report: the first part is for humans.
            self._collect(children[0], body, depth + 1)
            if ctype == "multipart/related":
                return
            for child in children[1:]:
                if child.get_content_type() == "message/rfc822":
                    body.attached.extend(self._attached(child))
            return
        for child in children:
            self._collect(child, body, depth + 1)

    @staticmethod
    def _attached(part: Message) -> list[Message]:
        payload = part.get_payload()
        if isinstance(payload, list):
            return [child for child in payload if isinstance(child, Message)]
        return []

    def _text_of(self, part: Message) -> str:
        try:
            data = part.get_payload(decode=True)
        except (ValueError, AssertionError, LookupError):
            data = None
        if not isinstance(data, bytes):
            payload = part.get_payload()
            data = (
                _recover_8bit(payload).encode("utf-8", "replace")
                if isinstance(payload, str)
                else b""
            )
        text = decode_bytes(data, _charset(part)).replace("\r\n", "\n").replace("\r", "\n")
        if len(text) > MAX_TEXT_CHARS:
            self.defects.append("body cut at the size limit")
            text = text[:MAX_TEXT_CHARS]
        return text

    @cached_property
    def text_plain(self) -> str:
        """The plain-text body as sent (inline text/plain parts joined)."""
        return "\n\n".join(part for part in self._body.plain if part.strip())

    @cached_property
    def text_html(self) -> str:
        """The HTML body as sent (inline text/html parts joined)."""
        return "\n".join(part for part in self._body.html if part.strip())

    @cached_property
    def html_as_text(self) -> str:
        """The HTML body converted to structured text (headings, lists, tables, quotes kept)."""
        return html_to_text(self.text_html) if self.text_html else ""

    @cached_property
    def text(self) -> str:
        """The body to read: text/plain when it is there and complete, else the HTML as text.

        "Complete": some clients send a stub plain part ("view this mail in a
        browser") or drop tables from it; when most of the HTML's words are
        missing from the plain text, the HTML wins.
        """
        plain = self.text_plain.strip()
        if not self.text_html:
            return plain
        converted = self.html_as_text.strip()
        html_words = _words(converted)
        if not plain or (html_words and len(html_words & _words(plain)) < 0.7 * len(html_words)):
            return converted
        return plain

    @property
    def attached_messages(self) -> list[Message]:
        """Messages attached to this one (forwarded as attachment, returned in a bounce)."""
        return list(self._body.attached)

    def walk(self) -> Iterator[Message]:
        """Every MIME part, depth first, at most MAX_MIME_DEPTH levels deep."""
        stack: list[tuple[Message, int]] = [(self.message, 0)]
        while stack:
            part, depth = stack.pop()
            yield part
            if depth < MAX_MIME_DEPTH and part.is_multipart():
                payload = part.get_payload()
                if isinstance(payload, list):
                    stack.extend(
                        (child, depth + 1)
                        for child in reversed(payload)
                        if isinstance(child, Message)
                    )


_WORDS = re.compile(r"\w{4,}")


def _words(text: str) -> set[str]:
    return set(_WORDS.findall(text.lower()))
