"""The load benchmark in short: its whole path runs in CI, so the recorded run cannot rot.

``benchmarks/load.py`` (one real ``mailtrack run`` process, IMAP IDLE in, Postfix
out, people answering every request) is run with 40 minutes mails instead of
10,000; the figures of the full run are in docs/RELIABILITY.md. Here only what
must hold at any size is checked: everything processed once, every confirmation
as replied, every outgoing copy received once. Throughput and memory are
measured by the full run, not asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from stack.mailstack import MailStack

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_the_load_run_in_short_processes_everything_once(mail_stack: MailStack) -> None:
    del mail_stack  # only its availability check: the benchmark starts its own stack
    minutes = 40
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "load.py"), "--minutes", str(minutes), "--json"],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    figures = json.loads(run.stdout[run.stdout.rindex("\n{\n") :])
    assert figures["problems"] == []
    assert figures["minutes"] == minutes
    assert figures["replies"] == minutes * 3  # three participants each
    assert figures["inbound_processed"] == minutes + figures["replies"]
    assert figures["outgoing_sent"] >= 2 * figures["replies"]  # a request and a receipt each
    assert figures["samples"] > 0 and figures["peak_rss_mb"] > 0
