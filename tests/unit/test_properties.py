"""Properties that must hold for any input, checked with hypothesis.

Each test states a promise of a parsing step for every mail, HTML body or
reply text hypothesis can make: parsing never raises; nothing read from a
header can carry a line break into a header we write; text inside a
blockquote is always marked quoted; a reply with a negation, a condition or
a question on its only confirmation, or whose confirmation stands only in
the quoted request, never confirms anything. The number of examples per
test is ``MAILTRACK_HYPOTHESIS_EXAMPLES`` (default 150); the long run sets
it higher (see docs/RELIABILITY.md, Fuzz).
"""

from __future__ import annotations

import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.fuzzing import touch

from mailtrack.mail.addressing import find_keys, new_token, reply_address, request_message_id
from mailtrack.mail.guards import away_until, detect_auto_reply, detect_bounce, own_mail_reason
from mailtrack.mail.html import html_to_text
from mailtrack.mail.parsed import ParsedMail, decode_header_value
from mailtrack.mail.quotes import trim
from mailtrack.nlp.intent import understand

EXAMPLES = int(os.environ.get("MAILTRACK_HYPOTHESIS_EXAMPLES", "150"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,  # time is measured by the fuzzer, not here: CI machines are busy
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TRACKER = "actas@tracker.test"
CONTROL = re.compile(r"[\r\n\x00]")

# --- mail as bytes ---------------------------------------------------------------------

CHARSETS = st.sampled_from(
    ["utf-8", "iso-8859-1", "windows-1252", "us-ascii", "utf-16", "bogus", "utf\x00", "", '"']
)
ENCODINGS = st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "x-uue", "binary", ""])
HEADER_NAMES = st.sampled_from(
    ["From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
     "Return-Path", "Auto-Submitted", "Precedence", "Sender", "X-Mailtrack-Loop",
     "Content-Type", "Authentication-Results", "Delivered-To", "List-Id"]
)  # fmt: skip
HEADER_VALUE = st.one_of(
    st.text(max_size=200),
    st.from_regex(r"=\?[a-z0-9-]{0,12}\?[bqBQx]\?[^?]{0,40}\?=", fullmatch=True),
    st.from_regex(r"[^<>\n]{0,20}<[a-z.+]{0,12}@[a-z.]{0,12}>", fullmatch=True),
)


def _header_block(pairs: list[tuple[str, str]]) -> bytes:
    return b"".join(
        f"{name}: {value}\r\n".encode("utf-8", "surrogatepass") for name, value in pairs
    )


@st.composite
def leaf(draw: st.DrawFn) -> bytes:
    ctype = draw(st.sampled_from(["text/plain", "text/html", "application/pdf", "message/rfc822",
                                  "text/enriched", "message/delivery-status", "image/png"]))  # fmt: skip
    head = f"Content-Type: {ctype}; charset={draw(CHARSETS)}\r\n"
    head += f"Content-Transfer-Encoding: {draw(ENCODINGS)}\r\n"
    if draw(st.booleans()):
        head += draw(st.sampled_from(["Content-Disposition: attachment; filename=a.txt\r\n",
                                      "Content-Disposition: inline\r\n"]))  # fmt: skip
    return head.encode() + b"\r\n" + draw(st.binary(max_size=300))


def multipart(children: st.SearchStrategy[list[bytes]]) -> st.SearchStrategy[bytes]:
    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report", "signed"]))
        boundary = draw(st.sampled_from(["b", "==x==", "", "a b", "-" * 80]))
        parts = draw(children)
        close = b"--" + boundary.encode() + b"--\r\n" if draw(st.booleans()) else b""
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
        head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode()
        return head + body + close

    return build()


MIME = st.recursive(leaf(), lambda inner: multipart(st.lists(inner, max_size=4)), max_leaves=8)


@st.composite
def mails(draw: st.DrawFn) -> bytes:
    headers = draw(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUE), max_size=12))
    return _header_block(headers) + b"MIME-Version: 1.0\r\n" + draw(MIME)


def read_everything(raw: bytes) -> None:
    parsed = ParsedMail.from_bytes(raw)
    touch(parsed)
    own_mail_reason(parsed, TRACKER)
    detect_bounce(parsed, TRACKER)
    detect_auto_reply(parsed, "es")
    away_until(parsed, "es")
    recipients = [a.email for a in parsed.addresses("To", "Cc", "Delivered-To")]
    find_keys(recipients, parsed.references, parsed.subject, TRACKER)


