"""The guards the spoof and loop tests rely on, one by one, with fakes at the seams.

The real-stack versions are tests/integration/test_spoof.py and test_loops.py;
these pin each rule down so a change that weakens one fails here first.
"""

from __future__ import annotations

from datetime import timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support.loop import TRACKER, Loop, make_loop, minutes_mail, reply_to
from support.runtime import make_config

from mailtrack.db.models import OutboxKind, OutboxMessage, Response
from mailtrack.errors import ConfigError
from mailtrack.mail import authresults
from mailtrack.mail.compose import clean, compose, person_address, safe_message_id
from mailtrack.mail.guards import own_mail_reason
from mailtrack.mail.parsed import ParsedMail

JUAN, LUIS, ANA = "juan@cliente.test", "luis@cliente.test", "ana@consultora.test"
OURS = "mx.tracker.test"
INJECTION = "=?utf-8?q?=0D=0ABcc:_victim@evil.test?="


# --- Authentication-Results ---------------------------------------------------------


def test_only_our_servers_authentication_results_count() -> None:
    fail = f"{OURS}; dmarc=fail (p=reject) header.from=cliente.test"
    assert authresults.failures([fail], [OURS], ["dmarc"]) == [f"dmarc=fail ({OURS})"]
    forged = "mx.evil.test; dmarc=fail header.from=cliente.test"
    assert authresults.failures([forged], [OURS], ["dmarc"]) == []
    assert authresults.failures([fail], [], ["dmarc"]) == []  # not configured: not read
    assert authresults.failures([f"{OURS}; none"], [OURS], ["dmarc", "dkim"]) == []


def test_a_forged_pass_with_our_id_cannot_hide_our_fail() -> None:
    headers = [f"{OURS}; dmarc=pass", f"{OURS}; dmarc=fail header.from=cliente.test"]
    assert authresults.failures(headers, [OURS], ["dmarc"]) == [f"dmarc=fail ({OURS})"]


def test_dkim_fails_only_when_no_signature_passes() -> None:
    one_broken = f"{OURS}; dkim=fail header.d=list.test; dkim=pass header.d=cliente.test"
    assert authresults.failures([one_broken], [OURS], ["dkim"]) == []
    assert authresults.failures([f"{OURS}; dkim=fail"], [OURS], ["dkim"]) == [f"dkim=fail ({OURS})"]


def test_a_forged_dkim_pass_with_our_id_in_another_header_cannot_hide_our_fail() -> None:
    headers = [f"{OURS}; dkim=fail header.d=cliente.test", f"{OURS}; dkim=pass header.d=evil.test"]
    assert authresults.failures(headers, [OURS], ["dkim"]) == [f"dkim=fail ({OURS})"]


def test_comments_versions_and_case_are_read_as_rfc_8601_says() -> None:
    header = "MX.Tracker.Test 1; (nested (comment)) DMARC=Fail (p=none); spf/1=pass"
    parsed = authresults.parse(header)
    assert [(r.authserv_id, r.method, r.result) for r in parsed] == [
        (OURS, "dmarc", "fail"),
        (OURS, "spf", "pass"),
    ]


def test_security_section_reads_one_id_or_several(tmp_path: Path) -> None:
    one = make_config(tmp_path, f'\n[security]\ntrusted_authserv_id = "{OURS.upper()}"\n')
    assert one.security.trusted_authserv_ids == (OURS,)
    assert one.security.refuse_on == ("dmarc", "dkim")
    several = make_config(
        tmp_path, '\n[security]\ntrusted_authserv_id = ["a.test", "b.test"]\nrefuse_on = ["spf"]\n'
    )
    assert several.security.trusted_authserv_ids == ("a.test", "b.test")
    assert make_config(tmp_path).security.trusted_authserv_ids == ()
    with pytest.raises(ConfigError) as raised:
        make_config(tmp_path, '\n[security]\nrefuse_on = ["arc"]\n')
    assert "security.refuse_on" in str(raised.value.problems)


def test_reply_window_defaults_to_90_days_and_0d_means_forever(tmp_path: Path) -> None:
    assert make_config(tmp_path).confirmations.reply_window == timedelta(days=90)
    forever = make_config(tmp_path, '\n[confirmations]\nreply_window = "0d"\n')
    assert forever.confirmations.reply_window == timedelta()


# --- header injection ---------------------------------------------------------------


def test_encoded_words_in_names_never_become_mailboxes() -> None:
    raw = (
        f"From: Ana <{ANA}>\r\nTo: =?utf-8?q?Luis?= {INJECTION} <{LUIS}>, "
        f"=?utf-8?q?a:b@evil.test,?= <{JUAN}>\r\nSubject: x\r\n\r\nx"
    ).encode()
    assert [a.email for a in ParsedMail.from_bytes(raw).addresses("To")] == [LUIS, JUAN]


