"""Ingest throughput and IDLE latency against a real Dovecot, next to a plain baseline.

    sudo .venv/bin/python benchmarks/ingest.py [--mails 5000] [--latency-samples 20] [--postgresql]

Starts a private Dovecot (tests/stack/mailstack.py), delivers N minutes mails
(3-7 KB, multipart text + HTML) over LMTP, then measures, each part in its own
process so its peak memory is its own:

- baseline: imapclient FETCH BODY.PEEK[] of the whole folder (batches of 500)
  and mail-parser's ``parse_from_bytes`` of every mail;
- mailtrack: ``Service.run(once=True)`` on the same folder: fetch, archive
  (fsync'd files + database rows + checkpoint, one transaction per batch),
  parse and route every mail, one transaction each; on SQLite, or with
  ``--postgresql`` on a private PostgreSQL (tests/stack/pgserver.py), a fresh
  database for each part;
- latency: the service idling in IMAP IDLE; one mail delivered at a time;
  time from the LMTP delivery returning to the mail's row being processed.

Prints a Markdown section and appends it to benchmarks/RESULTS.md with --record.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

TRACKER = "actas@tracker.test"
WORDS = (
    "revisar contrato servidor presupuesto cliente entrega informe reunión equipo fase plan "
    "migración base datos acuerdo propuesta calendario riesgo proveedor factura prueba"
).split()


def minutes_mail(n: int, rng: random.Random) -> bytes:
    message = EmailMessage()
    message["From"] = "Ana García <ana@consultora.test>"
    message["To"] = ", ".join(f"Persona {i} <p{i}@cliente.test>" for i in range(rng.randint(2, 6)))
    message["Cc"] = f"Actas <{TRACKER}>"
    message["Subject"] = f"Acta reunión de seguimiento {n}"
    message["Date"] = format_datetime(datetime(2026, 11, 2, tzinfo=UTC) + timedelta(minutes=n))
    message["Message-ID"] = f"<bench-{n}@consultora.test>"
    lines = ["Hola a todos,", "", "Acuerdos:"]
    for item in range(rng.randint(6, 14)):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 18)))
        lines.append(f"{item + 1}. Persona {item % 5} se encarga de {words} antes del viernes.")
    lines += ["", "Discusión:"] + [" ".join(rng.choice(WORDS) for _ in range(14)) for _ in range(8)]
    lines += ["", "Un saludo,", "Ana"]
    text = "\n".join(lines)
    message.set_content(text)
    html = "<html><body>" + "".join(f"<p>{line}</p>" for line in lines) + "</body></html>"
    message.add_alternative(html, subtype="html")
    return bytes(message)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the measured parts (each runs in a child process) ------------------------------


def part_baseline(stack: dict) -> dict:
    import mailparser
    from imapclient import IMAPClient

    started = time.perf_counter()
    client = IMAPClient(stack["host"], port=stack["imap_port"], ssl=False)
    client.login(TRACKER, stack["password"])
    client.select_folder("INBOX", readonly=True)
    uids = client.search(["ALL"])
    count = 0
    for start in range(0, len(uids), 500):
        response = client.fetch(uids[start : start + 500], ["BODY.PEEK[]"])
        for data in response.values():
            parsed = mailparser.parse_from_bytes(data[b"BODY[]"])
            count += bool(parsed.subject)
    client.logout()
    elapsed = time.perf_counter() - started
    return {"mails": count, "seconds": elapsed, "peak_rss_mb": peak_rss_mb()}


def _runtime(stack: dict, folder: Path, part: str):  # type: ignore[no-untyped-def]
    from support.runtime import make_runtime

    section = (
        f'\n[imap]\nhost = "{stack["host"]}"\nport = {stack["imap_port"]}\nsecurity = "none"\n'
        f'username = "{TRACKER}"\npassword_env = "PW"\nbatch_size = 500\n'
    )
    url = stack.get("urls", {}).get(part)  # None: SQLite in the folder
    return make_runtime(folder, section, url=url, password=stack["password"])


def part_mailtrack(stack: dict) -> dict:
    from sqlalchemy import func, select

    from mailtrack.assembly import build_service, build_source
    from mailtrack.clock import SystemClock
    from mailtrack.db.models import InboundMessage

    with tempfile.TemporaryDirectory() as folder:
        runtime = _runtime(stack, Path(folder), "mailtrack")
        runtime.clock = SystemClock()
        service = build_service(runtime, build_source(runtime.config))
        started = time.perf_counter()
        summary = service.run(threading.Event(), once=True)
        elapsed = time.perf_counter() - started
        with runtime.sessions() as session:
            rows = session.scalar(select(func.count()).select_from(InboundMessage))
        runtime.dispose()
    return {
        "mails": summary.processed,
        "rows": rows,
        "seconds": elapsed,
        "peak_rss_mb": peak_rss_mb(),
        "routes": summary.routes,
    }


def part_latency(stack: dict, samples: int) -> dict:
    from stack.mailstack import MailStack

    from mailtrack.assembly import build_service, build_source
    from mailtrack.clock import SystemClock

    mail_stack = MailStack.attach(Path(stack["dir"]))
    rng = random.Random(5)
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        runtime = _runtime(stack, Path(folder), "latency")
        runtime.clock = SystemClock()
        service = build_service(runtime, build_source(runtime.config))
        stop = threading.Event()
        thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
        thread.start()
        try:
            _measure(samples, mail_stack, runtime, rng, latencies, stack["mails"])
        finally:
            stop.set()
            thread.join(timeout=30)
            runtime.dispose()
    latencies.sort()
    return {
        "samples": samples,
        "median_s": statistics.median(latencies),
        "p95_s": latencies[max(0, int(len(latencies) * 0.95) - 1)],
        "max_s": latencies[-1],
    }


def _measure(samples, mail_stack, runtime, rng, latencies, expected):  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from mailtrack.db.models import InboundMessage, MessageState

    # Let the service archive and process what the folder already holds, then idle.
    # (Waiting for the count to stop moving is not enough: archiving a batch of 500
    # into a slow database can keep it still for seconds.)
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        time.sleep(1)
        with runtime.sessions() as session:
            done = session.scalar(
                select(func.count()).where(InboundMessage.state == MessageState.PROCESSED)
            )
        if done >= expected:
            break
    if True:
        for n in range(samples):
            message_id = f"<latency-{n}-{time.time_ns()}@consultora.test>"
            raw = minutes_mail(100_000 + n, rng).replace(
                f"<bench-{100_000 + n}@consultora.test>".encode(), message_id.encode()
            )
            before = time.perf_counter()
            mail_stack.deliver_lmtp(TRACKER, raw)
            while True:
                with runtime.sessions() as session:
                    state = session.scalar(
                        select(InboundMessage.state).where(InboundMessage.message_id == message_id)
                    )
                if state == MessageState.PROCESSED:
                    break
                if time.perf_counter() - before > 60:
                    raise RuntimeError("mail not recorded within 60 s")
                time.sleep(0.005)
            latencies.append(time.perf_counter() - before)
            time.sleep(rng.uniform(0.2, 0.6))


def child(part: str, stack_json: str, samples: int) -> None:
    stack = json.loads(stack_json)
    if part == "baseline":
        result = part_baseline(stack)
    elif part == "mailtrack":
        result = part_mailtrack(stack)
    else:
        result = part_latency(stack, samples)
    print(json.dumps(result))


def run_child(part: str, stack: dict, samples: int = 0) -> dict:
    output = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            part,
            "--stack",
            json.dumps(stack),
            "--latency-samples",
            str(samples),
        ],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    result = json.loads(output.stdout.strip().splitlines()[-1])
    print(f"  {part}: {result}", file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=5000)
    parser.add_argument("--latency-samples", type=int, default=20)
    parser.add_argument(
        "--record", action="store_true", help="append the results to benchmarks/RESULTS.md"
    )
    parser.add_argument(
        "--postgresql", action="store_true", help="the mailtrack parts on a private PostgreSQL"
    )
    parser.add_argument("--child")
    parser.add_argument("--stack")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.stack, args.latency_samples)
        return

    from stack.mailstack import MailStack

    ok, reason = MailStack.available()
    if not ok:
        sys.exit(f"cannot run: {reason}")
    workdir = Path(tempfile.mkdtemp(prefix="mailtrack-bench-"))
    pg = None
    if args.postgresql:
        from stack.pgserver import PgServer

        ok, reason = PgServer.available()
        if not ok:
            sys.exit(f"cannot run: {reason}")
        pg = PgServer.start(Path(tempfile.mkdtemp(prefix="mailtrack-bench-pg-")))
    stack = MailStack.start(workdir, users=[TRACKER])
    try:
        rng = random.Random(1)
        print(f"delivering {args.mails} mails over LMTP...", file=sys.stderr)
        mails = [minutes_mail(n, rng) for n in range(args.mails)]
        sizes = [len(raw) for raw in mails]
        stack.deliver_lmtp_many((TRACKER, raw) for raw in mails)
        description = stack.describe()
        description["dir"] = str(workdir)
        description["mails"] = args.mails
        if pg is not None:
            for part in ("mailtrack", "latency"):
                pg.create_database(f"ingest_{part}")
            description["urls"] = {
                part: pg.url(f"ingest_{part}") for part in ("mailtrack", "latency")
            }
        print("baseline: imapclient fetch + mail-parser parse...", file=sys.stderr)
        baseline = run_child("baseline", description)
        print("mailtrack: fetch, archive, parse, route...", file=sys.stderr)
        ours = run_child("mailtrack", description)
        latency = None
        if args.latency_samples:  # 0: throughput only
            print("latency: delivery to recorded, with IDLE...", file=sys.stderr)
            latency = run_child("latency", description, args.latency_samples)
    finally:
        stack.stop()
        if pg is not None:
            pg.stop()
            shutil.rmtree(pg.workdir, ignore_errors=True)
    database = "PostgreSQL 15 (private, 127.0.0.1)" if pg is not None else "SQLite (WAL)"
    flag = " --postgresql" if pg is not None else ""
    base_rate = baseline["mails"] / baseline["seconds"]
    our_rate = ours["mails"] / ours["seconds"]
    report = f"""
