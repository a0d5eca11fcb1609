"""Cutting minutes into candidates: headings, lists, tables, labels, prose."""

from __future__ import annotations

import pytest

from mailtrack.nlp.sections import section_kind
from mailtrack.nlp.segment import segment, sentences


@pytest.mark.parametrize(
    ("heading", "kind"),
    [
        ("Acuerdos:", "decisions"),
        ("## Decisiones tomadas", "decisions"),
        ("3. Acuerdos adoptados", "decisions"),
        ("RESOLVED", "decisions"),
        ("Puntos acordados", "decisions"),
        ("Próximos pasos", "actions"),
        ("Action items", "actions"),
        ("**Tareas asignadas**", "actions"),
        ("Next steps:", "actions"),
        ("Compromisos", "actions"),
        ("OPEN ITEMS", "actions"),
        ("Qué se decidió", "decisions"),
        ("Revisión de tareas anteriores", "review"),
        ("Previous action items", "review"),
        ("Orden del día", "agenda"),
        ("Asistentes", "attendance"),
        ("Members present", "attendance"),
        ("List of attendees", "attendance"),
        ("Welcome and apologies", "attendance"),
        # a topic about the attendees, not the list of them
        ("Número de asistentes", "other"),
        ("Gestión de altas de asistentes", "other"),
        ("Regalos para los invitados", "other"),
        # the minutes themselves, written along the agenda
        ("Agenda and Notes", "mixed"),
        ("Orden del día y desarrollo de la sesión", "mixed"),
        ("Proposed agenda and notes for 4 December", "agenda"),
        ("Agenda, notes and next steps", "mixed"),
        ("Borrador del acta: orden del día y acuerdos", "mixed"),
        ("Acuerdos y tareas", "mixed"),
        ("Discusión", "discussion"),
        ("Lo que charlamos:", "discussion"),
        ("Varios", "discussion"),
        ("Quarterly numbers", "other"),
    ],
)
def test_headings_name_their_sections(heading: str, kind: str) -> None:
    assert section_kind(heading) == kind


def test_lists_under_headings_keep_their_section_and_continuation_lines() -> None:
    text = (
        "Acuerdos\n========\n"
        "1. Se aprueba el presupuesto\n   de la fase 2.\n"
        "2. Javiera y Felipe harán las entrevistas antes del\n   miércoles 24.\n\n"
        "Tareas:\n- [ ] Juan: revisar el contrato\n- [x] Ana: enviar el acta\n"
    )
    found = [(c.text, c.section_kind, c.marker) for c in segment(text)]
    assert found == [
        ("Se aprueba el presupuesto de la fase 2.", "decisions", "number"),
        ("Javiera y Felipe harán las entrevistas antes del miércoles 24.", "decisions", "number"),
        ("Juan: revisar el contrato", "actions", "check_open"),
        ("Ana: enviar el acta", "actions", "check_done"),
    ]


def test_table_rows_know_their_columns() -> None:
    text = (
        "Action items\n"
        "| # | Task | Owner | Due |\n|---|---|---|---|\n"
        "| 1 | Resubmit the drawings | T. Beck | 3/18 |\n"
    )
    (row,) = segment(text)
    assert row.marker == "table"
    assert row.text == "Resubmit the drawings"
    assert row.cells["owner"] == "T. Beck" and row.cells["due"] == "3/18"


def test_fixed_width_tables_are_read_by_column() -> None:
    text = (
        "ACTION LOG\n\n"
        "No.    Action                               Lead   Due\n"
        "-----  -----------------------------------  -----  -----------\n"
        "26/31  Circulate the revised chart          RI     29 May 2026\n"
        "26/33  Raise the alert fatigue report       CB\n"
    )
    rows = segment(text)
    assert [(r.text, r.cells.get("owner"), r.cells.get("due")) for r in rows] == [
        ("Circulate the revised chart", "RI", "29 May 2026"),
        ("Raise the alert fatigue report", "CB", None),
    ]


def test_labelled_lines_and_meetbot_tails() -> None:
    text = "* ACTION: mkowal to bisect the regression  (jhalvorsen, 16:12:05)\n* IDEA: move the fuzz jobs\n"
    first, second = segment(text)
    assert (first.text, first.label) == ("mkowal to bisect the regression", "action")
    assert second.label == "idea"


