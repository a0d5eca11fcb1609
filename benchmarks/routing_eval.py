"""Routing accuracy on public auto-reply and bounce fixtures, against hand-checked labels.

Reads the fixtures from ``../shared/corpus/replies`` (not part of this
repository) and the labels from ``benchmarks/data/routing_labels.json``, runs
the same machine-mail detection the router uses, and prints the confusion
table (label x decision), the failed-recipient and original-Message-ID
agreement on bounces, and every miss. Also runs the project's own Spanish
and English routing fixtures in ``tests/data/routing``.

    .venv/bin/python benchmarks/routing_eval.py [--corpus ../shared/corpus/replies]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from mailtrack.mail.guards import MachineMail, detect_auto_reply, detect_bounce
from mailtrack.mail.parsed import ParsedMail

ROOT = Path(__file__).resolve().parents[1]
TRACKER = "actas@tracker.test"
LABELS = ("bounce", "auto_reply", "human")


def classify(raw: bytes) -> tuple[str, MachineMail | None]:
    mail = ParsedMail.from_bytes(raw)
    found = detect_bounce(mail, TRACKER)
    if found is None or found.kind != "bounce":
        found = found or detect_auto_reply(mail, "en")
    return (found.kind if found else "human"), found


def table(confusion: Counter[tuple[str, str]], title: str) -> None:
    print(f"\n{title}: rows = label, columns = decision")
    print(f"{'':>12}" + "".join(f"{name:>12}" for name in LABELS) + f"{'total':>8}")
    for label in LABELS:
        row = [confusion[(label, decided)] for decided in LABELS]
        print(f"{label:>12}" + "".join(f"{n:>12}" for n in row) + f"{sum(row):>8}")


def run_public(corpus: Path) -> int:
    labels = json.loads((ROOT / "benchmarks/data/routing_labels.json").read_text())
    confusion: Counter[tuple[str, str]] = Counter()
    misses: list[str] = []
    recipients_ok = recipients_total = ids_ok = ids_total = away_ok = away_total = 0
    for entry in labels:
        path = corpus / entry["path"]
        if not path.exists():
            print(f"missing fixture {path}", file=sys.stderr)
            continue
        decided, found = classify(path.read_bytes())
        confusion[(entry["label"], decided)] += 1
        if decided != entry["label"]:
            reason = found.reason if found else "no machine signal"
            misses.append(
                f"  {entry['path']}: labelled {entry['label']} ({entry['kind']}), got {decided} ({reason})"
            )
            continue
        if decided == "auto_reply" and entry.get("away_until") and found is not None:
            away_total += 1
            away_ok += (found.away_until.isoformat() if found.away_until else None) == entry[
                "away_until"
            ]
        if decided == "bounce" and found is not None:
            if entry["failed_recipients"]:
                recipients_total += 1
                recipients_ok += bool(
                    set(found.failed_recipients) & set(entry["failed_recipients"])
                )
            if entry["original_message_id"]:
                ids_total += 1
                ids_ok += found.original_message_id == entry["original_message_id"]
    table(confusion, f"Public fixtures ({sum(confusion.values())} mails)")
    print(f"\nbounces with a stated failed recipient found: {recipients_ok}/{recipients_total}")
    print(f"bounces with the original Message-ID found:   {ids_ok}/{ids_total}")
    print(f"vacation replies with the stated return date: {away_ok}/{away_total}")
    print(f"\nmisses ({len(misses)}):")
    print("\n".join(misses) or "  none")
    return len(misses)


def run_own() -> int:
    folder = ROOT / "tests/data/routing"
    confusion: Counter[tuple[str, str]] = Counter()
    misses: list[str] = []
    for expected_path in sorted(folder.glob("*.expected.json")):
        expected = json.loads(expected_path.read_text())
        raw = expected_path.with_name(
            expected_path.name.replace(".expected.json", ".eml")
        ).read_bytes()
        decided, found = classify(raw)
        label = expected["route"]
        confusion[(label, decided)] += 1
        if decided != label:
            misses.append(f"  {expected_path.name}: expected {label}, got {decided}")
        elif (
            label == "auto_reply"
            and found
            and expected.get("away_until")
            != (found.away_until.isoformat() if found.away_until else None)
        ):
            misses.append(
                f"  {expected_path.name}: away_until {found.away_until} != {expected.get('away_until')}"
            )
    if confusion:
        table(confusion, f"Project fixtures, Spanish and English ({sum(confusion.values())} mails)")
        print(f"\nmisses ({len(misses)}):")
        print("\n".join(misses) or "  none")
    return len(misses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpus/replies")
    args = parser.parse_args()
    misses = run_own()
    if args.corpus.is_dir():
        misses += run_public(args.corpus)
    else:
        print(f"\n{args.corpus} not found: public fixtures skipped")
    sys.exit(1 if misses else 0)


if __name__ == "__main__":
    main()
