"""Owners: names as minutes write them, resolved to the participants of the mail."""

from __future__ import annotations

import pytest

from mailtrack.nlp.owners import find_owners
from mailtrack.nlp.people import Participant, PeopleIndex, roles_in, table_initials
from mailtrack.nlp.segment import Candidate, segment

PEOPLE = PeopleIndex.build(
    [
        Participant("ana.garcia@consultora.test", "Ana García"),
        Participant("juan.perez@cliente.test", "Juan Pérez Gómez"),
        Participant("jmanuel@cliente.test", "Juan Manuel Ortiz"),
        Participant("benjamin.toro@cliente.test", "Benjamín Toro"),
        Participant("rob.lane@partner.test", "Robert Lane"),
        Participant("ksingh@board.test", "Kiran Singh"),
        Participant("mkowal@project.test", ""),
    ],
    sender="ana.garcia@consultora.test",
    aliases={"Chiqui": "ksingh@board.test"},
)


@pytest.mark.parametrize(
    ("mention", "email"),
    [
        ("Ana", "ana.garcia@consultora.test"),
        ("ana garcia", "ana.garcia@consultora.test"),
        ("García", "ana.garcia@consultora.test"),
        ("Sra. García", "ana.garcia@consultora.test"),
        ("Sr. Gómez", "juan.perez@cliente.test"),
        ("Pérez", "juan.perez@cliente.test"),
        ("JP", "juan.perez@cliente.test"),
        ("Juanma", "jmanuel@cliente.test"),
        ("Benja", "benjamin.toro@cliente.test"),
        ("Bob", "rob.lane@partner.test"),
        ("K. Singh", "ksingh@board.test"),
        ("@mkowal", "mkowal@project.test"),
        ("mkowal", "mkowal@project.test"),
        ("BENJAMIN", "benjamin.toro@cliente.test"),
        ("Chiqui", "ksingh@board.test"),
        ("Kiri", "ksingh@board.test"),  # a diminutive of the one Kiran
        ("Roby", "rob.lane@partner.test"),
        ("Coach Lane", "rob.lane@partner.test"),  # titles of office or calling
        ("Cllr Singh", "ksingh@board.test"),
        ("Enf. García", "ana.garcia@consultora.test"),
    ],
)
def test_a_name_resolves_to_its_participant(mention: str, email: str) -> None:
    assert PEOPLE.resolve(mention) == {email}


def test_a_name_two_participants_share_is_ambiguous() -> None:
    assert len(PEOPLE.resolve("Juan")) == 2  # Juan Pérez and Juan Manuel: nobody is chosen


def test_unknown_names_resolve_to_nobody() -> None:
    assert PEOPLE.resolve("Marta") == set()
    assert PEOPLE.resolve("Juani") == set()  # a diminutive of two Juans names neither


def test_roles_beside_names_become_aliases() -> None:
    text = "Asistentes: Kiran Singh (tesorero, secretaria del consejo), Ana García (Dirección)"
    roles = roles_in(text, PEOPLE)
    assert roles["tesorero"] == "ksingh@board.test"
    assert roles["secretaria del consejo"] == "ksingh@board.test"


def owners(text: str, **fields: object) -> tuple[tuple[str, ...], str | None]:
    candidate = Candidate(text, "Tareas", "actions", str(fields.pop("marker", "bullet")), **fields)  # type: ignore[arg-type]
    found = find_owners(candidate, PEOPLE)
    return found.emails, found.external


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Revisar el contrato. Responsable: Benjamín", ("benjamin.toro@cliente.test",)),
        ("Send the deck - Owner - Bob", ("rob.lane@partner.test",)),
        ("Enviar el presupuesto (Juanma)", ("jmanuel@cliente.test",)),
        ("Benja: preparar el pitch", ("benjamin.toro@cliente.test",)),
        ("Bisect the regression @mkowal", ("mkowal@project.test",)),
        ("Pérez se encarga de llamar al proveedor", ("juan.perez@cliente.test",)),
        ("Llamar al proveedor, a cargo de Sr. Gómez", ("juan.perez@cliente.test",)),
        ("K. Singh will place the order by March 20", ("ksingh@board.test",)),
        ("mkowal to bisect the TIFF regression", ("mkowal@project.test",)),
        (
            "Benja y Bob revisarán la oferta",
            ("benjamin.toro@cliente.test", "rob.lane@partner.test"),
        ),
        ("Quedamos en que Benjamín revisa el contrato", ("benjamin.toro@cliente.test",)),
        ("Me encargo de reservar la sala", ("ana.garcia@consultora.test",)),
        ("I'll circulate the notes", ("ana.garcia@consultora.test",)),
        ("Todos revisan el documento antes del lunes", tuple(p.email for p in PEOPLE.participants)),
        ("Preparar el pitch [Benja] [mié 11]", ("benjamin.toro@cliente.test",)),
        ("Contratar mozos – Bob – antes del jueves", ("rob.lane@partner.test",)),
        ("Benjamín (@btoro) creará la cuenta de YouTube", ("benjamin.toro@cliente.test",)),
        ("Benja → llamar al técnico de la inyectora (mañana)", ("benjamin.toro@cliente.test",)),
        ("Llamar al técnico → Bob", ("rob.lane@partner.test",)),
        (
            "Levantamiento topográfico a cargo del Ing. Pérez, antes del viernes",
            ("juan.perez@cliente.test",),
        ),
        ("Bob, ¿podés actualizar el brandbook antes del 27/02?", ("rob.lane@partner.test",)),
        ("Kiran, can you send the numbers by Friday?", ("ksingh@board.test",)),
        ("Contratar a dos cajeros. Resp: Benjamín. Fecha: 13/03", ("benjamin.toro@cliente.test",)),
        ("Share the antibiogram - Responsibility: Mr. Robert Lane", ("rob.lane@partner.test",)),
        ("Calibración del CTD — Benjamín, antes del 28/02.", ("benjamin.toro@cliente.test",)),
        (
            "Turnos de guardia — Benja y Bob, en dos semanas.",
            ("benjamin.toro@cliente.test", "rob.lane@partner.test"),
        ),
        (
            "@benja + @mkowal — interview 5 churned teams",
            ("benjamin.toro@cliente.test", "mkowal@project.test"),
        ),
        (
            "@Ana García @Kiran Singh reunión con el cliente",
            ("ana.garcia@consultora.test", "ksingh@board.test"),
        ),
        (
            "Benja y Kiran arman el calendario de viajes",
            ("benjamin.toro@cliente.test", "ksingh@board.test"),
        ),
        ("#accion mkowal renueva el VPS antes del 30", ("mkowal@project.test",)),
        ("1 carretilla grande será aportada por Benja", ("benjamin.toro@cliente.test",)),
        ("The minutes will be circulated by Kiran Singh", ("ksingh@board.test",)),
        ("Benja quedó en averiguar con el proveedor", ("benjamin.toro@cliente.test",)),
        # the clause that commits names the owner, not the one that reports
        (
            "Bob worried about the upgrade; Benja will add a section.",
            ("benjamin.toro@cliente.test",),
        ),
    ],
)
def test_owner_written_in_every_form_is_found(text: str, expected: tuple[str, ...]) -> None:
    emails, _ = owners(text)
    assert set(emails) == set(expected)


