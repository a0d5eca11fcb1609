"""Mutations of real mail for the fuzzer, in three families, each with the promise it must keep.

- ``preserving``: the same mail for a person reading it, written another way:
  another MIME structure (HTML only, text + HTML, a stub text part, attachments,
  nesting, multipart/signed), transfer encoding, charset, line endings, encoded
  headers, extra headers, invisible characters, look-alike letters, case and
  spacing. A reply that confirmed nothing must still confirm nothing.
- ``removing``: a confirming reply changed so that it confirms nothing any more:
  negated; its words moved into the quoted request, below the signature, into a
  legal disclaimer, an attachment or a forwarded mail; made conditional or a
  question; sent from another address. Nothing may be confirmed.
- ``destructive``: anything at all (flipped, cut and repeated bytes; broken
  boundaries, charsets and base64; bombs of nesting, parts, line length and
  hostile HTML). Nothing may raise or hang; no promise about the meaning.

A mail is rebuilt from a :class:`Body` (its headers, the author's own text and
the rest) by :func:`render`, which writes the MIME by hand so that every
encoding choice is the fuzzer's, not a library's. Every choice is drawn from
the ``random.Random`` given, so a case is reproduced from its seed alone.
"""

from __future__ import annotations

import base64
import binascii
import html
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from email.header import Header

from mailtrack.mail.parsed import ParsedMail
from mailtrack.mail.quotes import trim
from mailtrack.nlp.intent_patterns import normalize, typo_of

INVISIBLE = ("\u200b", "\u00ad", "\u200c", "\u200d", "\ufeff", "\u2060", "\u200e")
SPACES = ("\u00a0", "\u202f", "\u2009", "\t", "  ")
# Letters that look the same in Latin and Cyrillic or Greek.
LOOKALIKES = {"a": "а", "e": "е", "o": "о", "c": "с", "p": "р", "i": "і", "x": "х", "y": "у"}
MIME_HEADERS = ("content-", "mime-version")
BENIGN_HEADERS = (
    "Received: from mail-ej1-f41.google.com (mail-ej1-f41.google.com [203.0.113.9])\r\n"
    "\tby mx.tracker.test (Postfix) with ESMTPS id 4dQ1x2; Thu, 26 Nov 2026 11:05:01 +0100",
    "X-Mailer: Microsoft Outlook 16.0",
    "X-Originating-IP: [198.51.100.23]",
    "Thread-Topic: Acta",
    "Thread-Index: AdsAbCdEfGhIjKlMnOpQrStUvWxYz==",
    "Content-Language: es-ES",
    "X-MS-Has-Attach: yes",
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=cliente.test; s=sel;\r\n"
    "\th=from:to:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AbCd",
    "ARC-Seal: i=1; a=rsa-sha256; t=1764151501; cv=none; d=google.com; s=arc; b=xyz",
    "X-Spam-Status: No, score=-0.1",
    "List-Unsubscribe: <mailto:unsub@news.test>",
    "Importance: high",
    "X-Priority: 1",
    "User-Agent: Mozilla/5.0 Thunderbird/128.0",
)
STUB_PLAIN = "Para ver este mensaje correctamente utilice un cliente compatible con HTML."
FILLERS = ("Gracias.", "Ver abajo.", "See below.", "Thanks.", "", "Un saludo.", "Lo miro.")
CONDITIONS = (
    " pero cambiad la fecha",
    ", siempre que se mueva la fecha al lunes",
    " si se aprueba el presupuesto",
    ", a falta de revisarlo con mi jefe",
    " but please change the date",
    " provided the budget is approved",
    " if the date moves to Monday",
    ", pending my manager's review",
)
DISCLAIMERS = (
    "AVISO LEGAL: Este mensaje y sus anexos son confidenciales y se dirigen exclusivamente "
    "a su destinatario. {text} Si usted no es el destinatario, le rogamos que lo comunique "
    "al remitente y lo destruya.",
    "CONFIDENTIALITY NOTICE: This e-mail is confidential and intended solely for the "
    "addressee. {text} If you are not the intended recipient, any disclosure is prohibited.",
    "Este mensaje es confidencial y está dirigido únicamente a su destinatario. {text} "
    "Queda prohibida su divulgación sin autorización (RGPD).",
)


