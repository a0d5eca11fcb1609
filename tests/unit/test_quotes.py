"""Telling the author's own text from quoted mail, signatures, footers and disclaimers."""

from __future__ import annotations

import json
import re
import time
import unicodedata
from pathlib import Path

import pytest

from mailtrack.mail.parsed import ParsedMail
from mailtrack.mail.quotes import trim

ROOT = Path(__file__).resolve().parents[2]
REPLIES = ROOT / "tests/data/replies"
TRAIN = ROOT / "models/corpus/train"  # never heldout/: that split is for measurement only

REQUEST_ES = """Hola Juan:

Ana te pide que confirmes por escrito:

  1. [Acción] Reiniciar el servidor de staging
  2. [Decisión] Se congela el alcance de la fase 2

Cómo responder: CONFIRMO para confirmar todo; NO CONFIRMO 2: motivo."""
REQUEST_EN = """Hi John,

Please confirm in writing:

  1. [Action] Restart the staging server
  2. [Decision] Phase 2 scope is frozen

How to reply: CONFIRMED to confirm everything; NOT CONFIRMED 2: reason."""


def quoted(text: str, prefix: str = "> ") -> str:
    return "\n".join((prefix + line).rstrip() for line in text.split("\n"))


KEYWORD = re.compile(
    r"\b(?:co[nm]f[ir]{2}m\w*|confimr\w*|conforme|de acuerdo|agree\w*)\b", re.IGNORECASE
)


# -- quoted mail, per client --------------------------------------------------------


@pytest.mark.parametrize(
    "attribution",
    [
        "El jue, 26 nov 2026 a las 11:02, Actas (<actas@tracker.test>) escribió:",
        "El jue, 26 nov 2026, 11:02, Actas <actas@tracker.test> escribió:",
        "El lun, 3 nov 2025 a las 10:12, Ana García (<\nana@consultora.test>) escribió:",
        "El lun, 3 nov 2025 a las 10:12, Ana García <ana@consultora.test>\nescribió:",
        "On Thu, 26 Nov 2026 at 10:02, Actas <actas@tracker.test> wrote:",
        "On Mon, Nov 3, 2025 at 10:12 AM Ana <ana@x.test> wrote:",
        "On Thu, Nov 26, 2026 at 5:02 AM Actas <actas@tracker.test>\nwrote:",
        "Am Do., 26. Nov. 2026 um 11:02 Uhr schrieb Actas <actas@tracker.test>:",
        "Le jeu. 26 nov. 2026 à 11:02, Actas <actas@tracker.test> a écrit :",
        "On 11/26/26 5:02 AM, Actas wrote:",
        "El 26/11/26 a las 11:02, Actas escribió:",
    ],
)
def test_gmail_attribution_with_quote_below_leaves_only_the_answer(attribution: str) -> None:
    body = f"Confirmo 1 y 3\n\n{attribution}\n\n{quoted(REQUEST_ES)}\n"
    result = trim(body)
    assert result.text == "Confirmo 1 y 3"
    assert [s.kind for s in result.segments] == ["own", "header", "quote"]


@pytest.mark.parametrize(
    "header",
    [
        "De: Actas <actas@tracker.test>\nEnviado: jueves, 26 de noviembre de 2026 11:02\n"
        "Para: Juan Pérez <juan@cliente.test>\nAsunto: Confirma los acuerdos",
        "De: Actas <actas@tracker.test> \nEnviado el: jueves, 26 de noviembre de 2026 11:02\n"
        "Para: Juan Pérez <juan@cliente.test>\nCC: Ana <ana@x.test>\nAsunto: Confirma",
        "________________________________\nFrom: Actas <actas@tracker.test>\n"
        "Sent: Thursday, November 26, 2026 5:02 AM\nTo: John <john@x.test>\nSubject: Confirm",
        "*From:* Actas <actas@tracker.test>\n*Sent:* Thursday, November 26, 2026\n"
        "*To:* John <john@x.test>\n*Subject:* Please confirm",
        "-----Mensaje original-----\nDe: Actas [mailto:actas@tracker.test]\n"
        "Enviado el: jueves, 26 de noviembre de 2026 11:02\nPara: Juan\nAsunto: Confirma",
        "-----Original Message-----\nFrom: Actas [mailto:actas@tracker.test]\n"
        "Sent: Thursday, November 26, 2026 5:02 AM\nTo: John\nSubject: Please confirm",
        "-------- Mensaje original --------\nDe: Actas <actas@tracker.test>\n"
        "Fecha: 26/11/26 11:02 (GMT+01:00)\nPara: juan@cliente.test\nAsunto: Confirma",
        '----- Mensaje original -----\nDe: "Actas" <actas@tracker.test>\n'
        'Para: "Juan" <juan@cliente.test>\nEnviados: Jueves, 26 de Noviembre 2026 11:02:13\n'
        "Asunto: Confirma",
        "De: Actas\nEnviado: \u200ejueves\u200e, \u200e26\u200e de noviembre de 2026 11:02\n"
        "Para: María López\nAsunto: Confirma los acuerdos",
        "El jueves, 26 de noviembre de 2026, 11:02:13 CET, Actas <actas@tracker.test> escribió:",
    ],
)
def test_unprefixed_quote_below_a_header_is_quoted_to_the_end(header: str) -> None:
    body = f"Confirmo el 1.\r\n\r\n{header}\r\n\r\n{REQUEST_ES}\r\n"
    result = trim(body)
    assert result.text == "Confirmo el 1."
    assert "CONFIRMO" in result.quoted and "NO CONFIRMO" not in result.text


