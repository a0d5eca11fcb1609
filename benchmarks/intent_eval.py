"""How well :func:`mailtrack.nlp.intent.understand` reads replies to confirmation requests.

Two measurements:

1. The project's reply fixtures (``tests/data/replies/NNN.eml`` with
   ``NNN.expected.json``, 156 replies in Spanish and English): per language
   and overall, the replies read fully right (every item's state, and every
   rejection's reason containing the expected words), item-level accuracy,
   false confirmations (an item read "confirmed" that is not: must be 0),
   missed confirmations (expected confirmed, read pending or unclear), the
   confusion of item states, and every miss. ``other_sender`` fixtures are
   judged on their text, as if the addressee had sent them (the sender is
   checked elsewhere). An item the reply does not speak to is "pending".

2. The public reply fixtures in ``../shared/corpus/replies`` (not part of
   this repository): none of them answers one of our requests, so none may
   yield a "confirmed" item (each is read as a reply to a 3-item request).
   Skipped with a message when the corpus is absent.

    .venv/bin/python benchmarks/intent_eval.py [--fixtures tests/data/replies] [--corpus ../shared/corpus/replies] [--quiet]

Exits 1 when any false confirmation is found, in either measurement.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from mailtrack.mail.html import html_to_text
from mailtrack.mail.parsed import ParsedMail
from mailtrack.mail.quotes import trim
from mailtrack.nlp.intent import Intent, understand

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests/data/replies"
STATES = ("confirmed", "rejected", "unclear", "pending")
PUBLIC_ITEMS = 3
HEADER_STARTS = (b"return-path:", b"received:", b"from:", b"delivered-to:", b"message-id:",
                 b"mime-version:", b"date:", b"to:", b"subject:", b"x-", b"dkim-signature:",
                 b"content-type:", b"reply-to:", b"arc-", b"authentication-results:", b"from ")  # fmt: skip


def read_fixture(eml: Path) -> tuple[dict[str, object], Intent]:
    expected = json.loads(eml.with_suffix(".expected.json").read_text(encoding="utf-8"))
    mail = ParsedMail.from_bytes(eml.read_bytes())
    trimmed = trim(mail.text, subject=mail.subject)
    intent = understand(trimmed, int(str(expected["request_items"])), str(expected["language"]))
    return expected, intent


def got_states(intent: Intent, count: int) -> dict[str, str]:
    return {
        str(k): intent.answers[k].state if k in intent.answers else "pending"
        for k in range(1, count + 1)
    }


def reason_ok(expected: dict[str, object], intent: Intent) -> list[str]:
    """The items whose expected reason words are missing from the reason read."""
    wrong = []
    reasons = expected["reasons"]
    assert isinstance(reasons, dict)
    for key, words in reasons.items():
        answer = intent.answers.get(int(key))
        got = " ".join((answer.reason or "").split()).lower() if answer else ""
        if " ".join(str(words).split()).lower() not in got:
            wrong.append(key)
    return wrong


def run_fixtures(quiet: bool, fixtures: Path = FIXTURES) -> int:
    confusion: dict[str, Counter[tuple[str, str]]] = {"es": Counter(), "en": Counter()}
    totals: dict[str, Counter[str]] = {"es": Counter(), "en": Counter()}
    misses: list[str] = []
    for eml in sorted(fixtures.glob("*.eml")):
        expected, intent = read_fixture(eml)
        language = str(expected["language"])
        items = expected["items"]
        assert isinstance(items, dict)
        got = got_states(intent, int(str(expected["request_items"])))
        count = totals[language]
        count["replies"] += 1
        for key, want in items.items():
            have = got[key]
            confusion[language][(want, have)] += 1
            count["items"] += 1
            count["items_right"] += want == have
            count["false_confirmations"] += have == "confirmed" and want != "confirmed"
            count["missed_confirmations"] += want == "confirmed" and have != "confirmed"
        bad_reasons = reason_ok(expected, intent)
        right = got == items and not bad_reasons
        count["replies_right"] += right
        if not right:
            why = f" reasons wrong for {bad_reasons}" if bad_reasons else ""
            misses.append(
                f"  {eml.stem} [{language}, {expected['category']}] expected {items} got {got}"
                f" (kind {intent.kind}){why}\n      evidence: {intent.evidence!r}"
            )
    overall = totals["es"] + totals["en"]
    both = confusion["es"] + confusion["en"]
    shown = fixtures.resolve()
    print(f"Reply fixtures ({shown.relative_to(ROOT) if shown.is_relative_to(ROOT) else shown})")
    for name, count in (("es", totals["es"]), ("en", totals["en"]), ("overall", overall)):
        print(
            f"  {name:>8}: replies fully right {count['replies_right']}/{count['replies']}"
            f" ({100 * count['replies_right'] / max(1, count['replies']):.1f}%),"
            f" items right {count['items_right']}/{count['items']}"
            f" ({100 * count['items_right'] / max(1, count['items']):.1f}%),"
            f" false confirmations {count['false_confirmations']},"
            f" missed confirmations {count['missed_confirmations']}"
        )
    for name, table in (("es", confusion["es"]), ("en", confusion["en"]), ("overall", both)):
        print(f"\n  item states, {name}: rows = expected, columns = read")
        print(f"  {'':>10}" + "".join(f"{s:>11}" for s in STATES))
        for want in STATES:
            print(f"  {want:>10}" + "".join(f"{table[(want, have)]:>11}" for have in STATES))
    print(f"\n  misses ({len(misses)}):")
    if not quiet:
        print("\n".join(misses) if misses else "  none")
    return overall["false_confirmations"]


def public_text(path: Path) -> str:
    """A fixture's body: a whole message parsed as one, plain text or HTML as it is."""
    raw = path.read_bytes()
    head = raw.lstrip()[:200].lower()
    if path.suffix in (".eml", ".msg") or head.startswith(HEADER_STARTS):
        return ParsedMail.from_bytes(raw).text
    text = raw.decode("utf-8", errors="replace")
    return html_to_text(text) if path.suffix in (".html", ".htm") else text


def run_public(corpus: Path, quiet: bool) -> int:
    if not corpus.is_dir():
        print(f"\nPublic replies: {corpus} is absent, skipped")
        return 0
    kinds: Counter[str] = Counter()
    confirmed: list[str] = []
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and not p.name.startswith("."))
    for path in files:
        try:
            text = public_text(path)
        except Exception as error:  # a fixture the parser refuses is reported, not fatal
            print(f"  {path.relative_to(corpus)}: not readable ({error})")
            continue
        intent = understand(trim(text), PUBLIC_ITEMS, "en")
        kinds[intent.kind] += 1
        if any(a.state == "confirmed" for a in intent.answers.values()):
            confirmed.append(f"  {path.relative_to(corpus)}: {intent.kind} {intent.evidence!r}")
    print(f"\nPublic replies ({corpus}): {len(files)} files read as replies to a 3-item request")
    print("  kinds: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print(f"  replies with a confirmed item (false confirmations, must be 0): {len(confirmed)}")
    if confirmed:
        print("\n".join(confirmed))
    return len(confirmed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpus/replies")
    parser.add_argument("--quiet", action="store_true", help="do not list the misses")
    parser.add_argument(
        "--fixtures",
        type=Path,
        default=FIXTURES,
        help="folder of NNN.eml + NNN.expected.json reply fixtures",
    )
    args = parser.parse_args()
    false = run_fixtures(args.quiet, args.fixtures)
    false += run_public(args.corpus, args.quiet)
    return 1 if false else 0


if __name__ == "__main__":
    sys.exit(main())
