"""K-fold cross-validation of extraction on the training split: the honest figure for changes.

    .venv/bin/python benchmarks/crossval.py [--folds 4] [--only 0,2] [--cuts 0.25,0.3,0.35]
                                            [--gates 0.5,0.6,0.7] [--keep DIR] [--json]
                                            [--verbose]

The held-out split measures the product; it cannot also guide its development
(every look at its misses makes its figure flatter). This script cuts
``models/corpus/train`` into K folds (mail i goes to fold i mod K), trains both
classifiers on the other folds exactly as ``mailtrack train`` does, and measures
the fold with ``mailtrack eval``'s own code. Over the folds every training mail
is measured once by models that never saw it.

With ``--cuts`` each fold is measured again with the item cut (the share of
action + decision score a candidate needs to be an item) set to each value:
the cut in ``models/configs/items.cfg`` was chosen this way. With ``--gates``,
likewise with the minutes gate (the mail classifier's score a mail needs to
count as minutes), chosen so for ``models/configs/mail.cfg``. Training takes
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


# Which setting of which pipeline each option varies.
_SETTINGS = {"cut": ("items", "item_share"), "gate": ("mail", "threshold")}


def _with_setting(pipelines: Path, setting: str, value: float, into: Path) -> Path:
    """A copy of ``pipelines`` with the item cut or the minutes gate set to ``value``."""
    pipeline, key = _SETTINGS[setting]
    shutil.copytree(pipelines, into)
    config = into / pipeline / "config.cfg"
    text = config.read_text()
    if setting == "gate":  # the textcat has a "threshold" too: only the gate's changes
        head, _, tail = text.partition("[components.minutes_gate]")
        text = (
            head
            + "[components.minutes_gate]"
            + re.sub(rf"{key} = [\d.]+", f"{key} = {value}", tail, count=1)
        )
    else:
        text = re.sub(rf"{key} = [\d.]+", f"{key} = {value}", text)
    config.write_text(text, encoding="utf-8")
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--only", help="Comma-separated fold numbers to run (default: all).")
    parser.add_argument("--cuts", help="Comma-separated item cuts to measure each fold with.")
    parser.add_argument("--gates", help="Comma-separated minutes gates to measure each fold with.")
    parser.add_argument("--keep", type=Path, help="Keep each fold's pipelines and mails here.")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="Show spaCy's training log.")
    args = parser.parse_args()

    from mailtrack.nlp.training import read_corpus, train_from

    mails = read_corpus(ROOT / "models" / "corpus" / "train")
    folds = [int(k) for k in args.only.split(",")] if args.only else list(range(args.folds))
    variants = [
        (setting, float(value))
        for setting, values in (("cut", args.cuts), ("gate", args.gates))
        for value in (values.split(",") if values else [])
    ]
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
                "configured_gate": summary.get("gate_threshold"),
                "figures": _measure(test, base / "pipelines"),
                "variants": {},
            }
            for setting, value in variants:
                with tempfile.TemporaryDirectory() as other:
                    pipelines = _with_setting(
                        base / "pipelines", setting, value, Path(other) / "pipelines"
                    )
                    entry["variants"][f"{setting} {value}"] = _measure(test, pipelines)
            results.append(entry)
            f = entry["figures"]
            print(
                f"fold {fold}: F1 {f['f1']:.3f} (P {f['precision']:.3f} R {f['recall']:.3f}), "
                f"owners {f['owners_exact']:.3f}, due {f['due_accuracy']:.3f}, "
                f"non-minutes with no items {f['non_minutes_with_zero_items']}"
                + "".join(
                    f"; {name}: F1 {figures['f1']:.3f}, "
                    f"non-minutes {figures['non_minutes_with_zero_items']}"
                    for name, figures in entry["variants"].items()
                ),
                file=sys.stderr,
                flush=True,
            )
    mean: dict[str, Any] = {
        key: round(sum(r["figures"][key] for r in results) / len(results), 4)
        for key in ("precision", "recall", "f1", "owners_exact", "due_accuracy")
    }
    for setting, value in variants:
        name = f"{setting} {value}"
        mean[f"f1 at {name}"] = round(
            sum(r["variants"][name]["f1"] for r in results) / len(results), 4
        )
        counts = [r["variants"][name]["non_minutes_with_zero_items"].split("/") for r in results]
        mean[f"non-minutes at {name}"] = (
            f"{sum(int(clean) for clean, _ in counts)}/{sum(int(total) for _, total in counts)}"
        )
    if args.json:
        print(json.dumps({"folds": results, "mean": mean}, indent=2))
    else:
        print(f"mean over {len(results)} folds: " + ", ".join(f"{k} {v}" for k, v in mean.items()))


if __name__ == "__main__":
    main()