@dataclass(frozen=True)
class Body:
    """A mail as the fuzzer rebuilds it: header lines, the author's own text, the rest."""

    headers: tuple[tuple[str, str], ...]
    own: str
    rest: str
    attachments: tuple[bytes, ...] = ()  # complete MIME parts, written as they are

    @property
    def text(self) -> str:
        return f"{self.own}\n\n{self.rest}".strip("\n") + "\n" if self.rest else self.own + "\n"

    def header(self, name: str) -> str:
        return next((v for n, v in self.headers if n.lower() == name.lower()), "")

    def with_header(self, name: str, value: str) -> Body:
        kept = tuple((n, v) for n, v in self.headers if n.lower() != name.lower())
        return replace(self, headers=(*kept, (name, value)))


def body_of(raw: bytes) -> Body:
    """Split a real mail into its non-MIME headers, its own text and the rest (as the product reads them)."""
    parsed = ParsedMail.from_bytes(raw)
    headers = tuple(
        (name, re.sub(r"\r?\n[ \t]+", " ", str(value)))
        for name, value in parsed.message.items()
        if not name.lower().startswith(MIME_HEADERS)
    )
    trimmed = trim(parsed.text, subject=parsed.subject)
    rest = "\n".join(s.text for s in trimmed.segments if s.kind != "own")
    return Body(headers, trimmed.text, rest)


# --- writing MIME by hand ---------------------------------------------------------------


def _charset_for(text: str, rng: random.Random) -> tuple[str, str]:
    """A (codec, label) that can write ``text``: the label as clients spell it."""
    options = [("utf-8", rng.choice(("utf-8", "UTF-8", '"utf-8"', "utf8")))]
    for codec, labels in (
        ("iso-8859-1", ("iso-8859-1", "ISO-8859-1", "latin1")),
        ("cp1252", ("windows-1252", "Windows-1252")),
        ("iso-8859-15", ("iso-8859-15",)),
        ("ascii", ("us-ascii",)),
    ):
        try:
            text.encode(codec)
        except UnicodeEncodeError:
            continue
        options.append((codec, rng.choice(labels)))
    if rng.random() < 0.05:
        options = [("utf-16", "utf-16")]
    return rng.choice(options)


def _encode(data: bytes, rng: random.Random, ascii_only: bool) -> tuple[str, bytes]:
    choices = ["quoted-printable", "base64", "7bit" if ascii_only else "8bit"]
    cte = rng.choice(choices)
    if cte == "base64":
        return rng.choice(("base64", "Base64", "BASE64")), base64.encodebytes(data)
    if cte == "quoted-printable":
        return cte, binascii.b2a_qp(data, istext=True)
    return cte, data


def text_part(text: str, subtype: str, rng: random.Random, mislabel: bool = False) -> bytes:
    """One text/* part, with a charset and transfer encoding drawn from ``rng``."""
    codec, label = _charset_for(text, rng)
    data = text.encode(codec)
    if mislabel and codec == "utf-8":
        label = rng.choice(("iso-8859-1", "us-ascii", "x-unknown", "gb2312"))
    cte, payload = _encode(data, rng, all(b < 128 for b in data))
    head = f"Content-Type: text/{subtype}; charset={label}\nContent-Transfer-Encoding: {cte}\n"
    return head.encode() + b"\n" + payload


def to_html(text: str, rng: random.Random) -> str:
    """HTML a mail client could have written for ``text``: ``>`` lines become blockquotes."""
    out: list[str] = []
    depth = 0
    quote_open = rng.choice(
        ('<blockquote type="cite">', '<blockquote class="gmail_quote" style="margin:0">')
    )
    for line in text.split("\n"):
        match = re.match(r"^((?:>[ \t]?)+)", line)
        level = match.group(1).count(">") if match else 0
        content = line[match.end() :] if match else line
        while depth < level:
            out.append(quote_open)
            depth += 1
        while depth > level:
            out.append("</blockquote>")
            depth -= 1
        out.append(f"<div>{html.escape(content) or '<br>'}</div>")
    out.extend("</blockquote>" for _ in range(depth))
    inner = "\n".join(out)
    style = rng.choice(
        (
            '<html><head><meta charset="utf-8"><style>p{{margin:0}}</style></head>'
            '<body><div dir="ltr">{0}</div></body></html>',
            "<div>{0}</div>",
            '<html xmlns:o="urn:schemas-microsoft-com:office:office"><body lang=ES>'
            "<div class=WordSection1>{0}</div></body></html>",
        )
    )
    return style.format(inner)