@SETTINGS
@given(st.binary(max_size=4000))
def test_any_bytes_parse_without_raising(raw: bytes) -> None:
    read_everything(raw)


@SETTINGS
@given(mails())
def test_any_mime_tree_parses_without_raising(raw: bytes) -> None:
    read_everything(raw)


@SETTINGS
@given(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUE), min_size=1, max_size=8))
def test_nothing_read_from_a_header_carries_a_line_break(headers: list[tuple[str, str]]) -> None:
    parsed = ParsedMail.from_bytes(_header_block(headers) + b"\r\nbody\r\n")
    for name in ("From", "To", "Subject", "Sender", "Message-ID"):
        for value in (parsed.header(name), parsed.raw_header(name), *parsed.headers(name)):
            assert value is None or not CONTROL.search(value)
    for address in parsed.addresses("From", "To", "Cc", "Sender"):
        assert not CONTROL.search(address.name)
        assert not any(c.isspace() for c in address.email)
    assert parsed.message_id is None or not CONTROL.search(parsed.message_id)


@SETTINGS
@given(st.text(max_size=300))
def test_an_encoded_line_break_in_a_name_or_subject_is_removed(text: str) -> None:
    encoded = (
        "=?utf-8?b?"
        + __import__("base64")
        .b64encode(f"Ana\r\nBcc: x@evil.test {text}".encode("utf-8", "surrogatepass"))
        .decode()
        + "?="
    )
    assert not CONTROL.search(decode_header_value(encoded))


# --- HTML ----------------------------------------------------------------------------------

TAGS = st.sampled_from(
    ["div", "p", "span", "li", "ul", "ol", "table", "tr", "td", "h1", "pre", "b", "a", "br",
     "script", "style", "blockquote", "font", "center", "section"]
)  # fmt: skip
HTML_TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30)


@st.composite
def html_trees(draw: st.DrawFn, depth: int = 0, broken: bool = True) -> str:
    """Markup from nested tags and text; with ``broken``, unfinished tags and comments too."""
    pieces = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.integers(0 if broken else 1, 4 if depth < 3 else 1))
        if kind == 0:
            pieces.append(draw(st.sampled_from(["<br>", "</div>", "<p", "<!--", "&#x", "<a b='"])))
        elif kind == 1:
            pieces.append(draw(HTML_TEXT).replace("&", "&amp;").replace("<", "&lt;"))
        else:
            tag = draw(TAGS)
            inner = draw(html_trees(depth=depth + 1, broken=broken))
            # Unclosed tags are broken too: an open <script> takes all that follows as code.
            closing = f"</{tag}>" if not broken or draw(st.booleans()) else ""
            pieces.append(f"<{tag}>{inner}{closing}")
    return "".join(pieces)


@SETTINGS
@given(st.text(max_size=2000))
def test_any_text_converts_as_html_without_raising(markup: str) -> None:
    html_to_text(markup)


@SETTINGS
@given(html_trees(broken=False), html_trees(), html_trees(broken=False))
def test_text_inside_a_blockquote_is_always_marked_quoted(
    before: str, inside: str, after: str
) -> None:
    # Whatever markup surrounds it, a word inside a blockquote is quoted. Broken markup
    # inside may hide the word (after "<p" it is an attribute name, as in a browser),
    # never unquote it. (Broken markup before the blockquote can swallow the blockquote
    # tag itself into an attribute, for browsers as well: then nothing is quoted.)
    markup = (
        f"<div>{before}</div><blockquote>{inside} MARCADOR {inside}</blockquote><div>{after}</div>"
    )
    text = html_to_text(markup)
    for line in text.split("\n"):  # lines as quote trimming cuts them
        if "MARCADOR" in line:
            assert line.startswith(">"), text


# --- quotes and replies ---------------------------------------------------------------------

