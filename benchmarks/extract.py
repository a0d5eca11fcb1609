"""Extraction speed and memory on the held-out split, next to a plain spaCy baseline.

    .venv/bin/python benchmarks/extract.py [--corpus models/corpus/heldout] [--rounds 5] [--record]

Each part runs in its own process (so start-up and peak memory are its own):

- start-up: importing mailtrack's extractor and loading both trained pipelines;
- mailtrack: ``Extractor.extract`` on every held-out mail (already parsed),
  pipelines loaded; mails/s and words/s (words of the mails' text bodies);
- baseline: the same mails' text bodies tokenised by ``spacy.blank`` (es or en
  by the gold language) after the same MIME parse: what "just running spaCy"
  costs.

Throughput is per core: one process, one thread.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _mails(folder: Path) -> list[tuple[bytes, str]]:
    mails = []
    for gold in sorted(folder.glob("*.gold.json")):
        language = json.loads(gold.read_text())["language"]
        mails.append(
            (gold.with_name(gold.name.replace(".gold.json", ".eml")).read_bytes(), language)
        )
    return mails


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def part_startup() -> dict[str, float]:
    started = time.perf_counter()
    from mailtrack.nlp.extract import Extractor

    Extractor(tracker="actas@tracker.test", default_language="es")
    return {"seconds": time.perf_counter() - started, "peak_rss_mb": _peak_mb()}


def part_mailtrack(folder: Path, rounds: int) -> dict[str, float]:
    from mailtrack.mail.parsed import ParsedMail
    from mailtrack.nlp.dates import clear_fold_cache
    from mailtrack.nlp.extract import Extractor
    from mailtrack.nlp.sections import section_kind

    extractor = Extractor(tracker="actas@tracker.test", default_language="es")
    parsed = [ParsedMail.from_bytes(raw) for raw, _ in _mails(folder)]
    words = sum(len(mail.text.split()) for mail in parsed)
    for mail in parsed[:5]:
        extractor.extract(mail, mail.date.date() if mail.date else datetime.now(UTC).date())
    started = time.perf_counter()
    for _ in range(rounds):
        # Each round reads the mails as new: the caches of folded lines and of heading
        # kinds would otherwise answer from the round before (words stay cached: a
        # service meets the same words in every mail).
        clear_fold_cache()
        section_kind.cache_clear()
        for mail in parsed:
            extractor.extract(mail, mail.date.date() if mail.date else datetime.now(UTC).date())
    elapsed = time.perf_counter() - started
    count = len(parsed) * rounds
    return {
        "mails": count,
        "seconds": elapsed,
        "mails_per_s": count / elapsed,
        "words_per_s": words * rounds / elapsed,
        "peak_rss_mb": _peak_mb(),
    }


def part_baseline(folder: Path, rounds: int) -> dict[str, float]:
    import spacy

    from mailtrack.mail.parsed import ParsedMail

    blanks = {"es": spacy.blank("es"), "en": spacy.blank("en")}
    mails = [(ParsedMail.from_bytes(raw), language) for raw, language in _mails(folder)]
    words = sum(len(mail.text.split()) for mail, _ in mails)
    started = time.perf_counter()
    for _ in range(rounds):
        for mail, language in mails:
            blanks[language](mail.text)
    elapsed = time.perf_counter() - started
    count = len(mails) * rounds
    return {
        "mails": count,
        "seconds": elapsed,
        "mails_per_s": count / elapsed,
        "words_per_s": words * rounds / elapsed,
        "peak_rss_mb": _peak_mb(),
    }


def run_part(name: str, folder: Path, rounds: int) -> dict[str, float]:
    output = subprocess.run(
        [
            sys.executable,
            __file__,
            "--part",
            name,
            "--corpus",
            str(folder),
            "--rounds",
            str(rounds),
        ],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    result: dict[str, float] = json.loads(output.stdout.strip().splitlines()[-1])
    print(f"  {name}: {result}", file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "models" / "corpus" / "heldout")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--part")
    args = parser.parse_args()
    if args.part:
        parts = {
            "startup": part_startup,
            "mailtrack": lambda: part_mailtrack(args.corpus, args.rounds),
            "baseline": lambda: part_baseline(args.corpus, args.rounds),
        }
        print(json.dumps(parts[args.part]()))
        return
    startup = run_part("startup", args.corpus, args.rounds)
    ours = run_part("mailtrack", args.corpus, args.rounds)
    base = run_part("baseline", args.corpus, args.rounds)
    report = f"""
## Extraction (issue 4) — {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}

`.venv/bin/python benchmarks/extract.py --rounds {args.rounds}` on {os.cpu_count()} cores
(one process, one thread), Python {platform.python_version()}; the {int(ours["mails"] / args.rounds)}
held-out mails of models/corpus/heldout, {args.rounds} rounds, already parsed.

| run | mails/s | words/s | peak RSS |
|---|---|---|---|
| mailtrack `Extractor.extract` (quotes, segmentation, owners, dates, two classifiers) | {ours["mails_per_s"]:.0f} | {ours["words_per_s"]:,.0f} | {ours["peak_rss_mb"]:.0f} MB |
| baseline: `spacy.blank(lang)` tokenising the same text bodies | {base["mails_per_s"]:.0f} | {base["words_per_s"]:,.0f} | {base["peak_rss_mb"]:.0f} MB |

Ratio mailtrack / baseline: **{ours["mails_per_s"] / base["mails_per_s"]:.2f}**. Start-up (import and
load both pipelines): {startup["seconds"] * 1000:.0f} ms, {startup["peak_rss_mb"]:.0f} MB.
"""
    print(report)
    if args.record:
        with (ROOT / "benchmarks" / "RESULTS.md").open("a") as handle:
            handle.write(report)


if __name__ == "__main__":
    main()