def test_apple_mail_attribution_inside_the_quote() -> None:
    body = "CONFIRMO.\n\n" + quoted(
        "El 26 nov 2026, a las 11:02, Actas <actas@tracker.test> escribió:\n\n" + REQUEST_ES
    )
    assert trim(body).text == "CONFIRMO."


def test_iphone_invisible_characters_before_and_after_the_quote_marker() -> None:
    body = (
        "Ok, confirmo todo\n\nEnviado desde mi iPhone\n\n"
        "> El 26 nov 2026, a las 11:02, Actas <actas@tracker.test> escribió:\n>\n"
        "> \ufeffHola Juan:\n\u200b> CONFIRMO para confirmar todo\n\ufeff>NO CONFIRMO 2\n"
    )
    result = trim(body)
    assert result.text == "Ok, confirmo todo"
    assert [s.kind for s in result.segments] == ["own", "footer", "header", "quote"]


def test_nested_quotes_with_and_without_spaces_are_quoted() -> None:
    body = "Vale.\n\n>> CONFIRMO\n> > confirmo\n>>>confirmo\n>confirmo"
    assert trim(body).text == "Vale."


def test_yahoo_indented_quote_below_its_attribution() -> None:
    body = (
        "Confirmed: 2 and 3.\n\n\nOn Thursday, 26 November 2026 at 10:02:13 GMT, "
        "Actas <actas@tracker.test> wrote:\n\n\n" + quoted(REQUEST_EN, "  ")
    )
    assert trim(body).text == "Confirmed: 2 and 3."


def test_thunderbird_bottom_posting_keeps_the_text_below_the_quote() -> None:
    body = "El 26/11/26 a las 11:02, Actas escribió:\n" + quoted(REQUEST_ES) + "\n\nConforme.\n"
    result = trim(body)
    assert result.text == "Conforme."
    assert [s.kind for s in result.segments] == ["header", "quote", "own"]


def test_inline_answers_between_quoted_items_keep_their_order_and_context() -> None:
    body = (
        "On Thu, Nov 26, 2026 at 5:02 AM Actas <actas@tracker.test> wrote:\n\n"
        ">   1. [Acción] Reiniciar el servidor\n\nConfirmo\n\n"
        ">   2. [Decisión] Se congela el alcance\n\nNo, esto no lo acordamos.\n"
    )
    result = trim(body)
    assert result.text == "Confirmo\n\nNo, esto no lo acordamos."
    kinds = [s.kind for s in result.segments]
    assert kinds == ["header", "quote", "own", "quote", "own"]
    assert "1. [Acción]" in result.segments[1].text and "2. [Decisión]" in result.segments[3].text


def test_outlook_inline_answers_marked_with_initials_count_when_announced() -> None:
    header = "De: Actas <actas@tracker.test>\nEnviado el: jueves, 26 de noviembre de 2026\n"
    header += "Para: Juan Pérez\nAsunto: Confirma los acuerdos\n"
    items = "  1. [Acción] Reiniciar\n[JP] CONFIRMADO\n  2. [Decisión] Congelar\n[JP] NO.\n"
    announced = trim(f"Te contesto entre líneas.\n\nJuan\n\n{header}\nHola Juan:\n{items}")
    assert announced.text == "Te contesto entre líneas.\n\n[JP] CONFIRMADO\n\n[JP] NO."
    silent = trim(f"Ver abajo.\n\n{header}\nHola Juan:\n{items}")
    assert silent.text == "Ver abajo."


