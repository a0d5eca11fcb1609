"""The run loop over several tracker mailboxes: each mail answered from the mailbox it came in."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from sqlalchemy import select
from support.loop import handlers
from support.memory import MemorySource

from mailtrack.assembly import Runtime, build_node, build_sender, housekeeping, open_runtime
from mailtrack.clock import FrozenClock
from mailtrack.cluster.leases import Leases
from mailtrack.config import parse_config
from mailtrack.db.migrate import upgrade
from mailtrack.db.models import InboundMessage, Meeting, MessageState
from mailtrack.db.session import make_engine
from mailtrack.digest import build
from mailtrack.ingest.source import Batch, FetchedMail
from mailtrack.ingest.store import Archiver
from mailtrack.outbound.mailers import MemoryMailer
from mailtrack.status import StatusFilter, status_report
from mailtrack.worker import Summary

A, B = "actas@consultora.test", "proyectos@cliente.test"
ANA, JUAN, LUIS = "ana@consultora.test", "juan@cliente.test", "luis@cliente.test"
MINUTES = """Hola:

Acuerdos:
1. Se aprueba el presupuesto de la fase 2.

Tareas:
- Juan: reiniciar el servidor de staging el sábado.
- Luis enviará la oferta revisada antes del 15/12.

Ana
"""


class World:
    """Two tracker mailboxes in memory, one database, a memory relay, a frozen clock."""

    def __init__(self, tmp_path: Path) -> None:
        for name in ("a", "b"):
            for sub in ("new", "cur", "tmp"):
                (tmp_path / name / sub).mkdir(parents=True)
        text = f"""
