"""Three real workers on one PostgreSQL and two tracker mailboxes; one is killed with SIGKILL.

The normal suite runs 48 minutes (and their replies); the recorded run is
``MT_SCALE_MINUTES=2000 pytest tests/integration/test_scaleout.py -s``
(its figures are in benchmarks/RESULTS.md). See tests/support/scaleout.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stack.mailstack import MailStack
from support.scaleout import ScaleScenario, scale_minutes

pytestmark = pytest.mark.integration
MINUTES = scale_minutes(48)


# The suite's 300 s timeout is for the normal size; the recorded run needs longer.
@pytest.mark.timeout(300 + 4 * MINUTES)
def test_three_workers_lose_and_duplicate_nothing_when_one_is_killed(
    mail_stack: MailStack, pg_url: str, tmp_path: Path
) -> None:
    minutes = MINUTES
    # The workers' data_dir must be readable by no one else; tmp_path is.
    scenario = ScaleScenario(mail_stack, pg_url, tmp_path, minutes=minutes, workers=3, kill=True)
    report = scenario.run(drain_timeout=300 + 3 * minutes)
    print("\nscale-out report:", json.dumps(report.as_dict(), indent=2))
    assert report.problems() == [], scenario.logs()
    assert report.meetings == minutes
    assert report.requests == report.expected_requests > minutes
    assert report.replies_sent == report.expected_requests
    assert report.kills == 1
    # Taken over once the lease lapsed: lease_ttl after the last renewal (at most a
    # third of it before the kill), plus the poll interval of the taker.
    assert report.takeover_seconds is not None
    assert report.takeover_seconds <= report.lease_ttl + 3.0, report.takeover_seconds
    assert len(report.processed_by_worker) == 3, "every worker handled mail"