def test_an_owner_who_is_not_a_participant_is_kept_as_written() -> None:
    assert owners("Enviar los certificados. Responsable: el proveedor") == ((), "el proveedor")
    cell = {"owner": "Prevenalia (SPA)"}
    assert owners("Evaluar el ruido", marker="table", cells=cell) == ((), "Prevenalia (SPA)")
    assert owners("Se faculta a la Decana para suscribir el convenio.") == ((), "Decana")


def test_a_table_owner_cell_wins() -> None:
    assert owners("Resubmit the drawings", marker="table", cells={"owner": "K. Singh"}) == (
        ("ksingh@board.test",),
        None,
    )


def test_for_everyone_in_the_middle_is_not_everyone_owning_it() -> None:
    emails, _ = owners("Charla sobre seguridad para todos los operarios")
    assert emails == ()


def test_speaker_saying_ill_owns_the_action() -> None:
    emails, _ = owners("I'll open a PR for the linter", marker="speaker", speaker="Bob")
    assert emails == ("rob.lane@partner.test",)


def test_a_display_name_holding_an_address_names_nobody() -> None:
    # What a broken header fold (or a forger) makes of "Andrés <a@...>, Diego Gil <d@...>":
    # one mailbox, Diego's, whose display name carries Andrés's name and address.
    people = PeopleIndex.build(
        [
            Participant(
                "diego.gil@cliente.test",
                "Andrés Domínguez <andres.dominguez@cliente.test>, Diego Gil",
            )
        ],
        sender=None,
    )
    assert people.resolve("Andrés") == set()
    assert people.resolve("Domínguez") == set()
    assert people.resolve("Diego") == {"diego.gil@cliente.test"}  # from the address
    assert people.resolve("Gil") == {"diego.gil@cliente.test"}


# Formal minutes name offices, not people; the same mail says who holds them.
BOARD = PeopleIndex.build(
    [
        Participant("secretaria@comunidad.test", "Rubén Lasheras"),
        Participant("mangel.sancho@correo.test", "Miguel Ángel Sancho"),
        Participant("paznar@correo.test", "Pilar Aznar"),
        Participant("administracion@fincas.test", "Alfonso Luna - Fincas Luna"),
        Participant("jjperez@correo.test", "Jhon Jairo Pérez"),
        Participant("lortiz@correo.test", "Liliana Ortiz"),
        Participant("jrincon@correo.test", "Julián Rincón"),
        Participant("dk@correo.test", "Deepa Krishnan"),
        Participant("li.wei@correo.test", "Li Wei"),
        Participant("ruthann.p@correo.test", "Ruth-Ann Price"),
    ],
    sender="secretaria@comunidad.test",
)
BOARD_TEXT = (
    "Preside D. Miguel Ángel Sancho; actúa como secretario D. Rubén Lasheras.\n"
    "La tesorera, D.ª Pilar Aznar, explica que la cuota no alcanza.\n"
    "El coordinador de obras, señor Jhon Jairo Pérez, presenta tres cotizaciones.\n"
    "ASISTENTES: Dr. Julián Rincón, Jefe Liliana Ortiz.\n"
)
for _role, _email in roles_in(BOARD_TEXT, BOARD).items():
    BOARD.add_alias(_role, _email)


