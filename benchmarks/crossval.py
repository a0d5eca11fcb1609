"""K-fold cross-validation of extraction on the training split: the honest figure for changes.

    .venv/bin/python benchmarks/crossval.py [--folds 4] [--only 0,2] [--cuts 0.25,0.3,0.35]
                                            [--keep DIR] [--json] [--verbose]

The held-out split measures the product; it cannot also guide its development
(every look at its misses makes its figure flatter). This script cuts
``models/corpus/train`` into K folds (mail i goes to fold i mod K), trains both
classifiers on the other folds exactly as ``mailtrack train`` does, and measures
the fold with ``mailtrack eval``'s own code. Over the folds every training mail
is measured once by models that never saw it.

With ``--cuts`` each fold is measured again with the item cut (the share of
action + decision score a candidate needs to be an item) set to each value:
the cut in ``models/configs/items.cfg`` was chosen this way. Training takes
about a minute and a half per fold on one core.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _measure(test: Path, pipelines: Path) -> dict[str, Any]:
    from mailtrack.nlp import pipelines as loader
    from mailtrack.nlp.evaluation import evaluate
    from mailtrack.nlp.extract import Extractor

    loader.load.cache_clear()
    original = loader.pipelines_dir
    loader.pipelines_dir = lambda: pipelines
    try:
        extractor = Extractor(tracker="actas@tracker.test", default_language="es")
        report = evaluate(test, extractor.extract)
    finally:
        loader.pipelines_dir = original
        loader.load.cache_clear()
    figures: dict[str, Any] = report.as_dict()["overall"]
    return figures


def _with_cut(pipelines: Path, cut: float, into: Path) -> Path:
    shutil.copytree(pipelines, into)
    config = into / "items" / "config.cfg"
    config.write_text(
        re.sub(r"item_share = [\d.]+", f"item_share = {cut}", config.read_text()),
        encoding="utf-8",
    )
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--only", help="Comma-separated fold numbers to run (default: all).")
    parser.add_argument("--cuts", help="Comma-separated item cuts to measure each fold with.")
    parser.add_argument("--keep", type=Path, help="Keep each fold's pipelines and mails here.")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="Show spaCy's training log.")
    args = parser.parse_args()

    from mailtrack.nlp.training import read_corpus, train_from

    mails = read_corpus(ROOT / "models" / "corpus" / "train")
    folds = [int(k) for k in args.only.split(",")] if args.only else list(range(args.folds))
    cuts = [float(c) for c in args.cuts.split(",")] if args.cuts else []
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch:
        work = args.keep or Path(scratch)
        for fold in folds:
            base = work / f"fold{fold}"
            test = base / "test"
            test.mkdir(parents=True, exist_ok=True)
            training = [mail for i, mail in enumerate(mails) if i % args.folds != fold]
            for i, mail in enumerate(mails):
                if i % args.folds == fold:
                    shutil.copy(mail.eml, test / mail.eml.name)
                    shutil.copy(mail.eml.with_suffix("").with_suffix(".gold.json"), test)
            print(f"fold {fold}: training on {len(training)} mails", file=sys.stderr, flush=True)
            # spaCy's training loop prints its table on stdout: keep stdout for the figures.
            with contextlib.redirect_stdout(sys.stderr if args.verbose else io.StringIO()):
                summary = train_from(
                    training,
                    ROOT / "models" / "configs",
                    base / "pipelines",
                    progress=lambda _: None,
                )
            entry: dict[str, Any] = {
                "fold": fold,
                "mails": len(mails) - len(training),
                "configured_cut": summary.get("item_share"),
                "figures": _measure(test, base / "pipelines"),
                "by_cut": {},
            }
            for cut in cuts:
                with tempfile.TemporaryDirectory() as other:
                    pipelines = _with_cut(base / "pipelines", cut, Path(other) / "pipelines")
                    entry["by_cut"][str(cut)] = _measure(test, pipelines)
            results.append(entry)
            f = entry["figures"]
            print(
                f"fold {fold}: F1 {f['f1']:.3f} (P {f['precision']:.3f} R {f['recall']:.3f}), "
                f"owners {f['owners_exact']:.3f}, due {f['due_accuracy']:.3f}, "
                f"non-minutes with no items {f['non_minutes_with_zero_items']}"
                + "".join(
                    f"; cut {cut}: F1 {figures['f1']:.3f}"
                    for cut, figures in entry["by_cut"].items()
                ),
                file=sys.stderr,
                flush=True,
            )
    mean = {
        key: round(sum(r["figures"][key] for r in results) / len(results), 4)
        for key in ("precision", "recall", "f1", "owners_exact", "due_accuracy")
    }
    for cut in cuts:
        mean[f"f1_at_cut_{cut}"] = round(
            sum(r["by_cut"][str(cut)]["f1"] for r in results) / len(results), 4
        )
    if args.json:
        print(json.dumps({"folds": results, "mean": mean}, indent=2))
    else:
        print(f"mean over {len(results)} folds: " + ", ".join(f"{k} {v}" for k, v in mean.items()))


if __name__ == "__main__":
    main()
