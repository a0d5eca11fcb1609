"""``mailtrack eval DIR``: extraction measured against gold answers, per language, with every miss.

For a folder of ``NNN.eml`` + ``NNN.gold.json``: items are matched one to one
by text similarity (:mod:`mailtrack.nlp.matching`); item precision, recall
and F1 count matched pairs; kind, owners (exact set) and due are judged on
matched pairs; a non-minutes mail passes when it yields zero items. Every
miss is listed, so a reader sees what the numbers hide.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from mailtrack.mail.parsed import ParsedMail
from mailtrack.nlp.extract import Extraction
from mailtrack.nlp.matching import match


@dataclass
class Tally:
    predicted: int = 0
    gold: int = 0
    matched: int = 0
    kind_ok: int = 0
    owners_ok: int = 0
    due_ok: int = 0
    minutes_ok: int = 0
    mails: int = 0
    non_minutes: int = 0
    non_minutes_clean: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def precision(self) -> float:
        return self.matched / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.gold if self.gold else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def ratio(self, count: int) -> float:
        return count / self.matched if self.matched else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "mails": self.mails,
            "items_gold": self.gold,
            "items_predicted": self.predicted,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "kind_accuracy": round(self.ratio(self.kind_ok), 4),
            "owners_exact": round(self.ratio(self.owners_ok), 4),
            "due_accuracy": round(self.ratio(self.due_ok), 4),
            "is_minutes_accuracy": round(self.minutes_ok / self.mails, 4) if self.mails else 1.0,
            "non_minutes_with_zero_items": f"{self.non_minutes_clean}/{self.non_minutes}",
        }


@dataclass
class Report:
    by_language: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    misses: list[str] = field(default_factory=list)

    @property
    def overall(self) -> Tally:
        total = Tally()
        for tally in self.by_language.values():
            total.add(tally)
        return total

    def as_dict(self) -> dict[str, Any]:
        return {
            "by_language": {
                lang: tally.as_dict() for lang, tally in sorted(self.by_language.items())
            },
            "overall": self.overall.as_dict(),
            "misses": self.misses,
        }


def _owners(value: Iterable[str]) -> set[str]:
    return {owner.lower() for owner in value}


def score_mail(name: str, extraction: Extraction, gold: dict[str, Any], report: Report) -> None:
    """Compare one extraction with its gold answer; add counts and misses to ``report``."""
    language = gold.get("language", extraction.language)
    tally = report.by_language[language]
    tally.mails += 1
    if extraction.language != gold.get("language", extraction.language):
        report.misses.append(f"{name}: language {extraction.language}, gold {gold['language']}")
    if bool(extraction.is_minutes) == bool(gold["is_minutes"]):
        tally.minutes_ok += 1
    else:
        report.misses.append(
            f"{name}: is_minutes {extraction.is_minutes}, gold {gold['is_minutes']}"
        )
    if not gold["is_minutes"]:
        tally.non_minutes += 1
        tally.non_minutes_clean += not extraction.items
    predicted = list(extraction.items)
    expected = gold["items"]
    tally.predicted += len(predicted)
    tally.gold += len(expected)
    pairs = match([item.text for item in predicted], [item["text"] for item in expected])
    tally.matched += len(pairs)
    matched_p = {p for p, _, _ in pairs}
    matched_g = {g for _, g, _ in pairs}
    for p_index, g_index, _ in pairs:
        got, want = predicted[p_index], expected[g_index]
        short = want["text"][:70]
        if got.kind == want["kind"]:
            tally.kind_ok += 1
        else:
            report.misses.append(f"{name}: kind {got.kind}, gold {want['kind']}: {short}")
        if _owners(got.owners) == _owners(want["owners"]):
            tally.owners_ok += 1
        else:
            report.misses.append(
                f"{name}: owners {sorted(got.owners)} (external {got.external_owner!r}), "
                f"gold {sorted(want['owners'])} (external {want.get('external_owner')!r}): {short}"
            )
        got_due = got.due.isoformat() if got.due else None
        if got_due == want["due"]:
            tally.due_ok += 1
        else:
            report.misses.append(f"{name}: due {got_due}, gold {want['due']}: {short}")
    for index, item in enumerate(predicted):
        if index not in matched_p:
            report.misses.append(f"{name}: extra {item.kind}: {item.text[:80]}")
    for index, item in enumerate(expected):
        if index not in matched_g:
            report.misses.append(f"{name}: missed {item['kind']}: {item['text'][:80]}")


def evaluate(
    folder: Path,
    extract: Callable[[ParsedMail, date], Extraction],
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Run ``extract`` over every mail of ``folder`` that has a gold answer."""
    report = Report()
    golds = sorted(folder.glob("*.gold.json"))
    for index, gold_path in enumerate(golds, start=1):
        name = gold_path.name.split(".")[0]
        eml = gold_path.with_name(f"{name}.eml")
        if not eml.exists():
            continue
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        parsed = ParsedMail.from_bytes(eml.read_bytes())
        today = parsed.date.date() if parsed.date else date.today()
        score_mail(name, extract(parsed, today), gold, report)
        if progress is not None:
            progress(index, len(golds))
    return report


def render(report: Report) -> str:
    """The report as a readable table followed by every miss."""
    rows = [("", "mails", "P", "R", "F1", "kind", "owners", "due", "is_minutes", "non-minutes ok")]
    for language, tally in [*sorted(report.by_language.items()), ("all", report.overall)]:
        data = tally.as_dict()
        rows.append(
            (
                language,
                str(data["mails"]),
                f"{data['precision']:.3f}",
                f"{data['recall']:.3f}",
                f"{data['f1']:.3f}",
                f"{data['kind_accuracy']:.3f}",
                f"{data['owners_exact']:.3f}",
                f"{data['due_accuracy']:.3f}",
                f"{data['is_minutes_accuracy']:.3f}",
                data["non_minutes_with_zero_items"],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.append("")
    lines.append(f"misses ({len(report.misses)}):")
    lines.extend(f"  {miss}" for miss in report.misses)
    return "\n".join(lines)
