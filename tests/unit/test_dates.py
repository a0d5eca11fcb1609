"""Due dates resolved against the mail's date, following the corpus guideline's table."""

from __future__ import annotations

from datetime import date

import pytest

from mailtrack.nlp.dates import due_date, find_dates

THURSDAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("es", "Juan reiniciará el servidor el sábado", "2026-11-28"),
        ("es", "para el viernes", "2026-11-27"),
        ("es", "el jueves", "2026-12-03"),  # strictly after the mail's own Thursday
        ("es", "antes del 15/12", "2026-12-15"),
        ("es", "antes del 15/11", "2027-11-15"),  # passed this year: next year
        ("es", "el viernes 12", "2026-12-12"),
        ("es", "mañana sin falta", "2026-11-27"),
        ("es", "pasado mañana", "2026-11-28"),
        ("es", "a fin de mes", "2026-11-30"),
        ("es", "antes del fin de semana", "2026-11-27"),
        ("es", "15 de diciembre", "2026-12-15"),
        ("es", "el 10 de enero de 2027", "2027-01-10"),
        ("es", "en dos semanas", "2026-12-10"),
        ("es", "2026-12-10", "2026-12-10"),
        ("es", "hoy", "2026-11-26"),
        ("en", "by Friday", "2026-11-27"),
        ("en", "EOW", "2026-11-27"),
        ("en", "next Monday", "2026-11-30"),
        ("en", "Dec 3", "2026-12-03"),
        ("en", "before 12/15", "2026-12-15"),
        ("en", "December 3rd, 2026", "2026-12-03"),
        ("en", "by end of month", "2026-11-30"),
        ("en", "within 3 days", "2026-11-29"),
        ("en", "tomorrow", "2026-11-27"),
        ("en", "Fri", "2026-11-27"),
        ("en", "the workshop on 12-13 May", "2027-05-13"),  # a range of days, not 13 December
        ("es", "las jornadas del 14-15 de diciembre", "2026-12-15"),
        ("en", "Ship the fix by 14 Dec (was 30 Nov)", "2026-12-14"),  # not the date it used to be
        ("es", "Entregar el informe el 18/12 (antes era el 4/12)", "2026-12-18"),
    ],
)
def test_written_dates_resolve(language: str, text: str, expected: str) -> None:
    assert due_date(text, THURSDAY, language) == date.fromisoformat(expected)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "the open session runs 6-8pm in the hall"),
        ("en", "office hours 9-11 a.m."),
        ("es", "la secretaría abre de 9-14h"),
        ("es", "turno de 17-19 h"),
    ],
)
def test_a_range_of_hours_is_no_date(language: str, text: str) -> None:
    assert due_date(text, THURSDAY, language) is None


def test_a_first_name_that_is_a_weekday_is_no_date() -> None:
    assert (
        due_date("Se faculta al Presidente, D. Domingo Suárez, para firmar", THURSDAY, "es") is None
    )
    assert due_date("Domingo Suárez revisará el muro", THURSDAY, "es") is None
    assert due_date("antes del Viernes", THURSDAY, "es") == date(2026, 11, 27)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "la semana que viene"),
        ("es", "reunión a las 10:30 en la sala 3"),
        ("es", "el lunes por la mañana"[:0] + "esta mañana hablamos"),
        ("es", "Presupuesto de 12.000 € aprobado"),
        ("es", "El 40% del equipo"),
        ("en", "next week"),
        ("en", "ASAP"),
        ("en", "We march on"),
        ("en", "version 2.1.3 ships"),
        ("en", "in Q1"),
    ],
)
def test_vague_or_non_dates_resolve_to_nothing(language: str, text: str) -> None:
    assert due_date(text, THURSDAY, language) is None


def test_a_cued_deadline_wins_over_an_earlier_mention() -> None:
    text = "Revisar el informe del 3 de diciembre antes del 15 de diciembre"
    assert due_date(text, THURSDAY, "es") == date(2026, 12, 15)
    mentions = find_dates(text, THURSDAY, "es")
    assert [m.cued for m in mentions] == [False, True]


def test_weekday_with_a_full_date_is_one_mention() -> None:
    found = find_dates("I'm back on Monday, December 8", THURSDAY, "en")
    assert [(m.text, m.value) for m in found] == [("Monday, December 8", date(2026, 12, 8))]


def test_a_weekday_before_a_numeric_date_is_that_date_and_takes_its_cue() -> None:
    text = "Draft the workbook - Owner - Aditi - by Friday 12/11"
    assert due_date(text, THURSDAY, "en") == date(2026, 12, 11)
    assert due_date("enviarlo antes del viernes, 11/12", THURSDAY, "es") == date(2026, 12, 11)
    # A weekday joins the date right after it, once: "viernes 13/03, 20/03 y 27/03" is three.
    found = find_dates("viernes 13/03, 20/03 y 27/03", date(2026, 3, 2), "es")
    assert [m.value for m in found] == [date(2026, 3, 13), date(2026, 3, 20), date(2026, 3, 27)]
    # Apart, they are two dates and the cued one wins.
    assert due_date("by Friday; the review is 12/11", THURSDAY, "en") == date(2026, 11, 27)


@pytest.mark.parametrize(
    "text", ["Plain ASCII Words", "Reunión del Comité", "ÁÉÍÓÚÜÑ àèìòù ª º", ""]
)
def test_folding_lowercases_and_strips_accents_keeping_the_length(text: str) -> None:
    from mailtrack.nlp.dates import fold

    expected = "".join(
        "aeiouunaeiouunaeiouaeiouaeioucao"["áéíóúüñÁÉÍÓÚÜÑàèìòùÀÈÌÒÙâêîôûçªº".index(char)]
        if char in "áéíóúüñÁÉÍÓÚÜÑàèìòùÀÈÌÒÙâêîôûçªº"
        else char.lower()
        for char in text
    )
    assert fold(text) == expected == fold(text)  # the second answer comes from the cache
    assert len(fold(text)) == len(text)