def test_prose_is_split_into_sentences_and_agreements() -> None:
    text = "Quedamos en que Iker monta la alerta antes del viernes y que el lunes se para el nodo 2. Sr. Gómez lo revisa."
    assert [c.text for c in segment(text)] == [
        "Quedamos en que Iker monta la alerta antes del viernes",
        "el lunes se para el nodo 2.",
        "Sr. Gómez lo revisa.",
    ]


def test_abbreviations_and_initials_do_not_end_sentences() -> None:
    assert sentences("K. Singh to place the order. Dr. Pérez will call.") == [
        "K. Singh to place the order.",
        "Dr. Pérez will call.",
    ]


def test_a_parent_bullet_names_the_section_of_its_children() -> None:
    text = "* Action item review\n    * Johan: linter PR merged. Done.\n* Event versioning\n    * Decision: major bump.\n"
    kinds = {c.text: c.section_kind for c in segment(text)}
    assert kinds["Johan: linter PR merged. Done."] == "review"


def test_the_same_line_twice_counts_once() -> None:
    text = "Summary\n* ACTION: ruthb to update the notes\n\nAction Items\n* ruthb to update the notes\n"
    assert len(segment(text)) == 1


def test_a_lead_in_sentence_announces_the_next_paragraph() -> None:
    text = "Good turnout! Here's where we landed.\n\nPool opens Saturday June 6. Guest passes stay at $5.\n"
    kinds = [c.section_kind for c in segment(text)]
    assert kinds[-2:] == ["mixed", "mixed"]


def test_markdown_emphasis_is_dropped_and_bold_speakers_are_speakers() -> None:
    text = (
        "## Acuerdos\n\n"
        "- **Sergio** contactará con la empresa de *catering*.\n"
        "- Usuario `@m0n0b0t` dado de alta.\n\n"
        "**Tzviya Siegman:** we opened two issues\n"
        "… let's start with webpub\n"
    )
    found = segment(text)
    assert [c.text for c in found] == [
        "Sergio contactará con la empresa de catering.",
        "Usuario @m0n0b0t dado de alta.",
        "we opened two issues",
        "let's start with webpub",
    ]
    assert [c.speaker for c in found[2:]] == ["Tzviya Siegman", "Tzviya Siegman"]
    assert {c.marker for c in found[2:]} == {"speaker"}


def test_snake_case_and_products_keep_their_underscores_and_stars() -> None:
    (found,) = segment("- Renombrar max_retry_count a retries y calcular 2*3*4 antes del viernes.")
    assert "max_retry_count" in found.text and "2*3*4" in found.text


def test_a_static_site_front_matter_is_not_minutes_text() -> None:
    text = (
        "---\nlayout: minutes\ndate: 2019-05-06\ntitle: Day 1\n---\n\n- Ana enviará el informe.\n"
    )
    assert [c.text for c in segment(text)] == ["Ana enviará el informe."]


def test_a_speaker_turn_is_cut_into_its_sentences() -> None:
    text = (
        "Fundraising: no more bottle drives, everybody hates them. Instead we're doing a "
        "50/50 at home games. I'll get the raffle licence from the city. OK.\n"
    )
    found = segment(text)
    assert [c.text for c in found] == [
        "no more bottle drives, everybody hates them.",
        "Instead we're doing a 50/50 at home games.",
        "I'll get the raffle licence from the city. OK.",  # a short one stays with the last
    ]
    assert {c.speaker for c in found} == {"Fundraising"}


def test_slack_author_lines_make_the_lines_below_their_turns() -> None:
    found = segment(
        "Pasted from the channel:\n\n"
        "Hannah Liu  9:15 AM\n"
        "we're freezing merges to main until the flaky test is fixed\n"
        "@Maya can you pair with Ollie on it today?\n\n"
        "Dev Sharma  9:17 AM\n"
        "I'll chase Paylane support for the keys this morning\n"
    )
    turns = [(c.speaker, c.text) for c in found if c.marker == "speaker"]
    assert turns == [
        ("Hannah Liu", "we're freezing merges to main until the flaky test is fixed"),
        ("Hannah Liu", "@Maya can you pair with Ollie on it today?"),
        ("Dev Sharma", "I'll chase Paylane support for the keys this morning"),
    ]


def test_one_time_on_its_own_line_is_not_an_author() -> None:
    found = segment("Orden del día\n\nInicio  10:00\nBienvenida y lectura del acta anterior.\n")
    assert all(c.speaker is None for c in found)


