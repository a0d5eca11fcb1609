"""Never a loop: robots that answer every mail, and a second mailtrack, on the real stack.

Two mailtrack instances (each its own address, database and IMAP account;
one clock the test moves) get the same minutes: the second one's address is
in Cc of the first's, so each asks the other to confirm. Around them stand
mail systems that answer every mail they receive, whatever it says (see
tests/support/robots.py): an RFC 3834 vacation responder, a naive
out-of-office script with no header to tell it is automatic, a helpdesk that
acknowledges everything with "Re:", a mailing list that echoes every mail to
its members (the trackers among them) with list headers, one without any
(From rewritten, our headers dropped, our Message-ID kept) and one that also
gives each copy a Message-ID of its own. One person, Juan, answers
"Confirmo." once to each request.

Days pass in 12-hour steps; at each step both trackers read their mail over
IMAP and send what is due through Postfix, then every robot answers what has
landed in its Maildir. Afterwards each tracker must have sent each robot and
the other tracker exactly one request plus the configured reminders: no
receipt, no notice, nothing more. Run with ``-s`` to see the counts.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage, Message
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from stack.mailstack import MailStack
from support.robots import (
    Robot,
    Tracker,
    echoing_list,
    from_tracker,
    naive_responder,
    outbox_counts,
    parse,
    rfc3834_responder,
    send_smtp,
    settle,
    ticket_responder,
)
from support.service import Mailboxes

from mailtrack.clock import FrozenClock
from mailtrack.db.models import InboundMessage
from mailtrack.status import status_report

pytestmark = pytest.mark.integration

MINUTES = """Hola a todos:

Acta de la reunión de seguimiento.

Acuerdos:
1. Se aprueba el presupuesto de la fase 2 por 12.000 €.

Tareas:
- Juan: reiniciar el servidor de staging el sábado.

Un saludo,
Ana
"""


def maildir_messages(stack: MailStack, user: str) -> list[Message]:
    """Every mail in ``user``'s Dovecot Maildir, read from disk (read over IMAP or not)."""
    root = stack.maildir(user)
    return [
        parse(path.read_bytes())
        for sub in ("new", "cur")
        if (root / sub).is_dir()
        for path in sorted((root / sub).iterdir())
        if path.is_file()
    ]


def human(answered: set[str]) -> object:
    """Juan: answers each request once ("Confirmo."), and nothing else."""

    def respond(robot: Robot, mail: Message) -> tuple[bytes, str, list[str]] | None:
        reply_to = mail["Reply-To"]
        if reply_to is None or "+" not in str(reply_to) or str(reply_to) in answered:
            return None
        answered.add(str(reply_to))
        reply = EmailMessage()
        reply["From"] = f"Juan Pérez <{robot.address}>"
        reply["To"] = str(reply_to)
        reply["Subject"] = "Re: " + str(mail["Subject"])
        reply["Date"] = format_datetime(datetime.now().astimezone())
        reply["Message-ID"] = make_msgid(domain="cliente.test")
        reply["In-Reply-To"] = str(mail["Message-ID"])
        reply["References"] = str(mail["Message-ID"])
        reply.set_content("Confirmo.\n")
        target = reply_to.addresses[0].addr_spec
        return bytes(reply), robot.address, [target]

    return respond


@dataclass
class Outcome:
    trackers: list[Tracker]
    robots: dict[str, Robot]
    counts: dict[str, dict[str, dict[str, int]]]  # tracker -> recipient -> kind -> n
    delivered: dict[str, dict[str, int]]  # tracker -> recipient -> mails from it in the Maildir
    juan: str
    ana: str
    steps: int

    def table(self) -> str:
        lines = [
            "tracker | recipient | outbox by kind | in the recipient's Maildir | robot answers"
        ]
        for tracker in self.trackers:
            for recipient, kinds in sorted(self.counts[tracker.address].items()):
                robot = self.robots.get(recipient)
                lines.append(
                    f"{tracker.address} | {recipient} | {kinds} | "
                    f"{self.delivered[tracker.address].get(recipient, 0)} | "
                    f"{robot.answered if robot else '-'}"
                )
        for tracker in self.trackers:
            lines.append(f"inbound at {tracker.address}: from | route | reason | mails")
            with tracker.runtime.sessions() as session:
                rows = session.execute(
                    select(
                        InboundMessage.from_address,
                        InboundMessage.route,
                        InboundMessage.route_reason,
                        func.count(),
                    ).group_by(
                        InboundMessage.from_address,
                        InboundMessage.route,
                        InboundMessage.route_reason,
                    )
                ).all()
            for sender, route, reason, count in sorted(rows, key=lambda r: str(r[0])):
                short = re.sub(r"#\d+|MT-\w+", "#", reason or "")[:70]
                lines.append(f"  {sender} | {route} | {short} | {count}")
        return "\n".join(lines)