[tracker]
timezone = "Europe/Madrid"
organizers = ["@consultora.test"]
data_dir = "data"
[[mailbox]]
address = "{A}"
[mailbox.maildir]
path = "a"
[[mailbox]]
address = "{B}"
name = "Actas Cliente"
language = "en"
[mailbox.maildir]
path = "b"
"""
        config = parse_config(text, path=tmp_path / "mailtrack.toml", environ={})
        engine = make_engine(config.database.url)
        upgrade(engine)
        engine.dispose()
        self.runtime: Runtime = open_runtime(
            config, FrozenClock(datetime(2026, 11, 26, 11, 0, tzinfo=UTC))
        )
        self.sources = {A: MemorySource("memory:a"), B: MemorySource("memory:b")}
        self.mailer = MemoryMailer()

    def node(self, holder: str = "host-1:1:aaaa") -> object:
        config = self.runtime.config
        sources = [(mailbox, self.sources[mailbox.tracker.address]) for mailbox in config.mailboxes]
        sender = build_sender(self.runtime, self.mailer, holder=holder)
        return build_node(
            self.runtime,
            handlers(config),
            housekeeping(self.runtime, sender),
            sources,
            holder=holder,
        )

    def run_once(self, holder: str = "host-1:1:aaaa") -> Summary:
        node = self.node(holder)
        return node.run(threading.Event(), once=True)  # type: ignore[attr-defined, no-any-return]

    def sent(self) -> list[Message]:
        return [message_from_bytes(m.raw, policy=default) for m in self.mailer.sent]

    def requests_to(self, person: str) -> list[Message]:
        return [
            m
            for m in self.sent()
            if person in str(m["To"])
            and "[MT-" in str(m["Subject"])
            and not str(m["Subject"]).startswith("Re:")
        ]

    def receipts_to(self, person: str) -> list[Message]:
        return [
            m
            for m in self.sent()
            if person in str(m["To"]) and str(m["Subject"]).startswith("Re: [MT-")
        ]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    world = World(tmp_path)
    yield world
    world.runtime.dispose()


def minutes(tracker: str, subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"Ana García <{ANA}>"
    message["To"] = f"Juan Pérez <{JUAN}>, Luis Ortega <{LUIS}>"
    message["Cc"] = f"Actas <{tracker}>"
    message["Subject"] = subject
    message["Date"] = "Thu, 26 Nov 2026 10:00:00 +0100"
    message["Message-ID"] = make_msgid(domain="consultora.test")
    message.set_content(MINUTES)
    return bytes(message)


def reply(request: Message, sender: str, text: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = str(request["Reply-To"])
    message["Subject"] = "Re: " + str(request["Subject"])
    message["Date"] = format_datetime(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    message["Message-ID"] = make_msgid(domain="cliente.test")
    message["In-Reply-To"] = str(request["Message-ID"])
    message["References"] = str(request["Message-ID"])
    message.set_content(text)
    return bytes(message)


def test_minutes_are_answered_from_the_mailbox_they_came_in_through(world: World) -> None:
    world.sources[A].add(minutes(A, "Acta equipo"))
    world.sources[B].add(minutes(B, "Acta cliente"))
    summary = world.run_once()
    assert summary.processed == 2
    with world.runtime.sessions() as session:
        trackers = dict(session.execute(select(Meeting.subject, Meeting.tracker)).all())
    assert trackers == {"Acta equipo": A, "Acta cliente": B}
    by_subject = {
        str(m["Subject"]).split("] ")[-1]: m for m in world.requests_to(JUAN)
    }  # one request per meeting
    team = next(m for s, m in by_subject.items() if "equipo" in s)
    client = next(m for s, m in by_subject.items() if "cliente" in s)
    assert str(team["From"]) == f"Actas <{A}>"
    assert str(team["Reply-To"]).endswith("@consultora.test>")
    assert "actas+" in str(team["Reply-To"])
    assert str(client["From"]) == f"Actas Cliente <{B}>"
    assert "proyectos+" in str(client["Reply-To"])
    outgoing = {m.message_id: m.envelope_from for m in world.mailer.sent}
    assert outgoing[str(client["Message-ID"])].startswith("proyectos+b.")  # VERP of B
    assert str(client["Message-ID"]).endswith("@cliente.test>")


def test_a_reply_is_recorded_and_its_receipt_comes_from_the_meeting_tracker(world: World) -> None:
    world.sources[B].add(minutes(B, "Acta cliente"))
    world.run_once()
    (request,) = world.requests_to(JUAN)
    world.sources[B].add(reply(request, f"Juan Pérez <{JUAN}>", "Confirmo."))
    world.run_once()
    with world.runtime.sessions() as session:
        report = status_report(session, StatusFilter(person=JUAN))
    (meeting,) = report["meetings"]
    assert meeting["tracker"] == B
    assert {row["state"] for item in meeting["items"] for row in item["confirmations"]} == {
        "confirmed"
    }
    (receipt,) = world.receipts_to(JUAN)
    assert str(receipt["From"]) == f"Actas Cliente <{B}>"
    # In the meeting's language (Spanish minutes), not the mailbox's default ("en").
    assert "Recibido" in str(receipt["Subject"])


def test_the_organizers_digest_covers_every_mailbox_from_the_first_one(world: World) -> None:
    world.sources[B].add(minutes(B, "Acta cliente"))
    world.sources[A].add(minutes(A, "Acta equipo"))
    world.run_once()
    now = world.runtime.clock.now()
    with world.runtime.sessions() as session:
        digest = build(session, world.runtime.config, ANA, now.date(), now)
    assert {meeting.subject for meeting in digest.meetings} == {"Acta cliente", "Acta equipo"}
    assert digest.tracker == A  # the first configured mailbox among its meetings
    assert digest.language == "es"


def test_a_mailbox_read_by_another_live_worker_is_left_alone(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    other = Leases(world.runtime.sessions, world.runtime.clock, "host-9:9:ffff", timedelta(60))
    assert other.acquire("memory:b") is not None
    world.sources[A].add(minutes(A, "Acta equipo"))
    world.sources[B].add(minutes(B, "Acta cliente"))
    with caplog.at_level(logging.WARNING, logger="mailtrack"):
        summary = world.run_once()
    assert summary.archived == 1
    assert "mailbox proyectos@cliente.test is read by worker host-9:9:ffff" in caplog.text
    other.release(["memory:b"])
    assert world.run_once().archived == 1


def test_a_one_off_run_gives_its_leases_back(world: World) -> None:
    world.run_once("host-1:1:aaaa")
    later = Leases(world.runtime.sessions, world.runtime.clock, "host-2:2:bbbb", timedelta(60))
    assert later.acquire("memory:a") is not None
    assert later.acquire("memory:b") is not None


def test_mail_archived_by_one_worker_is_processed_by_another(world: World) -> None:
    """Processing is shared: a worker reading no mailbox still handles waiting mail."""
    reader = Leases(world.runtime.sessions, world.runtime.clock, "host-9:9:ffff", timedelta(60))
    assert reader.acquire("memory:a") is not None and reader.acquire("memory:b") is not None
    # The reader archived a mail (and stopped before processing it).
    archiver = Archiver(
        world.runtime.sessions, world.runtime.archive, "memory:b", world.runtime.clock
    )
    archiver.store(Batch([FetchedMail("1:1", minutes(B, "Acta cliente"))]))
    summary = world.run_once("host-1:1:aaaa")
    assert (summary.archived, summary.processed) == (0, 1)
    with world.runtime.sessions() as session:
        row = session.scalars(select(InboundMessage)).one()
        meeting = session.scalars(select(Meeting)).one()
    assert row.state == MessageState.PROCESSED
    assert row.claimed_by == "host-1:1:aaaa"
    assert meeting.tracker == B  # the tracker of the mailbox it came in through
