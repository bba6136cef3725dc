"""Segments laid end to end: the live rows of each, renumbered as one sequence.

A generation's rows (articles, chunks, sentences) are the live rows of its segments in segment order;
merging segments writes the same sequence into one segment, so a merge changes no row number and no
answer. Deleted articles take their chunks and sentences with them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from index.segment import Tables


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


def lay_out(parts: Sequence[tuple[Tables, Collection[int]]]) -> tuple[Tables, list[Placement]]:
    """The live rows of ``parts`` ((tables, deleted article rows) per segment) as one Tables."""
    articles: list = []
    chunks, sentences, places = [], [], []
    n_chunks = n_sentences = 0
    for tables, deleted in parts:
        live = np.ones(len(tables.articles), dtype=bool)
        live[np.fromiter(deleted, dtype=np.int64, count=len(deleted))] = False
        place = Placement(
            _numbered(live, len(articles)),
            _numbered(live[tables.chunks[:, 0]], n_chunks),
            _numbered(live[tables.sentences[:, 0]], n_sentences),
        )
        own_chunks = tables.chunks[place.chunks >= 0].astype(np.int64)
        own_chunks[:, 0] = place.articles[own_chunks[:, 0]]
        own_chunks[:, 3:] = place.sentences[own_chunks[:, 3:]]
        own_sentences = tables.sentences[place.live_sentences].astype(np.int64)
        own_sentences[:, 0] = place.articles[own_sentences[:, 0]]
        articles.extend(a for a, keep in zip(tables.articles, live.tolist(), strict=True) if keep)
        chunks.append(own_chunks)
        sentences.append(own_sentences)
        places.append(place)
        n_chunks += len(own_chunks)
        n_sentences += len(own_sentences)
    return (
        Tables(articles, _stack(chunks, 5), _stack(sentences, 4)),
        places,
    )


def live_rows(arrays: Sequence[np.ndarray], keep: Sequence[np.ndarray]) -> np.ndarray:
    """The kept rows of each array, stacked (no copy for one array kept whole)."""
    if len(arrays) == 1 and bool(keep[0].all()):
        return arrays[0]
    return np.concatenate([a[k] for a, k in zip(arrays, keep, strict=True)])


class RowStack:
    """The live rows of several arrays as one 2-D array that is never copied: indexing with a row
    (or a list of rows) gathers from the arrays. A generation's sentence vectors, hundreds of MB at
    100,000 chunks, stay as their segments loaded them (a copy of the live rows took seconds)."""

    def __init__(self, arrays: Sequence[np.ndarray], keep: Sequence[np.ndarray]) -> None:
        self._arrays = list(arrays)
        self._local = [np.flatnonzero(k) for k in keep]
        self._starts = np.cumsum([0] + [len(rows) for rows in self._local])
        self.dtype = self._arrays[0].dtype
        self.shape = (int(self._starts[-1]), *self._arrays[0].shape[1:])

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: int | Sequence[int] | np.ndarray) -> np.ndarray:
        if isinstance(rows, int | np.integer):
            return self[[int(rows)]][0]
        index = np.asarray(rows, dtype=np.int64).reshape(-1)
        if len(index) and (index.min() < 0 or index.max() >= len(self)):
            raise IndexError(f"row out of range 0..{len(self) - 1}")
        out = np.empty((len(index), *self.shape[1:]), dtype=self.dtype)
        part = np.searchsorted(self._starts, index, side="right") - 1
        for p in np.unique(part).tolist():
            mine = part == p
            out[mine] = self._arrays[p][self._local[p][index[mine] - self._starts[p]]]
        return out


def stacked_rows(arrays: Sequence[np.ndarray], keep: Sequence[np.ndarray]) -> np.ndarray | RowStack:
    """The kept rows of each array as one: the array itself when it is one kept whole."""
    if len(arrays) == 1 and bool(keep[0].all()):
        return arrays[0]
    return RowStack(arrays, keep)


def _stack(arrays: list[np.ndarray], width: int) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros((0, width), dtype=np.int64)