def _multipart(subtype: str, parts: list[bytes], rng: random.Random, extra: str = "") -> bytes:
    boundary = rng.choice(("b1_", "----=_Part_", "000000000000", "Apple-Mail=_")) + "".join(
        rng.choice("0123456789abcdef") for _ in range(16)
    )
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"{extra}\n\n'.encode()
    body = b"".join(b"--" + boundary.encode() + b"\n" + part + b"\n" for part in parts)
    return head + body + b"--" + boundary.encode() + b"--\n"


def attachment(rng: random.Random, text: str | None = None) -> bytes:
    """An attachment part: a file, a calendar invitation, or a mail (``text`` its body)."""
    if text is not None:
        if rng.random() < 0.5:
            inner = (
                "From: Juan Pérez <juan.perez@cliente.test>\nSubject: Re: Acta\n"
                "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
                f"{text}\n"
            ).encode()
            return b"Content-Type: message/rfc822\nContent-Disposition: attachment\n\n" + inner
        cte, payload = _encode(text.encode("utf-8"), rng, text.isascii())
        return (
            "Content-Type: text/plain; charset=utf-8; name=respuesta.txt\n"
            f'Content-Disposition: attachment; filename="respuesta.txt"\n'
            f"Content-Transfer-Encoding: {cte}\n\n"
        ).encode() + payload
    kind = rng.choice(("pdf", "ics", "png"))
    blob = bytes(rng.randrange(256) for _ in range(rng.randrange(16, 2048)))
    names = {"pdf": "application/pdf", "ics": "text/calendar", "png": "image/png"}
    return (
        f'Content-Type: {names[kind]}; name="adjunto.{kind}"\n'
        f'Content-Disposition: attachment; filename="adjunto.{kind}"\n'
        "Content-Transfer-Encoding: base64\n\n"
    ).encode() + base64.encodebytes(blob)


def _header_line(name: str, value: str, rng: random.Random) -> bytes:
    if name.lower() == "subject" and "=?" not in value and rng.random() < 0.4:
        value = Header(value, "utf-8").encode(maxlinelen=rng.choice((76, 998)))
    elif name.lower() == "from" and not value.isascii() and rng.random() < 0.5:
        display, _, address = value.rpartition("<")
        if display.strip():
            encoded = Header(display.strip().strip('"'), "utf-8").encode()
            value = f"{encoded} <{address}"
    line = f"{name}: {value}".replace("\r\n", "\n")
    return line.encode("utf-8", "surrogateescape") + b"\n"


def render(body: Body, rng: random.Random, structure: str | None = None) -> bytes:
    """``body`` as raw bytes, in a MIME structure and encodings drawn from ``rng``."""
    structure = structure or rng.choice(
        ("plain", "plain", "alternative", "html", "stub", "mixed", "related", "signed", "nested")
    )
    text = body.text
    if rng.random() < 0.1:
        text = text.replace("\n", "\r\n")  # a body that kept its CRLF through a gateway
    plain = text_part(text, "plain", rng, mislabel=rng.random() < 0.05)
    markup = text_part(to_html(text, rng), "html", rng)
    if structure == "plain":
        content = plain
    elif structure == "html":
        content = markup
    elif structure == "alternative":
        content = _multipart("alternative", [plain, markup], rng)
    elif structure == "stub":
        content = _multipart("alternative", [text_part(STUB_PLAIN, "plain", rng), markup], rng)
    elif structure == "related":
        image = (
            b"Content-Type: image/png\nContent-ID: <logo@x>\nContent-Transfer-Encoding: base64\n\n"
            + base64.encodebytes(b"\x89PNG\r\n" + bytes(rng.randrange(256) for _ in range(64)))
        )
        content = _multipart(
            "alternative", [plain, _multipart("related", [markup, image], rng)], rng
        )
    elif structure == "signed":
        signature = (
            b"Content-Type: application/pkcs7-signature; name=smime.p7s\n"
            b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(bytes(range(200)))
        )
        inner = _multipart("alternative", [plain, markup], rng)
        content = _multipart(
            "signed", [inner, signature], rng, '; protocol="application/pkcs7-signature"'
        )
    elif structure == "nested":
        content = _multipart("alternative", [plain, markup], rng)
        for _ in range(rng.randint(1, 6)):
            content = _multipart(rng.choice(("mixed", "related", "mixed")), [content], rng)
    else:  # mixed
        parts = [rng.choice((plain, _multipart("alternative", [plain, markup], rng)))]
        parts += [attachment(rng) for _ in range(rng.randint(1, 3))]
        content = _multipart("mixed", parts, rng)
    if body.attachments:
        content = _multipart("mixed", [content, *body.attachments], rng)
    headers = list(body.headers)
    if rng.random() < 0.5:
        for extra in rng.sample(BENIGN_HEADERS, rng.randint(1, 4)):
            name, _, value = extra.partition(": ")
            headers.insert(rng.randrange(len(headers) + 1), (name, value))
    head = b"".join(_header_line(name, value, rng) for name, value in headers)
    raw = head + b"MIME-Version: 1.0\n" + content
    if rng.random() < 0.7:
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return raw


