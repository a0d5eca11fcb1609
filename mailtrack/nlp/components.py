"""spaCy components of mailtrack, registered under versioned names.

A trained pipeline saved in ``models/pipelines`` names these factories in its
``config.cfg``; importing this module registers them, so loading a pipeline
always imports it first. A changed behaviour gets a new version
(``mailtrack_item_kind_v2``), never a silent change under the old name
(spaCy allows no dots in factory names, so the version is a suffix).
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from mailtrack.nlp import tokenizer  # noqa: F401  (registers mailtrack.words.v1)

ITEM_LABELS = ("action", "decision", "none")
MAIL_LABELS = ("minutes", "other")

if not Doc.has_extension("mt_kind"):
    Doc.set_extension("mt_kind", default=None)
if not Doc.has_extension("mt_is_minutes"):
    Doc.set_extension("mt_is_minutes", default=None)


class ItemKind:
    """Turns the item classifier's scores into one kind: "action", "decision" or "none".

    An item is reported only when its best score is at least ``threshold``;
    below it the candidate is "none", since asking people to confirm a thing
    that is not an item costs more than missing one the organizer can add.
    """

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def __call__(self, doc: Doc) -> Doc:
        scores = doc.cats
        best = max(ITEM_LABELS, key=lambda label: scores.get(label, 0.0))
        doc._.mt_kind = best if best == "none" or scores[best] >= self.threshold else "none"
        return doc


class ItemShare:
    """Version 2: a candidate is an item when the classifier's action and decision scores
    together reach ``item_share``; then it is whichever of the two scores higher.

    Deciding "item or not" apart from "which kind" makes the cut one number
    (``item_share`` in ``models/configs/items.cfg``, chosen by cross-validation): a
    three-way argmax lets "none" win with 0.4 against 0.35 and 0.25.
    """

    def __init__(self, item_share: float) -> None:
        self.item_share = item_share

    def __call__(self, doc: Doc) -> Doc:
        scores = doc.cats
        action, decision = scores.get("action", 0.0), scores.get("decision", 0.0)
        if action + decision < self.item_share:
            doc._.mt_kind = "none"
        else:
            doc._.mt_kind = "action" if action >= decision else "decision"
        return doc


class MinutesGate:
    """Whether a whole mail is minutes, from the mail classifier's score."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def __call__(self, doc: Doc) -> Doc:
        doc._.mt_is_minutes = doc.cats.get("minutes", 0.0) >= self.threshold
        return doc


@Language.factory("mailtrack_item_kind_v1", default_config={"threshold": 0.5})
def make_item_kind(nlp: Language, name: str, threshold: float) -> ItemKind:
    return ItemKind(threshold)


@Language.factory("mailtrack_item_kind_v2", default_config={"item_share": 0.5})
def make_item_share(nlp: Language, name: str, item_share: float) -> ItemShare:
    return ItemShare(item_share)


@Language.factory("mailtrack_minutes_gate_v1", default_config={"threshold": 0.5})
def make_minutes_gate(nlp: Language, name: str, threshold: float) -> MinutesGate:
    return MinutesGate(threshold)
