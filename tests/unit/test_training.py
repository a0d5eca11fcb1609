"""Training: the cuts of the item and minutes classifiers, chosen from the dev mails and written into the pipelines."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import spacy

from mailtrack.nlp.components import ItemShare
from mailtrack.nlp.pipelines import pipelines_dir
from mailtrack.nlp.training import calibrate_gate, gate_threshold


def test_the_cut_goes_above_every_mail_that_is_not_minutes() -> None:
    minutes = [0.99, 0.97, 0.95, 0.9, 0.88, 0.86, 0.85, 0.8, 0.75, 0.72]
    assert gate_threshold(minutes, [0.2, 0.6, 0.7]) == pytest.approx(0.71)


def test_the_cut_never_drops_more_minutes_than_allowed() -> None:
    # 20 minutes: at most one of them (5 %) may fall under the cut, however high the others.
    minutes = [0.99] * 18 + [0.8, 0.6]
    assert gate_threshold(minutes, [0.1, 0.95]) == pytest.approx(0.8)


def test_the_cut_stays_between_half_and_almost_one() -> None:
    assert gate_threshold([0.9, 0.95], [0.1]) == 0.5
    assert gate_threshold([1.0] * 40, [0.999]) == 0.95


def test_calibration_writes_the_cut_into_the_pipeline(tmp_path: Path) -> None:
    pipeline = tmp_path / "mail"
    shutil.copytree(pipelines_dir() / "mail", pipeline)
    nlp = spacy.load(pipeline)
    dev = [
        ("MTLANGES SUBJacta MTBODY Acuerdos: se aprueba el presupuesto.", "minutes"),
        ("MTLANGEN SUBJminutes MTBODY Decisions: we agreed to ship on Friday.", "minutes"),
        ("MTLANGEN SUBJinvoice MTBODY Please find attached the invoice for March.", "other"),
    ]
    scores = [doc.cats["minutes"] for doc in nlp.pipe(text for text, _ in dev)]
    threshold = calibrate_gate(pipeline, dev)
    assert threshold == gate_threshold(scores[:2], scores[2:])
    reloaded = spacy.load(pipeline)
    assert reloaded.get_pipe("minutes_gate").threshold == threshold


def test_item_kind_v2_splits_item_or_not_from_which_kind() -> None:
    doc = spacy.blank("xx")("Se aprueba el presupuesto")
    doc.cats = {"action": 0.2, "decision": 0.3, "none": 0.5}
    assert ItemShare(0.45)(doc)._.mt_kind == "decision"  # 0.5 of item against 0.5 of none
    assert ItemShare(0.55)(doc)._.mt_kind == "none"