def board_owners(text: str, **fields: object) -> tuple[str, ...]:
    marker = str(fields.pop("marker", "prose"))
    candidate = Candidate(text, "Acuerdos", "decisions", marker, **fields)  # type: ignore[arg-type]
    return find_owners(candidate, BOARD).emails


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("La tesorera girará los recibos en abril.", {"paznar@correo.test"}),
        ("La Presidenta convocará la junta.", {"mangel.sancho@correo.test"}),  # either gender
        ("El administrador lo consultará con el electricista.", {"administracion@fincas.test"}),
        ("La administración pide tres presupuestos.", {"administracion@fincas.test"}),
        ("El coordinador de obras presentará el plan.", {"jjperez@correo.test"}),
        (
            "Se faculta al Presidente y a la Secretaria para elevar a público los acuerdos.",
            {"mangel.sancho@correo.test", "secretaria@comunidad.test"},
        ),
        ("Se encomienda a la tesorera la apertura de la cuenta.", {"paznar@correo.test"}),
        (
            "El delegado de obras, Jhon Jairo Pérez, solicitará las cotizaciones.",
            {"jjperez@correo.test"},
        ),
        ("Reentrenar al personal. Responsable: Jefe Liliana Ortiz.", {"lortiz@correo.test"}),
    ],
)
def test_an_office_resolves_to_whoever_the_mail_says_holds_it(
    text: str, expected: set[str]
) -> None:
    assert set(board_owners(text)) == expected


def test_an_office_nobody_was_declared_to_hold_is_nobody() -> None:
    assert board_owners("El interventor emitirá informe.") == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Li to pair with Finance on the numbers", {"li.wei@correo.test"}),  # two letters
        ("Ruth-Ann and Deepa: draft the letter", {"ruthann.p@correo.test", "dk@correo.test"}),
        ("DK to confirm the runbook with the application owners by 6 March.", {"dk@correo.test"}),
        ("Uniform jackets: Deepa will take them to the cleaner", {"dk@correo.test"}),
        ("ACTION 41.1: Deepa to publish the spec by April 30.", {"dk@correo.test"}),
        ("En cuanto a los pasos, Deepa preparará el modelo financiero.", {"dk@correo.test"}),
        (
            "Los menús se publican en la web; Li Wei se compromete a hacerlo.",
            {"li.wei@correo.test"},
        ),
    ],
)
def test_owners_minutes_write_in_passing(text: str, expected: set[str]) -> None:
    assert set(board_owners(text, marker="bullet")) == expected


def test_a_mark_with_a_list_of_doers_takes_them_all() -> None:
    emails = board_owners("Deepa and Li to set up the project", marker="label", label="action")
    assert set(emails) == {"dk@correo.test", "li.wei@correo.test"}
    assert set(owners("@mkowal and @btoro to write the report")[0]) == {
        "mkowal@project.test",
        "benjamin.toro@cliente.test",
    }


def test_in_a_pasted_chat_i_is_whoever_wrote_the_line_not_the_sender() -> None:
    assert board_owners("Deepa Krishnan 09:34 me encargo de avisar a soporte") == (
        "dk@correo.test",
    )
    assert board_owners("[9:17 AM] Wei, Li I'll do the Nordics ones") == ("li.wei@correo.test",)
    assert board_owners("Trish (me): update the sheet") == ()  # not the sender: nobody


def test_who_moved_seconded_or_voted_owns_nothing() -> None:
    assert board_owners("The grants are awarded as recommended. (4-0, Krishnan abstaining)") == ()
    assert board_owners("RESOLVED (Deepa / Li) That the minutes be confirmed.") == ()


def test_how_a_vote_went_is_not_who_does_it() -> None:
    assert board_owners("Se aprueba, con tres votos a favor (Deepa y Li) y una abstención.") == ()
    assert board_owners("Motion to raise the fee. Passed 4-1 (Krishnan no).") == ()
    # A year and a number are not a tally: "AI-2026-32 (Deepa)" still names her.
    assert board_owners("AI-2026-32 (Deepa): send the liaison statement") == ("dk@correo.test",)


def test_a_shared_office_names_everyone_who_holds_it() -> None:
    from mailtrack.nlp.people import shared_roles

    people = PeopleIndex.build(BOARD.participants, "dk@correo.test")
    shared_roles("WG session\nChairs: Deepa Krishnan, Li Wei\nMinutes: Ruth-Ann\n", people)
    found = find_owners(Candidate("Chairs will issue a WGLC.", None, "actions", "bullet"), people)
    assert found.emails == ("dk@correo.test", "li.wei@correo.test")
    # Only a known office, and only when every name is one participant.
    people = PeopleIndex.build(BOARD.participants, "dk@correo.test")
    shared_roles("Guests: Deepa Krishnan, Li Wei\nChairs: Deepa Krishnan, Nadie Nunca\n", people)
    assert people.groups == {}


def test_a_long_run_of_letters_does_not_stall_the_role_search() -> None:
    # A base64 body shown as text (16 KB, no spaces, no brackets) took 5.7 s when every
    # capital letter started a name running to the end; a hang guard, not a speed test.
    import base64
    import time

    blob = base64.b64encode(("Dear all, draft minutes of the committee. " * 300).encode()).decode()
    started = time.monotonic()
    assert roles_in(blob, BOARD) == {}
    assert time.monotonic() - started < 2.0


