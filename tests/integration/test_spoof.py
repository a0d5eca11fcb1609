"""Nobody confirms in someone else's name: spoofed replies through the real stack.

One tracker on the real stack (minutes and replies delivered to Dovecot over
LMTP and read over IMAP by the service; requests and receipts sent through
Postfix into the people's Maildirs), configured to trust its own receiving
server's Authentication-Results (``[security] trusted_authserv_id``) and to
let a request's token expire after 30 days. Juan and Luis get a request each.

Juan answers "Confirmo." for real, then each attack of ``ATTACKS`` arrives
as a real mail: each tries to confirm Luis's pending items or to take back
Juan's confirmation. Then Luis answers for real (one confirmed, one rejected)
and, 31 days later, Juan's own address tries again with his expired token.

Afterwards: not one response recorded from any attack, every state as the
two genuine replies left it (so the test fails if the genuine path breaks),
every attack visible to an operator (``status`` lists it under
``not_counted``, or its mail is ignored with a reason), and no header
injected into anything sent or stored. Run with ``-s`` to see the table.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from stack.mailstack import MailStack
from support.robots import Tracker, parse, settle

from mailtrack.clock import FrozenClock
from mailtrack.db.models import (
    ConfirmationRequest,
    InboundMessage,
    Meeting,
    OutboxMessage,
    Person,
    Response,
)
from mailtrack.mail.addressing import new_token
from mailtrack.status import status_report

pytestmark = pytest.mark.integration

AUTHSERV = "mx.tracker.test"
INJECTED = "=?utf-8?q?=0D=0ABcc:_{victim}?="  # an encoded CR LF, then a header


@dataclass
class World:
    stack: MailStack
    tracker: Tracker
    clock: FrozenClock
    juan: str
    luis: str
    ana: str
    victim: str
    requests: dict[str, Message]
    genuine_juan_id: str = ""

    def deliver(self, raw: bytes) -> None:
        self.stack.deliver_lmtp(self.tracker.address, raw, mail_from="someone@anywhere.test")

    def reply_address(self, person: str) -> str:
        return str(self.requests[person]["Reply-To"].addresses[0].addr_spec)

    def token(self, person: str) -> str:
        return self.reply_address(person).partition("+")[2].partition("@")[0]


def _header(name: str, value: str) -> str:
    """A header line as a mail client writes it: non-ASCII in RFC 2047 encoded words.

    Written by hand (not by the ``email`` package) so each attack goes out
    exactly as built, tricks included.
    """
    if value.isascii():
        return f"{name}: {value}"
    if name == "Subject":
        return f"{name}: {Header(value, 'utf-8').encode()}"
    mailboxes = []
    for mailbox in value.split(", "):
        display, bracket, rest = mailbox.rpartition("<")
        if display.isascii():
            mailboxes.append(mailbox)
        else:
            mailboxes.append(f"{Header(display.strip(), 'utf-8').encode()} {bracket}{rest}")
    return f"{name}: {', '.join(mailboxes)}"


def mail(
    world: World,
    *,
    sender: str,
    to: str,
    body: str,
    subject: str = "Re: Acta",
    in_reply_to: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
    message_id: str | None = None,
) -> bytes:
    lines = [
        _header("From", sender),
        _header("To", to),
        _header("Subject", subject),
        f"Date: {format_datetime(world.clock.now())}",
        f"Message-ID: {message_id or make_msgid(domain='spoof.test')}",
    ]
    if in_reply_to:
        lines += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    lines += [_header(name, value) for name, value in headers]
    lines += [
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode()


def reply_of(
    world: World,
    person: str,
    sender: str,
    body: str,
    *,
    subject: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
    message_id: str | None = None,
) -> bytes:
    """A reply to ``person``'s request, with every key it carries, from ``sender``."""
    request = world.requests[person]
    return mail(
        world,
        sender=sender,
        to=world.reply_address(person),
        subject=subject or "Re: " + str(request["Subject"]),
        in_reply_to=str(request["Message-ID"]),
        body=body,
        headers=headers,
        message_id=message_id,
    )


def auth(*results: str) -> tuple[tuple[str, str], ...]:
    return tuple(("Authentication-Results", result) for result in results)


