"""Machine mail on the project's own Spanish and English fixtures (tests/data/routing).

The public bounce and auto-reply fixtures are measured by benchmarks/routing_eval.py,
since they are not part of this repository.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from mailtrack.mail.guards import detect_auto_reply, detect_bounce, own_mail_reason
from mailtrack.mail.parsed import ParsedMail

FIXTURES = Path(__file__).parents[1] / "data" / "routing"
CASES = sorted(FIXTURES.glob("*.expected.json"))


def classify(mail: ParsedMail):  # type: ignore[no-untyped-def]
    found = detect_bounce(mail, "actas@tracker.test")
    if found is None or found.kind != "bounce":
        found = found or detect_auto_reply(mail, "es")
    return found


def test_there_are_fixtures_in_both_languages() -> None:
    languages = {json.loads(path.read_text())["language"] for path in CASES}
    assert len(CASES) >= 40
    assert languages == {"es", "en"}


@pytest.mark.parametrize("expected_path", CASES, ids=[path.name[:3] for path in CASES])
def test_routing_fixture(expected_path: Path) -> None:
    expected = json.loads(expected_path.read_text())
    raw = expected_path.with_name(expected_path.name.replace(".expected.json", ".eml")).read_bytes()
    found = classify(ParsedMail.from_bytes(raw))
    route = found.kind if found else "human"
    assert route == expected["route"], expected["notes"]
    if route == "auto_reply":
        away = expected["away_until"]
        assert found is not None
        assert found.away_until == (date.fromisoformat(away) if away else None), expected["notes"]
    if route == "bounce":
        assert found is not None
        if expected["failed_recipient"]:
            assert expected["failed_recipient"] in found.failed_recipients, expected["notes"]


def test_a_human_reply_never_looks_like_our_own_mail() -> None:
    for path in CASES:
        raw = path.with_name(path.name.replace(".expected.json", ".eml")).read_bytes()
        mail = ParsedMail.from_bytes(raw)
        if json.loads(path.read_text())["route"] == "human":
            assert own_mail_reason(mail, "actas@tracker.test") is None