def test_forward_in_a_reply_is_quoted() -> None:
    body = (
        "Ver abajo.\n\n---------- Forwarded message ---------\nDe: Roberto <r@x.test>\n"
        "Date: jue, 26 nov 2026 a las 13:15\nSubject: RE: Confirma\nTo: Marta <m@x.test>\n\n"
        "Confirmo, adelante con todo.\n"
    )
    result = trim(body)
    assert result.text == "Ver abajo."
    assert not result.forwarded


# -- "confirmo" outside the author's own text never reaches .text ------------------------


@pytest.mark.parametrize(
    "body",
    [
        "El jue, 26 nov 2026 a las 11:02, Actas (<actas@tracker.test>) escribió:\n\n"
        + quoted("Confirmo\n" + REQUEST_ES),
        "De: Actas <actas@tracker.test>\nEnviado el: jueves, 26 de noviembre de 2026\n"
        "Para: Juan\nAsunto: Confirma\n\n" + REQUEST_ES,
        "Gracias\n\nSent from my iPhone\n\n> On Nov 26, 2026, at 5:02 AM, Actas wrote:\n"
        "> Confirmed\n",
        "Carlos Ruiz\nDirector de Operaciones · Cliente S.A.\n"
        "Confirmo asistencia a reuniones solo por invitación de calendario.\n\n"
        "From: Actas <actas@tracker.test>\nSent: 26 November 2026 10:02\nTo: Carlos\n"
        "Subject: Please confirm\n\n" + REQUEST_EN,
        "Hola Ana, lo vemos en la próxima reunión.\n\nMaría López\n"
        "Calidad y Pruebas · Cliente S.A.\n«Lo que no está escrito, no está confirmado.»",
        "Thanks Ana, see you Thursday.\n\n-- \nJohn Smith | Head of IT | Northwind Ltd\n"
        "All orders are confirmed in writing.",
        "Lo miro.\n\nAVISO LEGAL: Este mensaje y sus anexos son confidenciales y se dirigen "
        "exclusivamente a su destinatario. Ningún acuerdo se considerará confirmado sin firma.",
        "Will check.\n\nThis email and any attachments are confidential and intended solely "
        "for the addressee. No agreement shall be deemed confirmed unless signed.",
        "Saludos,\nJavier Gómez\nSoporte N2 · Cliente S.A.\nTicket confirmado = ticket atendido",
    ],
)
def test_confirmation_only_in_quote_signature_or_disclaimer_is_never_own(body: str) -> None:
    assert not KEYWORD.search(trim(body).text)


def test_spanish_gdpr_notice_and_environment_note_are_disclaimers() -> None:
    body = (
        "Confirmo.\n\nDe conformidad con el Reglamento (UE) 2016/679 (RGPD), le informamos de "
        "que sus datos personales serán tratados por Cliente S.A.\n\n"
        "Antes de imprimir este correo, piense en el medio ambiente."
    )
    result = trim(body)
    assert result.text == "Confirmo."
    assert [s.kind for s in result.segments] == ["own", "disclaimer"]


def test_data_protection_as_a_topic_of_the_minutes_is_not_a_notice() -> None:
    topic = (
        "Protección de datos. El DPO externo tiene que revisar el registro de actividades "
        "antes del 31 de diciembre; le escribo yo mañana."
    )
    notice = (
        "Protección de datos. Le informamos de que sus datos personales serán tratados "
        "por Cliente S.A. conforme al Reglamento (UE) 2016/679."
    )
    body = f"Honorarios. Se actualizan las tarifas un 3 %.\n\n{topic}\n\nUn abrazo,\nAinhoa\n\n{notice}"
    assert trim(body).text.startswith("Honorarios.")
    assert topic in trim(body).text
    assert notice not in trim(body).text
    assert "AVISO LEGAL" not in trim("Confirmo.\n\nAVISO LEGAL: este mensaje es privado.").text


@pytest.mark.parametrize(
    "footer",
    [
        "Enviado desde mi iPhone",
        "Enviado desde mi Galaxy",
        "Sent from my iPhone",
        "Sent from Yahoo Mail on Android",
        "Get Outlook for iOS<https://aka.ms/o0ukef>",
        "Obtener Outlook para Android<https://aka.ms/AAb9ysg>",
        "Enviado desde Correo para Windows",
    ],
)
def test_mobile_footers_are_not_own_text(footer: str) -> None:
    result = trim(f"De acuerdo\n\n{footer}\n")
    assert result.text == "De acuerdo"
    assert result.segments[-1].kind == "footer"


