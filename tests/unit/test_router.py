"""The routing table: each rule, its reason, and the order between them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.mails import make_mail
from support.runtime import make_runtime

from mailtrack.assembly import Runtime
from mailtrack.db.models import (
    ConfirmationRequest,
    InboundMessage,
    Meeting,
    MeetingRevision,
    MessageState,
    Person,
    Route,
)
from mailtrack.handlers.router import Decision, route
from mailtrack.mail.addressing import (
    bounce_address,
    new_ref,
    new_token,
    reply_address,
    request_message_id,
)
from mailtrack.mail.parsed import ParsedMail

TRACKER = "actas@tracker.test"


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    runtime = make_runtime(tmp_path)
    yield runtime
    runtime.dispose()


@pytest.fixture
def request_row(runtime: Runtime) -> ConfirmationRequest:
    with runtime.sessions.begin() as session:
        ana = Person(email="ana@consultora.test", names=["Ana"])
        juan = Person(email="juan@cliente.test", names=["Juan"])
        session.add_all([ana, juan])
        session.flush()
        meeting = Meeting(
            tracker=TRACKER,
            thread_key="<minutes-1@consultora.test>",
            subject="Acta",
            organizer_id=ana.id,
            language="es",
            date=datetime(2026, 11, 26, tzinfo=UTC),
        )
        session.add(meeting)
        session.flush()
        session.add(
            MeetingRevision(
                meeting_id=meeting.id,
                number=2,
                message_id="<minutes-2@consultora.test>",
                subject="Acta (corregida)",
                date=datetime(2026, 11, 27, tzinfo=UTC),
                language="es",
            )
        )
        token = new_token()
        request = ConfirmationRequest(
            meeting_id=meeting.id,
            revision=1,
            person_id=juan.id,
            token=token,
            ref=new_ref(),
            message_id=request_message_id(TRACKER, token),
        )
        session.add(request)
    return request


def decide(runtime: Runtime, raw: bytes) -> Decision:
    parsed = ParsedMail.from_bytes(raw)
    with runtime.sessions.begin() as session:
        row = InboundMessage(
            sha256=str(hash(raw)),
            raw_path="-",
            size=len(raw),
            mailbox="memory:test",
            source_ref=str(hash(raw)),
            message_id=parsed.message_id,
            from_address=parsed.sender.email if parsed.sender else None,
            subject=parsed.subject,
        )
        session.add(row)
        session.flush()
        decision = route(session, row, parsed, runtime.config.tracker)
        row.state = MessageState.PROCESSED
        row.route = decision.route
        return decision


def juan_reply(**headers: str) -> bytes:
    return make_mail(
        sender="Juan Pérez <juan@cliente.test>",
        to=headers.pop("to", TRACKER),
        cc=None,
        subject=headers.pop("subject", "Re: Confirma los acuerdos"),
        body="Confirmo.\n",
        headers=headers,
    )


def test_minutes_from_an_allowed_organizer_with_tracker_in_cc(runtime: Runtime) -> None:
    decision = decide(runtime, make_mail())
    assert decision.route == Route.MINUTES
    assert "ana@consultora.test" in decision.reason


def test_minutes_with_the_tracker_only_in_bcc_are_ignored_with_the_reason(runtime: Runtime) -> None:
    decision = decide(runtime, make_mail(cc=None))
    assert decision.route == Route.IGNORED
    assert "not in To or Cc" in decision.reason


def test_mail_from_someone_not_allowed_is_ignored(runtime: Runtime) -> None:
    decision = decide(runtime, make_mail(sender="x@elsewhere.test"))
    assert decision.route == Route.IGNORED
    assert "not an allowed organizer" in decision.reason


def test_our_own_mail_is_ignored(runtime: Runtime) -> None:
    looped = make_mail(sender=f"Actas <{TRACKER}>", headers={"X-Mailtrack-Loop": TRACKER})
    assert decide(runtime, looped).route == Route.IGNORED
    from_us = make_mail(sender=f"Actas <{TRACKER}>")
    assert "tracker's own address" in decide(runtime, from_us).reason


def test_another_mailtracks_mail_is_ignored_even_from_an_organizer(runtime: Runtime) -> None:
    other = make_mail(headers={"X-Mailtrack-Loop": "actas@otra.test"})
    decision = decide(runtime, other)
    assert decision.route == Route.IGNORED
    assert decision.rule == "our-own-mail"


def test_reply_found_by_plus_address(runtime: Runtime, request_row: ConfirmationRequest) -> None:
    decision = decide(runtime, juan_reply(to=reply_address(TRACKER, request_row.token)))
    assert decision.route == Route.REPLY
    assert decision.request is not None and decision.request.id == request_row.id
    assert "plus address" in decision.reason


def test_reply_found_by_references_when_plus_address_is_lost(
    runtime: Runtime, request_row: ConfirmationRequest
) -> None:
    decision = decide(runtime, juan_reply(**{"In-Reply-To": request_row.message_id}))
    assert decision.route == Route.REPLY
    assert "References" in decision.reason


def test_reply_found_by_subject_reference_when_both_are_lost(
    runtime: Runtime, request_row: ConfirmationRequest
) -> None:
    decision = decide(runtime, juan_reply(subject=f"RE: [{request_row.ref}] Confirma los acuerdos"))
    assert decision.route == Route.REPLY
    assert "subject reference" in decision.reason


def test_unknown_token_is_ignored_not_a_reply(
    runtime: Runtime, request_row: ConfirmationRequest
) -> None:
    decision = decide(runtime, juan_reply(to=reply_address(TRACKER, new_token())))
    assert decision.route == Route.IGNORED
    assert "matches no request" in decision.reason


def test_token_on_someone_elses_domain_is_not_ours(
    runtime: Runtime, request_row: ConfirmationRequest
) -> None:
    decision = decide(runtime, juan_reply(to=f"actas+{request_row.token}@evil.test"))
    assert decision.route != Route.REPLY


def test_out_of_office_answering_a_request_is_an_auto_reply_not_a_reply(
    runtime: Runtime, request_row: ConfirmationRequest
) -> None:
    raw = make_mail(
        sender="Juan Pérez <juan@cliente.test>",
        to=reply_address(TRACKER, request_row.token),
        cc=None,
        subject="Respuesta automática: Confirma los acuerdos",
        body="Estaré fuera de la oficina hasta el 8 de diciembre. Confirmo la recepción.",
        headers={"In-Reply-To": request_row.message_id, "Auto-Submitted": "auto-replied"},
    )
    decision = decide(runtime, raw)
    assert decision.route == Route.AUTO_REPLY
    assert decision.machine is not None
    assert decision.machine.away_until is not None
    assert decision.machine.away_until.isoformat() == "2026-12-08"


def test_bounce_to_the_verp_address_is_a_bounce(
    runtime: Runtime, request_row: ConfirmationRequest
) -> None:
    raw = make_mail(
        sender="Mail Delivery System <MAILER-DAEMON@mx.cliente.test>",
        to=bounce_address(TRACKER, request_row.token),
        cc=None,
        subject="Undelivered Mail Returned to Sender",
        body="I'm sorry to have to inform you that your message could not be delivered.\n\n"
        "<juan@cliente.test>: host mx.cliente.test said: 550 5.1.1 User unknown\n",
        headers={"Return-Path": "<>"},
    )
    decision = decide(runtime, raw)
    assert decision.route == Route.BOUNCE
    assert decision.machine is not None
    assert decision.machine.failed_recipients == ("juan@cliente.test",)


def test_corrected_minutes_in_the_thread_are_a_revision(
    runtime: Runtime, request_row: ConfirmationRequest
) -> None:
    raw = make_mail(
        subject="RE: Acta (corregida)",
        headers={"In-Reply-To": "<minutes-2@consultora.test>"},
    )
    decision = decide(runtime, raw)
    assert decision.route == Route.REVISION
    assert decision.meeting is not None


def test_a_colleague_answering_the_minutes_thread_is_not_a_revision(
    runtime: Runtime, request_row: ConfirmationRequest
) -> None:
    raw = make_mail(
        sender="Luis <luis@consultora.test>",
        subject="RE: Acta",
        body="Gracias, Ana.",
        headers={"References": "<minutes-1@consultora.test>"},
    )
    decision = decide(runtime, raw)
    assert decision.route == Route.MINUTES  # an allowed organizer's own mail: extraction decides
    assert decision.meeting is None


def test_x_auto_response_suppress_alone_does_not_make_a_mail_automatic(runtime: Runtime) -> None:
    decision = decide(runtime, make_mail(headers={"X-Auto-Response-Suppress": "All"}))
    assert decision.route == Route.MINUTES


def test_duplicate_needs_the_same_sender_and_subject(runtime: Runtime) -> None:
    decide(runtime, make_mail(message_id="<dup@x>", subject="Acta"))
    assert decide(runtime, make_mail(message_id="<dup@x>", subject="Acta")).route == Route.DUPLICATE
    forged = make_mail(message_id="<dup@x>", sender="eve@consultora.test", subject="Acta")
    assert decide(runtime, forged).route == Route.MINUTES
