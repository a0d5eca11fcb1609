"""kill -9 the real service while minutes, requests, replies and receipts flow: nothing lost or doubled.

The scenario is tests/support/crashloop.py. The short run (4 kills, 50
minutes) is part of the normal suite; the full one (20 kills, 500 minutes) is
marked slow: ``pytest -m slow tests/integration/test_crash_loop.py``, or
``benchmarks/crash.py`` for the figures of docs/RELIABILITY.md.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from stack.mailstack import MailStack
from support.crashloop import CrashScenario

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("minutes", "rounds"),
    [
        pytest.param(50, 4, id="4-kills-50-minutes"),
        pytest.param(500, 20, id="20-kills-500-minutes", marks=pytest.mark.slow),
    ],
)
def test_kill_9_during_ingest_extraction_and_sending_loses_and_doubles_nothing(
    mail_stack: MailStack, minutes: int, rounds: int
) -> None:
    # Not pytest's tmp_path: the report and the service's log are worth keeping on failure,
    # and the folder must be readable by the test's own helpers only.
    workdir = Path(tempfile.mkdtemp(prefix="mailtrack-crash-"))
    seed = int(os.environ.get("MT_CRASH_SEED", "7"))
    report = CrashScenario(mail_stack, workdir, minutes=minutes, rounds=rounds, seed=seed).run()
    (workdir / "report.json").write_text(json.dumps(report.as_dict(), indent=2))
    print(json.dumps(report.as_dict(), indent=2))
    assert report.kills == rounds
    assert report.problems() == [], f"{report.problems()} (details in {workdir})"
    # The scenario really exercised the loop: every request was answered and recorded.
    assert report.replies_sent == report.requests > minutes
    assert report.confirmations_as_replied == report.confirmations > 0
    shutil.rmtree(workdir, ignore_errors=True)
