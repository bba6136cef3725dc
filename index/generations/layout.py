"""Segments laid end to end: the live rows of each, renumbered as one sequence.

A generation's rows (articles, chunks, sentences) are the live rows of its segments in segment order;
merging segments writes the same sequence into one segment, so a merge changes no row number and no
answer. Deleted articles take their chunks and sentences with them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from index.segments.segment import Tables


@dataclass(frozen=True)
class Placement:
    """Where each row of one segment goes in the sequence (-1: deleted)."""

    articles: np.ndarray
    chunks: np.ndarray
    sentences: np.ndarray

    @property
    def live_sentences(self) -> np.ndarray:
        return self.sentences >= 0


def _numbered(live: np.ndarray, first: int) -> np.ndarray:
    return np.where(live, np.cumsum(live) - 1 + first, -1).astype(np.int64)


@dataclass(frozen=True)
class Rows:
    """One segment's row tables and its deleted article rows, before they are laid out."""

    articles: int  # how many articles the segment holds
    chunks: np.ndarray  # int32 (n, 5): article, start, end, first sentence, last sentence
    sentences: np.ndarray  # int32 (m, 4): article, start, end, paragraph
    deleted: Collection[int]


def lay_out_rows(parts: Sequence[Rows]) -> tuple[np.ndarray, np.ndarray, list[Placement]]:
    """The live chunk and sentence rows of ``parts``, renumbered as one sequence (int32), and where
    each segment's rows went. One segment without deletions is returned as it is (a memory-mapped
    table stays unread); otherwise each table is written once into its final place."""
    places, firsts = [], []
    n_articles = n_chunks = n_sentences = 0
    for part in parts:
        firsts.append((n_articles, n_chunks, n_sentences))
        live = np.ones(part.articles, dtype=bool)
        live[np.fromiter(part.deleted, dtype=np.int64, count=len(part.deleted))] = False
        if live.all():
            place = Placement(
                np.arange(n_articles, n_articles + part.articles, dtype=np.int64),
                np.arange(n_chunks, n_chunks + len(part.chunks), dtype=np.int64),
                np.arange(n_sentences, n_sentences + len(part.sentences), dtype=np.int64),
            )
        else:
            place = Placement(
                _numbered(live, n_articles),
                _numbered(live[part.chunks[:, 0]], n_chunks),
                _numbered(live[part.sentences[:, 0]], n_sentences),
            )
        places.append(place)
        n_articles += int(live.sum())
        n_chunks += int((place.chunks >= 0).sum())
        n_sentences += int((place.sentences >= 0).sum())
    if len(parts) == 1 and not parts[0].deleted:
        return parts[0].chunks, parts[0].sentences, places
    chunks = np.empty((n_chunks, 5), dtype=np.int32)
    sentences = np.empty((n_sentences, 4), dtype=np.int32)
    for part, place, (a, c, s) in zip(parts, places, firsts, strict=True):
        if part.deleted:
            sent = place.sentences
            _place_rows(
                chunks, part.chunks, place.chunks, [(0, place.articles), (3, sent), (4, sent)]
            )
            _place_rows(sentences, part.sentences, place.sentences, [(0, place.articles)])
        else:  # every row kept: references move by where the segment's first rows went
            _shift_rows(chunks[c : c + len(part.chunks)], part.chunks, [(0, a), (3, s), (4, s)])
            _shift_rows(sentences[s : s + len(part.sentences)], part.sentences, [(0, a)])
    return chunks, sentences, places


def _shift_rows(target: np.ndarray, table: np.ndarray, shifts: list[tuple[int, int]]) -> None:
    target[...] = table
    for column, by in shifts:
        if by:
            target[:, column] += by


def _place_rows(
    out: np.ndarray, table: np.ndarray, place: np.ndarray, renumber: list[tuple[int, np.ndarray]]
) -> None:
    """Rows of ``table`` kept by ``place`` (their new row numbers, -1 when deleted) written into
    ``out``, with the columns ``renumber`` names mapped to their new numbers."""
    keep = place >= 0
    if not keep.any():
        return
    rows = table[keep]
    first = int(place[keep][0])
    target = out[first : first + len(rows)]
    target[...] = rows
    for column, numbers in renumber:
        target[:, column] = numbers[rows[:, column]]