def test_telegram_export_lines_have_their_speaker() -> None:
    found = segment(
        "Florencia Iglesias, [11.03.26 22:24] yo hago el flyer y lo subo el domingo\n"
        "Nicolás Paz, [11.03.26 22:25] dale\n"
    )
    assert [(c.speaker, c.text) for c in found] == [
        ("Florencia Iglesias", "yo hago el flyer y lo subo el domingo"),
        ("Nicolás Paz", "dale"),
    ]


def test_telegram_copies_with_the_author_on_a_line_of_its_own() -> None:
    found = segment(
        "Florencia Iglesias, [11.03.26 22:24]\nyo hago el flyer y lo subo el domingo\n\n"
        "Nicolás Paz, [11.03.26 22:25]\ndale\n"
    )
    assert [(c.speaker, c.text) for c in found] == [
        ("Florencia Iglesias", "yo hago el flyer y lo subo el domingo"),
        ("Nicolás Paz", "dale"),
    ]


def test_a_meetbot_topic_heads_its_lines_up_to_the_next_topic() -> None:
    found = segment(
        "[21:00] <mvaz> #topic asistencia\n[21:00] <ceci_r> presente\n"
        "[21:02] <mvaz> #topic servidor de la lista\n"
        "[21:03] <jp> el VPS vence el 30\n[21:04] <mvaz> #accion jp renueva el VPS antes del 30\n"
    )
    assert [(c.section, c.section_kind, c.marker) for c in found] == [
        ("asistencia", "attendance", "speaker"),
        ("servidor de la lista", "other", "speaker"),
        ("servidor de la lista", "other", "label"),
    ]
    assert found[-1].text == "jp renueva el VPS antes del 30"
    assert found[-1].label == "accion"


def test_a_summary_of_linked_resolutions_repeats_them_and_counts_once() -> None:
    found = segment(
        "RESOLUTION: close issue 1\n"
        "Some talk here about it.\n\n"
        "Summary of resolutions\n"
        "- [Resolution #1](#resolution1): close issue 1\n"
        "- [Resolution #2](#resolution2): close issue 2\n"
        "- see [the spec](https://w3c.example/spec) for details\n"
    )
    assert [(c.text, c.label) for c in found] == [
        ("close issue 1", "resolution"),
        ("Some talk here about it.", None),
        ("close issue 2", "resolution"),
        ("see the spec for details", None),
    ]


def test_a_label_line_holding_two_sentences_gives_two_candidates() -> None:
    found = segment(
        "ACUERDO: Se mantiene la cuantía de 2025. El Interventor emitirá informe sobre el crédito.\n"
        "ACTION: Bob to send the deck. Due Friday.\n"
    )
    assert [(c.text, c.label) for c in found] == [
        ("Se mantiene la cuantía de 2025.", "acuerdo"),
        ("El Interventor emitirá informe sobre el crédito.", "acuerdo"),
        ("Bob to send the deck. Due Friday.", "action"),  # a short annotation stays
    ]


def test_an_indented_label_line_is_not_the_continuation_of_the_one_above() -> None:
    found = segment(
        "ACTION: marcusr to update the explainer section\n"
        "   on legends\n"
        "  ACTION: Tanvi to write two screen-reader test cases\n"
    )
    assert [c.text for c in found] == [
        "marcusr to update the explainer section on legends",
        "Tanvi to write two screen-reader test cases",
    ]


def test_a_label_line_wrapped_by_the_mail_client_keeps_its_whole_paragraph() -> None:
    found = segment(
        "ACUERDO TERCERO.- Se aprueba por mayoría el presupuesto ordinario para 2026\n"
        "por importe de 22.400 euros, con una subida de las cuotas del 3 %.\n"
        "\n"
        "ACUERDO CUARTO.- Tras estudiar las tres ofertas recibidas, se acuerda\n"
        "ejecutar la rampa de acceso del portal con Accesibilidad Costa del Sol, por\n"
        "14.900 euros. Se faculta al Presidente para la firma del contrato.\n"
        "ACTION: Bob to send the deck\n"
        "Notes from the room follow here.\n"
    )
    assert [(c.text, c.label) for c in found] == [
        (
            "Se aprueba por mayoría el presupuesto ordinario para 2026 por importe de "
            "22.400 euros, con una subida de las cuotas del 3 %.",
            "acuerdo",
        ),
        (
            "Tras estudiar las tres ofertas recibidas, se acuerda ejecutar la rampa de acceso "
            "del portal con Accesibilidad Costa del Sol, por 14.900 euros.",
            "acuerdo",
        ),
        ("Se faculta al Presidente para la firma del contrato.", "acuerdo"),
        # a short line ending a label is not wrapped: the next line is its own
        ("Bob to send the deck", "action"),
        ("Notes from the room follow here.", None),
    ]


