"""Matching extracted items to gold items by text, one to one.

Two texts of the same item differ in markers, owner labels ("Noelia:"),
lead-ins ("Quedamos en que ...") and punctuation. Similarity is the larger of
the character-level ratio and the word containment of the shorter in the
longer, on folded text; pairs are taken greedily from the most similar down,
each item used once. Evaluation and training use the same rule, so a model
is trained on exactly the pairs it will be judged on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

from mailtrack.nlp.dates import fold

THRESHOLD = 0.6
_WORD = re.compile(r"\w+")


def normalise(text: str) -> str:
    return " ".join(_WORD.findall(fold(text)))


def similarity(first: str, second: str) -> float:
    a, b = normalise(first), normalise(second)
    if not a or not b:
        return 0.0
    ratio = SequenceMatcher(None, a, b, autojunk=False).ratio()
    words_a, words_b = a.split(), b.split()
    shorter, longer = sorted((words_a, words_b), key=len)
    pool = list(longer)
    found = 0
    for word in shorter:
        if word in pool:
            pool.remove(word)
            found += 1
    # Containment counts only when the shorter text is substantial and most of the longer.
    containment = found / len(shorter) if len(shorter) >= 3 else 0.0
    coverage = len(shorter) / len(longer)
    return max(ratio, containment * min(1.0, 0.4 + coverage))


def match(
    predicted: Sequence[str], gold: Sequence[str], threshold: float = THRESHOLD
) -> list[tuple[int, int, float]]:
    """(predicted index, gold index, similarity) pairs, one to one, best first."""
    scored = [
        (similarity(p_text, g_text), p_index, g_index)
        for p_index, p_text in enumerate(predicted)
        for g_index, g_text in enumerate(gold)
    ]
    scored.sort(key=lambda entry: -entry[0])
    used_p: set[int] = set()
    used_g: set[int] = set()
    pairs: list[tuple[int, int, float]] = []
    for score, p_index, g_index in scored:
        if score < threshold:
            break
        if p_index in used_p or g_index in used_g:
            continue
        used_p.add(p_index)
        used_g.add(g_index)
        pairs.append((p_index, g_index, score))
    return pairs
