"""The extract contract end to end, with the trained pipelines shipped in models/pipelines."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.mails import make_mail

from mailtrack.cli import main
from mailtrack.mail.parsed import ParsedMail
from mailtrack.nlp.extract import Extractor
from mailtrack.nlp.segment import segment

TRACKER = "actas@tracker.test"
MINUTES_ES = """Hola a todos:

Os paso el acta de la reunión de seguimiento de hoy.

Asistentes: Ana, Juan Pérez, Luis Ortega.

Acuerdos:
1. Se aprueba el presupuesto de la fase 2 por 12.000 €.
2. Se congela el alcance hasta enero.

Tareas:
- Juan: reiniciar el servidor de staging el sábado.
- Luis enviará la oferta revisada antes del 15/12.
- Revisar el contrato con el proveedor (Ana), para el viernes.

Un saludo,
Ana
"""


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor(tracker=TRACKER, default_language="es")


def minutes() -> ParsedMail:
    return ParsedMail.from_bytes(
        make_mail(
            sender="Ana García <ana@consultora.test>",
            to="Juan Pérez <juan.perez@cliente.test>, Luis Ortega <lortega@cliente.test>",
            cc=f"Actas <{TRACKER}>",
            subject="Acta reunión de seguimiento",
            body=MINUTES_ES,
            message_id="<acta-1@consultora.test>",
        )
    )


def test_minutes_give_decisions_and_actions_with_owners_and_dates(extractor: Extractor) -> None:
    result = extractor.extract(minutes(), date(2026, 11, 26))
    data = result.as_contract()
    assert data["is_minutes"] is True
    assert data["language"] == "es"
    assert data["organizer"] == "ana@consultora.test"
    assert TRACKER not in [p["email"] for p in data["participants"]]
    items = [(i["kind"], i["owners"], i["due"]) for i in data["items"]]
    assert items == [
        ("decision", [], None),
        ("decision", [], None),
        ("action", ["juan.perez@cliente.test"], "2026-11-28"),
        ("action", ["lortega@cliente.test"], "2026-12-15"),
        ("action", ["ana@consultora.test"], "2026-11-27"),
    ]
    assert [i["number"] for i in data["items"]] == [1, 2, 3, 4, 5]
    assert data["items"][2]["text"].startswith("Reiniciar el servidor")
    assert data["items"][0]["section"] == "Acuerdos"


def test_a_line_that_dates_all_the_tasks_dates_those_without_their_own(
    extractor: Extractor,
) -> None:
    from mailtrack.nlp.extract import _ALL_TASKS

    body = MINUTES_ES.replace(
        "Un saludo,",
        "Finalización:\n- Antes del domingo dejar finalizadas todas las tareas.\n\nUn saludo,",
    ).replace(
        "- Juan: reiniciar el servidor de staging el sábado.", "- Juan: reiniciar el servidor."
    )
    mail = ParsedMail.from_bytes(
        make_mail(
            sender="Ana García <ana@consultora.test>",
            to="Juan Pérez <juan.perez@cliente.test>, Luis Ortega <lortega@cliente.test>",
            subject="Acta reunión de seguimiento",
            body=body,
            date=datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
        )
    )
    result = extractor.extract(mail, date(2026, 11, 26))
    dues = {item.text[:20]: item.due for item in result.items if item.kind == "action"}
    assert dues["Reiniciar el servido"] == date(2026, 11, 29)  # the Sunday of "todas las tareas"
    assert dues["Luis enviará la ofer"] == date(2026, 12, 15)  # its own date stays
    # "Tener todo para el lunes" under the notes says the same, shorter
    short = make_mail(
        sender="Ana García <ana@consultora.test>",
        to="Juan Pérez <juan.perez@cliente.test>, Luis Ortega <lortega@cliente.test>",
        subject="Acta reunión de seguimiento",
        body=body.replace(
            "- Antes del domingo dejar finalizadas todas las tareas.", "Tener todo para el lunes."
        ),
        date=datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
    )
    result = extractor.extract(ParsedMail.from_bytes(short), date(2026, 11, 26))
    dues = {item.text[:20]: item.due for item in result.items if item.kind == "action"}
    assert dues["Reiniciar el servido"] == date(2026, 11, 30)
    # "Dejar todo el stand montado antes del jueves" is one task, not a date for all
    assert _ALL_TASKS.search("tener todo para el lunes.")
    assert not _ALL_TASKS.search("dejar todo el stand montado antes del jueves 3 de diciembre")
    assert not _ALL_TASKS.search("get everything for the inspection ready by 1 december")
    assert _ALL_TASKS.search("have everything done by friday")
    # under a person's name it is that person's line, not a date for everyone's tasks
    grouped = make_mail(
        sender="Ana García <ana@consultora.test>",
        to="Juan Pérez <juan.perez@cliente.test>, Luis Ortega <lortega@cliente.test>",
        subject="Acta reunión de seguimiento",
        body="Tareas:\n\nLuis Ortega:\n- Enviar el contrato a Juan.\n"
        "- Tener todo listo para el lunes.\n\nJuan Pérez:\n- Revisar la web del cliente.\n",
        date=datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
    )
    result = extractor.extract(ParsedMail.from_bytes(grouped), date(2026, 11, 26))
    juan = [item for item in result.items if "juan.perez@cliente.test" in item.owners]
    assert juan and all(item.due is None for item in juan)


def test_only_a_deadline_dates_all_the_tasks_and_a_sentence_after_a_field_stays(
    extractor: Extractor,
) -> None:
    from mailtrack.nlp.extract import _attendance_line

    body = (
        "Actions:\n- Review of all open actions from the 20 April meeting: done.\n"
        "- Luis will book the room.\n"
    )
    mail = ParsedMail.from_bytes(
        make_mail(
            to="Juan Pérez <juan.perez@cliente.test>, Luis Ortega <lortega@cliente.test>",
            subject="Minutes",
            body=body,
            date=datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
        )
    )
    result = extractor.extract(mail, date(2026, 11, 26), gate=False)
    booked = [item for item in result.items if item.text.startswith("Luis will book")]
    assert booked and booked[0].due is None  # a past meeting's date is no deadline
    assert _attendance_line("Present: Deborah Kaplan, Toshiaki Koike, Laura Brady")
    assert not _attendance_line("Apologies: Kim will send her report by Friday to everyone.")


def test_a_thank_you_note_is_not_minutes(extractor: Extractor) -> None:
    mail = ParsedMail.from_bytes(
        make_mail(
            subject="Gracias por la reunión",
            body="Hola Juan,\n\nMuchas gracias por la reunión de ayer, fue muy útil. "
            "Nos vemos la semana que viene.\n\nUn abrazo,\nAna\n",
        )
    )
    result = extractor.extract(mail, date(2026, 11, 26))
    assert result.is_minutes is False
    assert result.items == ()


@pytest.mark.parametrize("header", [{"Auto-Submitted": "auto-generated"}, {"Precedence": "bulk"}])
def test_machine_mail_that_reads_like_minutes_is_not_minutes(
    extractor: Extractor, header: dict[str, str]
) -> None:
    # A ticket update or a newsletter quoting minutes: the service's router takes it for
    # machine mail and never for minutes, and extract says the same.
    mail = ParsedMail.from_bytes(
        make_mail(subject="Acta reunión de seguimiento", body=MINUTES_ES, headers=header)
    )
    result = extractor.extract(mail, date(2026, 11, 26))
    assert result.is_minutes is False
    assert result.items == ()
    # The same mail from a person is minutes.
    person = ParsedMail.from_bytes(
        make_mail(subject="Acta reunión de seguimiento", body=MINUTES_ES)
    )
    assert extractor.extract(person, date(2026, 11, 26)).is_minutes is True


@pytest.mark.parametrize(
    ("subject", "names_minutes"),
    [
        ("Acta reunión Comisión Directiva PyAr AC 10/05/2016", True),
        ("Minutes - Board meeting 12 May", True),
        ("Minutas del comité", True),
        ("Re: Acta de la reunión", False),  # an answer to the minutes
        ("Fwd: Minutes", False),
        ("Factura de mayo", False),
        ("Reactivación del proyecto", False),  # "acta" inside a word
    ],
)
def test_a_subject_that_names_the_minutes(subject: str, names_minutes: bool) -> None:
    from mailtrack.nlp.extract import _subject_names_minutes

    assert _subject_names_minutes(subject) is names_minutes


def test_quoted_older_minutes_yield_nothing(extractor: Extractor) -> None:
    body = (
        "Gracias, Ana. Lo reviso y te digo.\n\n"
        "El jue, 26 nov 2026 a las 10:00, Ana García <ana@consultora.test> escribió:\n"
        + "".join(f"> {line}\n" for line in MINUTES_ES.splitlines())
    )
    mail = ParsedMail.from_bytes(
        make_mail(sender="Juan <juan.perez@cliente.test>", subject="Re: Acta", body=body)
    )
    assert extractor.extract(mail, date(2026, 11, 26)).items == ()


def test_extract_cli_prints_the_json_contract(tmp_path: Path) -> None:
    eml = tmp_path / "acta.eml"
    eml.write_bytes(minutes().message.as_bytes())
    result = CliRunner().invoke(main, ["extract", str(eml), "--json", "--tracker", TRACKER])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {
        "message_id",
        "subject",
        "date",
        "language",
        "is_minutes",
        "organizer",
        "participants",
        "items",
    }
    assert data["message_id"] == "<acta-1@consultora.test>"
    assert set(data["items"][0]) == {
        "number",
        "kind",
        "text",
        "owners",
        "external_owner",
        "due",
        "section",
    }


def test_extract_cli_table_and_missing_file(tmp_path: Path) -> None:
    eml = tmp_path / "acta.eml"
    eml.write_bytes(minutes().message.as_bytes())
    table = CliRunner().invoke(main, ["extract", str(eml), "--tracker", TRACKER])
    assert table.exit_code == 0
    assert "Reiniciar" in table.output  # the table wraps long text
    assert "warning" not in table.stderr
    unknown = CliRunner().invoke(main, ["extract", str(eml), "--json"])
    assert unknown.exit_code == 0
    assert "no tracker address" in unknown.stderr
    json.loads(unknown.stdout)  # the warning never mixes into the JSON
    missing = CliRunner().invoke(main, ["extract", str(tmp_path / "nope.eml")])
    assert missing.exit_code == 1
    assert missing.stderr.startswith("mailtrack: cannot read")


def test_eval_cli_reports_scores_and_misses(tmp_path: Path) -> None:
    (tmp_path / "001.eml").write_bytes(minutes().message.as_bytes())
    gold = {
        "language": "es",
        "is_minutes": True,
        "items": [
            {
                "text": "Se aprueba el presupuesto de la fase 2 por 12.000 €.",
                "kind": "decision",
                "owners": [],
                "external_owner": None,
                "due": None,
            },
            {
                "text": "Juan: reiniciar el servidor de staging el sábado.",
                "kind": "action",
                "owners": ["juan.perez@cliente.test"],
                "external_owner": None,
                "due": "2026-11-28",
            },
            {
                "text": "Una tarea que el acta no dice",
                "kind": "action",
                "owners": [],
                "external_owner": None,
                "due": None,
            },
        ],
    }
    (tmp_path / "001.gold.json").write_text(json.dumps(gold))
    result = CliRunner().invoke(main, ["eval", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    overall = report["overall"]
    assert overall["items_gold"] == 3 and overall["items_predicted"] == 5
    assert overall["recall"] == pytest.approx(2 / 3, abs=1e-3)
    assert any("missed action: Una tarea" in miss for miss in report["misses"])


def test_document_context_names_how_the_minutes_mark_their_items() -> None:
    from mailtrack.nlp.features import document_context

    labeled = segment("ACTION: Ana to send the report\nWe talked about the budget at length.\n")
    assert document_context(labeled) == {"labeled"}
    transcript = segment("\n".join(f"Ana: point number {n} is fine" for n in range(6)))
    assert document_context(transcript) == {"transcript"}
    sections = segment("Acuerdos:\n- Se aprueba el presupuesto.\n\nOtros:\n- Hace calor.\n")
    assert document_context(sections) == {"sections"}
    # one item heading among many lines of notes does not gather the minutes' items
    notes = "".join(f"- Nota número {n} sobre el local.\n" for n in range(10))
    few = segment(f"Notas:\n{notes}\nTareas de los becarios:\n- Preparar las acreditaciones.\n")
    assert document_context(few) == {"fewsections"}
    assert document_context(segment("Hablamos del tiempo y del presupuesto.")) == set()


def test_neighbour_marks_say_a_request_was_accepted_and_a_reply_is_only_a_reply() -> None:
    from mailtrack.nlp.features import neighbour_marks

    chat = segment(
        "[10:02] Ana: Tomi, ¿podés actualizar el brandbook antes del viernes?\n"
        "[10:03] Tomi: dale, lo tengo el jueves\n"
        "[10:04] Ana: el cliente pidió otra paleta para la campaña de verano\n"
    )
    # Each line also says where it stands, in fifths of the mail.
    assert neighbour_marks(chat)[0] == ["MTNEXTACCEPT", "MTPOS0"]
    assert neighbour_marks(chat)[1] == ["MTPREVASK", "MTISACCEPT", "MTPOS1"]
    assert neighbour_marks(chat)[2] == ["MTPOS3"]
    # Folded, "sí" and "si" are one word: "Si llueve..." opens a condition, not a yes.
    conditional = segment("- Si llueve, se pospone la comida al domingo.\n- Va a haber lista.\n")
    assert neighbour_marks(conditional)[0] == ["MTPOS0"]
    assert neighbour_marks(conditional)[1] == ["MTPOS2"]


def test_mail_shape_marks_count_owners_speakers_and_first_person() -> None:
    from mailtrack.nlp.extract import mail_text, prepare

    report = make_mail(
        subject="Estado semanal",
        body="Esta semana terminé la migración. Mi plan: el lunes empiezo con el inventario y "
        "yo preparo el informe; después mi equipo revisa los switches.",
    )
    text = mail_text(
        prepare(
            ParsedMail.from_bytes(report),
            tracker="actas@tracker.test",
            default_language="es",
            today=date(2026, 11, 26),
        )
    )
    assert "MTISINGX3" in text.split()  # three words in 25 say "I": one person's report
    assert "MTSPEAKERSX0" in text.split()
    assert not [token for token in text.split() if token.startswith("MTGENRE")]


@pytest.mark.parametrize(
    ("subject", "first_line", "genre"),
    [
        ("Recordatorio: reunión del jueves", "Hola a todos:", "MTGENREREMINDER"),
        ("Tower B outage", "Incident notification for all tenants.", "MTGENRENOTICE"),
        ("Village bulletin - December", "News from the green.", "MTGENREBULLETIN"),
        ("Fiesta de egresados", "Te paso el presupuesto N° 0217.", "MTGENREQUOTE"),
    ],
)
def test_the_mail_classifier_reads_what_a_mail_says_it_is(
    subject: str, first_line: str, genre: str
) -> None:
    from mailtrack.nlp.extract import mail_text, prepare

    mail = make_mail(subject=subject, body=f"{first_line}\n\nLuis enviará el informe.")
    prepared = prepare(
        ParsedMail.from_bytes(mail),
        tracker="actas@tracker.test",
        default_language="es",
        today=date(2026, 11, 26),
    )
    assert genre in mail_text(prepared).split()


def test_short_plain_minutes_pass_the_gate_by_their_headings(extractor: Extractor) -> None:
    # The crash and load scenarios' minutes: two or three lines under "Decisions:" and
    # "Action items:". The mail classifier is less sure of such short mails than of
    # the corpus's; their headings make them minutes all the same (400 of them, both
    # languages, four layouts).
    import random

    from support import traffic

    rng = random.Random(7)
    organizers = traffic.people(3, "gate", rng, domain="consultora.test")
    pool = traffic.people(16, "gate", rng)
    missed = []
    for n in range(400):
        minutes = traffic.minutes_mail(n, rng, TRACKER, organizers[n % 3], pool)
        found = extractor.extract(ParsedMail.from_bytes(minutes.raw), date(2026, 11, 28))
        if not found.is_minutes or len(found.items) != 1 + len(minutes.participants):
            missed.append(f"{n} ({minutes.language}): {len(found.items)} items")
    assert missed == []


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("Hemos decidido hacerlo mediante la plataforma de entradas.", "MTCUEDECIDE"),
        ("Acordamos invertir lo recaudado en becas.", "MTCUEDECIDE"),
        ("We've decided to drop the Wednesday refinement.", "MTCUEDECIDE"),
        ("Habrá que imprimir las láminas del roll-up.", "MTCUEDO"),
        ("Flyer con el programa. Responsable: Juan Ignacio", "MTCUEDO"),
        ("Se faculta al Presidente para firmar el contrato.", "MTCUEDO"),
        ("I believe with the right amount of PR behind this it will be ok.", "MTCUESAYS"),
        ("Toma la palabra D. Luis, quien expone la situación del local.", "MTCUESAYS"),
        ("Dr. Pruitt to deliver his preliminary model by 12/12.", "MTCUETO"),
        ("Landscape architect (Moss & Fern) to study a drop-off lane.", "MTCUETO"),
        ("Sergio (@sdelquin) creará una cuenta de Youtube.", "MTCUEFUTURE"),
        ("Vamos a prescindir del blister de identificación.", "MTCUEFUTURE"),
        ("Kim will book the room.", "MTCUEFUTURE"),
        ("Por lo tanto, se acuerda la siguiente planificación.", "MTCUEOPENDECIDE"),
        ("It was agreed that the fee stays.", "MTCUEOPENDECIDE"),
        ("Alecu se llevó la tarea de mandar un mail-encuesta.", "MTCUETAKESON"),
    ],
)
def test_cue_words_name_what_a_line_says(text: str, cue: str) -> None:
    from mailtrack.nlp.features import cues

    assert cue in cues(text)


def test_plain_narration_has_no_decide_or_do_cue() -> None:
    from mailtrack.nlp.features import cues

    assert not {"MTCUEDECIDE", "MTCUEDO"} & set(cues("El tesorero presentó el informe económico."))
    assert "MTCUETO" not in cues("Welcome to the meeting, everyone.")
    assert "MTCUETO" not in cues("The venue is yet to be confirmed.")
    # "para" is not a future: the accent is read before folding
    assert "MTCUEFUTURE" not in cues("Para el recibí del dinero se usan facturas cruzadas.")
    # a decision word inside a report is not one opening the line
    assert "MTCUEOPENDECIDE" not in cues("El tesorero recordó que se decidió subir la cuota.")
    assert "MTCUEOPENDECIDE" not in cues("Consensus was not reached on the fee increase.")


def test_the_classifier_reads_the_list_marker_and_section_together() -> None:
    from mailtrack.nlp.features import classifier_text
    from mailtrack.nlp.owners import NOBODY

    done, taken = segment("Action items\n- [x] Update the runbook\n\nDecisions\n- [x] Go async\n")
    assert "MTMSCHECKDONEXACTIONS" in classifier_text(done, NOBODY, False, "en").split()
    assert "MTMSCHECKDONEXDECISIONS" in classifier_text(taken, NOBODY, False, "en").split()
    (agenda,) = segment("Orden del día\n1. Se aprueba el acta anterior.\n")
    assert {"MTCUEDECIDE", "MTCSDECIDEXAGENDA"} <= set(
        classifier_text(agenda, NOBODY, False, "es").split()
    )


def test_the_signature_says_which_office_the_organizer_holds() -> None:
    from mailtrack.nlp.extract import signature_roles

    raw = (
        "Minutes below.\n\n1. The Strata Manager will send the letter by Friday.\n\n"
        "Janet Whitford\nStrata Manager | Coastal Strata Management Ltd.\nSuite 300\n"
    )
    assert signature_roles(raw, "Janet Whitford") == ["Strata Manager"]
    assert signature_roles("Saludos,\nGloria Zapata\nSecretaria\n", "Gloria Zapata") == [
        "Secretaria"
    ]
    # A company or an address under the name is no office.
    assert (
        signature_roles("Regards,\nJanet Whitford\nCoastal Strata Ltd.\n", "Janet Whitford") == []
    )
    assert signature_roles("Janet Whitford\nStrata Manager\n", "Janet") == []  # one word: no name
    # An English office ends with its head word: "Town Clerk" is the clerk.
    town = "Janelle Fortin\nTown Clerk, Town of Prairie Bluff\nBox 190\n"
    assert signature_roles(town, "Janelle Fortin") == ["Town Clerk"]
    from mailtrack.nlp.people import Participant, PeopleIndex

    people = PeopleIndex.build([Participant("jfortin@town.test", "Janelle Fortin")], None)
    people.add_alias("Town Clerk", "jfortin@town.test")
    assert people.resolve("the Clerk") == {"jfortin@town.test"}