def lay_out(parts: Sequence[tuple[Tables, Collection[int]]]) -> tuple[Tables, list[Placement]]:
    """The live rows of ``parts`` ((tables, deleted article rows) per segment) as one Tables."""
    chunks, sentences, places = lay_out_rows(
        [Rows(len(t.articles), t.chunks, t.sentences, deleted) for t, deleted in parts]
    )
    articles = [
        a
        for (tables, _), place in zip(parts, places, strict=True)
        for a, row in zip(tables.articles, place.articles.tolist(), strict=True)
        if row >= 0
    ]
    return Tables(articles, chunks, sentences), places


def live_rows(arrays: Sequence[np.ndarray], keep: Sequence[np.ndarray]) -> np.ndarray:
    """The kept rows of each array, stacked (no copy for one array kept whole)."""
    if len(arrays) == 1 and bool(keep[0].all()):
        return arrays[0]
    return np.concatenate([a[k] for a, k in zip(arrays, keep, strict=True)])


class RowMap:
    """Rows of several segments laid end to end (the kept rows of each) -> (segment, its row).

    A segment kept whole needs no table; one with deletions keeps the segment row of each kept row
    (int32). A generation builds one for its sentences and shares it between the sentence vectors
    and the stored sentence terms."""

    def __init__(self, keep: Sequence[np.ndarray]) -> None:
        self._local = [None if bool(k.all()) else np.flatnonzero(k).astype(np.int32) for k in keep]
        sizes = [
            len(k) if rows is None else len(rows) for k, rows in zip(keep, self._local, strict=True)
        ]
        self._starts = np.cumsum([0, *sizes])

    def __len__(self) -> int:
        return int(self._starts[-1])

    @property
    def whole(self) -> bool:
        """One segment kept whole: a row is its own segment row."""
        return len(self._local) == 1 and self._local[0] is None

    def split(self, index: np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(segment, positions in ``index``, their segment rows) for each segment ``index`` reaches;
        ``index`` must be in range."""
        if len(self._local) == 1:
            rows = self._local[0]
            yield 0, np.arange(len(index)), index if rows is None else rows[index]
            return
        part = np.searchsorted(self._starts, index, side="right") - 1
        for p in np.unique(part).tolist():
            mine = np.flatnonzero(part == p)
            offset = index[mine] - self._starts[p]
            rows = self._local[p]
            yield p, mine, offset if rows is None else rows[offset]


class RowStack:
    """The live rows of several arrays as one 2-D array that is never copied: indexing with a row
    (or a list of rows) gathers from the arrays. A generation's sentence vectors, hundreds of MB at
    100,000 chunks, stay as their segments loaded them (a copy of the live rows took seconds)."""

    def __init__(self, arrays: Sequence[np.ndarray], rows: RowMap) -> None:
        self._arrays = list(arrays)
        self._rows = rows
        self.dtype = self._arrays[0].dtype
        self.shape = (len(rows), *self._arrays[0].shape[1:])

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: int | Sequence[int] | np.ndarray) -> np.ndarray:
        if isinstance(rows, int | np.integer):
            return self[[int(rows)]][0]
        index = np.asarray(rows, dtype=np.int64).reshape(-1)
        if len(index) and (index.min() < 0 or index.max() >= len(self)):
            raise IndexError(f"row out of range 0..{len(self) - 1}")
        out = np.empty((len(index), *self.shape[1:]), dtype=self.dtype)
        for p, mine, local in self._rows.split(index):
            out[mine] = self._arrays[p][local]
        return out


def stacked_rows(arrays: Sequence[np.ndarray], rows: RowMap) -> np.ndarray | RowStack:
    """The kept rows of each array as one: the array itself when it is one kept whole."""
    if rows.whole:
        return arrays[0]
    return RowStack(arrays, rows)