# Each attack: name, the mail, and words expected in the reason an operator sees.
Attack = tuple[str, Callable[[World], bytes], str]
ATTACKS: list[Attack] = [
    (
        "valid token, another address",
        lambda w: reply_of(w, w.luis, "Luis Ortega <luis.ortega@gmail.test>", "Confirmo."),
        "not the address the request was sent to",
    ),
    (
        "another person's token (Juan answers Luis's request)",
        lambda w: reply_of(w, w.luis, f"Juan Pérez <{w.juan}>", "Confirmo, lo confirmo por Luis."),
        "not the address the request was sent to",
    ),
    (
        "another person's subject reference only",
        lambda w: mail(
            w,
            sender=f"Juan Pérez <{w.juan}>",
            to=w.tracker.address,
            subject="Re: " + str(w.requests[w.luis]["Subject"]),
            body="Confirmo.",
        ),
        "not the address the request was sent to",
    ),
    (
        "forged token in the plus address (from Luis's own address)",
        lambda w: mail(
            w,
            sender=f"Luis <{w.luis}>",
            to=w.tracker.address.replace("@", f"+{new_token()}@"),
            body="Confirmo.",
        ),
        "matches no request",
    ),
    (
        "forged token in In-Reply-To (our Message-ID scheme)",
        lambda w: mail(
            w,
            sender=f"Luis <{w.luis}>",
            to=w.tracker.address,
            in_reply_to=f"<mt.{new_token()}@{w.tracker.address.partition('@')[2]}>",
            body="Confirmo.",
        ),
        "matches no request",
    ),
    (
        "forged subject reference",
        lambda w: mail(
            w,
            sender=f"Luis <{w.luis}>",
            to=w.tracker.address,
            subject="Re: [MT-ZZZZ22] Confirma los acuerdos",
            body="Confirmo.",
        ),
        "answers no request",
    ),
    (
        'display name "Luis Ortega" on the attacker\'s address',
        lambda w: reply_of(w, w.luis, "Luis Ortega <atacante@evil.test>", "Confirmo."),
        "not the address the request was sent to",
    ),
    (
        "display name that is Luis's address, quoted",
        lambda w: reply_of(w, w.luis, f'"{w.luis}" <atacante@evil.test>', "Confirmo."),
        "not the address the request was sent to",
    ),
    (
        "Luis's address then the attacker's, unquoted",
        lambda w: reply_of(w, w.luis, f"{w.luis} <atacante@evil.test>", "Confirmo."),
        "not the address the request was sent to",
    ),
    (
        "display name with Luis's address in an encoded word",
        lambda w: reply_of(
            w,
            w.luis,
            "=?utf-8?q?Luis_Ortega_=3C" + w.luis.replace("-", "=2D") + "=3E?= <atacante@evil.test>",
            "Confirmo.",
        ),
        "not the address the request was sent to",
    ),
    (
        "From Luis, Sender the attacker (on behalf of)",
        lambda w: reply_of(
            w, w.luis, f"Luis <{w.luis}>", "Confirmo.", headers=(("Sender", "atacante@evil.test"),)
        ),
        "not the address the request was sent to",
    ),
    (
        "From Luis, DMARC fail by our server",
        lambda w: reply_of(
            w,
            w.luis,
            f"Luis <{w.luis}>",
            "Confirmo.",
            headers=auth(
                f"{AUTHSERV}; dkim=none; spf=fail smtp.mailfrom=evil.test;"
                " dmarc=fail (p=reject) header.from=cliente.test"
            ),
        ),
        "dmarc=fail",
    ),
    (
        "From Luis, DKIM fail by our server",
        lambda w: reply_of(
            w,
            w.luis,
            f"Luis <{w.luis}>",
            "Confirmo.",
            headers=auth(f"{AUTHSERV}; dkim=fail (bad signature) header.d=cliente.test"),
        ),
        "dkim=fail",
    ),
    (
        "forged 'pass' with our server id under our server's 'fail'",
        lambda w: reply_of(
            w,
            w.luis,
            f"Luis <{w.luis}>",
            "Confirmo.",
            headers=auth(
                f"{AUTHSERV}; dmarc=fail header.from=cliente.test",
                f"{AUTHSERV}; dkim=pass header.d=cliente.test; dmarc=pass",
            ),
        ),
        "dmarc=fail",
    ),
    (
        "CRLF header injection in the sender's name (another address)",
        lambda w: reply_of(
            w,
            w.luis,
            "=?utf-8?q?Luis=0D=0ABcc:_" + w.victim.replace("-", "=2D") + "?= <atacante@evil.test>",
            "Confirmo.",
        ),
        "not the address the request was sent to",
    ),
    (
        "Juan's reply replayed: same Message-ID, new subject and body",
        lambda w: reply_of(
            w,
            w.juan,
            f"Juan Pérez <{w.juan}>",
            "No confirmo nada: el presupuesto no está aprobado.",
            subject="Re: corrección",
            message_id=w.genuine_juan_id,
        ),
        "already the evidence of inbound",
    ),
]


def late_attack(world: World) -> bytes:
    """31 days on, from Juan's own address with his real token: the token has expired."""
    return reply_of(
        world, world.juan, f"Juan Pérez <{world.juan}>", "No confirmo el 1: ya no estoy de acuerdo."
    )