def test_a_spanish_adjective_that_is_also_a_role_names_nobody() -> None:
    people = PeopleIndex.build([Participant("alcaldia@ayto.test", "Alcaldía")], sender=None)
    assert people.resolve("la mayor parte del equipo") == set()
    assert people.resolve("el principal problema") == set()
    assert people.resolve("The Mayor") == {"alcaldia@ayto.test"}
    assert people.resolve("la Alcaldesa") == {"alcaldia@ayto.test"}


@pytest.mark.parametrize(
    ("mention", "email"),
    [
        ("jvdberg", "jan@vandenberg.example"),
        ("amira_h", "ahaddad@tansy.example"),
        ("@jiawu-dev", "jia.wu@fastfold.example"),
        ("jaepark", "jae@parkfamily.example"),
    ],
)
def test_handles_made_of_a_name_resolve(mention: str, email: str) -> None:
    people = PeopleIndex.build(
        [
            Participant("jan@vandenberg.example", "Jan van den Berg"),
            Participant("ahaddad@tansy.example", "Amira Haddad"),
            Participant("jia.wu@fastfold.example", "Jia Wu"),
            Participant("jae@parkfamily.example", "Jae Park"),
        ],
        sender=None,
    )
    assert people.resolve(mention) == {email}


def test_name_is_doing_is_that_person_not_a_possessive() -> None:
    assert owners("Kiran's calling the refrigeration company tomorrow")[0] == ("ksingh@board.test",)
    assert owners("Kiran's going to check the hoses")[0] == ("ksingh@board.test",)
    assert owners("Kiran's budget line stays as it is")[0] == ()


def test_a_chat_turn_belongs_to_whom_it_names_not_to_its_speaker() -> None:
    def turn(text: str) -> tuple[tuple[str, ...], str]:
        found = find_owners(Candidate(text, None, "other", "speaker", speaker="Bob"), PEOPLE)
        return found.emails, found.how

    assert turn("Kiran signs off on the budget line") == (("ksingh@board.test",), "subject")
    assert turn("I'll chase the vendor for the keys") == (("rob.lane@partner.test",), "speaker")
    # Nobody named: the speaker, but only as the one who said it (a decision stays one).
    assert turn("we're freezing merges to main until the test is fixed") == (
        ("rob.lane@partner.test",),
        "turn",
    )


def test_initials_that_are_words_name_someone_only_in_capitals() -> None:
    people = PeopleIndex.build(
        [
            Participant("elara@obra.test", "Ernesto Lara"),
            Participant("pnava@obra.test", "Pedro Nava"),
            Participant("laguirre@obra.test", "Laura Aguirre"),
            Participant("narango@obra.test", "Nadia Arango"),
            Participant("drestrepo@obra.test", "Diego Restrepo"),
        ],
        sender="elara@obra.test",
    )
    for text in (
        "El residente da la plática mañana",
        "La tesorera compra el material",
        "EL PRESIDENTE Y LA SECRETARIA firman el acta",  # a line in capitals
        "Responsable: N/A",
    ):
        assert find_owners(Candidate(text, None, "other", "bullet"), people).emails == ()
    assert people.resolve("PN") == {"pnava@obra.test"}
    assert people.resolve("EL") == {"elara@obra.test"}
    assert people.resolve("El") == set()
    found = find_owners(
        Candidate("NA y DR – montar el cronograma", None, "other", "bullet"), people
    )
    assert found.emails == ("narango@obra.test", "drestrepo@obra.test")


def test_an_apostrophe_inside_a_surname_does_not_hide_it() -> None:
    people = PeopleIndex.build(
        [
            Participant("f.oneill@school.test", "Fiona O'Neill"),
            Participant("ana@school.test", "Ana"),
        ],
        sender="ana@school.test",
    )
    assert people.resolve("Ms O'Neill") == {"f.oneill@school.test"}
    assert people.resolve("Ms O’Neill") == {"f.oneill@school.test"}
    assert people.resolve("Fiona O'Neill") == {"f.oneill@school.test"}


def test_an_attendance_role_names_its_holder_by_its_first_word() -> None:
    people = PeopleIndex.build(
        [Participant("pnava@obra.test", "Pedro Nava"), Participant("ecruz@obra.test", "Eva Cruz")],
        sender="ecruz@obra.test",
    )
    for role, email in roles_in(
        "Asistentes:\nIng. Pedro Nava (residente de obra)\n", people
    ).items():
        people.add_alias(role, email)
    found = find_owners(
        Candidate("El residente da la plática mañana", None, "other", "bullet"), people
    )
    assert found.emails == ("pnava@obra.test",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lo del contrato lo mira Benja con los datos de marzo", ("benjamin.toro@cliente.test",)),
        ("La lista la carga Kiran antes del viernes", ("ksingh@board.test",)),
        ("Lo comentó Benja en la reunión", ()),  # who spoke, not who does it
    ],
)
def test_a_doer_after_the_verb_owns_it(text: str, expected: tuple[str, ...]) -> None:
    assert find_owners(Candidate(text, None, "other", "prose"), PEOPLE).emails == expected


def test_an_unknown_title_before_a_surname_still_names_them() -> None:
    assert PEOPLE.resolve("EU Singh") == {"ksingh@board.test"}


