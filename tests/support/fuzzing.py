"""The mutation fuzzer: seeds, targets, the promise each case must keep, and what it cost.

Seeds are the project's own mails: the reply fixtures (``tests/data/replies``,
each with the states it must read), the routing fixtures (out-of-office,
bounces, lists), the extraction corpus's minutes, the hostile mails, and the
text of mailtrack's own requests and receipts pasted back as an answer. Each
case draws a target and a seed, mutates the seed (:mod:`support.mutations`)
and runs the target under a time limit, recording its time (and, when asked,
its peak of Python memory):

- ``parse``: :meth:`ParsedMail.from_bytes` and every accessor, the machine-mail
  guards and the request keys; nothing may raise.
- ``html``: the HTML-to-text converter on mutated and hostile markup.
- ``trim``: quote trimming of mutated text, in both modes.
- ``route``: the routing table on a real (SQLite) database, rolled back.
- ``extract``: the extractor (loaded once) on mutated minutes.
- ``understand``: quote trimming then reply understanding; a mutant that must
  not confirm (a non-confirming reply written another way, a confirming one
  with its confirmation taken away) may not read "confirmed" for any item.
- ``reply_path``: the whole path, a memory mail source through archive,
  router, reply handler, confirmations, receipt and outbox, against a fresh
  request for the seed's addressee; same promise, on the database's states,
  and the mail must end processed (not failed or parked).

A case is reproduced from (run seed, case number) alone.
"""

from __future__ import annotations

import json
import random
import signal
import statistics
import tempfile
import time
import traceback
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import select

from mailtrack.db.models import (
    Confirmation,
    ConfirmationRequest,
    ConfirmationState,
    InboundMessage,
    Item,
    ItemKind,
    Meeting,
    MessageState,
    Person,
    RequestItem,
)
from mailtrack.handlers.router import RECIPIENT_HEADERS, route
from mailtrack.mail.addressing import (
    REF_ALPHABET,
    TOKEN_ALPHABET,
    TOKEN_LENGTH,
    find_keys,
    request_message_id,
)
from mailtrack.mail.guards import away_until, detect_auto_reply, detect_bounce, own_mail_reason
from mailtrack.mail.html import html_to_text
from mailtrack.mail.parsed import ParsedMail
from mailtrack.mail.quotes import trim
from mailtrack.nlp.intent import understand
from support import mutations as mut
from support.hostile import hostile_mails
from support.loop import TRACKER, Loop, make_loop, minutes_mail

ROOT = Path(__file__).resolve().parents[2]
REPLIES = ROOT / "tests/data/replies"
ROUTING = ROOT / "tests/data/routing"
CORPUS = ROOT / "models/corpus"
SEED_TOKEN = "k7q3m2x9vd4wz8tn"
SEED_REF = "MT-7K3Q"
TODAY = date(2026, 11, 26)

# Share of the cases each target gets; the reply targets get the most, being where
# a wrong "confirmed" would come from.
WEIGHTS = {
    "parse": 0.22,
    "html": 0.08,
    "trim": 0.08,
    "route": 0.07,
    "extract": 0.08,
    "understand": 0.35,
    "reply_path": 0.12,
}
CASE_LIMIT_SECONDS = 30.0  # a case still running after this is a hang
# A case whose Python allocations peak above this is a failure (measured only when
# memory is traced): the largest seeds are a few MB, so this is a blow-up, not a big mail.
CASE_MEMORY_LIMIT = 512 * 2**20


class Hang(Exception):
    """Raised inside a case that ran past :data:`CASE_LIMIT_SECONDS`."""


@dataclass(frozen=True)
class ReplySeed:
    name: str
    raw: bytes
    body: mut.Body
    items: int
    language: str
    addressee: str
    confirms_text: bool  # its words confirm at least one item (whoever sent it)
    from_addressee: bool


@dataclass
class Case:
    number: int
    target: str
    family: str  # preserving | removing | destructive
    seed: str
    steps: list[str]
    raw: bytes = b""
    text: str = ""
    must_not_confirm: bool = False
    control: bool = False  # preserving mutant of a confirming reply: should still confirm
    items: int = 1
    language: str = "es"
    addressee: str = ""


@dataclass
class Failure:
    case: int
    target: str
    family: str
    seed: str
    steps: list[str]
    problem: str

    def line(self) -> str:
        return (
            f"case {self.case} {self.target}/{self.family} seed {self.seed} "
            f"steps {'+'.join(self.steps) or '-'}: {self.problem}"
        )


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(len(ordered) * share + 0.5) - 1))]


