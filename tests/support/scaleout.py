"""Several real ``mailtrack run`` workers on one PostgreSQL, two tracker mailboxes, one kill -9.

One scenario, run at two sizes: 48 minutes in the normal suite
(tests/integration/test_scaleout.py) and 2,000 as a benchmark
(``MT_SCALE_MINUTES=2000`` for the test, or ``benchmarks/scaleout.py``, which
also measures 1, 2 and 3 workers without a kill). The figures it prints are
recorded in benchmarks/RESULTS.md.

The world: two tracker mailboxes in Dovecot (a team's and a client's), each
organizer writing to one of them; outgoing mail through the real Postfix into
the participants' Dovecot mailboxes; a "people" thread that answers every
request it finds (tests/support/crashloop.py). The workers are separate
processes, each told it runs on a host of its own (``MAILTRACK_WORKER_HOST``),
so a killed worker's mailbox and claims are taken over the way they are
across machines: when its lease and claims lapse, not by noticing its pid is
gone.

After the kill (of a worker holding a mailbox, once a third of the meetings
exist), the scenario measures how long until another worker holds that
mailbox, then drains everything and counts on both sides: the database (every
mail processed once, one meeting per minutes in the right mailbox, one request
per person and meeting, one response per reply and item) and the recipients'
mailboxes (every mail the outbox sent arrived; extra copies are the
duplicates a kill between the relay's "250" and the outbox mark may cause, at
most one per kill).
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine
from stack.mailstack import MailStack

from mailtrack.cluster.identity import HOST_ENV, pid_of
from mailtrack.db.models import (
    Confirmation,
    ConfirmationRequest,
    ConfirmationState,
    InboundMessage,
    MailboxLease,
    Meeting,
    MessageState,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    RequestItem,
    Response,
    WorkerPresence,
)
from support.crashloop import People
from support.service import Mailboxes, environment
from support.traffic import Minutes, ReplyWriter, minutes_mail, people


@dataclass
class ScaleReport:
    """Every figure of one run."""

    minutes: int
    workers: int
    mailboxes: int = 2
    kills: int = 0
    lease_ttl: float = 0.0
    takeover_seconds: float | None = None
    seconds: float = 0.0
    minutes_per_second: float = 0.0
    mails_per_second: float = 0.0
    inbound_delivered: int = 0
    inbound_processed: int = 0
    inbound_lost: int = 0
    inbound_duplicate_rows: int = 0
    meetings: int = 0
    duplicate_meetings: int = 0
    meetings_in_wrong_mailbox: int = 0
    requests: int = 0
    expected_requests: int = 0
    duplicate_requests: int = 0
    replies_sent: int = 0
    replies_without_response: int = 0
    responses: int = 0
    duplicate_responses: int = 0
    confirmations: int = 0
    duplicate_confirmations: int = 0
    confirmations_not_as_replied: int = 0
    outbox_sent: int = 0
    outbox_not_sent: int = 0
    copies_expected: int = 0
    copies_missing: int = 0
    copies_duplicate: int = 0
    duplicates_by_kind: dict[str, int] = field(default_factory=dict)
    digests_per_organizer_max: int = 0
    processed_by_worker: dict[str, int] = field(default_factory=dict)
    peak_rss_mb_by_worker: dict[str, float] = field(default_factory=dict)
    cpu_seconds_by_worker: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def problems(self) -> list[str]:
        """What breaks the promise: empty when nothing was lost and nothing counted twice."""
        checks = {
            "mails lost": self.inbound_lost,
            "inbound mails not processed": self.inbound_delivered - self.inbound_processed,
            "inbound rows duplicated": self.inbound_duplicate_rows,
            "meetings missing": self.minutes - self.meetings,
            "duplicate meetings": self.duplicate_meetings,
            "meetings in the wrong mailbox": self.meetings_in_wrong_mailbox,
            "requests missing": self.expected_requests - self.requests,
            "duplicate requests": self.duplicate_requests,
            "replies without a response": self.replies_without_response,
            "duplicate responses": self.duplicate_responses,
            "duplicate confirmations": self.duplicate_confirmations,
            "confirmations not as replied": self.confirmations_not_as_replied,
            "outgoing mail never sent": self.outbox_not_sent,
            "outgoing copies missing": self.copies_missing,
        }
        found = [f"{what}: {count}" for what, count in checks.items() if count]
        if self.copies_duplicate > self.kills:
            found.append(f"{self.copies_duplicate} duplicate copies for {self.kills} kill(s)")
        if self.digests_per_organizer_max > 1:
            found.append(f"an organizer got {self.digests_per_organizer_max} digests in one day")
        if self.kills and self.takeover_seconds is None:
            found.append("the killed worker's mailbox was never taken over")
        return found


@dataclass
class Worker:
    number: int
    process: subprocess.Popen[bytes]
    log: Path
    cpu_at_start: float = 0.0  # start-up (loading the pipelines) is not the run's work

    @property
    def host(self) -> str:
        return f"node-{self.number}"

    def peak_rss_mb(self) -> float | None:
        """The process's peak resident memory (VmHWM), while it lives."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
        return None

    def cpu_seconds(self) -> float | None:
        """User + system CPU time the process has used, while it lives (where a run's time went)."""
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()
        return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 1)


