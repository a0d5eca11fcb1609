"""Fuzz: N mutated mails through parsing, HTML, trimming, routing, extraction and replies.

    .venv/bin/python benchmarks/fuzz.py [--cases 10000] [--seed 1] [--json out.json]
    .venv/bin/python benchmarks/fuzz.py --seed 1 --cases 10000 --case 4711 [--dump case.eml]

Runs the mutation fuzzer of tests/support/fuzzing.py (seeds: the project's own
reply, routing, minutes and hostile mails; mutations: tests/support/mutations.py)
in this process, on an in-memory mail source and a throwaway SQLite database, so
it needs no server. Each case has a time limit (a case still running after it is
a hang) and, unless ``--no-memory``, its peak of Python memory is traced (a case
above the limit is a failure).

Prints the report in Markdown, ready to paste into docs/RELIABILITY.md: cases by
target and family, failures with the command that reproduces each, must-not-
confirm cases and how many confirmed (must be 0), the controls that still
confirmed, time per case (p50/p95/max) and peak Python memory per target.
Exits 1 when any case failed or any must-not-confirm case confirmed.

A case is reproduced from the run's seed, its number and the run's size (which
decides each case's target): ``--case N`` runs that one case with the whole
traceback of what it raised, and ``--dump FILE`` writes its input.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from support import fuzzing  # noqa: E402
from support.fuzzing import WEIGHTS, Fuzzer, Report  # noqa: E402

FAMILIES = ("preserving", "removing", "destructive")


def command(args: argparse.Namespace) -> str:
    memory = " --no-memory" if args.no_memory else ""
    return f".venv/bin/python benchmarks/fuzz.py --cases {args.cases} --seed {args.seed}{memory}"


class Progress:
    """A rich progress bar on a terminal; elsewhere a line every 30 s."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.started = time.monotonic()
        self.last_line = self.started
        self.shown = 0
        self.bar: Any = None
        if sys.stderr.isatty():
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bar

            self.bar = Bar(
                TextColumn("fuzz"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=True,
            )
            self.task = self.bar.add_task("fuzz", total=total, status="")
            self.bar.start()

    def __call__(self, done: int, total: int, report: Report) -> None:
        for failure in report.failures[self.shown :]:  # each failure as soon as it happens
            if self.bar is not None:
                self.bar.console.print(f"FAILED {failure.line()}", markup=False, highlight=False)
            else:
                print(f"FAILED {failure.line()}", file=sys.stderr, flush=True)
        self.shown = len(report.failures)
        status = (
            f"failures {len(report.failures)}, false confirmations {report.false_confirmations}"
        )
        if self.bar is not None:
            self.bar.update(self.task, completed=done, status=status)
            return
        now = time.monotonic()
        if now - self.last_line >= 30 or done == total:
            self.last_line = now
            rate = done / max(now - self.started, 1e-9)
            print(
                f"[{now - self.started:6.0f} s] {done}/{total} cases ({rate:.1f}/s), {status}",
                file=sys.stderr,
                flush=True,
            )

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def markdown(report: Report, args: argparse.Namespace) -> str:
    """The report as Markdown: the figures, then every failure with its reproduction."""
    data = report.as_dict()
    timing = data["timing"]
    memory = data["peak_python_memory_mb"]
    out = [
        f"Fuzz run: `{command(args)}`",
        "",
        f"- {report.cases} cases, seed {report.seed}, {report.wall:.0f} s wall "
        f"({report.cases / max(report.wall, 1e-9):.1f} cases/s), Python {platform.python_version()}",
        f"- failures (exceptions, hangs over {fuzzing.CASE_LIMIT_SECONDS:.0f} s, memory over "
        f"{fuzzing.CASE_MEMORY_LIMIT // 2**20} MB, broken promises): **{len(report.failures)}**",
        f"- must-not-confirm cases: {report.must_not_confirm}; of them confirmed anything: "
        f"**{report.false_confirmations}**",
        f"- controls (preserving mutants of a confirming reply) still confirming: "
        f"{report.controls_kept}/{report.controls}",
        f"- largest input: {report.largest_input:,} bytes; slowest case: {data['slowest_case']}",
        "",
        "| target | cases | preserving | removing | destructive | must not confirm "
        "| p50 ms | p95 ms | max ms | largest input | peak Python MB |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for target in sorted(report.by_target):
        families = [str(report.by_pair.get((target, family), 0)) for family in FAMILIES]
        row = timing.get(target, {})
        peak = f"{memory[target]:.1f}" if target in memory else "—"
        out.append(
            f"| {target} | {report.by_target[target]} | {' | '.join(families)} "
            f"| {report.must_not_confirm_by_target.get(target, 0)} "
            f"| {row.get('median_ms', 0):.1f} | {row.get('p95_ms', 0):.1f} | {row.get('max_ms', 0):.0f} "
            f"| {report.largest_by_target.get(target, 0):,} | {peak} |"
        )
    totals = [str(report.by_family.get(family, 0)) for family in FAMILIES]
    out.append(
        f"| **all** | {report.cases} | {' | '.join(totals)} | {report.must_not_confirm} "
        f"| | | {max((r['max_ms'] for r in timing.values()), default=0):.0f} "
        f"| {report.largest_input:,} | {f'{max(memory.values()):.1f}' if memory else '—'} |"
    )
    if report.failures:
        out += ["", f"Failures ({len(report.failures)}):", ""]
        for failure in report.failures:
            out.append(f"- {failure.line()}")
            out.append(f"  reproduce: `{command(args)} --case {failure.case}`")
    return "\n".join(out)


def reproduce(fuzzer: Fuzzer, args: argparse.Namespace) -> int:
    """Run one case in the open: its description, its input if asked, the whole traceback."""
    targets = fuzzing.spread(args.cases, WEIGHTS)
    if not 0 <= args.case < len(targets):
        print(f"fuzz: case {args.case} is not in a run of {len(targets)} cases", file=sys.stderr)
        return 2
    fuzzer.warm_up()
    case = fuzzer.draw(args.case, targets[args.case])
    print(
        f"case {case.number}: target {case.target}, family {case.family}, seed {case.seed}, "
        f"steps {'+'.join(case.steps) or '-'}, must not confirm {case.must_not_confirm}, "
        f"control {case.control}, items {case.items}, {len(case.raw) or len(case.text)} bytes"
    )
    if args.dump:
        Path(args.dump).write_bytes(case.raw or case.text.encode("utf-8", "surrogatepass"))
        print(f"input written to {args.dump}")
    began = time.perf_counter()
    try:
        with fuzzing.time_limit(fuzzing.CASE_LIMIT_SECONDS):
            problem = fuzzer.execute(case)
    except Exception:
        traceback.print_exc()
        return 1
    spent = time.perf_counter() - began
    if problem is not None:
        print(f"FAILED in {spent * 1000:.0f} ms: {problem}")
        return 1
    print(f"ok in {spent * 1000:.0f} ms")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases", type=int, default=10_000, help="cases in the run (default 10000)"
    )
    parser.add_argument("--seed", type=int, default=1, help="the run's seed (default 1)")
    parser.add_argument("--case", type=int, help="run only this case of such a run, in the open")
    parser.add_argument("--dump", help="with --case: write the case's input to this file")
    parser.add_argument("--json", help="also write the report as JSON to this file")
    parser.add_argument(
        "--no-memory", action="store_true", help="do not trace Python memory (faster)"
    )
    parser.add_argument("--verbose", action="store_true", help="show mailtrack's warnings")
    args = parser.parse_args()

    # The reply path logs a warning for every spoofed or bounced mutant: expected, and noise here.
    logging.basicConfig(level=logging.WARNING if args.verbose else logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="mailtrack-fuzz-") as workdir:
        fuzzer = Fuzzer(args.seed, trace_memory=not args.no_memory, workdir=Path(workdir))
        try:
            if args.case is not None:
                return reproduce(fuzzer, args)
            progress = Progress(len(fuzzing.spread(args.cases, WEIGHTS)))
            try:
                report = fuzzer.run(args.cases, progress=progress)
            finally:
                progress.stop()
        finally:
            fuzzer.close()
    print(markdown(report, args))
    if args.json:
        Path(args.json).write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
    return 1 if report.failures or report.false_confirmations else 0


if __name__ == "__main__":
    sys.exit(main())