# -- signatures against the last lines of minutes ----------------------------------------


def test_signature_after_a_closing_is_removed() -> None:
    body = (
        "Confirmado.\n\nUn saludo,\n\nJuan Pérez\nResponsable de Sistemas\n"
        "Cliente S.A. · Tel. +34 910 000 123\n"
    )
    result = trim(body)
    assert result.text == "Confirmado."
    assert result.segments[-1].kind == "signature"


def test_item_line_after_a_closing_is_never_taken_for_a_signature() -> None:
    body = "Acuerdos:\n- Se aprueba el presupuesto\n\nGracias,\nJuan revisa el contrato el viernes"
    assert trim(body).text == body


def test_minutes_ending_with_a_task_list_keep_every_line() -> None:
    body = (
        "Tareas:\n1. Ana García: revisar el contrato\n2. Juan Pérez\n"
        "Próximos Pasos\nJuan | revisar contrato | 4/12"
    )
    assert trim(body, keep_forwarded=True).text == body


def test_lone_name_closing_a_text_is_a_signature() -> None:
    assert trim("Confirmo todos los puntos.\n\nLucía\n").text == "Confirmo todos los puntos."
    assert trim("Confirmado").text == "Confirmado"


def test_dash_dash_signature_but_not_a_setext_heading() -> None:
    assert trim("Confirmed.\n\n-- \nTom Baker\nPMO").text == "Confirmed."
    minutes = "Acuerdos\n--\n1. Se aprueba el presupuesto"
    assert trim(minutes).text == minutes


def test_a_signature_with_its_dashes_after_a_closing_but_never_a_one_word_answer() -> None:
    closing = (
        "Quedamos así.\n\nSaludos,\n--\nDaniela Ochoa\nDirectora de Cuentas | Agencia Maguey\n"
    )
    assert trim(closing).text == "Quedamos así."
    named = "Un abrazo,\nAndrés Felipe\n--\nAndrés Felipe Ríos\nCoordinador de voluntariado\n"
    assert trim("Nos vemos el sábado.\n" + named).text == "Nos vemos el sábado."
    # A one-word line over an office is the answer and who gives it, not a signature:
    # dropping "Rechazo" would leave "Confirmo todo." alone.
    answer = "Confirmo todo.\n\nRechazo\nTesorera de la AMPA\n"
    assert "Rechazo" in trim(answer).text
    # Nor after a closing, with or without the "--": an answer word is never a name.
    for closing in ("Saludos,\n--\n", "Saludos,\n"):
        for word in ("Rechazo", "Excepto", "Acepto"):
            body = f"Confirmo todo.\n\n{closing}{word}\nTesorera de la AMPA\n"
            assert word in trim(body).text
    # A task under a first name is no title: it stays.
    minutes = "Tareas del mes.\n\nRafa\nRevisar las partituras nuevas antes del martes\n"
    assert trim(minutes).text == minutes.strip()


def test_postscript_after_a_signature_stays_own() -> None:
    body = "Confirmo.\n\nSaludos,\nAna\n\nPD: el punto 2 lo hablamos."
    assert "PD: el punto 2" in trim(body).text


# -- forwarded minutes ------------------------------------------------------------------

MINUTES = "Acuerdos:\n- Se aprueba el presupuesto.\n\nTareas:\n- Juan revisa el contrato."
GMAIL_FORWARD = (
    "---------- Mensaje reenviado ---------\nDe: Sonia <sonia@x.test>\n"
    "Date: lun, 9 feb 2026 a las 18:37\nSubject: Acta de ayer\nTo: Iñigo <i@x.test>\n\n\n"
)


def test_forwarded_minutes_with_a_short_note_are_the_content() -> None:
    result = trim(f"Os reenvío el acta de ayer.\n\n{GMAIL_FORWARD}{MINUTES}\n", keep_forwarded=True)
    assert result.forwarded
    assert result.text == f"Os reenvío el acta de ayer.\n\n{MINUTES}"
    assert "Subject:" not in result.text


def test_new_minutes_above_forwarded_old_minutes_drop_the_old() -> None:
    new = "Acta de hoy.\n\nAcuerdos:\n- Se aprueba el horario.\n\nTareas:\n- Eva actualiza la web."
    result = trim(f"{new}\n\n{GMAIL_FORWARD}{MINUTES}\n", keep_forwarded=True)
    assert not result.forwarded
    assert result.text == new