## Ingest (issue 3) — {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}

`sudo .venv/bin/python benchmarks/ingest.py --mails {args.mails} --latency-samples {args.latency_samples}{flag}`
on {_machine()}, database {database}; {args.mails} minutes mails of {min(sizes) // 1024}-{max(sizes) // 1024} KB
(multipart text + HTML) in a private Dovecot 2.3, read over IMAP on 127.0.0.1.

| run | mails | seconds | mails/s | peak RSS |
|---|---|---|---|---|
| baseline: imapclient FETCH BODY.PEEK[] (batches of 500) + mail-parser parse | {baseline["mails"]} | {baseline["seconds"]:.2f} | {base_rate:.0f} | {baseline["peak_rss_mb"]:.0f} MB |
| mailtrack `run --once`: fetch, archive (fsync'd file + row + checkpoint), parse, route, one transaction per mail | {ours["mails"]} | {ours["seconds"]:.2f} | {our_rate:.0f} | {ours["peak_rss_mb"]:.0f} MB |

Ratio mailtrack / baseline: **{our_rate / base_rate:.2f}** (same run, same folder). Routes: {ours["routes"]}.
"""
    if latency is not None:
        report += f"""
IDLE latency, LMTP delivery returned -> row processed ({latency["samples"]} mails, one at a time):
median {latency["median_s"] * 1000:.0f} ms, p95 {latency["p95_s"] * 1000:.0f} ms, max {latency["max_s"] * 1000:.0f} ms
(Dovecot itself waits 500 ms before notifying an IDLE client).
"""
    print(report)
    if args.record:
        results = ROOT / "benchmarks" / "RESULTS.md"
        if not results.exists():
            results.write_text(
                "# Benchmark results\n\nEach section: the command, the machine, the figures.\n"
            )
        with results.open("a") as handle:
            handle.write(report)


def _machine() -> str:
    import os
    import platform

    return f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"


if __name__ == "__main__":
    main()