def test_offices_joined_with_articles_are_both_owners() -> None:
    people = PeopleIndex.build(
        [
            Participant("masancho@pena.test", "Miguel Sancho"),
            Participant("rlas@pena.test", "Rubén Lasheras"),
        ],
        sender="rlas@pena.test",
    )
    people.add_alias("presidente", "masancho@pena.test")
    people.add_alias("secretario", "rlas@pena.test")
    text = "El presidente y el secretario firmarán el contrato antes del 31 de marzo."
    found = find_owners(Candidate(text, None, "other", "bullet"), people)
    assert set(found.emails) == {"masancho@pena.test", "rlas@pena.test"}


def test_the_name_before_an_arrow_and_a_task_in_lowercase_owns_it() -> None:
    # Not a participant: kept as written, never the task's first word ("cambiar").
    assert owners("Homero → cambiar el molde de la tapa (hoy)") == ((), "Homero")


def test_an_office_on_a_line_of_the_attendance_with_a_note_after_the_name() -> None:
    people = PeopleIndex.build(
        [
            Participant("rmedina@ayto.test", "Rocío Medina Pérez"),
            Participant("secretaria@ayto.test", "Gloria Espinosa Martín"),
        ],
        sender="secretaria@ayto.test",
    )
    text = (
        "Presidenta: Dña. Rocío Medina Pérez (Grupo Municipal Independiente)\n"
        "Secretaria: Dña. Gloria Espinosa Martín, que da fe del acto.\n"
    )
    found = roles_in(text, people)
    assert found["Presidenta"] == "rmedina@ayto.test"
    assert "Secretaria" not in found  # the address already says it (secretaria@)


def test_offices_with_their_field_and_initials_from_an_attendance_table() -> None:
    from mailtrack.nlp.people import table_initials

    people = PeopleIndex.build(
        [
            Participant("ehalpin@council.test", "Eamon Halpin"),
            Participant("wcardenas@school.test", "Wilson Cárdenas"),
            Participant("bsainz@ayto.test", "Beatriz Sainz Ortiz"),
            Participant("olu@tc.test", "Olu Adeyemi"),
            Participant("ravi.kumar@pay.test", "Ravi Kumar"),
            Participant("ravi.shankar@pay.test", "Ravi Shankar"),
        ],
        "ehalpin@council.test",
    )
    text = (
        "In attendance: Mr Eamon Halpin, Director of Services\n"
        "Asistentes: Wilson Cárdenas (coordinador académico)\n"
        "Dña. Beatriz Sainz Ortiz, Concejala de Festejos y Cultura (PP)\n"
        "| Olu Adeyemi | OAD | Brightline |\n"
    )
    for role, email in roles_in(text, people).items():
        people.add_alias(role, email)
    table_initials(text, people)

    def who(line: str) -> tuple[str, ...]:
        return find_owners(Candidate(line, None, "actions", "prose"), people).emails

    assert who("The Director of Services agreed to bring a costed list.") == (
        "ehalpin@council.test",
    )
    assert who("El coordinador académico ajustará el cronograma.") == ("wcardenas@school.test",)
    assert who("La Concejala de Festejos se compromete a presentar el programa.") == (
        "bsainz@ayto.test",
    )
    assert who("OAD to send venue and hotel details.") == ("olu@tc.test",)
    assert who("Ravi K to pick up PAY-915") == ("ravi.kumar@pay.test",)
    assert who("Ravi S: load test the mandate API") == ("ravi.shankar@pay.test",)
    assert who("Ravi to look at it") == ()  # two Ravis: nobody is chosen


def test_i_in_a_chat_or_transcript_turn_is_its_speaker() -> None:
    for line in ("Li Wei (00:03:40): I can pull those numbers", "[10:07] <Li> I can write it"):
        candidate = segment_line(line)
        assert candidate.speaker is not None
        assert find_owners(candidate, BOARD).emails == ("li.wei@correo.test",)


def segment_line(line: str) -> Candidate:
    return segment(line + "\n")[0]


def test_short_forms_a_display_name_or_three_letters_give() -> None:
    people = PeopleIndex.build(
        [
            Participant("ezequiel@red.test", "Ezequiel Roldán"),
            Participant("mlgracia@ampa.test", "Mª Luisa (Marisa) Gracia"),
            Participant("pleon@firm.test", "Pablo León (Legal)"),
            Participant("dpark@orm.test", "Daniel Park"),
            Participant("con@coop.test", "Consuelo Vidal"),
        ],
        "dpark@orm.test",
    )

    def who(line: str) -> tuple[str, ...]:
        return find_owners(Candidate(line, None, "actions", "bullet"), people).emails

    assert who("Eze consigue el permiso de la Municipalidad") == ("ezequiel@red.test",)
    assert who("Marisa enviará un último recordatorio") == ("mlgracia@ampa.test",)
    assert who("Legal revisará las cláusulas") == ()  # a department in brackets is no name
    assert who("Con el club hablamos el lunes") == ()  # a word, not Consuelo
    assert who("#1901 (docs: async examples outdated): Daniel will update them") == (
        "dpark@orm.test",
    )


