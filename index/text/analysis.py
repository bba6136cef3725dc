"""Word-level text processing shared by BM25 and quote scoring: tokens, stopwords, stems."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

_WORD = re.compile(r"\w+", re.UNICODE)

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "also",
        "s",
        "t",
    ]
)


# ASCII text: word characters lower-cased, every other byte a space. For ASCII, ``\w`` is exactly
# [A-Za-z0-9_], so translating and splitting gives the tokens the regex gives, without a Python loop.
_ASCII_WORDS = bytes(
    ord(chr(c).lower()) if c < 128 and (chr(c).isalnum() or chr(c) == "_") else 32
    for c in range(256)
)
# Word -> its term ("" for a stopword or a lone non-digit character). Every question stems a few
# hundred candidate sentences; their words repeat, their sentences mostly do not (issue 11).
_TERM_OF: dict[str, str] = {}
TERM_CACHE_WORDS = 200_000  # emptied when full: about 15 MB of short strings


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased word tokens."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_WORDS).decode("ascii").split()
    return [w.lower() for w in _WORD.findall(text)]


def _kept(word: str) -> bool:
    return word not in STOPWORDS and (len(word) > 1 or word.isdigit())


def terms(text: str) -> list[str]:
    """Stemmed content words: the vocabulary of BM25 and of lexical quote scoring."""
    tokens = words(text)
    found = list(map(_TERM_OF.get, tokens))
    if None in found:
        filled = _stem_new(tokens, found)
        if filled is None:
            return _stemmer().stemWords([w for w in tokens if _kept(w)])
        found = filled
    return list(filter(None, found))  # type: ignore[arg-type]


def _stem_new(tokens: list[str], found: list[str | None]) -> list[str | None] | None:
    """``found`` with the words the cache lacked stemmed (and remembered); None when a kept word
    stems to "", which the cache could not tell from a dropped word."""
    new = [w for w, t in zip(tokens, found, strict=True) if t is None]
    fresh = {
        w: (s if _kept(w) else "") for w, s in zip(new, _stemmer().stemWords(new), strict=True)
    }
    if any(not fresh[w] and _kept(w) for w in new):
        return None
    if len(_TERM_OF) > TERM_CACHE_WORDS:
        _TERM_OF.clear()
    _TERM_OF.update(fresh)
    return [fresh[w] if t is None else t for w, t in zip(tokens, found, strict=True)]