# --- preserving: the same words for a reader ------------------------------------------


def _words_at(text: str, rng: random.Random, share: float) -> list[int]:
    """Positions strictly inside words of ``text`` (between two letters), a ``share`` of them."""
    spots = [i for i in range(1, len(text)) if text[i - 1].isalpha() and text[i].isalpha()]
    return sorted(rng.sample(spots, max(1, int(len(spots) * share)))) if spots else []


def invisible(text: str, rng: random.Random) -> str:
    """Zero-width characters, soft hyphens and direction marks inside words."""
    out = text
    for position in reversed(_words_at(text, rng, rng.uniform(0.02, 0.3))):
        out = out[:position] + rng.choice(INVISIBLE) + out[position:]
    return out


def spacing(text: str, rng: random.Random) -> str:
    """Other spaces between words: no-break, thin, tabs, doubled."""
    return re.sub(" ", lambda _: rng.choice((" ", " ", *SPACES)), text)


def lookalikes(text: str, rng: random.Random) -> str:
    """Some Latin letters swapped for the Cyrillic or Greek ones that look the same."""
    return "".join(LOOKALIKES[c] if c in LOOKALIKES and rng.random() < 0.3 else c for c in text)


def casing(text: str, rng: random.Random) -> str:
    return rng.choice((text.upper(), text.lower(), text.capitalize()))


TEXT_PRESERVING: dict[str, Callable[[str, random.Random], str]] = {
    "invisible": invisible,
    "spacing": spacing,
    "lookalikes": lookalikes,
    "casing": casing,
}


def preserve(body: Body, rng: random.Random) -> tuple[Body, list[str]]:
    """Apply 0-3 meaning-keeping changes to the text and headers; the names of those applied."""
    steps: list[str] = []
    for name in rng.sample(sorted(TEXT_PRESERVING), rng.randint(0, 2)):
        change = TEXT_PRESERVING[name]
        body = replace(body, own=change(body.own, rng))
        steps.append(name)
    if rng.random() < 0.3:
        subject = body.header("Subject")
        body = body.with_header("Subject", subject + rng.choice((" ", "  ", " 📎", " (2)")))
        steps.append("subject")
    if rng.random() < 0.2:
        body = replace(body, attachments=(*body.attachments, attachment(rng)))
        steps.append("attachment")
    return body, steps


# --- removing: a confirmation taken away ----------------------------------------------

_CONFIRM_WORDS = re.compile(
    r"(?<![\w-])(?:confirm\w*|conform\w*|de acuerdo|agreed?|ok|okay|okey|vale|s[ií]|yes|"
    r"perfecto|correcto|fine|approved?|aprobad[oa]s?|👍|✅|✔|✓)(?![\w-])",
    re.IGNORECASE,
)
_ENGLISH_VERB = re.compile(r"^(?:confirm|agree|approve)$", re.IGNORECASE)


def _is_confirm_word(word: str) -> bool:
    folded = normalize(word)
    return bool(_CONFIRM_WORDS.fullmatch(folded) or typo_of(folded))


_WORD = re.compile(r"de acuerdo|[\w'’-]+|👍|✅|✔|✓", re.IGNORECASE)


