"""Several workers end to end: the rate with 1, 2 and 3 workers, and a kill -9 with 3; every figure.

    sudo .venv/bin/python benchmarks/scaleout.py [--minutes 2000] [--workers 1,2,3] [--kill]

Starts a private Dovecot + Postfix (tests/stack/mailstack.py) and PostgreSQL
(tests/stack/pgserver.py), and for each worker count runs the scenario of
tests/support/scaleout.py on a fresh database: two tracker mailboxes, the
minutes delivered once every worker has started, people answering every
request; timed until everything is processed, answered and delivered. With
``--kill`` the run with 3 workers kills one that reads a mailbox once a third
of the meetings exist, and reports how long its mailbox took to be taken over.
Prints a Markdown table (the rows of benchmarks/RESULTS.md) and exits 1 if
anything was lost or counted twice.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def row(report: dict) -> str:
    memory = report["peak_rss_mb_by_worker"]
    peak = f"{max(memory.values()):.0f}" if memory else "-"
    takeover = f"{report['takeover_seconds']:.1f} s" if report["takeover_seconds"] else "-"
    share = " / ".join(str(count) for count in report["processed_by_worker"].values())
    return (
        f"| {report['workers']} | {'yes' if report['kills'] else 'no'} | {report['minutes']} "
        f"| {report['inbound_delivered']} | {report['seconds']:.0f} | "
        f"{report['minutes_per_second']:.1f} | {report['mails_per_second']:.1f} | {share} | "
        f"{peak} | {takeover} | {report['copies_duplicate']} |"
    )


HEADER = (
    "| workers | kill -9 | minutes | mails in (minutes + replies) | seconds | minutes/s "
    "| mails/s | handled per worker | peak RSS per worker (MB, max) | mailbox taken over after "
    "| duplicate copies |\n|---|---|---|---|---|---|---|---|---|---|---|"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=2000)
    parser.add_argument("--workers", default="1,2,3", help="comma-separated worker counts")
    parser.add_argument("--kill", action="store_true", help="kill -9 a reader in the 3-worker run")
    parser.add_argument("--lease-ttl", type=float, default=6.0)
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON too")
    args = parser.parse_args()

    from stack.mailstack import MailStack
    from stack.pgserver import PgServer
    from support.scaleout import ScaleScenario

    for available in (MailStack.available(), PgServer.available()):
        if not available[0]:
            print(f"scaleout: {available[1]}", file=sys.stderr)
            return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the servers on the way out
    stack_dir = Path(tempfile.mkdtemp(prefix="mailtrack-scale-stack-"))
    pg_dir = Path(tempfile.mkdtemp(prefix="mailtrack-scale-pg-"))
    stack = MailStack.start(stack_dir)
    reports = []
    failed = False
    try:
        pg = PgServer.start(pg_dir)
        try:
            for count in (int(n) for n in args.workers.split(",")):
                name = f"scale_{count}_{os.getpid()}"
                pg.create_database(name)
                workdir = Path(tempfile.mkdtemp(prefix=f"mailtrack-scale-{count}-"))
                scenario = ScaleScenario(
                    stack,
                    pg.url(name),
                    workdir,
                    minutes=args.minutes,
                    workers=count,
                    kill=args.kill and count == 3,
                    lease_ttl=args.lease_ttl,
                )
                report = scenario.run(drain_timeout=3600).as_dict()
                problems = scenario.report.problems()
                reports.append(report)
                print(row(report), flush=True)
                if problems:
                    failed = True
                    print(f"PROBLEMS with {count} worker(s): {problems}", file=sys.stderr)
                else:
                    shutil.rmtree(workdir, ignore_errors=True)
                pg.drop_database(name)
        finally:
            pg.stop()
    finally:
        stack.stop()
    if not failed:
        shutil.rmtree(stack_dir, ignore_errors=True)
        shutil.rmtree(pg_dir, ignore_errors=True)
    command = "sudo .venv/bin/python benchmarks/scaleout.py " + " ".join(sys.argv[1:])
    print(f"\n`{command}` on {platform.machine()} Linux, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}\n\n{HEADER}")  # fmt: skip
    for report in reports:
        print(row(report))
    if args.json:
        print(json.dumps(reports, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
