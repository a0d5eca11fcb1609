"""The extraction corpus keeps its promise: the held-out split is text training never saw."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mailtrack.mail.parsed import ParsedMail
from mailtrack.mail.quotes import trim

CORPUS = Path(__file__).resolve().parents[2] / "models" / "corpus"
# A held-out item is "seen" when this share of its word 4-grams stands in one training
# mail's text (as extraction reads it: quotes and signatures trimmed). Formulas every
# minutes repeat ("Se aprueba por unanimidad el acta de la sesión anterior") stay under it.
SEEN = 0.8


def _grams(text: str, size: int = 4) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def _heldout_items() -> list[tuple[str, str, set[tuple[str, ...]]]]:
    items = []
    for gold in sorted((CORPUS / "heldout").glob("*.gold.json")):
        for item in json.loads(gold.read_text())["items"]:
            grams = _grams(item["text"])
            if len(grams) >= 6:  # nine words or more: shorter ones are formulas
                items.append((gold.name[:3], item["text"], grams))
    return items


@pytest.mark.skipif(not (CORPUS / "heldout").is_dir(), reason="no corpus in this checkout")
def test_no_heldout_item_was_written_into_a_training_mail() -> None:
    heldout = _heldout_items()
    assert len(heldout) > 300
    seen = []
    for eml in sorted((CORPUS / "train").glob("*.eml")):
        parsed = ParsedMail.from_bytes(eml.read_bytes())
        text = _grams(trim(parsed.text, keep_forwarded=True, subject=parsed.subject).text)
        for number, item, grams in heldout:
            if len(grams & text) >= SEEN * len(grams):
                seen.append(f"train {eml.stem} holds held-out {number}: {item[:70]}")
    assert seen == []