def build(stack: MailStack, tmp_path: Path) -> World:
    tag = secrets.token_hex(3)
    clock = FrozenClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    extra = (
        f'\n[security]\ntrusted_authserv_id = "{AUTHSERV}"\n'
        '\n[confirmations]\nreply_window = "30d"\nreminder_after = "60d"\n'
    )
    tracker = Tracker(stack, tmp_path / "tracker", f"actas-{tag}@tracker.test", clock, extra)
    juan, luis, ana = (
        f"juan-{tag}@cliente.test",
        f"luis-{tag}@cliente.test",
        f"ana-{tag}@consultora.test",
    )
    victim = f"victim-{tag}@evil.test"
    for user in (juan, luis, ana):
        stack.add_user(user)
    world = World(stack, tracker, clock, juan, luis, ana, victim, {})
    # Minutes whose subject and one participant's name carry an encoded CR LF and a Bcc.
    injected = INJECTED.format(victim=victim.replace("-", "=2D"))
    minutes = mail(
        world,
        sender=f"Ana García <{ana}>",
        to=f"Juan Pérez <{juan}>, =?utf-8?q?Luis_Ortega?= {injected} <{luis}>",
        subject=f"Acta reunión de seguimiento {injected}",
        body=(
            "Hola a todos:\n\nAcuerdos:\n1. Se aprueba el presupuesto de la fase 2.\n\n"
            "Tareas:\n- Juan: reiniciar el servidor de staging el sábado.\n"
            "- Luis enviará la oferta revisada antes del 15/12.\n\nUn saludo,\nAna\n"
        ),
        headers=(("Cc", f"Actas <{tracker.address}>"),),
        message_id=f"<acta.{injected}@consultora.test>",
    )
    world.deliver(minutes)
    tracker.run_once()
    settle(stack)
    for person in (juan, luis):
        (request,) = [m for m in maildir(stack, person) if m["Reply-To"]]
        world.requests[person] = request
    return world


def maildir(stack: MailStack, user: str) -> list[Message]:
    root = stack.maildir(user)
    return [
        parse(path.read_bytes())
        for sub in ("new", "cur")
        if (root / sub).is_dir()
        for path in sorted((root / sub).iterdir())
        if path.is_file()
    ]


def inbound_id(world: World, message_id: str, after: int) -> int:
    with world.tracker.runtime.sessions() as session:
        found = session.scalar(
            select(func.max(InboundMessage.id)).where(
                InboundMessage.message_id == message_id, InboundMessage.id > after
            )
        )
    assert found is not None, f"{message_id} never recorded"
    return int(found)


def last_inbound(world: World) -> int:
    with world.tracker.runtime.sessions() as session:
        return int(session.scalar(select(func.max(InboundMessage.id))) or 0)


def states(world: World) -> dict[tuple[int, str], str]:
    with world.tracker.runtime.sessions() as session:
        report = status_report(session)
    return {
        (item["number"], row["person"]): row["state"]
        for meeting in report["meetings"]
        for item in meeting["items"]
        for row in item["confirmations"]
    }