WORDS = st.sampled_from(
    "hola gracias el la de que por favor punto fecha lunes viernes presupuesto servidor "
    "revisar equipo Ana Juan saludos thanks the date meeting item budget please next week "
    "1 2 3 y and , . ; : - ( ) ¡ ! 👍 ok".split()
)
SENTENCE = st.lists(WORDS, min_size=0, max_size=12).map(" ".join)
# Filler that says nothing itself: the words above can make "3 ok", a confirmation of
# item 3 of its own, beside which a doubt about 1 and 2 rightly leaves 3 confirmed.
NEUTRAL = SENTENCE.filter(lambda sentence: "ok" not in sentence.split())
CONFIRMATIONS = st.sampled_from(
    ["confirmo", "Confirmo todo", "confirmado", "de acuerdo", "conforme", "I confirm", "confirmed",
     "agreed", "confirmo 1 y 3", "Confirmo los puntos 1,2", "1 y 2 ok", "Confirmo el 2"]
)  # fmt: skip
NEGATED = st.sampled_from(
    ["no confirmo", "No confirmo nada", "no estoy de acuerdo", "no lo confirmo",
     "I don't confirm", "not confirmed", "I do not agree", "No confirmo el 1 ni el 2",
     "no confirmo todavía", "I can't confirm"]
)  # fmt: skip
DOUBTS = st.sampled_from(
    ["¿{c}?", "{c}?", "{c} pero cambiad la fecha", "{c} si se aprueba el presupuesto",
     "{c} siempre que se mueva al lunes", "{c} but please change the date",
     "{c} if the budget is approved", "¿Tengo que decir {c}?", "Te digo mañana si {c}",
     "I'll say {c} once I check", "{c}, provided the date moves"]
)  # fmt: skip


@SETTINGS
@given(st.lists(st.one_of(SENTENCE, st.just(""), st.just("-- "), st.just("> x")), max_size=30))
def test_trimming_keeps_every_quoted_line_out_of_the_answer(lines: list[str]) -> None:
    body = "\n".join(lines)
    trimmed = trim(body)
    for line in trimmed.text.splitlines():
        assert not line.lstrip().startswith(">")


@SETTINGS
@given(NEUTRAL, NEGATED, NEUTRAL, st.integers(1, 5))
def test_a_negated_answer_never_confirms(before: str, answer: str, after: str, n: int) -> None:
    text = f"{before}\n\n{answer}.\n\n{after}".strip()
    intent = understand(trim(text), n, "es")
    assert all(a.state != "confirmed" for a in intent.answers.values()), (text, intent)


@SETTINGS
@given(NEUTRAL, CONFIRMATIONS, DOUBTS, st.integers(1, 5))
def test_a_conditional_or_questioned_confirmation_never_confirms(
    before: str, answer: str, doubt: str, n: int
) -> None:
    text = f"{before}\n\n{doubt.format(c=answer)}".strip()
    intent = understand(trim(text), n, "es")
    assert all(a.state != "confirmed" for a in intent.answers.values()), (text, intent)


@SETTINGS
@given(SENTENCE, CONFIRMATIONS, st.integers(1, 5), st.sampled_from(["gmail", "outlook", "plain"]))
def test_a_confirmation_only_in_the_quoted_request_never_confirms(
    own: str, quoted: str, n: int, style: str
) -> None:
    if style == "gmail":
        body = f"{own}\n\nEl jue, 26 nov 2026 a las 11:02, Actas <actas@tracker.test> escribió:\n> {quoted}\n> 1. Tarea"
    elif style == "outlook":
        body = (
            f"{own}\n\n________________________________\nDe: Actas <actas@tracker.test>\n"
            f"Enviado: jueves, 26 de noviembre de 2026 11:02\nPara: Juan\nAsunto: Acta\n\n{quoted}\n1. Tarea"
        )
    else:
        body = f"{own}\n\n> {quoted}\n> 1. Tarea"
    words = {w.strip(",.") for w in own.lower().split()}
    intent = understand(trim(body), n, "es")
    if "ok" not in words and "👍" not in own:  # the own text itself may say "1 y 2 ok"
        assert all(a.state != "confirmed" for a in intent.answers.values()), (body, intent)


@SETTINGS
@given(
    st.lists(st.sampled_from(["actas", "otro", "actas+x", "b"]), max_size=3), st.text(max_size=60)
)
def test_request_keys_are_found_only_on_our_own_domain(locals_: list[str], subject: str) -> None:
    token = new_token()
    ours = [reply_address(TRACKER, token)]
    foreign = [f"{local}+{token}@evil.test" for local in locals_]
    foreign_id = request_message_id("actas@evil.test", token)
    keys = find_keys(foreign, [foreign_id], subject, TRACKER)
    assert keys.tokens == ()
    keys = find_keys(ours + foreign, [], subject, TRACKER)
    assert keys.tokens == ((token, "plus address"),)