@pytest.mark.parametrize(
    "text", [f"Acta {INJECTION}", "Acta\u2028Bcc: victim@evil.test", "Acta\x85Bcc: x@evil.test"]
)
def test_nothing_from_mail_puts_a_header_in_what_we_send(text: str) -> None:
    composed = compose(
        purpose="notice",
        language="es",
        context={
            "person_name": text,
            "title": text,
            "lines": [text],
            "meeting_subject": text,
        },
        tracker_name=text,
        tracker_address=TRACKER,
        to=person_address(text, LUIS),
        message_id="<mt.x.1@tracker.test>",
        date=__import__("datetime").datetime(2026, 11, 26, tzinfo=__import__("datetime").UTC),
        in_reply_to=f"<{INJECTION}@evil.test>",
        references=(f"<a.{INJECTION}@evil.test>", "<ok@cliente.test>"),
    )
    headers = BytesHeaderParser(policy=compat32).parsebytes(composed.raw)
    assert headers.get_all("Bcc") is None
    assert [name.lower() for name in headers].count("subject") == 1
    assert headers["References"] == "<ok@cliente.test>" and headers["In-Reply-To"] is None
    assert "=?" not in clean(INJECTION)
    assert safe_message_id("<a@b.test>") == "<a@b.test>"
    assert safe_message_id(f"<{INJECTION}@x>") is None


# --- our own mail come back ---------------------------------------------------------


def test_our_message_id_means_our_own_mail_whatever_from_says() -> None:
    echoed = ParsedMail.from_bytes(
        b"From: Actas via Lista <lista@lists.test>\r\nMessage-ID: <mt.abc@tracker.test>\r\n\r\nx"
    )
    assert own_mail_reason(echoed, TRACKER) is not None
    other = ParsedMail.from_bytes(b"From: x@y.test\r\nMessage-ID: <mt.abc@elsewhere.test>\r\n\r\nx")
    assert own_mail_reason(other, TRACKER) is None


# --- replies that cannot count ------------------------------------------------------


@pytest.fixture
def loop(tmp_path: Path) -> Loop:
    loop = make_loop(
        tmp_path,
        f'\n[security]\ntrusted_authserv_id = "{OURS}"\n[confirmations]\nreply_window = "5d"\n',
    )
    loop.deliver(minutes_mail())
    return loop


def not_counted(loop: Loop) -> list[str]:
    return [entry["reason"] for entry in loop.status()["not_counted"]]


def test_dmarc_fail_by_our_server_counts_nothing_and_a_pass_counts(loop: Loop) -> None:
    (request,) = loop.requests_to(JUAN)
    forged = reply_to(
        request, f"Juan <{JUAN}>", "Confirmo.", Authentication_Results=f"{OURS}; dmarc=fail"
    )
    loop.deliver(forged)
    assert loop.states()[(1, JUAN)] == "pending"
    assert any("dmarc=fail" in reason for reason in not_counted(loop))
    genuine = reply_to(
        request, f"Juan <{JUAN}>", "Confirmo.", Authentication_Results=f"{OURS}; dmarc=pass"
    )
    loop.deliver(genuine)
    assert loop.states()[(1, JUAN)] == "confirmed"


def test_a_reply_after_the_window_counts_nothing_and_the_organizer_is_told(loop: Loop) -> None:
    (request,) = loop.requests_to(JUAN)
    loop.clock.advance(timedelta(days=6))
    loop.deliver(reply_to(request, f"Juan <{JUAN}>", "Confirmo."))
    assert loop.states()[(1, JUAN)] == "pending"
    assert any("expired" in reason for reason in not_counted(loop))
    assert [m for m in loop.sent(ANA) if "no contada" in str(m["Subject"])]


def with_message_id(raw: bytes, message_id: str) -> bytes:
    head, _, body = raw.partition(b"\n\n")
    lines = [
        f"Message-ID: {message_id}".encode() if line.lower().startswith(b"message-id:") else line
        for line in head.split(b"\n")
    ]
    return b"\n".join(lines) + b"\n\n" + body


def test_a_second_mail_with_a_counted_replys_message_id_counts_nothing(loop: Loop) -> None:
    (request,) = loop.requests_to(JUAN)
    loop.deliver(with_message_id(reply_to(request, f"Juan <{JUAN}>", "Confirmo."), "<r1@c.test>"))
    replay = reply_to(
        request, f"Juan <{JUAN}>", "No confirmo el 1: me lo he pensado.", Subject="Re: otra cosa"
    )
    loop.deliver(with_message_id(replay, "<r1@c.test>"))
    assert loop.states()[(1, JUAN)] == "confirmed"
    assert any("already the evidence" in reason for reason in not_counted(loop))


def test_an_answer_that_records_nothing_gets_one_receipt_per_request(loop: Loop) -> None:
    (request,) = loop.requests_to(JUAN)
    for _ in range(3):
        loop.deliver(reply_to(request, f"Juan <{JUAN}>", "Gracias, lo miro.", quote=False))
    receipts = [m for m in loop.sent(JUAN) if "Recibido" in str(m["Subject"])]
    assert len(receipts) == 1
    loop.deliver(reply_to(request, f"Juan <{JUAN}>", "Confirmo.", quote=False))
    assert len([m for m in loop.sent(JUAN) if "Recibido" in str(m["Subject"])]) == 2


def test_our_request_text_echoed_back_from_its_own_addressee_is_ignored(loop: Loop) -> None:
    (request,) = loop.requests_to(JUAN)
    text = request.get_body(preferencelist=("plain",)).get_content()
    echo = reply_to(request, f"Juan via Lista <{JUAN}>", text, quote=False)
    loop.deliver(echo)
    assert loop.states()[(1, JUAN)] == "pending"
    assert not [m for m in loop.sent(JUAN) if "Recibido" in str(m["Subject"])]
    with loop.runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Response)) == 0
        receipts = select(func.count()).where(OutboxMessage.kind == OutboxKind.RECEIPT)
        assert session.scalar(receipts) == 0
