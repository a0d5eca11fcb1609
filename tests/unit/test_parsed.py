"""Parsing received mail: never raises, decodes what it can, reads the body by MIME structure."""

from __future__ import annotations

import time

import pytest
from support.hostile import hostile_mails
from support.mails import make_mail

from mailtrack.mail.guards import detect_auto_reply, detect_bounce
from mailtrack.mail.html import html_to_text
from mailtrack.mail.parsed import ParsedMail

HOSTILE = hostile_mails(big_attachment_mb=2)


@pytest.mark.parametrize(("name", "raw"), HOSTILE, ids=[name for name, _ in HOSTILE])
def test_hostile_mail_parses_without_raising_and_quickly(name: str, raw: bytes) -> None:
    started = time.perf_counter()
    mail = ParsedMail.from_bytes(raw)
    values = (mail.sender, mail.subject, mail.date, mail.message_id, mail.references, mail.text)
    detect_bounce(mail, "actas@tracker.test") or detect_auto_reply(mail, "es")
    assert isinstance(values[1], str)
    assert "\r" not in mail.subject and "\n" not in mail.subject
    # A guard against runaway work (minutes), not a speed test: well under a second.
    assert time.perf_counter() - started < 30


def test_headers_in_8bit_latin1_and_utf8_are_decoded() -> None:
    for encoding in ("utf-8", "latin-1"):
        raw = "From: Ána Ñúñez <ana@x.test>\r\nSubject: Acta reunión\r\n\r\nx".encode(encoding)
        mail = ParsedMail.from_bytes(raw)
        assert mail.subject == "Acta reunión"
        assert mail.sender is not None and mail.sender.name == "Ána Ñúñez"


def test_rfc2047_words_and_folding_are_decoded() -> None:
    raw = b"Subject: =?utf-8?q?Acta_reuni=C3=B3n?=\r\n =?utf-8?b?w7FhbmTDug==?= final\r\n\r\nx"
    assert ParsedMail.from_bytes(raw).subject == "Acta reuniónñandú final"


def test_crlf_smuggled_in_an_encoded_subject_is_removed() -> None:
    raw = b"Subject: =?utf-8?q?Acta=0D=0ABcc:_victim@evil.test?=\r\n\r\nx"
    subject = ParsedMail.from_bytes(raw).subject
    assert "\n" not in subject and "\r" not in subject


def test_wrong_declared_charset_falls_back() -> None:
    raw = b'Content-Type: text/plain; charset="utf-8"\r\n\r\n' + "Reunión año".encode("latin-1")
    assert ParsedMail.from_bytes(raw).text == "Reunión año"


def test_plain_text_is_preferred_when_complete() -> None:
    raw = make_mail(
        body="Acuerdos:\n- Juan revisa el contrato.\n",
        html="<p>Acuerdos: Juan revisa el contrato.</p>",
    )
    assert ParsedMail.from_bytes(raw).text.startswith("Acuerdos:\n- Juan")


def test_html_wins_when_the_plain_part_is_a_stub() -> None:
    html = "<h2>Acuerdos</h2><table><tr><th>Tarea</th><th>Responsable</th></tr><tr><td>Revisar contrato</td><td>Juan</td></tr></table>"
    raw = make_mail(body="Este mensaje se ve mejor en HTML.\n", html=html)
    text = ParsedMail.from_bytes(raw).text
    assert "## Acuerdos" in text
    assert "Revisar contrato | Juan" in text


def test_an_attached_message_is_not_the_body() -> None:
    raw = (
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="q"\r\n\r\n'
        b"--q\r\nContent-Type: text/plain\r\n\r\nVer adjunto\r\n"
        b"--q\r\nContent-Type: message/rfc822\r\n\r\nSubject: old\r\n\r\nConfirmo\r\n--q--\r\n"
    )
    mail = ParsedMail.from_bytes(raw)
    assert mail.text == "Ver adjunto"
    assert len(mail.attached_messages) == 1


def test_html_keeps_lists_checkboxes_and_marks_quotes() -> None:
    html = (
        "<h3>Tareas</h3><ol><li>Enviar oferta</li><li>Revisar <b>plan</b></li></ol>"
        '<ul><li><input type="checkbox" checked> Hecho</li><li><input type="checkbox"> Pendiente</li></ul>'
        "<p>Un saludo</p>"
        '<div class="gmail_quote">El lun, Ana escribió:<blockquote>Confirmo todo</blockquote></div>'
    )
    text = html_to_text(html)
    assert "## Tareas" in text
    assert "1. Enviar oferta" in text and "2. Revisar plan" in text
    assert "- [x] Hecho" in text and "- [ ] Pendiente" in text
    quoted = [line for line in text.splitlines() if "Confirmo" in line]
    assert quoted and all(line.startswith(">") for line in quoted)


def test_a_definition_list_reads_as_names_over_their_entries() -> None:
    html = (
        "<dl><dt><b>Luis</b></dt><dd>Negociar el pago.</dd><dd>Actualizar la web.</dd>"
        "<dt>Yo:</dt><dd>Hablar con la gerencia.</dd></dl>"
    )
    assert html_to_text(html).splitlines() == [
        "Luis:",
        "- Negociar el pago.",
        "- Actualizar la web.",
        "Yo:",
        "- Hablar con la gerencia.",
    ]


def test_outlook_reply_header_quotes_everything_after_it() -> None:
    html = '<p>Confirmo el 1</p><div id="appendonsend"></div><hr><div id="divRplyFwdMsg">De: Actas</div><p>1. Punto</p>'
    lines = html_to_text(html).splitlines()
    assert lines[0] == "Confirmo el 1"
    assert all(line.startswith(">") for line in lines[1:] if line.strip())


def test_scripts_styles_and_images_leave_no_text() -> None:
    text = html_to_text(
        "<script>alert('confirmo')</script><style>.x{}</style><img src='http://x/y'><p>hola</p>"
    )
    assert text == "hola"


def test_a_zero_width_space_in_html_joins_the_word_it_is_in() -> None:
    # Found by the fuzzer: "m\u200bueva" became "m ueva", so "siempre que se mueva"
    # (a condition) no longer read as one. A browser shows "mueva".
    text = html_to_text("<div>Confirmo, siempre que se m\u200bueva la fecha al lunes</div>")
    assert text == "Confirmo, siempre que se mueva la fecha al lunes"