def run_scenario(stack: MailStack, tmp_path: Path, *, days: int, max_reminders: int) -> Outcome:
    tag = secrets.token_hex(3)
    clock = FrozenClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    settings = f'\n[confirmations]\nreminder_after = "1d"\nmax_reminders = {max_reminders}\n'
    first = Tracker(stack, tmp_path / "a", f"actas-{tag}@tracker.test", clock, settings)
    second = Tracker(stack, tmp_path / "b", f"registro-{tag}@otro.test", clock, settings)
    trackers = [first, second]
    members = [first.address, second.address]
    juan, ana = f"juan-{tag}@cliente.test", f"ana-{tag}@consultora.test"
    robots = [
        Robot(f"vacaciones-{tag}@robots.test", rfc3834_responder),
        Robot(f"fuera-{tag}@robots.test", naive_responder),
        Robot(f"soporte-{tag}@robots.test", ticket_responder),
        Robot(f"equipo-{tag}@lists.test", echoing_list(members, list_headers=True)),
        Robot(f"todos-{tag}@lists.test", echoing_list(members, list_headers=False)),
        Robot(
            f"grupo-{tag}@lists.test",
            echoing_list(members, list_headers=False, keep_message_id=False),
        ),
    ]
    people = [Robot(juan, human(set()))]  # type: ignore[arg-type]
    for robot in [*robots, *people]:
        stack.add_user(robot.address)
    stack.add_user(ana)
    minutes = EmailMessage()
    minutes["From"] = f"Ana García <{ana}>"
    minutes["To"] = ", ".join(
        [f"Juan Pérez <{juan}>", *(f"Buzón {n} <{r.address}>" for n, r in enumerate(robots, 1))]
    )
    minutes["Cc"] = f"Actas <{first.address}>, Registro <{second.address}>"
    minutes["Subject"] = "Acta reunión de seguimiento"
    minutes["Date"] = format_datetime(clock.now())
    minutes["Message-ID"] = make_msgid(domain="consultora.test")
    minutes.set_content(MINUTES)
    everyone = [juan, *(r.address for r in robots), first.address, second.address]
    send_smtp(stack, bytes(minutes), ana, everyone)
    settle(stack)
    boxes = Mailboxes(stack)
    steps = days * 2 + 1
    for step in range(steps + 1):
        for tracker in trackers:
            tracker.run_once()
        settle(stack)
        for robot in [*robots, *people]:
            robot.step(stack, boxes)
        settle(stack)
        if step < steps:
            clock.advance(timedelta(hours=12))
    for tracker in trackers:  # read the robots' last answers; nothing more may go out
        tracker.run_once()
    settle(stack)
    for robot in [*robots, *people]:
        robot.step(stack, boxes)
    delivered: dict[str, dict[str, int]] = {t.address: {} for t in trackers}
    for user in [*(r.address for r in [*robots, *people]), *members, ana]:
        for mail in maildir_messages(stack, user):
            for tracker in trackers:
                # Sent to this user, not a list's copy of what the tracker sent to the list.
                to = [a.addr_spec.lower() for a in mail["To"].addresses] if mail["To"] else []
                if from_tracker(mail, tracker.address) and user in to:
                    per = delivered[tracker.address]
                    per[user] = per.get(user, 0) + 1
    return Outcome(
        trackers,
        {robot.address: robot for robot in [*robots, *people]},
        {tracker.address: outbox_counts(tracker) for tracker in trackers},
        delivered,
        juan,
        ana,
        steps,
    )


def check(outcome: Outcome, max_reminders: int) -> None:
    first, second = outcome.trackers
    machines = [address for address in outcome.robots if address != outcome.juan]
    for tracker in outcome.trackers:
        counts = outcome.counts[tracker.address]
        other = second if tracker is first else first
        for address in [*machines, other.address]:
            expected = (
                {"request": 1, "reminder": max_reminders} if max_reminders else {"request": 1}
            )
            if address.startswith("soporte-"):
                # A helpdesk's "we received your message" reads as an answer that says
                # nothing: it gets one "not understood" receipt per request, never more.
                expected["receipt"] = 1
            assert counts.get(address) == expected, (tracker.address, address, counts.get(address))
            assert outcome.delivered[tracker.address].get(address) == sum(expected.values())
        # Juan answered at once: one request, one receipt, no reminder.
        assert counts[outcome.juan] == {"request": 1, "receipt": 1}
        # Each robot did answer everything it got: the loop was offered, and refused.
        for address in machines:
            assert outcome.robots[address].answered >= 1 + max_reminders
        with tracker.runtime.sessions() as session:
            report = status_report(session)
        (meeting,) = report["meetings"]
        states = {
            (item["number"], row["person"]): row["state"]
            for item in meeting["items"]
            for row in item["confirmations"]
        }
        assert states[(1, outcome.juan)] == "confirmed"
        # No robot, list or tracker confirmed anything.
        assert all(
            state != "confirmed" for (_, person), state in states.items() if person != outcome.juan
        ), states
        # Nothing was sent about the other tracker's mail: no notice, no receipt to anyone.
        assert all(
            set(kinds) <= {"request", "reminder", "receipt", "digest"} for kinds in counts.values()
        )


def test_no_robot_and_no_other_mailtrack_gets_more_than_a_request_and_its_reminders(
    mail_stack: MailStack, tmp_path: Path
) -> None:
    outcome = run_scenario(mail_stack, tmp_path, days=3, max_reminders=2)
    print("\n" + outcome.table())
    check(outcome, max_reminders=2)


@pytest.mark.slow
def test_loops_over_two_weeks_with_five_reminders(mail_stack: MailStack, tmp_path: Path) -> None:
    outcome = run_scenario(mail_stack, tmp_path, days=14, max_reminders=5)
    print("\n" + outcome.table())
    check(outcome, max_reminders=5)