def negate(text: str, language: str) -> str:
    """Every word that could confirm, negated: "no confirmo", "not confirmed", "don't confirm"."""

    def negated(match: re.Match[str]) -> str:
        word = match.group(0)
        if not _is_confirm_word(word):
            return word
        if word in ("👍", "✅", "✔", "✓"):
            return "👎 no"
        if _ENGLISH_VERB.match(word) or normalize(word).startswith(("confirming", "agreeing")):
            return "don't " + word
        if normalize(word) in ("yes", "si"):
            return "no"
        spanish = normalize(word).startswith(("confirmo", "confirmad", "conform", "de acuerdo"))
        return ("no " if spanish or language == "es" else "not ") + word

    return _WORD.sub(negated, text)


def conditional(text: str, rng: random.Random) -> str:
    """Each sentence that could confirm becomes a question, or gets a condition after its verb."""
    out = []
    for sentence in re.split(r"(?<=[.!\n])", text):
        first = next((m for m in _WORD.finditer(sentence) if _is_confirm_word(m.group(0))), None)
        if first is None:
            out.append(sentence)
        elif rng.random() < 0.5:
            condition = rng.choice(CONDITIONS).lstrip(", ")
            out.append(f"{sentence[: first.end()]}, {condition},{sentence[first.end() :]}")
        else:
            stripped = sentence.rstrip(" .!\n")
            tail = sentence[len(stripped) :].lstrip(".!")
            out.append(("¿" if rng.random() < 0.5 else "") + stripped + "?" + tail)
    return "".join(out)


def _quote(text: str) -> str:
    return "\n".join("> " + line if line.strip() else ">" for line in text.split("\n"))


def move_to_quote(body: Body, rng: random.Random) -> Body:
    """The answer appears only inside the quoted request (above it, a filler or nothing)."""
    quoted = _quote(body.own)
    rest = body.rest
    lines = rest.split("\n")
    first_quote = next((i for i, line in enumerate(lines) if line.startswith(">")), None)
    if first_quote is None or rng.random() < 0.3:
        attribution = rng.choice(
            (
                "El jue, 26 nov 2026 a las 11:02, Actas (<actas@tracker.test>) escribió:",
                "On Thu, Nov 26, 2026 at 11:02 AM Actas <actas@tracker.test> wrote:",
            )
        )
        rest = f"{attribution}\n{quoted}\n{_quote(rest) if rest else ''}"
    else:
        lines.insert(first_quote + rng.randint(0, 2), quoted)
        rest = "\n".join(lines)
    return replace(body, own=rng.choice(FILLERS), rest=rest)


def move_to_signature(body: Body, rng: random.Random) -> Body:
    """The answer stands below a "-- " signature delimiter, between the name and the phone."""
    words = body.own.split("\n")[0][:120]
    name = rng.choice(("Juan Pérez", "John Smith", "Lucía Fernández"))
    signature = f"-- \n{name}\n{words}\nTel. +34 600 000 000"
    own = rng.choice(FILLERS[:4])
    return replace(body, own=f"{own}\n\n{signature}", rest=body.rest)


def move_to_disclaimer(body: Body, rng: random.Random) -> Body:
    """The answer is buried in a legal disclaimer paragraph under the (filler) text."""
    words = " ".join(body.own.split())[:200]
    disclaimer = rng.choice(DISCLAIMERS).format(text=words)
    return replace(body, own=f"{rng.choice(FILLERS[:4])}\n\n{disclaimer}")


def move_to_attachment(body: Body, rng: random.Random) -> Body:
    """The answer is only in an attached file or an attached mail."""
    return replace(
        body,
        own=rng.choice(FILLERS),
        attachments=(*body.attachments, attachment(rng, text=body.own)),
    )


def move_to_forward(body: Body, rng: random.Random) -> Body:
    """The answer is inside a forwarded mail below a short note."""
    header = rng.choice(
        (
            "---------- Forwarded message ---------\nFrom: Otro <otro@cliente.test>\n"
            "Date: Thu, Nov 26, 2026 at 12:00 PM\nSubject: Re: Acta\nTo: <actas@tracker.test>",
            "-----Mensaje original-----\nDe: Otro <otro@cliente.test>\n"
            "Enviado el: jueves, 26 de noviembre de 2026 12:00\nPara: Actas\nAsunto: RE: Acta",
        )
    )
    note = rng.choice(("Te reenvío lo que me contestaron:", "FYI, see below.", ""))
    return replace(body, own=note, rest=f"{header}\n\n{body.own}\n\n{body.rest}")


