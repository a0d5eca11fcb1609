"""kill -9 the real service again and again while minutes, requests, replies and receipts flow.

One scenario, run at two sizes: a short one in the normal suite
(tests/integration/test_crash_loop.py) and the full one (20+ rounds, 500
minutes) as a slow test and as ``benchmarks/crash.py``, which prints the
figures recorded in docs/RELIABILITY.md.

The world: a tracker mailbox read over IMAP (IDLE), outgoing mail through
the real Postfix into the participants' Dovecot mailboxes, and a "people"
thread that reads those mailboxes and answers every request it finds, as
a mail client would (LMTP delivery into the tracker's mailbox, to the
request's ``tracker+TOKEN@`` Reply-To). Minutes arrive in chunks, one per
round, so every round has mail to ingest, extract, send and answer. Each
round starts ``mailtrack run`` and kills it with SIGKILL after a random
time; a last run drains everything and is stopped with SIGTERM.

What is checked afterwards is counted on both sides: the database (every
delivered mail processed once; one meeting per minutes; one request per
person and meeting; one response per reply and item; every item confirmed
or rejected as the reply said) and the recipients' mailboxes (every mail
the outbox says it sent arrived; copies beyond the first are the duplicates
a crash between the relay's "250" and the outbox mark may cause, at most
one per kill).
"""

from __future__ import annotations

import random
import secrets
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine
from stack.mailstack import MailStack

from mailtrack.db.models import (
    Confirmation,
    ConfirmationRequest,
    ConfirmationState,
    InboundMessage,
    Meeting,
    MessageState,
    OutboxMessage,
    OutboxStatus,
    RequestItem,
    Response,
)
from support.service import Mailboxes, log_of, log_path, mailtrack, write_config
from support.traffic import Minutes, ReplyWriter, is_request, minutes_mail, parse, people


@dataclass
class CrashReport:
    """Every figure of one run, as docs/RELIABILITY.md reports them."""

    minutes: int
    rounds: int
    seed: int
    kills: int = 0
    kills_by_phase: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    inbound_delivered: int = 0
    inbound_rows: int = 0
    inbound_processed: int = 0
    inbound_lost: int = 0
    inbound_duplicate_rows: int = 0
    meetings: int = 0
    duplicate_meetings: int = 0
    requests: int = 0
    expected_requests: int = 0
    duplicate_requests: int = 0
    replies_sent: int = 0
    responses: int = 0
    duplicate_responses: int = 0
    confirmations: int = 0
    duplicate_confirmations: int = 0
    confirmations_as_replied: int = 0
    confirmations_not_as_replied: int = 0
    outbox_sent: int = 0
    outbox_not_sent: int = 0
    copies_expected: int = 0
    copies_received: int = 0
    copies_missing: int = 0
    copies_duplicate: int = 0
    duplicates_by_kind: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def problems(self) -> list[str]:
        """What breaks the promise: empty when nothing was lost and nothing counted twice."""
        found = []
        checks = {
            "mails lost": self.inbound_lost,
            "inbound mails not processed": self.inbound_delivered - self.inbound_processed,
            "inbound rows duplicated": self.inbound_duplicate_rows,
            "duplicate meetings": self.duplicate_meetings,
            "meetings missing": self.minutes - self.meetings,
            "duplicate requests": self.duplicate_requests,
            "requests missing": self.expected_requests - self.requests,
            "duplicate responses": self.duplicate_responses,
            "duplicate confirmations": self.duplicate_confirmations,
            "confirmations not as replied": self.confirmations_not_as_replied,
            "outgoing mail never sent": self.outbox_not_sent,
            "outgoing copies missing": self.copies_missing,
        }
        for what, count in checks.items():
            if count:
                found.append(f"{what}: {count}")
        if self.copies_duplicate > self.kills:
            found.append(f"{self.copies_duplicate} duplicate copies for {self.kills} kills")
        return found


