"""A served generation's vocabulary: every stored term (a stem) with its document frequency, and,
for a term, a word of the articles that stems to it. Made on first use (a misspelled question)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from index.segments.postings import Part
from index.text.analysis import terms

_WORD = re.compile(r"[^\W\d_][\w'’-]*")


class Vocabulary:
    def __init__(self, parts: Sequence[Part], chunk_text: Callable[[int], str]) -> None:
        self._parts = parts
        self._chunk_text = chunk_text
        seen: set[str] = set()
        for part in parts:
            seen.update(part.column)
        self.terms: list[str] = sorted(seen)

    def surfaces(self, term: str) -> set[str]:
        """The words (lower-cased) of the first few live chunks holding ``term`` that stem to it."""
        found: set[str] = set()
        for part in self._parts:
            col = part.column.get(term)
            if col is None:
                continue
            lo, hi = int(part.post.ptr[col]), int(part.post.ptr[col + 1])
            rows = part.rows[part.post.docs[lo:hi]]
            live = rows[rows >= 0]
            for row in live[:8].tolist():
                for word in _WORD.findall(self._chunk_text(int(row))):
                    if terms(word) == [term]:
                        found.add(word.lower())
            if found:
                break
        return found