def test_outlook_forward_is_known_by_its_subject_or_note() -> None:
    header = (
        "From: Alisha <a@x.test>\nSent: Friday, March 20, 2026 4:52 PM\nTo: Greg <g@x.test>\n"
        "Subject: Minutes\n\n"
    )
    assert trim(f"Greg\n\n{header}{MINUTES}", keep_forwarded=True, subject="FW: Minutes").forwarded
    assert trim(f"FYI\n\n{quoted(header + MINUTES)}", keep_forwarded=True).forwarded
    reply = trim(f"Thanks, noted.\n\n{header}{MINUTES}", keep_forwarded=True, subject="RE: x")
    assert not reply.forwarded and reply.text == "Thanks, noted."


def test_apple_mail_forward_with_its_header_quoted() -> None:
    body = "Para vuestra información.\n\n" + quoted(
        "Inicio del mensaje reenviado:\n\nDe: Sonia <s@x.test>\nAsunto: Acta\n"
        "Fecha: 26 de octubre de 2021, 14:25:08 CEST\nPara: equipo@x.test\n\n" + MINUTES
    )
    result = trim(body, keep_forwarded=True)
    assert result.forwarded and MINUTES in result.text and "Asunto" not in result.text
    assert trim(body).text == "Para vuestra información."


def test_markdown_highlight_is_own_in_minutes_only() -> None:
    body = "Discusión del punto 2.\n\n> **Resolución 1: se aprueba el plan.**\n\nSiguiente punto."
    assert "Resolución 1" in trim(body, keep_forwarded=True).text
    assert "Resolución 1" not in trim(body).text


# -- invariants and hostile input -----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("", ""),
        ("\n\n", ""),
        ("solo texto", "solo texto"),
        ("> solo cita", ""),
        ("--", ""),
        ("De:", "De:"),
        ("\r\nHola\r\n", "Hola"),
    ],
)
def test_degenerate_bodies(body: str, text: str) -> None:
    result = trim(body)
    assert result.text == text
    assert "\n".join(s.text for s in result.segments) == body.replace("\r\n", "\n")


def test_segments_cover_the_body_and_text_is_the_own_segments() -> None:
    body = f"Confirmo\n\nUn saludo,\nJuan\n\nEl 26/11/26 a las 11:02, Actas escribió:\n{quoted(REQUEST_ES)}"
    result = trim(body)
    assert "\n".join(s.text for s in result.segments) == body
    own = [s.text.strip() for s in result.segments if s.kind == "own"]
    assert result.text == "\n\n".join(own)


def test_large_and_hostile_bodies_are_trimmed_quickly() -> None:
    bodies = [
        "Gracias\n" * 20_000,
        "> " * 2_000 + "confirmo\n",
        "\n".join(">" * depth + " x" for depth in range(1, 600)),
        "El 1 escribió:\n" * 5_000,
        "De: a\nPara: b\n" * 5_000,
        "x" * 500_000,
        "a" * 300 + ", wrote:\n" + "> " + " " * 390 + "\n",  # shapes that once backtracked
        ("a " * 150 + ", escribió:\n") * 200,
    ]
    for body in bodies:
        started = time.perf_counter()
        trim(body, keep_forwarded=True)
        trim(body)
        # A guard against runaway backtracking (minutes), not a speed test: about 0.2 s.
        assert time.perf_counter() - started < 30


# -- the project's reply fixtures ----------------------------------------------------------

ANSWER = re.compile(KEYWORD.pattern + r"|\b(?:ok|sí|yes|no|not right|reject)\b", re.IGNORECASE)
# Lines of the confirmation request: they are always quoted in a reply.
REQUEST_LINES = (
    "Cómo responder:",
    "How to reply:",
    "[Acción]",
    "[Decisión]",
    "[Action]",
    "[Decision]",
    "ha enviado el acta",
    "has sent the minutes",
    "mailtrack,",
    "AVISO LEGAL",
    "CONFIDENTIALITY NOTICE",
    "This email is confidential",
)
FIXTURES = sorted(REPLIES.glob("*.eml"))


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_reply_fixture_keeps_the_answer_and_nothing_quoted(path: Path) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    text = trim(ParsedMail.from_bytes(path.read_bytes()).text).text
    assert not [line for line in REQUEST_LINES if line in text]
    if expected["category"] in ("quoted_only", "signature_only"):
        assert not KEYWORD.search(text), text
    if expected["category"] in ("all", "some", "reject", "mixed", "other_sender"):
        assert ANSWER.search(text), text


