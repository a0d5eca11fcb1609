"""Load: N minutes mails and their replies through the real stack; throughput and memory over time.

    sudo .venv/bin/python benchmarks/load.py [--minutes 10000] [--participants 3] [--seed 11]

Starts a private Dovecot + Postfix (tests/stack/mailstack.py) and one real
``mailtrack run`` process (IMAP IDLE in, Postfix out, SQLite). Minutes
(tests/support/traffic.py: Spanish and English, four layouts, names from a
pool of 400 people) are fed over LMTP at a bounded backlog, 3 participants
each, so 10,000 minutes make 30,000 requests; the people of
tests/support/crashloop.py answer every request they receive (a tenth with
a partial rejection), so 30,000 replies come back, each with its receipt.

Every second it samples the service's RSS (``/proc/PID/status``) and how
many mails it has processed; at the end it reports throughput, peak memory,
and the slope of RSS over the second half of the run (after warm-up), per
minute and per 10,000 mails, and checks, as the crash test does, that every
mail was processed once and every confirmation is as replied.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def rss_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs."""
    if len(xs) < 2:
        return 0.0
    return statistics.linear_regression(xs, ys).slope


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10000)
    parser.add_argument("--participants", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--backlog", type=int, default=300, help="minutes waiting at most")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from sqlalchemy import func, select
    from stack.mailstack import MailStack
    from support.crashloop import CrashScenario

    from mailtrack.db.models import InboundMessage, MessageState, OutboxMessage, OutboxStatus

    ok, reason = MailStack.available()
    if not ok:
        print(f"load: {reason}", file=sys.stderr)
        return 2
    # SIGTERM (or the shell's timeout) ends the run through the finally blocks below, so
    # the private servers and the service do not outlive it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    stack_dir = Path(tempfile.mkdtemp(prefix="mailtrack-load-stack-"))
    workdir = Path(tempfile.mkdtemp(prefix="mailtrack-load-"))
    stack = MailStack.start(stack_dir)
    samples: list[dict[str, float]] = []
    stack_services: list[subprocess.Popen[bytes]] = []
    try:
        scenario = CrashScenario(
            stack,
            workdir,
            minutes=args.minutes,
            rounds=0,
            seed=args.seed,
            people_count=400,
            reject_share=0.1,
            participants=args.participants,
            level="warning",
        )
        upgrade = scenario._cli("db", "upgrade")
        assert upgrade.wait(timeout=60) == 0
        engine = scenario._engine()
        scenario.people.poll = 1.0  # 400 mailboxes to look through
        scenario.people.start()
        service = scenario._cli("run")
        stack_services.append(service)
        started = time.monotonic()
        delivered = 0
        feeding_done = threading.Event()

        def counts() -> tuple[int, int, int]:
            with engine.connect() as db:
                processed = db.scalar(
                    select(func.count())
                    .select_from(InboundMessage)
                    .where(InboundMessage.state == MessageState.PROCESSED)
                )
                minutes_done = db.scalar(
                    select(func.count())
                    .select_from(InboundMessage)
                    .where(
                        InboundMessage.state == MessageState.PROCESSED,
                        InboundMessage.route == "minutes",
                    )
                )
                sent = db.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == OutboxStatus.SENT)
                )
            return processed or 0, minutes_done or 0, sent or 0

        calm = 0
        last_sample = 0.0
        while calm < 3:
            if service.poll() is not None:
                raise AssertionError("the service stopped")
            processed, minutes_done, sent = counts()
            if delivered < len(scenario.minutes) and delivered - minutes_done < args.backlog:
                chunk = scenario.minutes[delivered : delivered + args.backlog]
                stack.deliver_lmtp_many((scenario.tracker, m.raw) for m in chunk)
                delivered += len(chunk)
            elif delivered == len(scenario.minutes):
                feeding_done.set()
            now = time.monotonic() - started
            if now - last_sample >= 1.0:
                rss, peak = rss_mb(service.pid)
                samples.append(
                    {
                        "t": now,
                        "rss": rss,
                        "peak": peak,
                        "processed": processed,
                        "minutes": minutes_done,
                        "sent": sent,
                    }
                )
                last_sample = now
                if len(samples) % 60 == 0:
                    print(
                        f"{now:6.0f} s: processed {processed} ({minutes_done} minutes), "
                        f"sent {sent}, replies {len(scenario.people.reply_ids)}, "
                        f"RSS {rss:.0f} MB",
                        flush=True,
                    )
            calm = calm + 1 if feeding_done.is_set() and scenario._quiet(engine) else 0
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        final_rss, peak = rss_mb(service.pid)
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=120) == 0
        engine.dispose()
        scenario.people.stop()
        scenario.report.seconds = round(elapsed, 1)
        scenario._count()
    finally:
        for running in stack_services:
            if running.poll() is None:
                running.kill()
                running.wait()
        stack.stop()
    report = scenario.report
    # Memory over the second half of the run, once caches and pools are warm.
    half = [s for s in samples if s["t"] >= elapsed / 2]
    per_minute = slope([s["t"] / 60 for s in half], [s["rss"] for s in half])
    per_10k = slope([s["processed"] / 10000 for s in half], [s["rss"] for s in half])
    whole_10k = slope([s["processed"] / 10000 for s in samples], [s["rss"] for s in samples])
    quarter = max(len(samples) // 4, 1)
    figures = {
        "minutes": args.minutes,
        "replies": report.replies_sent,
        "inbound_processed": report.inbound_processed,
        "outgoing_sent": report.outbox_sent,
        "seconds": round(elapsed, 1),
        "inbound_per_s": round(report.inbound_processed / elapsed, 1),
        "outgoing_per_s": round(report.outbox_sent / elapsed, 1),
        "peak_rss_mb": round(peak, 1),
        "final_rss_mb": round(final_rss, 1),
        "rss_first_quarter_mb": round(statistics.mean(s["rss"] for s in samples[:quarter]), 1),
        "rss_last_quarter_mb": round(statistics.mean(s["rss"] for s in samples[-quarter:]), 1),
        "rss_slope_mb_per_min_second_half": round(per_minute, 3),
        "rss_slope_mb_per_10k_mails_second_half": round(per_10k, 2),
        "rss_slope_mb_per_10k_mails_whole": round(whole_10k, 2),
        "samples": len(samples),
        "problems": report.problems(),
        "report": report.as_dict(),
    }
    command = (
        f"sudo .venv/bin/python benchmarks/load.py --minutes {args.minutes} "
        f"--participants {args.participants} --seed {args.seed}"
    )
    print(
        f"""
`{command}` on {platform.machine()} Linux, Python {platform.python_version()}, SQLite:

| what | figure |
|---|---|
| minutes mails / replies / all inbound processed | {args.minutes} / {report.replies_sent} / {report.inbound_processed} of {report.inbound_delivered} |
| outgoing mails sent through Postfix (requests, receipts, digests) | {report.outbox_sent} |
| wall time | {elapsed:.0f} s |
| throughput: inbound mails processed / outgoing mails sent | {figures["inbound_per_s"]} /s / {figures["outgoing_per_s"]} /s |
| peak RSS of the service (VmHWM) / at the end | {peak:.0f} MB / {final_rss:.0f} MB |
| mean RSS, first quarter / last quarter of the run | {figures["rss_first_quarter_mb"]} MB / {figures["rss_last_quarter_mb"]} MB |
| RSS slope, second half: per minute / per 10,000 mails processed | {per_minute:+.3f} MB/min / {per_10k:+.2f} MB |
| confirmations as replied / otherwise | {report.confirmations_as_replied} / {report.confirmations_not_as_replied} |
| lost / duplicated inbound, duplicate meetings, requests, responses | {report.inbound_lost} / {report.inbound_duplicate_rows}, {report.duplicate_meetings}, {report.duplicate_requests}, {report.duplicate_responses} |
| outgoing copies missing / duplicated at the recipients | {report.copies_missing} / {report.copies_duplicate} |
"""
    )
    (workdir.parent / f"{workdir.name}-samples.json").write_text(json.dumps(samples))
    if args.json:
        print(json.dumps({k: v for k, v in figures.items() if k != "report"}, indent=2))
    if report.problems():
        print("PROBLEMS: " + "; ".join(report.problems()) + f" (kept {workdir})")
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.rmtree(stack_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
