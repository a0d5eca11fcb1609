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
_CACHE_SIZE = 50_000
_TOKEN = re.compile(r"MT[A-Z0-9]+|SUBJ[a-z]+|[^\W\d_]+|\d+|[^\w\s]", re.UNICODE)


class WordTokenizer:
    """Splits folded text into words; after loading, maps unseen words to ``mtoov``."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self.frozen = False
        # Token -> the word the model reads. Words repeat a lot, and folding each one
        # again costs more than the rest of tokenising; bounded, so it cannot grow forever.
        self._words: dict[str, str] = {}

    def _word(self, token: str) -> str:
        word = token if token.startswith(("MT", "SUBJ")) else fold(token)
        if self.frozen and word not in self.vocab.strings:
            word = UNKNOWN
        if len(self._words) >= _CACHE_SIZE:
            self._words.clear()
        self._words[token] = word
        return word

    def words(self, text: str) -> list[str]:
        cache = self._words
        return [cache.get(token) or self._word(token) for token in _TOKEN.findall(text)]

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
        self._words.clear()
        if UNKNOWN not in self.vocab.strings:
            self.vocab.strings.add(UNKNOWN)
        return self

    def to_bytes(self, **_: Any) -> bytes:
        return b""

    def from_bytes(self, data: bytes, **_: Any) -> WordTokenizer:
        self.frozen = True
        self._words.clear()
        return self


@registry.tokenizers("mailtrack.words.v1")  # type: ignore[untyped-decorator]
def create_word_tokenizer() -> Callable[[Any], WordTokenizer]:
    def make(nlp: Any) -> WordTokenizer:
        return WordTokenizer(nlp.vocab)

    return make