_CYRILLIC = {"e": "е", "a": "а", "o": "о", "c": "с", "p": "р", "x": "х", "E": "Е", "A": "А",
             "O": "О", "C": "С", "P": "Р", "X": "Х"}  # fmt: skip


def _cyrillic_letter(domain: str) -> str:
    """``domain`` with its first Latin letter that has a Cyrillic twin swapped for it.

    Always another domain: "NORTHWIND.TEST" (no lower-case "e") once stayed the same,
    and the fuzzer took the addressee's own reply for a stranger's.
    """
    at = next((i for i, c in enumerate(domain) if c in _CYRILLIC), None)
    if at is None:
        return "x" + domain
    return domain[:at] + _CYRILLIC[domain[at]] + domain[at + 1 :]


def other_sender(body: Body, rng: random.Random) -> Body:
    """The same words from an address that is not the one asked."""
    current = body.header("From")
    address = re.search(r"[\w.+-]+@[\w.-]+", current)
    victim = address.group(0) if address else "juan.perez@cliente.test"
    local, _, domain = victim.partition("@")
    choice = rng.choice(
        (
            "Juan Pérez <atacante@evil.test>",
            f'"{victim}" <atacante@evil.test>',
            f"{victim} <atacante@evil.test>",
            f"{local} <{local}@{domain.replace('.', '-', 1)}.test>",
            f"{local.title()} <{local}+x@{domain}>",
            f"{local} <{local}@{_cyrillic_letter(domain)}>",  # one Cyrillic letter in the domain
            f"atacante@evil.test ({victim})",
        )
    )
    changed = body.with_header("From", choice)
    if rng.random() < 0.2:  # or the right From, but sent by someone else
        changed = body.with_header("Sender", "atacante@evil.test")
    return changed


REMOVING: dict[str, Callable[[Body, random.Random, str], Body]] = {
    "negate": lambda b, r, lang: replace(b, own=negate(b.own, lang)),
    "condition": lambda b, r, lang: replace(b, own=conditional(b.own, r)),
    "quote": lambda b, r, lang: move_to_quote(b, r),
    "signature": lambda b, r, lang: move_to_signature(b, r),
    "disclaimer": lambda b, r, lang: move_to_disclaimer(b, r),
    "attachment": lambda b, r, lang: move_to_attachment(b, r),
    "forward": lambda b, r, lang: move_to_forward(b, r),
}


# --- destructive: anything at all ----------------------------------------------------


def _flip(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 20)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _insert(raw: bytes, rng: random.Random) -> bytes:
    noise = rng.choice(
        (
            b"\x00",
            b"\r",
            b"\n",
            b"\r\n\r\n",
            b"\xff\xfe",
            b"=?utf-8?b?",
            b"--",
            b"<",
            b"=\n",
            b"\x80" * 7,
        )
    )
    at = rng.randrange(len(raw) + 1)
    return raw[:at] + noise * rng.randint(1, 50) + raw[at:]


def _cut(raw: bytes, rng: random.Random) -> bytes:
    return raw[: rng.randrange(len(raw) + 1)]


def _delete(raw: bytes, rng: random.Random) -> bytes:
    if not raw:
        return raw
    start = rng.randrange(len(raw))
    return raw[:start] + raw[start + rng.randint(1, 400) :]


def _repeat(raw: bytes, rng: random.Random) -> bytes:
    if not raw:
        return raw
    start = rng.randrange(len(raw))
    chunk = raw[start : start + rng.randint(1, 200)]
    return raw[:start] + chunk * rng.randint(2, 200) + raw[start:]


def _boundary(raw: bytes, rng: random.Random) -> bytes:
    """Break multipart framing: a wrong or empty boundary, lost or extra delimiters."""
    found = re.search(rb'boundary="?([^";\r\n]+)"?', raw, re.IGNORECASE)
    if not found:
        return raw.replace(b"Content-Type: text/plain", b"Content-Type: multipart/mixed", 1)
    boundary = found.group(1)
    how = rng.randrange(4)
    if how == 0:
        return raw.replace(b"--" + boundary + b"--", b"", 1)
    if how == 1:
        return raw[: found.start(1)] + b"other" + raw[found.end(1) :]
    if how == 2:
        return raw.replace(b"--" + boundary, b"--" + boundary + b"\r\n--" + boundary, 1)
    return raw[: found.start()] + b"boundary=" + raw[found.end() :]