class People(threading.Thread):
    """The participants: read their mailboxes, answer each request once, like a person would."""

    def __init__(
        self, stack: MailStack, persons: list[str], writer: ReplyWriter, poll: float = 0.2
    ) -> None:
        super().__init__(daemon=True)
        self.stack = stack
        self.persons = persons
        self.writer = writer
        self.poll = poll
        self.mailboxes = Mailboxes(stack)
        self.answered: dict[str, str] = {}  # request Message-ID -> intent of the answer
        self.reply_ids: list[str] = []
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self._lock = threading.Lock()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                self.sweep()
                self.stopping.wait(self.poll)
        except BaseException as error:  # reported by the scenario, never swallowed
            self.error = error

    def sweep(self) -> int:
        """Answer every request that arrived since the last sweep; returns how many."""
        outgoing: list[tuple[str, bytes]] = []
        for person in self.persons:
            for raw in self.mailboxes.new_messages(person):
                message = parse(raw)
                request_id = str(message["Message-ID"])
                if not is_request(message) or request_id in self.answered:
                    continue
                reply = self.writer.reply(message, str(message["To"]))
                with self._lock:
                    self.answered[request_id] = reply.intent
                    self.reply_ids.append(str(parse(reply.raw)["Message-ID"]))
                outgoing.append((reply.rcpt, reply.raw))
        if outgoing:
            self.stack.deliver_lmtp_many(outgoing)
        return len(outgoing)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)
        if self.error is not None:
            raise self.error


def _phase(new_log: str) -> str:
    """What the service was doing when killed, from its last log line of the round."""
    lines = [line for line in new_log.splitlines() if " mailtrack." in line]
    if not lines:
        return "starting or archiving"
    last = lines[-1]
    if " sent " in last or "mail sent" in last:
        return "sending"
    if "routed reply" in last:
        return "handling replies"
    if "routed minutes" in last or "meeting #" in last:
        return "extracting minutes"
    return "archiving or routing"


