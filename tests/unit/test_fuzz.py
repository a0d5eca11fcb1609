"""The mutation fuzzer, short: a few hundred mutated mails over every target, in CI.

The long run (10,000 cases, memory traced) is ``benchmarks/fuzz.py``, with its
figures in docs/RELIABILITY.md (Fuzz); ``pytest -m slow tests/unit/test_fuzz.py``
runs 2,000 cases here. Besides the run itself, these tests show the harness can
fail: a target that raises, hangs or reads a confirmation where there is none
is reported, and a case is the same case whenever it is drawn.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import fuzzing
from support.fuzzing import WEIGHTS, Fuzzer, Report

from mailtrack.nlp.intent import Intent, ItemAnswer

SHORT_CASES = 250


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzer]:
    """One fuzzer for the module: its loop and extractor are built once."""
    built = Fuzzer(20261127, workdir=tmp_path_factory.mktemp("fuzz"))
    built.warm_up()
    yield built
    built.close()


def check(report: Report) -> None:
    assert not report.failures, "\n".join(f.line() for f in report.failures)
    assert report.false_confirmations == 0


def test_a_short_run_over_every_target_fails_nothing_and_confirms_nothing_it_should_not(
    fuzzer: Fuzzer,
) -> None:
    report = fuzzer.run(SHORT_CASES)
    check(report)
    assert set(report.by_target) == set(WEIGHTS)
    # The fuzzer really mutates, in every family, and really asks the promise.
    assert set(report.by_family) == {"preserving", "removing", "destructive"}
    assert report.by_family["removing"] >= 20
    assert report.must_not_confirm_by_target["understand"] >= 25
    assert report.must_not_confirm_by_target["reply_path"] >= 8
    # Meaning-keeping mutants of confirming replies mostly still confirm: the mutations
    # keep the words readable, so "0 false confirmations" is not bought by reading nothing.
    assert report.controls >= 5
    assert report.controls_kept >= report.controls * 0.6, report.as_dict()
    assert all(times for times in report.seconds.values())


def test_a_case_is_the_same_case_whenever_it_is_drawn(fuzzer: Fuzzer, tmp_path: Path) -> None:
    other = Fuzzer(fuzzer.seed, workdir=tmp_path)
    try:
        other.warm_up()
        for number in (10_003, 10_041, 10_097):  # past the short run: new fuzz meetings
            for target in ("parse", "understand", "extract", "html", "trim", "reply_path"):
                first, second = fuzzer.draw(number, target), other.draw(number, target)
                assert (first.raw, first.text, first.steps) == (
                    second.raw,
                    second.text,
                    second.steps,
                )
        assert fuzzer.draw(5, "parse").raw != fuzzer.draw(6, "parse").raw
    finally:
        other.close()


def test_a_target_that_raises_is_a_failure_with_its_case(
    fuzzer: Fuzzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(markup: str) -> str:
        raise ValueError("boom")

    monkeypatch.setattr(fuzzing, "html_to_text", broken)
    report = fuzzer.run(5, {"html": 1.0})
    assert len(report.failures) == 5
    assert report.failures[0].case == 0
    assert "raised ValueError: boom" in report.failures[0].problem


def test_a_target_that_hangs_is_stopped_and_reported(
    fuzzer: Fuzzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def endless(text: str, **kwargs: object) -> None:
        while True:
            time.monotonic()

    monkeypatch.setattr(fuzzing, "CASE_LIMIT_SECONDS", 0.2)
    monkeypatch.setattr(fuzzing, "trim", endless)
    began = time.monotonic()
    report = fuzzer.run(2, {"trim": 1.0})
    assert time.monotonic() - began < 5
    assert len(report.failures) == 2
    assert all("Hang: still running after 0 s" in f.problem for f in report.failures)


def test_a_reading_that_confirms_a_must_not_confirm_reply_is_caught(
    fuzzer: Fuzzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def credulous(trimmed: object, items: int, language: str) -> Intent:
        answers = {n: ItemAnswer("confirmed", None) for n in range(1, items + 1)}
        return Intent(answers, "all", "fake")

    monkeypatch.setattr(fuzzing, "understand", credulous)
    report = fuzzer.run(60, {"understand": 1.0})
    assert report.must_not_confirm > 10
    assert report.false_confirmations == report.must_not_confirm
    assert len(report.failures) == report.must_not_confirm


@pytest.mark.slow
@pytest.mark.timeout(3600)  # about 10 minutes on a busy 2-core machine
def test_a_longer_run_with_memory_traced(tmp_path: Path) -> None:
    long = Fuzzer(7, trace_memory=True, workdir=tmp_path)
    try:
        report = long.run(2000)
    finally:
        long.close()
    check(report)
    assert max(report.peak_bytes.values()) < fuzzing.CASE_MEMORY_LIMIT