# -- the extraction corpus (train split only) ------------------------------------------------


def _words(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", text))


GOLD = sorted(TRAIN.glob("*.gold.json"))


@pytest.mark.parametrize("gold", GOLD, ids=[p.name.split(".")[0] for p in GOLD])
def test_every_gold_item_survives_trimming(gold: Path) -> None:
    items = json.loads(gold.read_text(encoding="utf-8"))["items"]
    raw = (TRAIN / gold.name.replace(".gold.json", ".eml")).read_bytes()
    text = _words(trim(ParsedMail.from_bytes(raw).text, keep_forwarded=True).text)
    assert [item["text"] for item in items if not _kept(_words(item["text"]), text)] == []


def _kept(item: str, text: str) -> bool:
    """The item's words stand in the text, in order: together, or (a wrapped row of a
    plain-text table) with at most four words of the row's other cells between two."""
    if item in text:
        return True
    words, wanted = text.split(), item.split()
    for start, word in enumerate(words):
        if word != wanted[0]:
            continue
        position = start + 1
        for next_word in wanted[1:]:
            window = words[position : position + 5]
            if next_word not in window:
                break
            position += window.index(next_word) + 1
        else:
            return True
    return False


# Phrases from quoted older mail in the corpus that its gold excludes, and from forwards it keeps.
QUOTED_OLDER = {
    "111": "muestra de ladrillo caravista",
    "171": "Decidimos presentarnos al PICT",
    "186": "Confirmado el jueves a las 10:00",
    "203": "Dr. Navarrete",
    "211": "Arranca el taller de costura",
    "319": "set up the activation dashboard",
    "341": "revise the influencer shortlist",
    "398": "reconcile the intercompany balances",
    "413": "own the migration plan",
    "418": "Pledge drive dates and goal",
}
FORWARDED = {"117": "El abogado externo", "414": "Order reusable cups"}


@pytest.mark.parametrize(("name", "phrase"), sorted(QUOTED_OLDER.items()))
def test_quoted_older_mail_in_minutes_is_removed(name: str, phrase: str) -> None:
    raw = (TRAIN / f"{name}.eml").read_bytes()
    mail = ParsedMail.from_bytes(raw)
    result = trim(mail.text, keep_forwarded=True, subject=mail.subject)
    assert phrase in mail.text and phrase not in result.text
    assert not result.forwarded


@pytest.mark.parametrize(("name", "phrase"), sorted(FORWARDED.items()))
def test_forwarded_minutes_in_the_corpus_are_kept(name: str, phrase: str) -> None:
    mail = ParsedMail.from_bytes((TRAIN / f"{name}.eml").read_bytes())
    result = trim(mail.text, keep_forwarded=True)
    assert result.forwarded and phrase in result.text
    assert not re.search(r"^(?:> )?(?:From|De|Subject|Sent): ", result.text, re.MULTILINE)


def test_format_characters_inside_words_are_dropped_so_a_condition_still_reads() -> None:
    # Found by the fuzzer (benchmarks/fuzz.py, seed 1, case 1613): a zero-width joiner
    # inside "siempre" hid the condition, and "confirmo, siempre que ..." confirmed.
    from mailtrack.nlp.intent import understand

    for mark in ("\u200d", "\u200c", "\u00ad", "\u2060", "\u200b", "\U000e0041"):
        body = f"CONFIRMO, SIEM{mark}PRE QUE SE MUE{mark}VA LA FECHA AL LUNES, 1, 2 Y 4."
        trimmed = trim(body)
        assert trimmed.text == "CONFIRMO, SIEMPRE QUE SE MUEVA LA FECHA AL LUNES, 1, 2 Y 4."
        answers = understand(trimmed, 4, "es").answers
        assert all(a.state != "confirmed" for a in answers.values()), (mark, answers)


@pytest.mark.parametrize("space", ["", " ", "\u00a0", "\u2009", "\u202f", "  "])
def test_a_signature_delimiter_with_any_space_hides_what_follows(space: str) -> None:
    # Found by the fuzzer (benchmarks/fuzz.py, seed 1, case 46): "--" and a thin space,
    # then a confirmation inside the signature, confirmed items 2 and 3.
    body = f"Gracias.\n\n--{space}\nLucía Fernández\nConfirmed: 2 and 3.\nTel. +34 600 000 000\n"
    assert trim(body).text == "Gracias."
