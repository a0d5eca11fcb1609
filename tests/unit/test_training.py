"""Training: the cuts of the item and minutes classifiers, set in the configs and kept in the pipelines."""

from __future__ import annotations

from pathlib import Path

import spacy
from thinc.api import Config

from mailtrack.nlp.components import ItemShare
from mailtrack.nlp.pipelines import pipelines_dir
from mailtrack.nlp.training import _setting


def test_the_pipelines_keep_the_cuts_their_configs_set() -> None:
    """Training copies the item cut and the minutes gate from models/configs: the shipped
    pipelines must hold the values cross-validation chose, not ones set on the side."""
    configs = Path(__file__).resolve().parents[2] / "models" / "configs"
    for name, component, key in (
        ("items", "item_kind", "item_share"),
        ("mail", "minutes_gate", "threshold"),
    ):
        wanted = Config().from_disk(configs / f"{name}.cfg")["components"][component][key]
        assert _setting(pipelines_dir() / name, component, key) == wanted
    gate = Config().from_disk(configs / "mail.cfg")["components"]["minutes_gate"]["threshold"]
    assert spacy.load(pipelines_dir() / "mail").get_pipe("minutes_gate").threshold == gate


def test_item_kind_v2_splits_item_or_not_from_which_kind() -> None:
    doc = spacy.blank("xx")("Se aprueba el presupuesto")
    doc.cats = {"action": 0.2, "decision": 0.3, "none": 0.5}
    assert ItemShare(0.45)(doc)._.mt_kind == "decision"  # 0.5 of item against 0.5 of none
    assert ItemShare(0.55)(doc)._.mt_kind == "none"
