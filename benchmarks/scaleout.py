"""Several workers end to end: the rate with 1, 2 and 3 workers, and a kill -9 with 3; every figure.

    sudo .venv/bin/python benchmarks/scaleout.py [--minutes 300] [--workers 1,2,3] [--kill]

Starts a private Dovecot + Postfix (tests/stack/mailstack.py) and PostgreSQL
(tests/stack/pgserver.py), and for each worker count runs the scenario of
tests/support/scaleout.py on a fresh database: two tracker mailboxes, the
minutes delivered once every worker has started, people answering every
request; timed until everything is processed, answered and delivered. With
``--kill`` the run with 3 workers kills one that reads a mailbox once a third
of the meetings exist, and reports how long its mailbox took to be taken over.
Peak memory per worker is each worker's VmHWM (/proc), read once the work is
drained. In the same run, the same minutes mails are delivered to a mailbox of their
own and read the plain way (imapclient FETCH BODY.PEEK[] in batches of 500 +
mail-parser, as benchmarks/ingest.py does): the fetch-and-parse baseline the
end-to-end rates are compared with. Prints a Markdown table (the rows of
benchmarks/RESULTS.md) and exits 1 if anything was lost or counted twice.
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def row(report: dict) -> str:
    memory = report["peak_rss_mb_by_worker"]
    peak = f"{max(memory.values()):.0f}" if memory else "-"
    takeover = f"{report['takeover_seconds']:.1f} s" if report["takeover_seconds"] else "-"
    share = " / ".join(str(count) for count in report["processed_by_worker"].values())
    cpu = sum(report["cpu_seconds_by_worker"].values())
    # CPU the workers used per second of the run: at most 2.0 on two cores.
    cores = f"{cpu / report['seconds']:.2f}" if report["seconds"] else "-"
    return (
        f"| {report['workers']} | {'yes' if report['kills'] else 'no'} | {report['minutes']} "
        f"| {report['inbound_delivered']} | {report['seconds']:.0f} | "
        f"{report['minutes_per_second']:.1f} | {report['mails_per_second']:.1f} | {share} | "
        f"{peak} | {cpu:.0f} | {cores} | {takeover} | {report['copies_duplicate']} |"
    )


HEADER = (
    "| workers | kill -9 | minutes | mails in (minutes + replies) | seconds | minutes/s "
    "| mails/s | handled per worker | peak RSS per worker (MB, max) | workers' CPU s "
    "| workers' cores busy | mailbox taken over after | duplicate copies |"
    "\n|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def fetch_and_parse(stack: Any, raws: list[bytes]) -> tuple[int, float]:
    """The baseline: the same mails, delivered to a mailbox of their own, fetched and parsed."""
    import time

    import mailparser
    from imapclient import IMAPClient

    user = f"baseline-{os.getpid()}@tracker.test"
    stack.add_user(user)
    stack.deliver_lmtp_many((user, raw) for raw in raws)
    started = time.perf_counter()
    client = IMAPClient(stack.host, port=stack.imap_port, ssl=False)
    client.login(user, stack.password)
    client.select_folder("INBOX", readonly=True)
    uids = client.search(["ALL"])
    parsed = 0
    for start in range(0, len(uids), 500):
        for data in client.fetch(uids[start : start + 500], ["BODY.PEEK[]"]).values():
            parsed += bool(mailparser.parse_from_bytes(data[b"BODY[]"]).message_id)
    client.logout()
    return parsed, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=300)
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
    baseline: tuple[int, float] | None = None
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
            raws = [minutes.raw for minutes in scenario.minutes]
            baseline = fetch_and_parse(stack, raws)
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
    if baseline is not None:
        mails, seconds = baseline
        rate = mails / seconds
        print(f"\nBaseline, same run: imapclient FETCH BODY.PEEK[] (batches of 500) + mail-parser "
              f"of the same {mails} minutes mails: {seconds:.1f} s, {rate:.0f} mails/s. "
              "End to end / baseline: "
              + ", ".join(f"{r['workers']} worker(s) {r['mails_per_second'] / rate:.3f}"
                          for r in reports))  # fmt: skip
    if args.json:
        print(json.dumps(reports, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