def test_several_offices_on_one_attendance_line() -> None:
    people = PeopleIndex.build(
        [
            Participant("fincas.ortega@adm.test", "Ramón Ortega"),
            Participant("jlpastor@correo.test", "José Luis Pastor"),
            Participant("merche@correo.test", "Mercedes Alcaraz"),
        ],
        "fincas.ortega@adm.test",
    )
    text = (
        "Presidente: D. José Luis Pastor (2.º A). Vicepresidenta: Dña. Mercedes Alcaraz (5.º C).\n"
        "Secretario-administrador: D. Ramón Ortega (Administraciones Ortega).\n"
    )
    for role, email in roles_in(text, people).items():
        people.add_alias(role, email)

    def who(line: str) -> tuple[str, ...]:
        return find_owners(Candidate(line, None, "actions", "prose"), people).emails

    assert who("El presidente hablará con el titular del local.") == ("jlpastor@correo.test",)
    assert who("La vicepresidenta llamará al seguro.") == ("merche@correo.test",)
    assert who("El administrador presentará la solicitud.") == ("fincas.ortega@adm.test",)


def _owners_of(text: str, people: PeopleIndex) -> list[tuple[str, tuple[str, ...], str | None]]:
    from mailtrack.nlp.owners import names_participant

    found = segment(text, person=lambda name: names_participant(name, people))
    return [(c.text, (o := find_owners(c, people)).emails, o.external) for c in found]


SITE = PeopleIndex.build(
    [
        Participant("lortega@gc.test", "Luis Ortega"),
        Participant("phale@district.test", "Patricia Hale"),
        Participant("kim.tran@builder.test", "Kim Tran"),
        Participant("sophie@studio.test", "Sophie Marchetti"),
        Participant("ob@farmacia.test", "Oriana Bracho"),
    ],
    "ob@farmacia.test",
)


def test_a_name_heading_its_tasks_owns_them() -> None:
    text = (
        "Quién hace qué\n\n"
        "Luis:\n- Negociar las condiciones de pago, antes del martes 15.\n"
        "- Actualizar los horarios en la web.\n"
        "**Kim Tran**\n- Order the formwork.\n"
        "- Patricia:\n  - Confirm the delivery window.\n"
        "Yo:\n- Hablar con la gerencia regional.\n"
        "Patricia confirms the delivery date.\n\n"  # after the list: no longer the writer's
        "Ana Sosa:\n- Revisar el presupuesto.\n"  # not a participant: no owner from her name
    )
    assert _owners_of(text, SITE) == [
        ("Negociar las condiciones de pago, antes del martes 15.", ("lortega@gc.test",), None),
        ("Actualizar los horarios en la web.", ("lortega@gc.test",), None),
        ("Order the formwork.", ("kim.tran@builder.test",), None),
        ("Confirm the delivery window.", ("phale@district.test",), None),
        ("Hablar con la gerencia regional.", ("ob@farmacia.test",), None),
        ("Patricia confirms the delivery date.", ("phale@district.test",), None),
        ("Revisar el presupuesto.", (), None),
    ]
    # Under the name heading the section is still the one above it.
    kinds = {c.section_kind for c in segment(text, person=lambda name: name == "Luis")}
    assert "other" in kinds and "actions" in kinds


def test_a_name_heading_lines_again_is_a_speaker_taking_turns() -> None:
    # A call's notes: "**Kim Tran**" speaks, then Luis, then Kim again. What they said is
    # theirs to have said (a turn), not a list of their tasks (a group).
    text = (
        "## Blake2\n\n**Kim Tran**:\n- We need to avoid changes in the future.\n\n"
        "**Luis**:\n- The EIP is fine as it is.\n\n"
        "**Kim Tran**:\n- There is an issue with the rounds.\n"
    )
    found = segment(text, person=lambda name: name in ("Kim Tran", "Luis"))
    assert [(c.marker, c.speaker, c.group) for c in found] == [
        ("speaker", "Kim Tran", None),
        ("speaker", "Luis", None),
        ("speaker", "Kim Tran", None),
    ]
    assert {find_owners(c, SITE).how for c in found} == {"turn"}
    # The same names heading tasks under each topic are task lists, not turns.
    topics = (
        "Proyecto Web\n\nLuis:\n- Enviar el contrato.\n\nKim Tran:\n- Revisar la portada.\n\n"
        "Proyecto App\n\nLuis:\n- Publicar la beta.\n"
    )
    listed = segment(topics, person=lambda name: name in ("Kim Tran", "Luis"))
    assert [(c.marker, c.group) for c in listed if c.marker != "prose"] == [
        ("bullet", "Luis"),
        ("bullet", "Kim Tran"),
        ("bullet", "Luis"),
    ]
    # Numbered topics, and one name heading its list again after a blank line: task lists.
    numbered = (
        "1. Proyecto Web\nLuis:\n- Enviar el contrato.\n\nLuis:\n- Revisar la portada.\n"
        "Kim Tran:\n- Pedir los planos.\n2. Proyecto App\nLuis:\n- Publicar la beta.\n"
    )
    listed = segment(numbered, person=lambda name: name in ("Kim Tran", "Luis"))
    assert [c.group for c in listed if c.marker == "bullet"] == [
        "Luis",
        "Luis",
        "Kim Tran",
        "Luis",
    ]
    # Each name once: a list of tasks per person, as before.
    once = segment(text.rsplit("**Kim Tran**", 1)[0], person=lambda name: True)
    assert [c.group for c in once] == ["Kim Tran", "Luis"]


def test_a_greeting_or_a_wrapped_name_heads_nothing() -> None:
    text = (
        "Estimados Luis y Patricia:\n"
        "Les envío el acta de la reunión con las tareas.\n\n"
        "1. Se aprueba el acta anterior con los cambios de\nHale.\n2. Se revisa la obra.\n"
    )
    assert all(owners == () for _, owners, _ in _owners_of(text, SITE))