@dataclass
class Report:
    seed: int
    cases: int = 0
    by_target: Counter[str] = field(default_factory=Counter)
    by_family: Counter[str] = field(default_factory=Counter)
    by_pair: Counter[tuple[str, str]] = field(default_factory=Counter)  # (target, family)
    must_not_confirm: int = 0
    must_not_confirm_by_target: Counter[str] = field(default_factory=Counter)
    false_confirmations: int = 0  # must-not-confirm cases that confirmed anything
    controls: int = 0
    controls_kept: int = 0
    failures: list[Failure] = field(default_factory=list)
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    peak_bytes: dict[str, int] = field(default_factory=Counter)
    largest_input: int = 0
    largest_by_target: dict[str, int] = field(default_factory=Counter)
    slowest: tuple[float, str] = (0.0, "")
    wall: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        timing = {
            target: {
                "cases": len(values),
                "median_ms": round(statistics.median(values) * 1000, 2),
                "p95_ms": round(percentile(values, 0.95) * 1000, 1),
                "p99_ms": round(percentile(values, 0.99) * 1000, 1) if len(values) >= 100 else None,
                "max_ms": round(max(values) * 1000, 1),
            }
            for target, values in sorted(self.seconds.items())
        }
        return {
            "seed": self.seed,
            "cases": self.cases,
            "by_target": dict(sorted(self.by_target.items())),
            "by_family": dict(sorted(self.by_family.items())),
            "by_target_and_family": {
                f"{target}/{family}": count
                for (target, family), count in sorted(self.by_pair.items())
            },
            "must_not_confirm_cases": self.must_not_confirm,
            "must_not_confirm_by_target": dict(sorted(self.must_not_confirm_by_target.items())),
            "false_confirmations": self.false_confirmations,
            "controls_still_confirmed": f"{self.controls_kept}/{self.controls}",
            "failures": len(self.failures),
            "failure_lines": [f.line() for f in self.failures[:50]],
            "timing": timing,
            "peak_python_memory_mb": {
                target: round(value / 2**20, 1) for target, value in sorted(self.peak_bytes.items())
            },
            "largest_input_bytes": self.largest_input,
            "largest_input_by_target": dict(sorted(self.largest_by_target.items())),
            "slowest_case": f"{self.slowest[0] * 1000:.0f} ms: {self.slowest[1]}",
            "wall_seconds": round(self.wall, 1),
        }


# --- seeds -------------------------------------------------------------------------------


def reply_seeds() -> list[ReplySeed]:
    seeds = []
    for eml in sorted(REPLIES.glob("*.eml")):
        expected = json.loads(eml.with_suffix(".expected.json").read_text(encoding="utf-8"))
        raw = eml.read_bytes()
        seeds.append(
            ReplySeed(
                eml.stem,
                raw,
                mut.body_of(raw),
                int(expected["request_items"]),
                str(expected["language"]),
                str(expected["addressee"]),
                "confirmed" in expected["items"].values(),
                bool(expected["sender_is_addressee"]),
            )
        )
    return seeds


def routing_seeds() -> list[tuple[str, bytes]]:
    return [(f"routing/{eml.stem}", eml.read_bytes()) for eml in sorted(ROUTING.glob("*.eml"))]


def routing_routes() -> dict[str, str]:
    """The route each routing seed must take: only "human" ones may confirm anything."""
    return {
        f"routing/{path.name.removesuffix('.expected.json')}": str(
            json.loads(path.read_text(encoding="utf-8"))["route"]
        )
        for path in sorted(ROUTING.glob("*.expected.json"))
    }


def minutes_seeds() -> list[tuple[str, bytes]]:
    found = [(f"corpus/{eml.stem}", eml.read_bytes()) for eml in sorted(CORPUS.glob("*/*.eml"))]
    return found or [("minutes", minutes_mail())]


