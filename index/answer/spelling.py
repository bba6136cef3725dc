"""Misspelled question words corrected against the corpus's own vocabulary, for retrieval and for
the reader ("who wnated the recount" -> "who wanted the recount").

A word is corrected only when its term (stem) is in no article, it is a content word of at least
MIN_CHARS letters, it is not a whole word of the reader's English vocabulary (names such as "Lisa"
or "Normandy" are asked about articles that are not there, and must stay as typed), and a word of
the articles lies within a small Damerau-Levenshtein distance of it (1 up to 7 letters, 2 beyond);
the nearest wins, then one with the typed first letter, then the most frequent. rapidfuzz computes the distances (C++, the whole vocabulary in
one call), chosen over symspellpy because it needs no precomputed deletion index of the vocabulary,
which would have to be rebuilt with every generation.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Protocol

from index.text.analysis import STOPWORDS, terms

MIN_CHARS = 5
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


class DocFreqs(Protocol):
    """Term -> number of chunks holding it (a Generation's ``doc_freq``)."""

    def get(self, term: str, default: int, /) -> int: ...


class Lexicon(Protocol):
    """What correction reads of a served generation (generations/vocabulary.py, with document
    frequencies from the generation)."""

    terms: list[str]

    def surfaces(self, term: str) -> set[str]: ...


def max_distance(word: str) -> int:
    return 1 if len(word) <= 7 else 2


@lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    """The whole words of the reader's WordPiece vocabulary: English words and common names."""
    from index.reader.model import TOKENIZER_FILE

    vocab = json.loads(TOKENIZER_FILE.read_text(encoding="utf-8"))["model"]["vocab"]
    return frozenset(w for w in vocab if w.isalpha())


def correct(question: str, lexicon: Lexicon, doc_freq: DocFreqs) -> str:
    """``question`` with each misspelled word replaced (the same string when none is)."""
    out: list[str] = []
    last = 0
    changed = False
    for match in _WORD.finditer(question):
        word = match.group()
        fixed = _fix(word, lexicon, doc_freq)
        if fixed is not None:
            out.append(question[last : match.start()])
            out.append(fixed)
            last = match.end()
            changed = True
    if not changed:
        return question
    out.append(question[last:])
    return "".join(out)


def _fix(word: str, lexicon: Lexicon, doc_freq: DocFreqs) -> str | None:
    low = word.lower()
    if len(low) < MIN_CHARS or low in STOPWORDS or low in _known_words():
        return None
    found = terms(low)
    if len(found) != 1 or doc_freq.get(found[0], 0) > 0:
        return None
    return nearest(low, found[0], lexicon, doc_freq)


def nearest(word: str, term: str, lexicon: Lexicon, doc_freq: DocFreqs) -> str | None:
    """The articles' word nearest to ``word`` within max_distance (ties: the most frequent term).
    Stored terms near ``term`` are the candidates; each is compared as a word of the articles."""
    from rapidfuzz.distance import DamerauLevenshtein
    from rapidfuzz.process import extract

    limit = max_distance(word)
    close = extract(
        term, lexicon.terms, scorer=DamerauLevenshtein.distance, score_cutoff=2, limit=None
    )
    best: tuple[int, bool, int, str] | None = None
    for candidate, _, _ in close:
        for surface in lexicon.surfaces(str(candidate)):
            distance = DamerauLevenshtein.distance(word, surface)
            if distance > limit:
                continue
            # nearest first; then one that keeps the typed first letter; then the most frequent
            key = (distance, surface[:1] != word[:1], -doc_freq.get(str(candidate), 0), surface)
            if best is None or key < best:
                best = key
    return best[3] if best is not None else None