def test_a_line_that_only_gives_the_owner_and_date_belongs_to_the_entry_above() -> None:
    text = (
        "OPEN ITEMS\n"
        "22-1  Respond to RFI-034 and RFI-036.\n      Owner - Architect. Due 7/24\n"
        "22-2  Submit a revised schedule.\n      Owner - Luis. Due next meeting\n\n"
        "No. | Item   | Discussion / Action\n"
        "4a  |        | Issue revised balustrade drawings\n"
        "    |        | Action by: SM  Date: 25 Aug\n"
        "5   | Safety | No incidents this period.\n"
        "    |        | Action by: -  Date: -\n\n"
        "- Confirm the pour sequence\n    Owner: Kim Tran\n"
    )
    found = segment(text)
    rows = [(c.text, c.cells.get("owner"), c.cells.get("due")) for c in found]
    assert [row for row in rows if row[0] != "Discussion / Action"] == [
        ("Respond to RFI-034 and RFI-036.", "Architect", "7/24"),
        ("Submit a revised schedule.", "Luis", "next meeting"),
        ("Issue revised balustrade drawings", "SM", "25 Aug"),
        ("No incidents this period.", None, None),
        ("Confirm the pour sequence", "Kim Tran", None),
    ]
    assert all(c.section_kind == "actions" for c in found[:2])
    # An attendance line after a title is no owner of the title.
    title = segment("SPRINT 31 RETRO - Fri Apr 17\nWho: Marcus, Jenna, Rafael, me\n")
    assert all("owner" not in c.cells for c in title)


def test_an_owner_after_a_colon_ends_a_task_and_a_person_in_brackets_of_their_body() -> None:
    people = PeopleIndex.build(
        [
            Participant("edison@lacteos.test", "Édison Cárdenas"),
            Participant("apuigvert@irta.test", "Anna Puigvert"),
            Participant("marubio@agrotec.test", "Miguel Ángel Rubio"),
        ],
        "edison@lacteos.test",
    )

    def who(line: str, cells: dict[str, str] | None = None) -> tuple[str, ...]:
        candidate = Candidate(line, None, "actions", "bullet", cells=cells or {})
        return find_owners(candidate, people).emails

    assert who("Reportar a mantenimiento el cambio de las cortinas: Édison, mañana.") == (
        "edison@lacteos.test",
    )
    assert who("Chairs: Anna") == ()  # a field, not a task's owner
    assert who("x", {"owner": "IRTA (Anna) y Agrotec (Miguel Ángel)"}) == (
        "apuigvert@irta.test",
        "marubio@agrotec.test",
    )


def test_names_with_accents_of_any_language_and_initials_declared_in_brackets() -> None:
    people = PeopleIndex.build(
        [
            Participant("jelena.beric@tc.test", "Jelena Berić"),
            Participant("zoe.laurent@tc.test", "Zoë Laurent"),
            Participant("shreya.iyer@tc.test", "Shreya Iyer"),
            Participant("ole@tc.test", "Ole Ødegaard"),
        ],
        "ole@tc.test",
    )
    assert people.resolve("Beric") == people.resolve("Berić") == {"jelena.beric@tc.test"}
    assert people.resolve("Zoe") == people.resolve("Zoë") == {"zoe.laurent@tc.test"}
    assert people.resolve("Odegaard") == {"ole@tc.test"}
    text = "Presenter: Jelena Berić (JBE)\nwith Zoë (Shreya Iyer, Zoë Laurent)\n"
    table_initials(text, people)
    assert "Shreya Iyer" not in roles_in(text, people)
    assert people.resolve("JBE") == {"jelena.beric@tc.test"}
    # Names in brackets after a name are other people, not the first one's roles.
    assert people.resolve("Shreya Iyer") == {"shreya.iyer@tc.test"}


def test_a_resolution_that_entrusts_or_a_body_that_directs_names_the_doer() -> None:
    people = PeopleIndex.build(
        [
            Participant("tesoreria@colegio.test", "Tesorería"),
            Participant("dmueller@city.test", "Dana Mueller"),
            Participant("cfeeney@lit.test", "Carol Feeney"),
            Participant("wachebe@lit.test", "Will Achebe"),
            Participant("president@lit.test", "Lena Gallo"),
        ],
        "president@lit.test",
    )
    for role, email in roles_in("City Administrator: Dana Mueller\n", people).items():
        people.add_alias(role, email)

    def who(line: str) -> tuple[str, ...]:
        return find_owners(Candidate(line, None, "decisions", "prose"), people).emails

    assert who("Encargar a la Tesorera la contratación de la auditoría.") == (
        "tesoreria@colegio.test",
    )
    assert who("Council directed the City Administrator to bring back options.") == (
        "dmueller@city.test",
    )
    assert who("The President appointed Ms. Feeney and Mr. Achebe to draft a plan.") == (
        "cfeeney@lit.test",
        "wachebe@lit.test",
    )
    assert who("Solicitar a Gestión Humana el presupuesto para botas.") == ()