# --- running cases -------------------------------------------------------------------------


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang(f"still running after {CASE_LIMIT_SECONDS:.0f} s")


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` in this (main) thread when ``seconds`` pass.

    An alarm already set (pytest-timeout's, under pytest) is put back afterwards with
    the time it had left, so a test running the fuzzer keeps its own timeout.
    """
    outer, _ = signal.getitimer(signal.ITIMER_REAL)
    began = time.monotonic()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - began), 0.001))


def touch(parsed: ParsedMail) -> None:
    """Read everything a ParsedMail offers, as the router and handlers may."""
    for name in ("From", "To", "Cc", "Subject", "Date", "Message-ID", "Sender", "Reply-To"):
        parsed.header(name)
        parsed.headers(name)
        parsed.raw_header(name)
    parsed.addresses("From", "To", "Cc", "Sender", *RECIPIENT_HEADERS)
    _ = (parsed.sender, parsed.message_id, parsed.references, parsed.subject, parsed.date)
    _ = (parsed.return_path, parsed.content_type, parsed.text, parsed.text_plain)
    _ = (parsed.text_html, parsed.html_as_text, parsed.attached_messages, list(parsed.walk()))


class Fuzzer:
    """Draws, mutates and runs cases; keeps one reply-path loop and one extractor."""

    def __init__(self, seed: int, *, trace_memory: bool = False, workdir: Path | None = None):
        self.seed = seed
        self.trace_memory = trace_memory
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="mailtrack-fuzz-"))
        self.replies = reply_seeds()
        self.routing = routing_seeds()
        self.routes = routing_routes()
        self.minutes = minutes_seeds()
        self.hostile = hostile_mails(big_attachment_mb=1)
        self._loop: Loop | None = None
        self._extractor: Any = None
        self._refs: set[str] = set()
        self.echoes: list[tuple[str, str]] = []
        self._confirmed = False  # whether the case just run read (or stored) any "confirmed"

    # -- the heavy parts, built on first use --

    @property
    def loop(self) -> Loop:
        if self._loop is None:
            loop = make_loop(self.workdir)
            loop.deliver(minutes_mail())
            english = (
                "Hi all,\n\nMinutes of the weekly sync.\n\nDecisions:\n1. The phase 2 budget "
                "is approved.\n\nAction items:\n- Juan to restart the staging server on Saturday."
                "\n- Luis will send the revised offer by 12/15.\n\nBest,\nAna\n"
            )
            loop.deliver(minutes_mail(english, "<minutes-en@consultora.test>", Subject="Minutes"))
            for sent in loop.sent():
                part = sent.get_body(preferencelist=("plain",))
                if part is not None:
                    self.echoes.append((f"echo/{sent['Subject']}", str(part.get_content())))
            self._loop = loop
        return self._loop

    @property
    def extractor(self) -> Any:
        if self._extractor is None:
            from mailtrack.nlp.extract import Extractor

            self._extractor = Extractor(tracker=TRACKER, default_language="es")
        return self._extractor

    def warm_up(self) -> None:
        """Build the reply-path loop and load the extractor before any case is drawn or timed.

        Draws must not depend on what ran before (the echo seeds come from the loop's own
        requests), or a case could not be reproduced from (seed, number) alone; and the
        one-off pipeline load is not the cost of any mail.
        """
        _ = self.loop
        _ = self.extractor

    # -- drawing cases --

    def draw(self, number: int, target: str) -> Case:
        rng = random.Random(f"{self.seed}:{number}")
        maker: Callable[[int, random.Random], Case] = getattr(self, f"_draw_{target}")
        case = maker(number, rng)
        case.target = target
        return case

    def _reply_case(self, number: int, rng: random.Random, *, path: bool = False) -> Case:
        """A reply mutant: preserving, removing or destructive, with its promise."""
        pool = self.replies
        roll = rng.random()
        if not path and self.echoes and roll < 0.05:
            name, text = rng.choice(self.echoes)
            body = mut.Body((("From", "juan.perez@cliente.test"), ("Subject", "Re: x")), text, "")
            body, steps = mut.preserve(body, rng)
            return Case(number, "", "preserving", name, ["echo", *steps], mut.render(body, rng),
                        must_not_confirm=True, items=3)  # fmt: skip
        if roll < 0.15:
            # An auto-reply or a bounce confirms nothing; a person's mail among the routing
            # seeds ("fuera de la oficina" in a sentence, then "confirmo") may.
            name, raw = rng.choice(self.routing)
            items = rng.randint(1, 5)
            if path:  # its keys pointed at a fresh request for its sender, as for replies
                raw = self._retarget_raw(raw, items, number)
            raw, steps = mut.destroy(raw, rng) if rng.random() < 0.5 else (raw, [])
            machine = self.routes.get(name, "human") != "human"
            return Case(number, "", "destructive" if steps else "preserving", name, steps, raw,
                        must_not_confirm=machine and not steps, items=items)  # fmt: skip
        seed = rng.choice(pool)
        # On the path the sender counts: a confirming text from another address confirms nothing.
        confirms = seed.confirms_text and (seed.from_addressee or not path)
        body = seed.body.with_header("Message-ID", f"<fuzz-{self.seed}-{number}@cliente.test>")
        family = rng.choice(("preserving", "removing", "removing", "destructive"))
        steps: list[str] = []
        if family == "removing" and seed.confirms_text:
            if path and rng.random() < 0.3:
                body, name = mut.other_sender(body, rng), "other_sender"
            else:
                name = rng.choice(sorted(mut.REMOVING))
                body = mut.REMOVING[name](body, rng, seed.language)
            steps.append(name)
        elif family == "removing":
            family = "preserving"
        body, more = mut.preserve(body, rng)
        steps += more
        if path:
            body = self._retarget(body, seed, number)
        raw = mut.render(body, rng)
        if family == "destructive":
            raw, more = mut.destroy(raw, rng)
            steps += more
        case = Case(number, "", family, seed.name, steps, raw, items=seed.items,
                    language=seed.language, addressee=seed.addressee)  # fmt: skip
        case.must_not_confirm = family == "removing" or (family == "preserving" and not confirms)
        case.control = family == "preserving" and confirms and not {"lookalikes"} & set(steps)
        return case

    def _retarget_raw(self, raw: bytes, items: int, number: int) -> bytes:
        """A routing seed's keys pointed at a fresh request for the mail's own sender."""
        sender = ParsedMail.from_bytes(raw).sender
        email = sender.email if sender and "@" in sender.email else "juan.perez@cliente.test"
        token, ref = self._new_request(email, items, "es", number)
        return raw.replace(SEED_TOKEN.encode(), token.encode()).replace(
            SEED_REF.encode(), ref.encode()
        )

    def _retarget(self, body: mut.Body, seed: ReplySeed, number: int) -> mut.Body:
        """Point the seed's keys at a fresh request of the reply-path database."""
        token, ref = self._new_request(seed.addressee, seed.items, seed.language, number)

        def swap(text: str) -> str:
            return text.replace(SEED_TOKEN, token).replace(SEED_REF, ref)

        headers = tuple((name, swap(value)) for name, value in body.headers)
        return replace(body, headers=headers, own=swap(body.own), rest=swap(body.rest))

    def _new_request(self, email: str, items: int, language: str, number: int) -> tuple[str, str]:
        rng = random.Random(f"ref:{self.seed}:{number}")
        while True:
            ref = "MT-" + "".join(rng.choice(REF_ALPHABET) for _ in range(8))
            if ref not in self._refs:
                self._refs.add(ref)
                break
        # Drawn, not secret: the same case gets the same token in every run.
        token = "".join(rng.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
        now = datetime(2026, 11, 26, 10, tzinfo=UTC)
        with self.loop.runtime.sessions.begin() as session:
            organizer = self._person(session, "ana.garcia@consultora.test", "Ana García")
            person = self._person(
                session, email, email.split("@", maxsplit=1)[0].replace(".", " ").title()
            )
            meeting = Meeting(
                tracker=TRACKER, thread_key=f"<fuzz-meeting-{self.seed}-{number}@consultora.test>",
                subject="Reunión de seguimiento", organizer_id=organizer.id, language=language,
                date=now,
            )  # fmt: skip
            session.add(meeting)
            session.flush()
            request = ConfirmationRequest(
                meeting_id=meeting.id, revision=1, person_id=person.id, token=token, ref=ref,
                message_id=request_message_id(TRACKER, token), created_at=now, sent_at=now,
            )  # fmt: skip
            session.add(request)
            session.flush()
            for position in range(1, items + 1):
                item = Item(
                    meeting_id=meeting.id, number=position, kind=ItemKind.ACTION,
                    text=f"Tarea {position}", fingerprint=f"{number}-{position}",
                )  # fmt: skip
                session.add(item)
                session.flush()
                session.add(RequestItem(request_id=request.id, position=position, item_id=item.id))
                session.add(Confirmation(item_id=item.id, person_id=person.id,
                                         request_id=request.id, updated_at=now))  # fmt: skip
        return token, ref

    @staticmethod
    def _person(session: Any, email: str, name: str) -> Person:
        found = session.scalars(select(Person).where(Person.email == email)).one_or_none()
        if found is None:
            found = Person(email=email, display_name=name, names=[name])
            session.add(found)
            session.flush()
        return found

    def _draw_understand(self, number: int, rng: random.Random) -> Case:
        return self._reply_case(number, rng)

    def _draw_reply_path(self, number: int, rng: random.Random) -> Case:
        return self._reply_case(number, rng, path=True)

    def _any_raw(self, rng: random.Random) -> tuple[str, bytes]:
        pool = rng.random()
        if pool < 0.35:
            seed = rng.choice(self.replies)
            return seed.name, seed.raw
        if pool < 0.55:
            return rng.choice(self.routing)
        if pool < 0.8:
            return rng.choice(self.minutes)
        return rng.choice(self.hostile)

    def _draw_parse(self, number: int, rng: random.Random) -> Case:
        name, raw = self._any_raw(rng)
        if rng.random() < 0.3:
            raw = mut.render(mut.body_of(raw), rng)
            steps = ["render"]
            family = "preserving"
        else:
            raw, steps = mut.destroy(raw, rng)
            family = "destructive"
        return Case(number, "", family, name, steps, raw)

    def _draw_route(self, number: int, rng: random.Random) -> Case:
        return self._draw_parse(number, rng)

    def _draw_extract(self, number: int, rng: random.Random) -> Case:
        name, raw = rng.choice(self.minutes)
        if rng.random() < 0.5:
            body, steps = mut.preserve(mut.body_of(raw), rng)
            return Case(number, "", "preserving", name, ["render", *steps], mut.render(body, rng))
        raw, steps = mut.destroy(raw, rng)
        return Case(number, "", "destructive", name, steps, raw)

    def _draw_html(self, number: int, rng: random.Random) -> Case:
        seed = rng.choice(self.replies)
        markup = mut.to_html(seed.body.text, rng)
        raw, steps = mut.destroy(markup.encode("utf-8"), rng)
        text = raw.decode("utf-8", "replace")
        return Case(number, "", "destructive", seed.name, steps, text=text)

    def _draw_trim(self, number: int, rng: random.Random) -> Case:
        seed = rng.choice(self.replies)
        text = seed.body.text
        if rng.random() < 0.5:
            raw, steps = mut.destroy(text.encode("utf-8"), rng)
            text = raw.decode("utf-8", "replace")
        else:
            steps = [rng.choice(sorted(mut.TEXT_PRESERVING))]
            text = mut.TEXT_PRESERVING[steps[0]](text, rng)
        return Case(number, "", "destructive", seed.name, steps, text=text)

    # -- running cases --

    def execute(self, case: Case) -> str | None:
        """Run ``case``; the broken promise, or None."""
        runner: Callable[[Case], str | None] = getattr(self, f"_run_{case.target}")
        return runner(case)

    def _run_parse(self, case: Case) -> str | None:
        parsed = ParsedMail.from_bytes(case.raw)
        touch(parsed)
        own_mail_reason(parsed, TRACKER)
        detect_bounce(parsed, TRACKER)
        detect_auto_reply(parsed, "es")
        away_until(parsed, "es")
        recipients = [a.email for a in parsed.addresses(*RECIPIENT_HEADERS)]
        find_keys(recipients, parsed.references, parsed.subject, TRACKER)
        return None

    def _run_html(self, case: Case) -> str | None:
        html_to_text(case.text)
        return None

    def _run_trim(self, case: Case) -> str | None:
        trim(case.text)
        trim(case.text, keep_forwarded=True, subject="RV: Acta")
        return None

    def _run_route(self, case: Case) -> str | None:
        parsed = ParsedMail.from_bytes(case.raw)
        runtime = self.loop.runtime
        with runtime.sessions() as session:
            row = InboundMessage(
                sha256=f"fuzz-{self.seed}-{case.number}", raw_path="-", size=len(case.raw),
                mailbox="memory:fuzz", source_ref=str(case.number), message_id=parsed.message_id,
                from_address=parsed.sender.email if parsed.sender else None,
                subject=parsed.subject[:998],
            )  # fmt: skip
            session.add(row)
            session.flush()
            route(session, row, parsed, runtime.config.tracker)
            session.rollback()
        return None

    def _run_extract(self, case: Case) -> str | None:
        self.extractor.extract(ParsedMail.from_bytes(case.raw), TODAY)
        return None

    def _run_understand(self, case: Case) -> str | None:
        parsed = ParsedMail.from_bytes(case.raw)
        trimmed = trim(parsed.text, subject=parsed.subject)
        intent = understand(trimmed, case.items, case.language)
        confirmed = sorted(k for k, a in intent.answers.items() if a.state == "confirmed")
        self._confirmed = bool(confirmed)
        if case.must_not_confirm and confirmed:
            return f"items {confirmed} read as confirmed: {intent.evidence!r}"
        return None

    def _run_reply_path(self, case: Case) -> str | None:
        loop = self.loop
        loop.deliver(case.raw)
        with loop.runtime.sessions() as session:
            row = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
            if row is None or row.state != MessageState.PROCESSED:
                state = row.state.value if row else "missing"
                return f"inbound mail {state}: {row.last_error if row else ''}"
            confirmed = session.scalars(
                select(Item.number)
                .join(Confirmation, Confirmation.item_id == Item.id)
                .join(Meeting, Meeting.id == Item.meeting_id)
                .where(
                    Meeting.thread_key
                    == f"<fuzz-meeting-{self.seed}-{case.number}@consultora.test>",
                    Confirmation.state == ConfirmationState.CONFIRMED,
                )
            ).all()
        self._confirmed = bool(confirmed)
        if case.must_not_confirm and confirmed:
            return f"items {sorted(confirmed)} confirmed on the reply path (route {row.route})"
        return None

    # -- the run --

    def run(
        self,
        cases: int,
        weights: dict[str, float] | None = None,
        *,
        only: int | None = None,
        progress: Callable[[int, int, Report], None] | None = None,
    ) -> Report:
        """Run ``cases`` cases (or, with ``only``, that one case of such a run).

        ``progress`` is called after each case with (cases done, cases in all, report).
        """
        targets = spread(cases, weights or WEIGHTS)
        numbers = range(len(targets)) if only is None else [only]
        if only is not None and not 0 <= only < len(targets):
            raise ValueError(f"case {only} is not in a run of {len(targets)} cases")
        report = Report(self.seed)
        self.warm_up()
        started = time.perf_counter()
        if self.trace_memory:
            tracemalloc.start()
        try:
            for done, number in enumerate(numbers, start=1):
                self._run_one(report, number, targets[number])
                if progress is not None:
                    progress(done, len(numbers), report)
        finally:
            if self.trace_memory:
                tracemalloc.stop()
        report.wall = time.perf_counter() - started
        return report

    def _run_one(self, report: Report, number: int, target: str) -> None:
        try:
            case = self.draw(number, target)
        except Exception as error:  # a bug of the fuzzer, not of mailtrack: still reported
            report.failures.append(Failure(number, target, "draw", "-", [], repr(error)))
            return
        report.cases += 1
        report.by_target[target] += 1
        report.by_family[case.family] += 1
        report.by_pair[target, case.family] += 1
        report.must_not_confirm += case.must_not_confirm
        report.must_not_confirm_by_target[target] += case.must_not_confirm
        size = len(case.raw) or len(case.text)
        report.largest_input = max(report.largest_input, size)
        report.largest_by_target[target] = max(report.largest_by_target[target], size)
        self._confirmed = False
        if self.trace_memory:
            tracemalloc.reset_peak()
        began = time.perf_counter()
        try:
            with time_limit(CASE_LIMIT_SECONDS):
                problem = self.execute(case)
        except Exception as error:
            problem = "raised " + "".join(traceback.format_exception_only(error)).strip()[:500]
        spent = time.perf_counter() - began
        report.seconds[target].append(spent)
        if spent > report.slowest[0]:
            report.slowest = (spent, f"case {number} {target} {case.seed} {'+'.join(case.steps)}")
        if self.trace_memory:
            _, peak = tracemalloc.get_traced_memory()
            report.peak_bytes[target] = max(report.peak_bytes[target], peak)
            if problem is None and peak > CASE_MEMORY_LIMIT:
                problem = f"Python memory peaked at {peak / 2**20:.0f} MB"
        if case.control:
            report.controls += 1
            report.controls_kept += self._confirmed
        if case.must_not_confirm and self._confirmed:
            report.false_confirmations += 1
        if problem is not None:
            report.failures.append(
                Failure(number, target, case.family, case.seed, case.steps, problem)
            )

    def close(self) -> None:
        if self._loop is not None:
            self._loop.runtime.dispose()


def spread(cases: int, weights: dict[str, float]) -> list[str]:
    """``cases`` targets in the given shares, interleaved so a short run still covers them all."""
    total = sum(weights.values())
    counts = {t: max(1, round(cases * w / total)) for t, w in weights.items()}
    order: list[tuple[float, str]] = []
    for target, count in counts.items():
        order += [((i + 0.5) / count, target) for i in range(count)]
    return [target for _, target in sorted(order)]
