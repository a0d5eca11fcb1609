"""Extraction measured on real public minutes, against the project's own labels.

    .venv/bin/python benchmarks/real_minutes_eval.py [--json]

The minutes (wrapped as mails) stay in ``../shared/corpus/real-minutes``; only
their hand-made gold answers live in ``benchmarks/data/real_minutes_gold``.
The two are put side by side in a temporary folder and measured exactly as
``mailtrack eval`` measures the held-out split.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "benchmarks" / "data" / "real_minutes_gold"
MAILS = ROOT.parent / "shared" / "corpus" / "real-minutes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=Path, default=MAILS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.mails.is_dir():
        sys.exit(f"{args.mails} not found: the real minutes live outside the repository")
    from mailtrack.nlp.evaluation import evaluate, render
    from mailtrack.nlp.extract import Extractor

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for gold in sorted(GOLD.glob("*.gold.json")):
            eml = args.mails / gold.name.replace(".gold.json", ".eml")
            if eml.exists():
                shutil.copy(eml, folder / eml.name)
                shutil.copy(gold, folder / gold.name)
        extractor = Extractor(tracker="actas@tracker.test", default_language="es")
        report = evaluate(folder, extractor.extract)
    print(
        json.dumps(report.as_dict(), indent=2, ensure_ascii=False) if args.json else render(report)
    )


if __name__ == "__main__":
    main()