def test_a_wrapped_speaker_turn_stays_one_turn() -> None:
    found = segment(
        "Dario: The draft has been open for comments for three weeks. 14 comments, all\n"
        "addressed except the one about merchandise.\n"
        "Elif: The merch question can be a follow-up, it should not block this one.\n"
        "Nobody objected to that.\n"
    )
    assert [(c.text, c.speaker) for c in found] == [
        ("The draft has been open for comments for three weeks.", "Dario"),
        ("14 comments, all addressed except the one about merchandise.", "Dario"),
        ("The merch question can be a follow-up, it should not block this one.", "Elif"),
        ("Nobody objected to that.", None),  # a turn ends with its sentence
    ]


def test_one_line_fields_do_not_head_what_follows() -> None:
    found = segment(
        "Present: Siobhán Ó Briain (Chairperson), Declan Furlong (Treasurer)\n"
        "Apologies: Fr. Liam Doherty\n"
        "\n"
        "Reports\n"
        "\n"
        "The minibus passed its DOE test.\n"
        "\n"
        "Outcomes\n"
        "\n"
        "1. Minutes of 18 March approved.\n"
        "2. The Treasurer to send the signed statements to the auditors by 30 April.\n"
    )
    assert [(c.section_kind, c.section, c.text[:20]) for c in found] == [
        ("attendance", None, "Present: Siobhán Ó B"),
        ("attendance", None, "Apologies: Fr. Liam "),
        ("discussion", "Reports", "The minibus passed i"),
        ("mixed", "Outcomes", "Minutes of 18 March "),
        ("mixed", "Outcomes", "The Treasurer to sen"),
    ]


def test_an_agenda_ends_where_the_body_of_the_minutes_starts() -> None:
    found = segment(
        "Orden del día:\n"
        "1. Lectura y aprobación del acta anterior.\n"
        "2. Cuentas 2025.\n"
        "\n"
        "1. Queda aprobada el acta anterior sin enmiendas.\n"
        "\n"
        "2. Pilar presenta las cuentas. Se aprueban por unanimidad.\n"
    )
    assert [(c.section_kind, c.text[:20]) for c in found] == [
        ("agenda", "Lectura y aprobación"),
        ("agenda", "Cuentas 2025."),
        ("none", "Queda aprobada el ac"),
        ("none", "Pilar presenta las c"),
    ]


def test_an_agenda_with_blank_lines_between_its_points_stays_an_agenda() -> None:
    found = segment("Agenda\n\n1. Budget\n\n2. Venue\n\n- Catering\n\nWe approved the budget.\n")
    assert [(c.section_kind, c.text) for c in found] == [
        ("agenda", "Budget"),
        ("agenda", "Venue"),
        ("agenda", "Catering"),
        ("none", "We approved the budget."),
    ]


def test_attendance_ends_with_its_block() -> None:
    found = segment("Asistentes:\nAna Ruiz, Luis Gil\n\nSe acuerda cambiar de proveedor.\n")
    assert [(c.section_kind, c.text) for c in found] == [
        ("attendance", "Ana Ruiz, Luis Gil"),
        ("none", "Se acuerda cambiar de proveedor."),
    ]


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("A1. Se aprueba el acta de febrero.", ["Se aprueba el acta de febrero."]),
        (
            "II. Se somete a consideración el orden del día.",
            ["Se somete a consideración el orden del día."],
        ),
        (
            "Farm. Iturralde etiqueta los anticoagulantes.",
            ["Farm. Iturralde etiqueta los anticoagulantes."],
        ),
        ("Fr. Liam sends his apologies.", ["Fr. Liam sends his apologies."]),
        ("Se aprueba. II. Otro punto.", ["Se aprueba.", "Otro punto."]),
    ],
)
def test_point_numbers_and_titles_do_not_make_sentences(
    paragraph: str, expected: list[str]
) -> None:
    assert sentences(paragraph) == expected


