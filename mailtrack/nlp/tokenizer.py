"""A plain word tokenizer for the classifiers: fast, and with a vocabulary that never grows.

The classifiers read bags of words, so they need words, not the affix rules
of a language tokenizer (which cost four times the classification itself).
Text is folded (lowercase, no accents) and split into words, marker tokens
and single punctuation marks.

Once a trained pipeline is loaded, a word it never saw in training becomes
``mtoov``: a linear model has no weight for it anyway, and a long-running
service must not grow its string store with every new word of every mail.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spacy.tokens import Doc
from spacy.util import registry
from spacy.vocab import Vocab

from mailtrack.nlp.dates import fold

UNKNOWN = "mtoov"
_TOKEN = re.compile(r"MT[A-Z0-9]+|SUBJ[a-z]+|[^\W\d_]+|\d+|[^\w\s]", re.UNICODE)


class WordTokenizer:
    """Splits folded text into words; after loading, maps unseen words to ``mtoov``."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self.frozen = False

    def words(self, text: str) -> list[str]:
        found = []
        for match in _TOKEN.finditer(text):
            token = match.group(0)
            found.append(token if token.startswith(("MT", "SUBJ")) else fold(token))
        if self.frozen:
            strings = self.vocab.strings
            found = [word if word in strings else UNKNOWN for word in found]
        return found

    def __call__(self, text: str) -> Doc:
        return Doc(self.vocab, words=self.words(text))

    def pipe(self, texts: Any, batch_size: int = 1000) -> Any:
        for text in texts:
            yield self(text)

    # spaCy saves and loads a tokenizer with the pipeline; this one has no state of its
    # own, and being loaded is what freezes its vocabulary.
    def to_disk(self, path: Path, **_: Any) -> None:
        path.mkdir(parents=True, exist_ok=True)
        (path / "mailtrack_words_v1").write_text("no state\n")

    def from_disk(self, path: Path, **_: Any) -> WordTokenizer:
        self.frozen = True
        if UNKNOWN not in self.vocab.strings:
            self.vocab.strings.add(UNKNOWN)
        return self

    def to_bytes(self, **_: Any) -> bytes:
        return b""

    def from_bytes(self, data: bytes, **_: Any) -> WordTokenizer:
        self.frozen = True
        return self


@registry.tokenizers("mailtrack.words.v1")  # type: ignore[untyped-decorator]
def create_word_tokenizer() -> Callable[[Any], WordTokenizer]:
    def make(nlp: Any) -> WordTokenizer:
        return WordTokenizer(nlp.vocab)

    return make