def test_several_doers_joined_by_and_before_to() -> None:
    people = PeopleIndex.build(
        [
            Participant("camille@lql.test", "Camille Dupont"),
            Participant("rowan@lql.test", "Rowan Whitfield"),
            Participant("cllr.evans@cc.test", "Cllr Dafydd Evans"),
            Participant("clerk@cc.test", "Gareth Pryce-Jones"),
        ],
        "clerk@cc.test",
    )
    table_initials("| Camille Dupont | CDT |\n| Rowan Whitfield | RWD |\n", people)

    def who(line: str) -> tuple[str, ...]:
        return find_owners(Candidate(line, None, "actions", "bullet"), people).emails

    assert who("CDT and RWD to sort out repository permissions.") == (
        "camille@lql.test",
        "rowan@lql.test",
    )
    assert who("Cllr Evans and the Clerk to obtain quotes for the repairs.") == (
        "cllr.evans@cc.test",
        "clerk@cc.test",
    )


def test_offices_an_attendance_list_declares_in_columns_or_with_leaders_and_callings() -> None:
    people = PeopleIndex.build(
        [
            Participant("xvaldebenito@apr.test", "Ximena Valdebenito"),
            Participant("bsoler@df.test", "Beatriz Soler"),
            Participant("jbegazo@fac.test", "Javier Begazo"),
            Participant("mbarrios@salud.test", "Dr. Mario Barrios"),
            Participant("secretario@apr.test", "Patricio Henríquez"),
        ],
        "secretario@apr.test",
    )
    text = (
        "Asistentes:\n"
        "  Sra. Ximena Valdebenito Rojas      Presidenta\n"
        "  Dirección facultativa ..... Beatriz Soler (arquitecta)\n"
        "- Lic. Javier Begazo Rivera, Vicedecano\n"
    )
    for role, email in roles_in(text, people).items():
        people.add_alias(role, email)

    def who(line: str) -> tuple[str, ...]:
        return find_owners(Candidate(line, None, "actions", "prose"), people).emails

    assert who("La Presidenta asistirá a la reunión de la mesa el lunes.") == (
        "xvaldebenito@apr.test",
    )
    assert who("La dirección facultativa revisará el detalle de la escalera.") == (
        "bsoler@df.test",
    )
    assert who("El Vicedecano coordinará los ponentes.") == ("jbegazo@fac.test",)
    assert who("El doctor va a armar el protocolo.") == ("mbarrios@salud.test",)


def test_a_clause_a_conjunction_opens_names_its_doer_only_when_it_commits() -> None:
    people = PeopleIndex.build(
        [
            Participant("tim.cole@w3c.test", "Tim Cole"),
            Participant("hadrien@w3c.test", "Hadrien Gardeur"),
            Participant("derek@farm.test", "Derek Hollings"),
            Participant("chair@w3c.test", "Tzviya Siegman"),
        ],
        "chair@w3c.test",
    )

    def who(line: str) -> tuple[str, ...]:
        return find_owners(Candidate(line, None, "other", "prose"), people).emails

    assert who("close issue 72 but Tim Cole will add comments") == ("tim.cole@w3c.test",)
    assert who("and Hadrien will open a new issue on how to do this") == ("hadrien@w3c.test",)
    assert who("the trough by the top gate is leaking again and Derek reckons it's the valve") == ()


def test_review_cases_a_group_a_proposer_a_party_and_an_attendance_line() -> None:
    from mailtrack.nlp.extract import NAMED_OWNER
    from mailtrack.nlp.owners import names_participant

    # A name heading its lines owns its tasks, but does not make a decision under it an
    # action (a decision has no doer; "group" is not a named owner).
    found = segment(
        "Luis:\n- Se acuerda trasladar la feria a junio.\n",
        person=lambda name: names_participant(name, SITE),
    )
    owners = find_owners(found[0], SITE)
    assert owners.emails == ("lortega@gc.test",) and owners.how not in NAMED_OWNER
    # Who proposed a motion is not who does it.
    proposed = Candidate(
        "Se aprueba por unanimidad la propuesta presentada por: Luis Ortega",
        None,
        "decisions",
        "prose",
    )
    assert find_owners(proposed, SITE).emails == ()
    # "(PSOE)" after a name is a party, not the person's initials.
    people = PeopleIndex.build([Participant("jperez@ayto.test", "Juan Pérez")], None)
    table_initials("Asistentes: D. Juan Pérez (PSOE), D. Ana Gil (PP)\n", people)
    assert people.resolve("PSOE") == set()
    # "Who: Luis, Kim" under a meeting's header lines is who came, not an owner.
    header = segment("Date: 3 May\nWhen: Tuesday 10am\nWho: Luis, Kim\n")
    assert all("owner" not in candidate.cells for candidate in header)


def test_saying_whose_responsibility_something_is_names_no_owner() -> None:
    # Tried as an owner mark and dropped after a review: negations ("no es / tampoco es /
    # NO es responsabilidad de Luis"), house rules ("de cada uno") and clauses inside
    # another's task made it give tasks to the wrong person.
    def who(line: str) -> tuple[str, ...]:
        return find_owners(Candidate(line, None, "other", "bullet"), SITE).emails

    assert who("Reparar la caldera no es responsabilidad de Luis sino del casero.") == ()
    assert who("La caldera tampoco es responsabilidad de Luis.") == ()
    assert who("Es cosa de tiempo: Luis terminará la web el viernes.") == ("lortega@gc.test",)
    assert who("Luis will prepare the report, which is the job of the team to approve.") == (
        "lortega@gc.test",
    )