def test_a_bullet_heads_a_list_only_as_a_bare_name() -> None:
    found = segment(
        "- Acuerdos\n- La 2.3 sale sin soporte para Windows ARM\n"
        "Action items\n- [x] Update the docs\n- Report the numbers to finance\n"
    )
    assert [(c.section_kind, c.text) for c in found] == [
        ("decisions", "La 2.3 sale sin soporte para Windows ARM"),
        ("actions", "Update the docs"),
        ("actions", "Report the numbers to finance"),
    ]


def test_points_numbered_in_words_and_arrow_lines() -> None:
    found = segment(
        "TERCERO.- Se faculta al Presidente para firmar el contrato.\n"
        "Javi → llamar al técnico de Engel (mañana)\n"
        "Sandra → auditoría 5S en línea 2 (viernes 15)\n"
    )
    assert [c.text for c in found] == [
        "Se faculta al Presidente para firmar el contrato.",
        "Javi → llamar al técnico de Engel (mañana)",
        "Sandra → auditoría 5S en línea 2 (viernes 15)",
    ]


def test_an_aligned_table_row_longer_than_its_column_keeps_its_text() -> None:
    found = segment(
        "Next steps\n"
        "#  Activity                                      Responsibility   Timeline\n"
        "1  Share the baseline spend data (FY25)           Divya            By 5th Dec\n"
        "2  Validate the savings methodology with the controller  Nisha     By 3rd Dec\n"
    )
    assert [(c.text, c.cells.get("owner"), c.cells.get("due")) for c in found] == [
        ("Share the baseline spend data (FY25)", "Divya", "By 5th Dec"),
        ("Validate the savings methodology with the controller", "Nisha", "By 3rd Dec"),
    ]


def test_dri_and_eta_columns_are_the_owner_and_the_date() -> None:
    found = segment("| Action | DRI | ETA |\n|---|---|---|\n| Fix tax rounding | Lin | Wed |\n")
    assert [(c.text, c.cells) for c in found] == [
        ("Fix tax rounding", {"text": "Fix tax rounding", "owner": "Lin", "due": "Wed"})
    ]


def test_an_owner_and_a_date_written_as_children_of_an_entry_are_its_fields() -> None:
    found = segment(
        "- Muestreo de octubre\n"
        "  - Repetir el muestreo de la parcela 4\n"
        "    - Resp.: Adriana\n"
        "    - Fecha: 16/10\n"
        "  - Se acuerda usar trampas de caída.\n"
    )
    assert [c.text for c in found] == [
        "Muestreo de octubre",
        "Repetir el muestreo de la parcela 4",
        "Se acuerda usar trampas de caída.",
    ]
    assert found[1].cells == {"owner": "Adriana", "due": "16/10"}


def test_by_whom_is_the_owner_column_and_lettered_points_lose_their_letter() -> None:
    found = segment(
        "| Action | By whom | By when |\n|---|---|---|\n| Get quotes | Treasurer | 30th May |\n"
    )
    assert found[0].cells["owner"] == "Treasurer"
    assert found[0].cells["due"] == "30th May"
    assert segment("(a) The Clerk to circulate the dates.\n")[0].text == (
        "The Clerk to circulate the dates."
    )


def test_a_label_numbered_by_meeting_and_entry_is_a_label() -> None:
    found = segment(
        "## DECISIONS\n\n**DECISION 70.2**: The fork of the testnet is set for 2 October.\n\n"
        "**ACTION 70.1**:  Alex and the champions to discuss the concerns.\n"
    )
    assert [(c.marker, c.label, c.text) for c in found] == [
        ("label", "decision", "The fork of the testnet is set for 2 October."),
        ("label", "action", "Alex and the champions to discuss the concerns."),
    ]


def test_a_list_entry_with_entries_under_it_names_only_their_section() -> None:
    found = segment(
        "#### Agenda and Notes\n* Agenda bashing, All\n    * Approved.\n"
        "* Post-summit survey\n    * Magnus will send the survey to the attendants.\n"
    )
    kinds = {c.text: c.section_kind for c in found}
    assert kinds["Approved."] == "agenda"
    assert kinds["Magnus will send the survey to the attendants."] == "mixed"


def test_a_bullet_that_says_something_over_its_details_is_an_entry() -> None:
    found = segment(
        "Tareas:\n- Luis preparará para el lunes:\n  - el presupuesto de fontanería\n"
        "  - los planos del garaje\n"
    )
    assert (found[0].text, found[0].section_kind) == (
        "Luis preparará para el lunes:",
        "actions",
    )
