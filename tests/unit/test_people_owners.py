"""Owners: names as minutes write them, resolved to the participants of the mail."""

from __future__ import annotations

import pytest

from mailtrack.nlp.owners import find_owners
from mailtrack.nlp.people import Participant, PeopleIndex, roles_in
from mailtrack.nlp.segment import Candidate

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
    ],
)
def test_a_name_resolves_to_its_participant(mention: str, email: str) -> None:
    assert PEOPLE.resolve(mention) == {email}


def test_a_name_two_participants_share_is_ambiguous() -> None:
    assert len(PEOPLE.resolve("Juan")) == 2  # Juan Pérez and Juan Manuel: nobody is chosen


def test_unknown_names_resolve_to_nobody() -> None:
    assert PEOPLE.resolve("Marta") == set()


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
    ],
)
def test_owner_written_in_every_form_is_found(text: str, expected: tuple[str, ...]) -> None:
    emails, _ = owners(text)
    assert set(emails) == set(expected)


def test_an_owner_who_is_not_a_participant_is_kept_as_written() -> None:
    assert owners("Enviar los certificados. Responsable: el proveedor") == ((), "el proveedor")


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
