"""Crash test at full size: kill -9 the real service N times while mail flows; print every figure.

    sudo .venv/bin/python benchmarks/crash.py [--minutes 500] [--rounds 20] [--seed 7]

Starts a private Dovecot + Postfix (tests/stack/mailstack.py) and runs the
scenario of tests/support/crashloop.py: minutes arrive in one chunk per
round, ``mailtrack run`` (a real process: IMAP IDLE in, Postfix out) is
killed with SIGKILL at a random moment after it connects, people answer
every request they receive; a last run drains everything. Then it counts on
both sides, the database and the recipients' mailboxes. Exits 1 if anything
was lost or counted twice, or if there were more duplicate outgoing copies
than kills. The same scenario runs (smaller) in the normal test suite.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def render(report: dict, command: str) -> str:
    phases = ", ".join(
        f"{name} {count}" for name, count in sorted(report["kills_by_phase"].items())
    )
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(report["duplicates_by_kind"].items())) or "none"
    return f"""`{command}` on {platform.machine()} Linux, Python {platform.python_version()}:
{report["rounds"]} rounds, {report["kills"]} kills (last log line before each kill: {phases}), \
{report["seconds"]:.0f} s in all, seed {report["seed"]}.

| what | count |
|---|---|
| mails delivered to the tracker (minutes + replies) | {report["inbound_delivered"]} |
| recorded / processed / lost / recorded twice | {report["inbound_rows"]} / {report["inbound_processed"]} / {report["inbound_lost"]} / {report["inbound_duplicate_rows"]} |
| meetings (one per minutes mail) / duplicates | {report["meetings"]} of {report["minutes"]} / {report["duplicate_meetings"]} |
| requests / expected / duplicates | {report["requests"]} / {report["expected_requests"]} / {report["duplicate_requests"]} |
| replies sent by the people | {report["replies_sent"]} |
| responses recorded / duplicates | {report["responses"]} / {report["duplicate_responses"]} |
| confirmations / duplicates / as the replies said / otherwise | {report["confirmations"]} / {report["duplicate_confirmations"]} / {report["confirmations_as_replied"]} / {report["confirmations_not_as_replied"]} |
| outgoing mails sent (outbox) / never sent | {report["outbox_sent"]} / {report["outbox_not_sent"]} |
| copies expected at the recipients / received / missing | {report["copies_expected"]} / {report["copies_received"]} / {report["copies_missing"]} |
| duplicate copies received (allowed: at most one per kill) | {report["copies_duplicate"]} ({kinds}) |
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON too")
    args = parser.parse_args()

    from stack.mailstack import MailStack
    from support.crashloop import CrashScenario

    ok, reason = MailStack.available()
    if not ok:
        print(f"crash: {reason}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the servers on the way out
    stack_dir = Path(tempfile.mkdtemp(prefix="mailtrack-crash-stack-"))
    workdir = Path(tempfile.mkdtemp(prefix="mailtrack-crash-"))
    stack = MailStack.start(stack_dir)
    try:
        scenario = CrashScenario(
            stack, workdir, minutes=args.minutes, rounds=args.rounds, seed=args.seed
        )
        report = scenario.run(drain_timeout=1800)
    finally:
        stack.stop()
    figures = report.as_dict()
    command = (
        f"sudo .venv/bin/python benchmarks/crash.py --minutes {args.minutes} "
        f"--rounds {args.rounds} --seed {args.seed}"
    )
    print(render(figures, command))
    if args.json:
        print(json.dumps(figures, indent=2))
    problems = report.problems()
    if problems:
        print("PROBLEMS: " + "; ".join(problems) + f" (kept {workdir}, {stack_dir})")
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.rmtree(stack_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