def test_no_spoofed_reply_is_counted_and_the_genuine_ones_are(
    mail_stack: MailStack, tmp_path: Path
) -> None:
    world = build(mail_stack, tmp_path)
    juan, luis = world.juan, world.luis
    before = states(world)
    assert set(before.values()) == {"pending"} and len(before) == 4, before

    # Juan confirms for real (through our trusted server: DMARC pass), and his reply's
    # subject carries a CR LF injection of its own.
    injected = INJECTED.format(victim=world.victim.replace("-", "=2D"))
    genuine = reply_of(
        world,
        juan,
        f"Juan Pérez <{juan}>",
        "Confirmo.",
        headers=auth(f"{AUTHSERV}; dkim=pass header.d=cliente.test; spf=pass; dmarc=pass"),
    ).replace(b"Subject: Re: ", b"Subject: " + injected.encode() + b" Re: ", 1)
    world.deliver(genuine)
    world.tracker.run_once()
    world.genuine_juan_id = str(parse(genuine)["Message-ID"]).strip()
    after_juan = states(world)
    assert after_juan[(1, juan)] == after_juan[(2, juan)] == "confirmed", after_juan

    # The attacks, then the same genuine mail once more (a replay of identical bytes).
    start = last_inbound(world)
    sent: list[tuple[str, str, str]] = []
    for name, build_mail, why in ATTACKS:
        raw = build_mail(world)
        world.deliver(raw)
        sent.append((name, str(parse(raw)["Message-ID"]).strip(), why))
    world.tracker.run_once()
    assert states(world) == after_juan, "an attack changed a state"
    ids = {name: inbound_id(world, message_id, start) for name, message_id, _ in sent}
    replayed = last_inbound(world)
    world.deliver(genuine)
    world.tracker.run_once()
    assert states(world) == after_juan, "the replay changed a state"

    # Luis answers for real: item 1 confirmed, his action rejected with the reason.
    world.deliver(
        reply_of(
            world,
            luis,
            f"Luis <{luis}>",
            "Confirmo el 1. No confirmo el 2: la fecha no es viable.",
            message_id=f"<r.{injected}@cliente.test>",
        )
    )
    world.tracker.run_once()
    final = states(world)
    assert final[(1, luis)] == "confirmed" and final[(3, luis)] == "rejected", final

    # A month later Juan's own address tries to take his confirmation back: expired.
    world.clock.advance(timedelta(days=31))
    late = late_attack(world)
    world.deliver(late)
    world.tracker.run_once()
    name = "expired token (Juan's own, 31 days on)"
    sent.append((name, str(parse(late)["Message-ID"]).strip(), "expired"))
    ids[name] = inbound_id(world, sent[-1][1], start)
    assert states(world) == final

    with world.tracker.runtime.sessions() as session:
        report = status_report(session)
        shown = {entry["inbound_id"]: entry["reason"] for entry in report["not_counted"]}
        rows: list[tuple[str, str, str]] = []
        for name, _, why in sent:
            row_id = ids[name]
            row = session.get(InboundMessage, row_id)
            assert row is not None
            responses = session.scalar(
                select(func.count()).where(Response.inbound_message_id == row_id)
            )
            visible = shown.get(row_id) or f"{row.route}: {row.route_reason}"
            rows.append((name, str(responses), visible))
            assert responses == 0, (name, responses)
            assert why in visible, (name, visible)
        # The identical replay of Juan's reply: recorded once, counted once.
        copies = session.scalars(
            select(InboundMessage).where(InboundMessage.message_id == world.genuine_juan_id)
        ).all()
        counted = [
            c.id
            for c in copies
            if session.scalar(select(func.count()).where(Response.inbound_message_id == c.id))
        ]
        assert len(counted) == 1, [(c.id, c.route, c.route_reason) for c in copies]
        replay = [c for c in copies if c.id > replayed]
        rows.append(
            (
                "Juan's genuine reply delivered again, identical",
                str(
                    sum(
                        session.scalar(
                            select(func.count()).where(Response.inbound_message_id == c.id)
                        )
                        or 0
                        for c in replay
                    )
                ),
                "; ".join(f"{c.route}: {c.route_reason}" for c in replay) or "not recorded twice",
            )
        )
        # Nothing stored carries a line break from a header.
        names = session.scalars(select(Person.display_name)).all()
        subjects = session.scalars(select(Meeting.subject)).all()
        assert all("\r" not in (v or "") and "\n" not in (v or "") for v in [*names, *subjects])
        recipients = [r for rs in session.scalars(select(OutboxMessage.recipients)) for r in rs]
        assert recipients and not any("evil.test" in r for r in recipients), recipients
        outgoing = session.scalars(select(OutboxMessage.raw)).all()
        requests = session.scalar(select(func.count()).select_from(ConfirmationRequest))
    assert requests == 2
    print("\nattack | responses recorded | what the operator sees")
    for row in rows:
        print(" | ".join(row))

    # Nothing we sent carries an injected header, as written in the outbox and as
    # Postfix delivered it into Dovecot; and nothing reached the victim.
    settle(world.stack)
    delivered = [m for user in (juan, luis, world.ana) for m in maildir_raw(world.stack, user)]
    assert len(delivered) >= 5  # 2 requests, 2 receipts, notices to Ana
    parser = BytesHeaderParser(policy=compat32)
    for raw in [*outgoing, *delivered]:
        headers = parser.parsebytes(raw)
        assert headers.get_all("Bcc") is None, raw[:400]
        values = [
            str(v) for n in ("From", "To", "Cc", "Reply-To") for v in headers.get_all(n) or []
        ]
        addresses = [address for _, address in getaddresses(values)]
        assert addresses and not any("evil.test" in a for a in addresses), addresses
        header_block = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        assert b"\nBcc:" not in header_block and b"\nbcc:" not in header_block.lower()
    victim_box = world.stack.maildir(world.victim)
    assert not victim_box.exists() or not any(
        (victim_box / sub).is_dir() and any((victim_box / sub).iterdir()) for sub in ("new", "cur")
    )


def maildir_raw(stack: MailStack, user: str) -> list[bytes]:
    root = stack.maildir(user)
    return [
        path.read_bytes()
        for sub in ("new", "cur")
        if (root / sub).is_dir()
        for path in sorted((root / sub).iterdir())
        if path.is_file()
    ]
