"""A question's terms matched against the sentence and title terms stored at index time
(index/segments/term_rows.py), for the lexical features of passages and quotes.

Only the question's terms in a sentence matter to those features (``Query.present``), so a sentence is
reduced to a bit mask of the question's terms it holds: each segment's ids of the question's terms are
looked up once per question, and a row's ids are compared with them in one numpy pass. The sets,
overlaps and word-pair shares that come out are the ones stemming each sentence's text gave.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.generations.layout import RowMap
from index.segments.term_rows import StoredTerms, TermRows, Vocabulary
from index.text.question import Ids, Query, QueryTerms


def query_terms(query: Query) -> QueryTerms:
    """The question's QueryTerms (made with the prepared question)."""
    return query.matching


@dataclass(frozen=True)
class Matches:
    """Per row asked for: the question's terms it holds (as a mask and as a set), the share of the
    question's word pairs it holds, how many terms it has and (when asked) how many distinct."""

    masks: list[int]
    found: list[frozenset[str]]
    bigram: list[float]
    lengths: list[int]
    distinct: list[int]


def _masks(got: np.ndarray, bounds: np.ndarray, ids: Ids) -> list[int]:
    """Per row (``got[bounds[r]:bounds[r+1]]``): the bit mask of the question's terms among its ids."""
    masks = [0] * (len(bounds) - 1)
    if not len(ids.ids) or not len(got):
        return masks
    pos = np.searchsorted(ids.ids, got)
    np.minimum(pos, len(ids.ids) - 1, out=pos)
    hit = np.flatnonzero(ids.ids[pos] == got)
    rows = np.searchsorted(bounds, hit, side="right") - 1
    for r, k in zip(rows.tolist(), ids.bits[pos[hit]].tolist(), strict=True):
        masks[r] |= 1 << k
    return masks


def _distinct(got: np.ndarray, bounds: np.ndarray, vocab_size: int) -> np.ndarray:
    n = len(bounds) - 1
    if not len(got):
        return np.zeros(n, dtype=np.int64)
    row = np.repeat(np.arange(n, dtype=np.int64), np.diff(bounds))
    keys = np.unique(row * vocab_size + got)
    return np.bincount(keys // vocab_size, minlength=n)


# masks (int), word-pair shares (float), lengths (int), distinct counts (int)
_Columns = tuple[list[Any], list[Any], list[Any], list[Any]]


def _matched(
    qt: QueryTerms, vocab: Vocabulary, table: TermRows, local: np.ndarray, distinct: bool
) -> _Columns:
    """(masks, word-pair shares, lengths, distinct counts or lengths) of one segment's ``local`` rows."""
    got, bounds = table.gather(local)
    ids = qt.ids(vocab)
    masks = _masks(got, bounds, ids)
    lengths = np.diff(bounds).tolist()
    counts = _distinct(got, bounds, len(vocab)).tolist() if distinct else lengths
    bigram = [0.0] * len(masks)
    paired = [j for j, m in enumerate(masks) if m and qt.has_pair(m)]
    if paired:
        ends = bounds.tolist()
        for j in paired:
            seq = got[ends[j] : ends[j + 1]].tolist()
            held = ids.pairs.intersection(itertools.pairwise(seq))
            bigram[j] = len(held) / len(qt.bigrams)
    return masks, bigram, lengths, counts


class LexicalRows:
    """The stored terms of a generation's sentences and titles, numbered as the generation numbers
    its rows (segments laid end to end, deleted rows left out)."""

    def __init__(self, parts: Sequence[StoredTerms], sentences: RowMap, articles: RowMap) -> None:
        self._parts = list(parts)
        self._sentences = sentences
        self._articles = articles

    def sentences(self, query: Query, rows: Sequence[int], *, distinct: bool = False) -> Matches:
        """Matches of the sentence rows ``rows`` (``distinct``: count each row's distinct terms)."""
        return self._match(query, rows, self._sentences, distinct, lambda p: p.sentences)

    def titles(self, query: Query, articles: Sequence[int]) -> list[frozenset[str]]:
        """Query.present() of the title of each article row in ``articles``."""
        return self._match(query, articles, self._articles, False, lambda p: p.titles).found

    def _match(
        self,
        query: Query,
        rows: Sequence[int],
        where: RowMap,
        distinct: bool,
        table: Callable[[StoredTerms], TermRows],
    ) -> Matches:
        qt = query_terms(query)
        n = len(rows)
        out: _Columns = ([0] * n, [0.0] * n, [0] * n, [0] * n)
        index = np.asarray(rows, dtype=np.int64).reshape(-1)
        for p, mine, local in where.split(index):
            part = self._parts[p]
            got = _matched(qt, part.vocab, table(part), local, distinct)
            if len(mine) == n:  # every row in this segment: positions 0..n-1
                out = got
                continue
            places = mine.tolist()
            for column, values in zip(out, got, strict=True):
                for at, value in zip(places, values, strict=True):
                    column[at] = value
        masks, bigram, lengths, counts = out
        return Matches(masks, list(map(qt.found, masks)), bigram, lengths, counts)

    def sentence_terms(self, row: int) -> list[str]:
        """The stored terms of sentence ``row``, as strings (tests and tools; a question uses ids)."""
        return self._decode(row, self._sentences, StoredTerms.sentence_terms)

    def title_terms(self, article: int) -> list[str]:
        return self._decode(article, self._articles, StoredTerms.title_terms)

    def _decode(
        self, row: int, where: RowMap, decode: Callable[[StoredTerms, int], list[str]]
    ) -> list[str]:
        ((p, _, local),) = where.split(np.array([row], dtype=np.int64))
        return decode(self._parts[p], int(local[0]))