class CrashScenario:
    def __init__(
        self,
        stack: MailStack,
        workdir: Path,
        *,
        minutes: int,
        rounds: int,
        seed: int = 7,
        kill_after: tuple[float, float] = (0.0, 3.0),
        people_count: int = 16,
        reject_share: float = 0.2,
        participants: int | None = None,
        level: str = "info",
    ) -> None:
        self.stack = stack
        self.workdir = workdir
        self.rng = random.Random(seed)
        self.kill_after = kill_after
        self.report = CrashReport(minutes=minutes, rounds=rounds, seed=seed)
        tag = secrets.token_hex(3)
        self.tracker = f"actas-{tag}@tracker.test"
        self.organizers = people(3, tag, self.rng, domain="consultora.test")
        self.pool = people(people_count, tag, self.rng)
        for user in [self.tracker] + [p.email for p in self.organizers + self.pool]:
            stack.add_user(user)
        # Digests at 00:00 (every run is "after the digest time"), receipts for every reply.
        self.config = write_config(
            workdir,
            stack,
            self.tracker,
            smtp=True,
            level=level,
            extra='[confirmations]\nreceipts_per_day = 100\n[digest]\ntime = "00:00"\n',
        )
        self.minutes: list[Minutes] = [
            minutes_mail(
                n, self.rng, self.tracker, self.organizers[n % 3], self.pool, size=participants
            )
            for n in range(minutes)
        ]
        self.people = People(
            stack,
            [p.email for p in self.pool],
            ReplyWriter(random.Random(seed + 1), reject_share=reject_share),
        )

    def _cli(self, *args: str) -> subprocess.Popen[bytes]:
        return mailtrack(self.config, *args, password=self.stack.password)

    def run(self, drain_timeout: float = 600.0) -> CrashReport:
        started = time.monotonic()
        upgrade = self._cli("db", "upgrade")
        assert upgrade.wait(timeout=60) == 0, log_of(self.config)
        self.people.start()
        try:
            self._rounds()
            self._drain(drain_timeout)
        finally:
            self.people.stop()
        self.report.seconds = round(time.monotonic() - started, 1)
        self._count()
        return self.report

    def _rounds(self) -> None:
        chunks = max(self.report.rounds, 1)
        size = -(-len(self.minutes) // chunks)
        delivered = 0
        kills: Counter[str] = Counter()
        for _ in range(self.report.rounds):
            chunk = self.minutes[delivered : delivered + size]
            self.stack.deliver_lmtp_many((self.tracker, m.raw) for m in chunk)
            delivered += len(chunk)
            offset = log_path(self.config).stat().st_size if log_path(self.config).exists() else 0
            service = self._cli("run")
            # Kill at a random moment of the work, not while Python and spaCy load.
            self._wait_until_connected(service, offset)
            time.sleep(self.rng.uniform(*self.kill_after))
            if service.poll() is None:
                service.send_signal(signal.SIGKILL)
                service.wait(timeout=30)
                with open(log_path(self.config), "rb") as log:
                    log.seek(offset)
                    kills[_phase(log.read().decode(errors="replace"))] += 1
            else:
                raise AssertionError(f"the service ended by itself:\n{log_of(self.config)}")
        rest = self.minutes[delivered:]
        if rest:
            self.stack.deliver_lmtp_many((self.tracker, m.raw) for m in rest)
        self.report.kills = sum(kills.values())
        self.report.kills_by_phase = dict(kills)

    def _wait_until_connected(self, service: subprocess.Popen[bytes], offset: int) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and service.poll() is None:
            with open(log_path(self.config), "rb") as log:
                log.seek(offset)
                if b"mailtrack.ingest.imap: connected to" in log.read():
                    return
            time.sleep(0.05)
        raise AssertionError(f"the service never connected:\n{log_of(self.config)}")

    def _engine(self) -> Engine:
        return create_engine(f"sqlite:///{self.workdir / 'data' / 'mailtrack.db'}")

    def _quiet(self, engine: Engine) -> bool:
        """Everything delivered is processed, every request answered, nothing left to send.

        "Every request" is every request the database holds, not the number the
        generator meant: a request the extraction did not make must end the run
        as "requests missing" in the report, not hang it.
        """
        with engine.connect() as connection:
            processed = connection.scalar(
                select(func.count())
                .select_from(InboundMessage)
                .where(InboundMessage.state == MessageState.PROCESSED)
            )
            requests = connection.scalar(select(func.count()).select_from(ConfirmationRequest))
            pending = connection.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.PENDING)
            )
        delivered = len(self.minutes) + len(self.people.reply_ids)
        return (
            processed == delivered
            and len(self.people.answered) >= (requests or 0)
            and pending == 0
            and self.stack.postfix_queue_size() == 0
        )

    def _drain(self, timeout: float) -> None:
        service = self._cli("run")
        engine = self._engine()
        deadline = time.monotonic() + timeout
        calm = 0
        try:
            while calm < 3:
                if time.monotonic() > deadline:
                    raise AssertionError(f"not drained after {timeout} s:\n{log_of(self.config)}")
                if service.poll() is not None:
                    raise AssertionError(f"the service stopped:\n{log_of(self.config)}")
                calm = calm + 1 if self._quiet(engine) else 0
                time.sleep(0.5)
        finally:
            engine.dispose()
            service.send_signal(signal.SIGTERM)
            assert service.wait(timeout=60) == 0, log_of(self.config)

    def _count(self) -> None:
        report = self.report
        engine = self._engine()
        try:
            with engine.connect() as db:
                rows = db.execute(
                    select(InboundMessage.message_id, InboundMessage.state, InboundMessage.sha256)
                ).all()
                meeting_keys = list(db.scalars(select(Meeting.thread_key)))
                request_keys = db.execute(
                    select(ConfirmationRequest.meeting_id, ConfirmationRequest.person_id)
                ).all()
                response_keys = db.execute(
                    select(Response.inbound_message_id, Response.item_id)
                ).all()
                confirmation_keys = db.execute(
                    select(Confirmation.item_id, Confirmation.person_id, Confirmation.state)
                ).all()
                request_states = db.execute(
                    select(ConfirmationRequest.message_id, RequestItem.position, Confirmation.state)
                    .join(RequestItem, RequestItem.request_id == ConfirmationRequest.id)
                    .join(
                        Confirmation,
                        (Confirmation.item_id == RequestItem.item_id)
                        & (Confirmation.person_id == ConfirmationRequest.person_id),
                    )
                ).all()
                outbox = db.execute(
                    select(
                        OutboxMessage.message_id,
                        OutboxMessage.kind,
                        OutboxMessage.recipients,
                        OutboxMessage.status,
                    )
                ).all()
        finally:
            engine.dispose()
        delivered = {m.message_id for m in self.minutes} | set(self.people.reply_ids)
        ids = Counter(message_id for message_id, _, _ in rows)
        report.inbound_delivered = len(delivered)
        report.inbound_rows = len(rows)
        report.inbound_processed = sum(
            1 for message_id, state, _ in rows
            if state == MessageState.PROCESSED and message_id in delivered
        )  # fmt: skip
        report.inbound_lost = len(delivered - set(ids))
        report.inbound_duplicate_rows = sum(count - 1 for count in ids.values())
        report.meetings = len(set(meeting_keys) & {m.message_id for m in self.minutes})
        report.duplicate_meetings = len(meeting_keys) - len(set(meeting_keys))
        report.requests = len(request_keys)
        report.expected_requests = sum(len(m.confirmers) for m in self.minutes)
        report.duplicate_requests = len(request_keys) - len(set(request_keys))
        report.replies_sent = len(self.people.reply_ids)
        report.responses = len(response_keys)
        report.duplicate_responses = len(response_keys) - len(set(response_keys))
        pairs = [(item, person) for item, person, _ in confirmation_keys]
        report.confirmations = len(pairs)
        report.duplicate_confirmations = len(pairs) - len(set(pairs))
        # Each reply confirmed everything, or everything but item 1 ("confirmo todo salvo el 1").
        by_request: dict[str, dict[int, ConfirmationState]] = {}
        for message_id, position, state in request_states:
            by_request.setdefault(message_id, {})[position] = state
        as_replied = wrong = 0
        for message_id, states in by_request.items():
            intent = self.people.answered.get(message_id)
            for position, state in states.items():
                rejected = intent == "reject-first" and position == 1
                expected = ConfirmationState.REJECTED if rejected else ConfirmationState.CONFIRMED
                good = intent is not None and state == expected
                as_replied += good
                wrong += not good
        report.confirmations_as_replied = as_replied
        report.confirmations_not_as_replied = wrong
        self._count_copies(outbox)

    def _count_copies(self, outbox: list[Any]) -> None:
        report = self.report
        boxes = Mailboxes(self.stack)
        received: dict[str, Counter[str]] = {}
        duplicates: Counter[str] = Counter()
        for message_id, kind, recipients, status in outbox:
            if status != OutboxStatus.SENT:
                report.outbox_not_sent += 1
                continue
            report.outbox_sent += 1
            for recipient in recipients:
                user = recipient.lower()
                if user not in received:
                    received[user] = boxes.message_ids(user)
                copies = received[user][message_id]
                report.copies_expected += 1
                report.copies_received += copies
                if copies == 0:
                    report.copies_missing += 1
                elif copies > 1:
                    report.copies_duplicate += copies - 1
                    duplicates[str(kind.value if hasattr(kind, "value") else kind)] += copies - 1
        report.duplicates_by_kind = dict(duplicates)