def _headers(raw: bytes, rng: random.Random) -> bytes:
    """Broken header block: no colon, junk 8-bit, a huge or endless folded line, 5000 headers."""
    junk = rng.choice(
        (
            b"This line has no colon\r\n",
            b"X-Junk: \xff\xfe\xfa\xe9\xe1\r\n",
            b"Subject: =?utf-8?q?unterminated\r\n",
            b"From: <>\r\n",
            b'From: a@b.c, d@e.f, "x" <, @\r\n',
            b"Content-Type: multipart/mixed; boundary=\r\n",
            b'Content-Type: text/plain; charset="\r\n',
            b"Content-Transfer-Encoding: base64\r\n",
            b"Content-Type: text/plain; charset=utf-7\r\n",
            b"Content-Type: text/plain; charset=bogus-charset-name\r\n",
            b"Date: Thu, 31 Feb 99999 25:61:61 +9999\r\n",
            b"Message-ID: <" + b"a" * 5000 + b"@x>\r\n",
            b"References: " + b"<r@x> " * 3000 + b"\r\n",
            b"X-Long: " + b"a" * 200_000 + b"\r\n",
            b"X-Folded: a\r\n" + b" b\r\n" * 20_000,
            b"X-Many: 1\r\n" * 5000,
            b"Received: from x\r\n" * 500,
            b"\r\n",
        )
    )
    lines = raw.split(b"\n")
    at = rng.randrange(min(len(lines), 30) + 1)
    return b"\n".join(lines[:at]) + (b"\n" if at else b"") + junk + b"\n".join(lines[at:])


def _bomb(raw: bytes, rng: random.Random) -> bytes:
    """Something big or deep: nesting, thousands of parts, a megabyte line, hostile HTML."""
    head = b"From: x@y.test\r\nTo: actas@tracker.test\r\nSubject: Re: [MT-7K3Q] bomb\r\nMIME-Version: 1.0\r\n"
    kind = rng.randrange(6)
    if kind == 0:
        depth = rng.randint(50, 400)
        opening = b"".join(
            b'Content-Type: multipart/mixed; boundary="d%d"\r\n\r\n--d%d\r\n' % (i, i)
            for i in range(depth)
        )
        return head + opening + b"Content-Type: text/plain\r\n\r\nconfirmo\r\n"
    if kind == 1:
        parts = b"".join(
            b"--p\r\nContent-Type: text/plain\r\n\r\nparte %d\r\n" % i
            for i in range(rng.randint(500, 5000))
        )
        return head + b'Content-Type: multipart/mixed; boundary="p"\r\n\r\n' + parts + b"--p--\r\n"
    if kind == 2:
        return (
            head + b"Content-Type: text/plain\r\n\r\n" + b"confirmo " * rng.randint(10_000, 120_000)
        )
    if kind == 3:
        unit = rng.choice(
            (
                b"<a b='>'",
                b"<a",
                b"<!--",
                b"<a b='",
                b"<li></p>",
                b"<blockquote>",
                b"<table><tr><td>",
                b"&#x",
            )
        )
        size = rng.randint(10_000, 400_000) // len(unit)
        return head + b"Content-Type: text/html\r\n\r\n" + unit * size
    if kind == 4:
        return (
            head
            + b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes(rng.randbytes(rng.randint(1000, 300_000)))
        )
    lines = b"\r\n".join(
        b"> " * rng.randint(1, 60) + b"confirmo" for _ in range(rng.randint(100, 5000))
    )
    return head + b"Content-Type: text/plain\r\n\r\n" + lines


DESTRUCTIVE: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "flip": _flip,
    "insert": _insert,
    "cut": _cut,
    "delete": _delete,
    "repeat": _repeat,
    "boundary": _boundary,
    "headers": _headers,
}


def destroy(raw: bytes, rng: random.Random) -> tuple[bytes, list[str]]:
    """1-4 destructive operators on ``raw`` (or, now and then, a bomb instead)."""
    if rng.random() < 0.04:
        return _bomb(raw, rng), ["bomb"]
    steps = [rng.choice(sorted(DESTRUCTIVE)) for _ in range(rng.randint(1, 4))]
    for step in steps:
        raw = DESTRUCTIVE[step](raw, rng)
    return raw, steps
