"""The confirmation loop with fakes at the seams: minutes in, requests out, replies understood."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support.loop import TRACKER, Loop, make_loop, minutes_mail, reply_to

from mailtrack.db.models import (
    ConfirmationRequest,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    RequestState,
)
from mailtrack.outbound.mailers import Delivery

JUAN, LUIS, ANA = "juan@cliente.test", "luis@cliente.test", "ana@consultora.test"


@pytest.fixture
def loop(tmp_path: Path) -> Loop:
    loop = make_loop(tmp_path)
    loop.clock.current = loop.clock.current.replace(year=2026, month=11, day=26, hour=10)
    loop.deliver(minutes_mail())
    return loop


def test_each_person_gets_one_request_with_only_their_items(loop: Loop) -> None:
    (juan,) = loop.requests_to(JUAN)
    (luis,) = loop.requests_to(LUIS)
    assert loop.requests_to(ANA) == []  # the organizer does not confirm her own minutes
    juan_text = juan.get_body(preferencelist=("plain",)).get_content()
    assert "1. [Decisión] Se aprueba el presupuesto" in juan_text
    assert "2. [Acción] Reiniciar el servidor de staging el sábado" in juan_text
    assert "Luis" not in juan_text.split("Cómo responder")[0].split("Puntos:")[1]
    assert "CONFIRMO 1,3" in juan_text
    assert "Ana García <ana@consultora.test>" in juan_text
    luis_text = luis.get_body(preferencelist=("plain",)).get_content()
    assert "2. [Acción] Luis enviará la oferta revisada antes del 15/12" in luis_text
    assert "fecha: 15/12/2026" in luis_text


def test_requests_carry_every_key_and_never_invite_a_robot_to_answer(loop: Loop) -> None:
    (request,) = loop.requests_to(JUAN)
    with loop.runtime.sessions() as session:
        row = session.scalars(
            select(ConfirmationRequest).where(ConfirmationRequest.person.has(email=JUAN))
        ).one()
    assert str(request["Reply-To"]).endswith(f"actas+{row.token}@tracker.test>")
    assert request["Message-ID"] == f"<mt.{row.token}@tracker.test>"
    assert f"[{row.ref}]" in str(request["Subject"])
    assert request["In-Reply-To"] == "<acta-1@consultora.test>"
    assert request["Auto-Submitted"] == "auto-generated"
    assert request["X-Auto-Response-Suppress"] == "All"
    assert request["X-Mailtrack-Loop"] == TRACKER
    assert str(request["From"]) == f"Actas <{TRACKER}>"
    envelope = next(
        m.envelope_from for m in loop.mailer.sent if m.message_id == request["Message-ID"]
    )
    assert envelope == f"actas+b.{row.token}@tracker.test"


def test_confirmo_confirms_everything_and_a_receipt_says_so(loop: Loop) -> None:
    (request,) = loop.requests_to(JUAN)
    loop.deliver(reply_to(request, f"Juan Pérez <{JUAN}>", "Confirmo, gracias."))
    states = loop.states()
    assert states[(1, JUAN)] == "confirmed"
    assert states[(2, JUAN)] == "confirmed"
    assert states[(1, LUIS)] == "pending"
    receipts = [m for m in loop.sent(JUAN) if "Recibido" in str(m["Subject"])]
    assert len(receipts) == 1
    assert "confirmado" in receipts[0].get_body(preferencelist=("plain",)).get_content()
    confirmation = next(
        row
        for item in loop.status()["meetings"][0]["items"]
        for row in item["confirmations"]
        if row["person"] == JUAN
    )
    assert confirmation["evidence"] is not None and confirmation["evidence"].startswith("<")


def test_partial_and_rejection_are_recorded_per_item(loop: Loop) -> None:
    (request,) = loop.requests_to(LUIS)
    loop.deliver(
        reply_to(
            request, f"Luis <{LUIS}>", "Confirmo el 1. No confirmo el 2: la fecha no es viable."
        )
    )
    states = loop.states()
    assert states[(1, LUIS)] == "confirmed"
    assert states[(3, LUIS)] == "rejected"
    item = next(i for i in loop.status()["meetings"][0]["items"] if i["number"] == 3)
    assert "no es viable" in (item["confirmations"][0]["reason"] or "")


def test_a_confirmation_from_another_address_counts_for_nothing(loop: Loop) -> None:
    (request,) = loop.requests_to(JUAN)
    loop.deliver(reply_to(request, f"Juan Pérez <{JUAN.replace('cliente', 'gmail')}>", "Confirmo."))
    assert loop.states()[(1, JUAN)] == "pending"
    notices = [m for m in loop.sent(ANA) if "otra dirección" in str(m["Subject"])]
    assert len(notices) == 1


def test_a_display_name_trick_counts_for_nothing(loop: Loop) -> None:
    (request,) = loop.requests_to(JUAN)
    loop.deliver(reply_to(request, f'"{JUAN}" <atacante@evil.test>', "Confirmo."))
    assert loop.states()[(1, JUAN)] == "pending"


def test_confirmo_only_in_the_quoted_request_counts_for_nothing(loop: Loop) -> None:
    (request,) = loop.requests_to(JUAN)
    loop.deliver(reply_to(request, f"Juan <{JUAN}>", ""))
    assert loop.states()[(1, JUAN)] in ("pending", "unclear")
    assert loop.states()[(2, JUAN)] != "confirmed"


def unquoted(request: object, above: str) -> str:
    """A reply whose client pasted the request below the answer without any quote mark."""
    body = request.get_body(preferencelist=("plain",)).get_content()  # type: ignore[attr-defined]
    return f"{above}\n\n{body}" if above else str(body)


def test_an_answer_above_our_request_pasted_back_unquoted_counts(loop: Loop) -> None:
    (request,) = loop.requests_to(JUAN)
    loop.deliver(
        reply_to(request, f"Juan <{JUAN}>", unquoted(request, "Confirmo todo."), quote=False)
    )
    assert loop.states()[(1, JUAN)] == "confirmed"
    assert loop.states()[(2, JUAN)] == "confirmed"


@pytest.mark.parametrize("above", ["", "Gracias,\nJuan"])
def test_our_request_come_back_unquoted_with_no_answer_confirms_nothing(
    loop: Loop, above: str
) -> None:
    (request,) = loop.requests_to(JUAN)
    # Our request says "CONFIRMO para confirmar todo": it must never be read as Juan's.
    loop.deliver(reply_to(request, f"Juan <{JUAN}>", unquoted(request, above), quote=False))
    assert loop.states()[(1, JUAN)] != "confirmed"
    assert loop.states()[(2, JUAN)] != "confirmed"


def test_an_unclear_reply_counts_for_nothing_and_is_shown_to_the_organizer(loop: Loop) -> None:
    (request,) = loop.requests_to(JUAN)
    loop.deliver(reply_to(request, f"Juan <{JUAN}>", "Confirmo pero cambiad la fecha, ¿vale?"))
    assert loop.states()[(2, JUAN)] == "unclear"


def test_an_unclear_reply_after_a_confirmation_is_answered_once(loop: Loop) -> None:
    (request,) = loop.requests_to(JUAN)
    loop.deliver(reply_to(request, f"Juan <{JUAN}>", "Confirmo el 1."))
    loop.deliver(reply_to(request, f"Juan <{JUAN}>", "Lo del 2 lo hablamos con calma, ¿vale?"))
    loop.deliver(reply_to(request, f"Juan <{JUAN}>", "Perdona, ¿qué era lo del 2?"))
    receipts = [m for m in loop.sent(JUAN) if "Recibido" in str(m["Subject"])]
    texts = [m.get_body(preferencelist=("plain",)).get_content() for m in receipts]
    # The confirmation's receipt, then one "not understood" for the unclear replies; the
    # third reply, unclear again, gets nothing (a helpdesk would otherwise loop).
    assert len(receipts) == 2
    assert "confirmado" in texts[0]
    assert "no hemos podido entender" in texts[1].lower()
    assert loop.states()[(1, JUAN)] == "confirmed"
    assert loop.states()[(2, JUAN)] != "confirmed"


def test_out_of_office_is_noted_never_answered_and_delays_reminders(loop: Loop) -> None:
    (request,) = loop.requests_to(JUAN)
    before = len(loop.mailer.sent)
    away = reply_to(
        request,
        f"Juan <{JUAN}>",
        "Estaré fuera de la oficina hasta el 9 de diciembre.",
        quote=False,
        Subject="Respuesta automática: " + str(request["Subject"]),
        Auto_Submitted="auto-replied",
    )
    loop.deliver(away)
    assert len(loop.mailer.sent) == before  # nothing answers a robot
    with loop.runtime.sessions() as session:
        row = session.scalars(
            select(ConfirmationRequest).where(ConfirmationRequest.person.has(email=JUAN))
        ).one()
        assert row.away_until is not None and row.away_until.isoformat() == "2026-12-09"
        assert row.state == RequestState.PENDING
    loop.clock.advance(timedelta(days=3))
    loop.run()
    assert not [m for m in loop.sent(JUAN) if "Recordatorio" in str(m["Subject"])]
    assert [m for m in loop.sent(LUIS) if "Recordatorio" in str(m["Subject"])]


def test_a_bounce_makes_the_request_undeliverable(tmp_path: Path) -> None:
    loop = make_loop(tmp_path, '\n[confirmations]\nnotify_bounces = "immediately"\n')
    loop.deliver(minutes_mail())
    (request,) = loop.requests_to(LUIS)
    envelope = next(
        m.envelope_from for m in loop.mailer.sent if m.message_id == request["Message-ID"]
    )
    dsn = (
        "Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.cliente.test>\r\n"
        f"To: {envelope}\r\nDelivered-To: {envelope}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Date: Thu, 26 Nov 2026 10:05:00 +0100\r\nMessage-ID: <dsn-1@mx.cliente.test>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nnot delivered\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.cliente.test\r\n\r\nFinal-Recipient: rfc822; {LUIS}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b--\r\n"
    ).encode()
    loop.deliver(dsn)
    assert loop.states()[(1, LUIS)] == "undeliverable"
    assert any("No se pudo entregar" in str(m["Subject"]) for m in loop.sent(ANA))


def test_reminders_come_after_the_delay_in_the_thread_for_pending_items_only(loop: Loop) -> None:
    (juan,) = loop.requests_to(JUAN)
    loop.deliver(reply_to(juan, f"Juan <{JUAN}>", "Confirmo el 1."))
    loop.clock.advance(timedelta(days=1))
    loop.run()
    assert not [m for m in loop.sent(JUAN) if "Recordatorio" in str(m["Subject"])]
    loop.clock.advance(timedelta(days=1, hours=1))
    loop.run()
    (reminder,) = [m for m in loop.sent(JUAN) if "Recordatorio" in str(m["Subject"])]
    text = reminder.get_body(preferencelist=("plain",)).get_content()
    assert "2. [Acción] Reiniciar el servidor" in text and "1. [Decisión]" not in text
    assert reminder["In-Reply-To"] == juan["Message-ID"]
    assert reminder["Message-ID"].endswith(".r1@tracker.test>")
    for _ in range(5):
        loop.clock.advance(timedelta(days=3))
        loop.run()
    assert (
        len([m for m in loop.sent(JUAN) if "Recordatorio" in str(m["Subject"])]) == 2
    )  # max_reminders


def test_corrected_minutes_keep_unchanged_confirmations_and_ask_again_for_changes(
    loop: Loop,
) -> None:
    (juan,) = loop.requests_to(JUAN)
    loop.deliver(reply_to(juan, f"Juan <{JUAN}>", "Confirmo."))
    corrected = minutes_mail(
        body=(
            "Acta corregida.\n\nAcuerdos:\n1. Se aprueba el presupuesto de la fase 2 por 12.000 €.\n\n"
            "Tareas:\n- Juan: reiniciar el servidor de staging el domingo.\n"
        ),
        message_id="<acta-2@consultora.test>",
        Subject="RE: Acta reunión de seguimiento (corregida)",
        In_Reply_To="<acta-1@consultora.test>",
    )
    loop.deliver(corrected)
    meeting = loop.status()["meetings"][0]
    assert meeting["revision"] == 2
    items = {item["text"][:30]: item for item in meeting["items"]}
    budget = items["Se aprueba el presupuesto de l"]
    assert {row["person"]: row["state"] for row in budget["confirmations"]}[JUAN] == "confirmed"
    server = next(i for i in meeting["items"] if "domingo" in i["text"])
    assert [row["state"] for row in server["confirmations"]] == ["pending"]
    assert not [i for i in meeting["items"] if "oferta" in i["text"]]  # Luis's action was removed
    luis_mails = loop.requests_to(LUIS)
    assert any(
        "retirado" in m.get_body(preferencelist=("plain",)).get_content() for m in luis_mails[1:]
    )


def test_a_temporary_refusal_is_retried_a_permanent_one_marks_the_request(tmp_path: Path) -> None:
    loop = make_loop(tmp_path)
    loop.mailer.answers = [
        Delivery("retry", "451 try later"),
        Delivery("failed", "550 no such user"),
    ]
    loop.deliver(minutes_mail())
    with loop.runtime.sessions() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == OutboxKind.REQUEST)
            .order_by(OutboxMessage.id)
        ).all()
        assert [r.status for r in rows] == [OutboxStatus.PENDING, OutboxStatus.FAILED]
        assert rows[0].attempts == 1 and rows[0].next_attempt_at > loop.clock.now()
    failed_person = JUAN if "juan" in str(rows[1].recipients) else LUIS
    assert loop.states()[(1, failed_person)] == "undeliverable"
    loop.clock.advance(timedelta(minutes=2))
    loop.run()
    with loop.runtime.sessions() as session:
        sent = select(func.count()).where(
            OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.kind == OutboxKind.REQUEST
        )
        assert session.scalar(sent) == 1


def test_the_same_minutes_twice_ask_nobody_twice(loop: Loop) -> None:
    loop.deliver(minutes_mail())
    assert len(loop.requests_to(JUAN)) == 1


def test_receipts_are_capped_per_address_per_day(tmp_path: Path) -> None:
    loop = make_loop(tmp_path, "\n[confirmations]\nreceipts_per_day = 2\n")
    loop.deliver(minutes_mail())
    (request,) = loop.requests_to(JUAN)
    for _ in range(4):
        loop.deliver(reply_to(request, f"Juan <{JUAN}>", "Confirmo."))
    assert len([m for m in loop.sent(JUAN) if "Recibido" in str(m["Subject"])]) == 2