class ScaleScenario:
    def __init__(
        self,
        stack: MailStack,
        database_url: str,
        workdir: Path,
        *,
        minutes: int,
        workers: int = 3,
        kill: bool = True,
        seed: int = 11,
        lease_ttl: float = 6.0,
        people_count: int = 24,
    ) -> None:
        self.stack = stack
        self.database_url = database_url
        self.workdir = workdir
        self.kill = kill
        self.rng = random.Random(seed)
        self.lease_ttl = lease_ttl
        self.report = ScaleReport(minutes=minutes, workers=workers, lease_ttl=lease_ttl)
        tag = secrets.token_hex(3)
        self.trackers = [f"actas-{tag}@tracker.test", f"proyectos-{tag}@cliente-tracker.test"]
        self.organizers = people(4, tag, self.rng, domain="consultora.test")
        self.pool = people(people_count, tag, self.rng)
        users = self.trackers + [p.email for p in self.organizers + self.pool]
        for user in users:
            stack.add_user(user)
        self.config = self._write_config()
        # Minutes alternate between the two mailboxes; each organizer writes to one of them.
        self.minutes: list[Minutes] = []
        self.mailbox_of: dict[str, str] = {}
        for n in range(minutes):
            tracker = self.trackers[n % 2]
            organizer = self.organizers[(n % 2) + 2 * ((n // 2) % 2)]
            mail = minutes_mail(n, self.rng, tracker, organizer, self.pool)
            self.minutes.append(mail)
            self.mailbox_of[mail.message_id] = tracker
        self.people = People(
            stack, [p.email for p in self.pool], ReplyWriter(random.Random(seed + 1))
        )
        self.workers: list[Worker] = []

    def _write_config(self) -> Path:
        stack = self.stack
        boxes = "".join(
            f"""
[[mailbox]]
address = "{tracker}"
organizers = ["@consultora.test"]
[mailbox.imap]
host = "{stack.host}"
port = {stack.imap_port}
security = "starttls"
ca_file = "{stack.ca_file}"
username = "{tracker}"
password_env = "MT_TEST_IMAP_PASSWORD"
batch_size = 50
"""
            for tracker in self.trackers
        )
        config = self.workdir / "mailtrack.toml"
        config.write_text(
            f"""
[tracker]
data_dir = "data"
timezone = "Europe/Madrid"
{boxes}
[database]
url = "{self.database_url}"
[smtp]
host = "{stack.host}"
port = {stack.smtp_port}
security = "starttls"
ca_file = "{stack.ca_file}"
timeout = "5s"
[workers]
lease_ttl = "{self.lease_ttl}s"
poll_interval = "500ms"
[processing]
claim_ttl = "20s"
[confirmations]
receipts_per_day = 100
[digest]
time = "00:00"
[logging]
level = "info"
"""
        )
        return config

    # -- running ------------------------------------------------------------------------------

    def _cli(self, *args: str, log: Path, host: str = "node-0") -> subprocess.Popen[bytes]:
        env = {**environment(self.stack.password), HOST_ENV: host}
        with open(log, "ab") as handle:
            return subprocess.Popen(
                [sys.executable, "-m", "mailtrack", "--config", str(self.config), *args],
                env=env,
                stdout=handle,
                stderr=handle,
            )

    def logs(self, tail: int = 4000) -> str:
        parts = []
        for worker in self.workers:
            text = worker.log.read_text(errors="replace") if worker.log.exists() else ""
            parts.append(f"--- worker {worker.number} ---\n{text[-tail:]}")
        return "\n".join(parts)

    def run(self, drain_timeout: float = 900.0) -> ScaleReport:
        upgrade = self._cli("db", "upgrade", log=self.workdir / "upgrade.log")
        assert upgrade.wait(timeout=120) == 0, (self.workdir / "upgrade.log").read_text()
        engine = create_engine(self.database_url)
        try:
            for number in range(1, self.report.workers + 1):
                log = self.workdir / f"worker-{number}.log"
                process = self._cli("run", log=log, host=f"node-{number}")
                self.workers.append(Worker(number, process, log))
            self._wait_ready(engine)
            for worker in self.workers:
                worker.cpu_at_start = worker.cpu_seconds() or 0.0
            started = time.monotonic()
            self.people.start()
            self.stack.deliver_lmtp_many(
                (self.mailbox_of[m.message_id], m.raw) for m in self.minutes
            )
            if self.kill:
                self._kill_a_reader(engine)
            self._drain(engine, drain_timeout)
            elapsed = time.monotonic() - started
            self.report.seconds = round(elapsed, 1)
            self.report.minutes_per_second = round(len(self.minutes) / elapsed, 1)
            handled = len(self.minutes) + len(self.people.reply_ids)
            self.report.mails_per_second = round(handled / elapsed, 1)
            for worker in self.workers:
                if worker.process.poll() is None:
                    peak = worker.peak_rss_mb()
                    if peak is not None:
                        self.report.peak_rss_mb_by_worker[worker.host] = peak
                    cpu = worker.cpu_seconds()
                    if cpu is not None:
                        used = round(cpu - worker.cpu_at_start, 1)
                        self.report.cpu_seconds_by_worker[worker.host] = used
        finally:
            try:
                self.people.stop()
            finally:
                self._stop_workers()
                engine.dispose()
        self._count()
        return self.report

    def _wait_ready(self, engine: Engine) -> None:
        """Until every worker has loaded its pipelines and joined (its row in ``worker``)."""
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with engine.connect() as db:
                joined = db.scalar(select(func.count()).select_from(WorkerPresence))
            if joined == len(self.workers):
                return
            for worker in self.workers:
                if worker.process.poll() is not None:
                    raise AssertionError(f"worker {worker.number} ended:\n{self.logs()}")
            time.sleep(0.2)
        raise AssertionError(f"the workers never all started:\n{self.logs()}")

    def _kill_a_reader(self, engine: Engine) -> None:
        """Once a third of the meetings exist, SIGKILL a worker that holds a mailbox."""
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with engine.connect() as db:
                meetings = db.scalar(select(func.count()).select_from(Meeting))
            if meetings * 3 >= len(self.minutes):
                break
            time.sleep(0.2)
        with engine.connect() as db:
            leases = db.execute(select(MailboxLease.mailbox, MailboxLease.holder)).all()
        by_pid = {worker.process.pid: worker for worker in self.workers}
        mailbox, holder = next((box, holder) for box, holder in leases if pid_of(holder) in by_pid)
        victim = by_pid[pid_of(holder) or 0]
        victim.process.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        victim.process.wait(timeout=30)
        self.report.kills = 1
        deadline = killed_at + 10 * self.lease_ttl + 60
        while time.monotonic() < deadline:
            with engine.connect() as db:
                now_holder, expires = db.execute(
                    select(MailboxLease.holder, MailboxLease.expires_at).where(
                        MailboxLease.mailbox == mailbox
                    )
                ).one()
            if now_holder != holder and _aware(expires) > datetime.now(UTC):
                self.report.takeover_seconds = round(time.monotonic() - killed_at, 2)
                return
            time.sleep(0.1)

    def _quiet(self, engine: Engine) -> bool:
        """Everything delivered is processed, every request answered, nothing left to send."""
        expected_requests = sum(len(m.confirmers) for m in self.minutes)
        with engine.connect() as db:
            processed = db.scalar(
                select(func.count())
                .select_from(InboundMessage)
                .where(InboundMessage.state == MessageState.PROCESSED)
            )
            pending = db.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.PENDING)
            )
        delivered = len(self.minutes) + len(self.people.reply_ids)
        return (
            processed >= delivered
            and len(self.people.answered) >= expected_requests
            and pending == 0
            and self.stack.postfix_queue_size() == 0
        )

    def _drain(self, engine: Engine, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        calm = 0
        while calm < 3:
            if time.monotonic() > deadline:
                raise AssertionError(f"not drained after {timeout} s:\n{self.logs()}")
            alive = [w for w in self.workers if w.process.poll() is None]
            if not alive:
                raise AssertionError(f"every worker stopped:\n{self.logs()}")
            calm = calm + 1 if self._quiet(engine) else 0
            time.sleep(0.5)

    def _stop_workers(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in self.workers:
            code = worker.process.wait(timeout=90)
            if not (code == 0 or code == -signal.SIGKILL):
                raise AssertionError(f"worker {worker.number} exited {code}:\n{self.logs()}")

    # -- counting ---------------------------------------------------------------------------

    def _count(self) -> None:
        report = self.report
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as db:
                rows = db.execute(
                    select(
                        InboundMessage.id,
                        InboundMessage.message_id,
                        InboundMessage.state,
                        InboundMessage.claimed_by,
                    )
                ).all()
                meetings = db.execute(select(Meeting.thread_key, Meeting.tracker)).all()
                request_keys = db.execute(
                    select(ConfirmationRequest.meeting_id, ConfirmationRequest.person_id)
                ).all()
                responses = db.execute(
                    select(Response.inbound_message_id, Response.item_id, Response.person_id)
                ).all()
                confirmation_keys = db.execute(
                    select(Confirmation.item_id, Confirmation.person_id)
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
        minutes_ids = {m.message_id for m in self.minutes}
        delivered = minutes_ids | set(self.people.reply_ids)
        ids = Counter(message_id for _, message_id, _, _ in rows)
        report.inbound_delivered = len(delivered)
        report.inbound_processed = sum(
            1 for _, message_id, state, _ in rows
            if state == MessageState.PROCESSED and message_id in delivered
        )  # fmt: skip
        report.inbound_lost = len(delivered - set(ids))
        report.inbound_duplicate_rows = sum(count - 1 for count in ids.values())
        by_holder = Counter(
            (holder or "?").split(":")[0] for _, message_id, state, holder in rows
            if state == MessageState.PROCESSED
        )  # fmt: skip
        report.processed_by_worker = dict(sorted(by_holder.items()))
        keys = [key for key, _ in meetings]
        report.meetings = len(set(keys) & minutes_ids)
        report.duplicate_meetings = len(keys) - len(set(keys))
        report.meetings_in_wrong_mailbox = sum(
            1 for key, tracker in meetings if self.mailbox_of.get(key, tracker) != tracker
        )
        report.requests = len(request_keys)
        report.expected_requests = sum(len(m.confirmers) for m in self.minutes)
        report.duplicate_requests = len(request_keys) - len(set(request_keys))
        reply_ids = set(self.people.reply_ids)
        reply_rows = {row_id for row_id, message_id, _, _ in rows if message_id in reply_ids}
        answered_rows = {inbound for inbound, _, _ in responses}
        report.replies_sent = len(self.people.reply_ids)
        report.replies_without_response = len(reply_rows - answered_rows) + (
            len(self.people.reply_ids) - len(reply_rows)
        )
        report.responses = len(responses)
        report.duplicate_responses = len(responses) - len(set(responses))
        report.confirmations = len(confirmation_keys)
        report.duplicate_confirmations = len(confirmation_keys) - len(set(confirmation_keys))
        by_request: dict[str, dict[int, ConfirmationState]] = {}
        for message_id, position, state in request_states:
            by_request.setdefault(message_id, {})[position] = state
        wrong = 0
        for message_id, states in by_request.items():
            intent = self.people.answered.get(message_id)
            for position, state in states.items():
                rejected = intent == "reject-first" and position == 1
                expected = ConfirmationState.REJECTED if rejected else ConfirmationState.CONFIRMED
                wrong += intent is None or state != expected
        report.confirmations_not_as_replied = wrong
        report.outbox_sent = sum(1 for *_, status in outbox if status == OutboxStatus.SENT)
        report.outbox_not_sent = len(outbox) - report.outbox_sent
        self._count_copies(outbox)

    def _count_copies(self, outbox: list[Any]) -> None:
        report = self.report
        mailboxes = Mailboxes(self.stack)
        kinds = {message_id: kind for message_id, kind, _, _ in outbox}
        recipients = {
            address
            for _, _, addresses, status in outbox
            if status == OutboxStatus.SENT
            for address in addresses
        }
        received: dict[str, Counter[str]] = {
            address: mailboxes.message_ids(address) for address in recipients
        }
        missing = duplicate = 0
        by_kind: Counter[str] = Counter()
        digests: Counter[str] = Counter()
        for message_id, kind, addresses, status in outbox:
            if status != OutboxStatus.SENT:
                continue
            for address in addresses:
                copies = received[address].get(message_id, 0)
                report.copies_expected += 1
                missing += copies == 0
                duplicate += max(copies - 1, 0)
                if copies > 1:
                    by_kind[OutboxKind(kinds[message_id]).value] += copies - 1
                if kind == OutboxKind.DIGEST:
                    digests[address] += copies
        report.copies_missing = missing
        report.copies_duplicate = duplicate
        report.duplicates_by_kind = dict(by_kind)
        report.digests_per_organizer_max = max(digests.values(), default=0)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def write_report(report: ScaleReport, path: Path) -> None:
    import json

    path.write_text(json.dumps(report.as_dict(), indent=2))


def scale_minutes(default: int) -> int:
    """The number of minutes: ``MT_SCALE_MINUTES`` (2000 for the recorded run), else ``default``."""
    return int(os.environ.get("MT_SCALE_MINUTES", default))
