"""Each sentence's and each title's stemmed terms, computed once at index time and stored in the
segment as ids into a sorted vocabulary (issue 11): a question no longer stems its candidate sentences,
nor reads their articles to do so.

Files of a segment (all memory-mapped on open; nothing here is read whole by a question):
    term_vocab.npy            uint8: the segment's distinct terms, UTF-8, sorted, end to end
    term_vocab_ptr.npy        int64 (V + 1,): term i is term_vocab[ptr[i]:ptr[i+1]]
    sentence_term_ptr.npy     int64 (sentences + 1,): sentence s holds ids[ptr[s]:ptr[s+1]]
    sentence_term_ids.npy     int32: ``text.terms`` of each sentence, in order, as vocabulary ids
    title_term_ptr.npy        int64 (articles + 1,)
    title_term_ids.npy        int32: ``text.terms`` of each article's title

The vocabulary is sorted by code point (= UTF-8 byte order), so a term's id is found by binary
search without reading the vocabulary whole.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILES = (
    "term_vocab.npy",
    "term_vocab_ptr.npy",
    "sentence_term_ptr.npy",
    "sentence_term_ids.npy",
    "title_term_ptr.npy",
    "title_term_ids.npy",
)


def _mapped(path: Path) -> np.ndarray:
    array = np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))
    if array.ndim != 1:
        raise ValueError(f"{path.name} has shape {array.shape}, expected (n,)")
    return array


def _check_ptr(name: str, ptr: np.ndarray, rows: int, size: int) -> None:
    """A row pointer that spans exactly ``size`` items over ``rows`` rows (its ends only: checking
    every entry would read a file that grows with the corpus at every open)."""
    if len(ptr) != rows + 1 or int(ptr[0]) != 0 or int(ptr[-1]) != size:
        raise ValueError(f"{name} does not match its segment ({len(ptr) - 1} rows, {size} items)")


class Vocabulary:
    """A segment's distinct terms, sorted: id <-> term, the file read only where it is asked."""

    def __init__(self, blob: np.ndarray, ptr: np.ndarray) -> None:
        self._blob = blob
        self._ptr = ptr
        self._heads: np.ndarray | None = None  # made on the first lookup, never at open

    @classmethod
    def of(cls, terms: Iterable[str]) -> Vocabulary:
        """The vocabulary of ``terms`` (any order, repeats allowed)."""
        encoded = [t.encode("utf-8") for t in sorted(set(terms))]
        ptr = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=ptr[1:])
        return cls(np.frombuffer(b"".join(encoded), dtype=np.uint8), ptr)

    def __len__(self) -> int:
        return len(self._ptr) - 1

    def _bytes(self, i: int) -> bytes:
        return self._blob[int(self._ptr[i]) : int(self._ptr[i + 1])].tobytes()

    def find(self, term: str) -> int:
        """The id of ``term``, -1 when the segment never holds it."""
        return self.find_many([term])[0]

    def find_many(self, terms: Sequence[str]) -> list[int]:
        """The id of each of ``terms`` (-1 where the segment never holds it): one vectorized search
        over the terms' first 8 bytes, then a byte comparison among the few terms sharing them
        (a binary search in Python was about 17 slices of the mapped file per term and segment)."""
        keys = [t.encode("utf-8") for t in terms]
        heads = self._head_table()
        wanted = _heads([np.frombuffer(k, dtype=np.uint8) for k in keys])
        lo = np.searchsorted(heads, wanted, side="left").tolist()
        hi = np.searchsorted(heads, wanted, side="right").tolist()
        out = []
        for key, a, b in zip(keys, lo, hi, strict=True):
            while a < b and self._bytes(a) < key:  # terms longer than 8 bytes sharing the head
                a += 1
            out.append(a if a < b and self._bytes(a) == key else -1)
        return out

    def _head_table(self) -> np.ndarray:
        """Each term's first 8 bytes as a big-endian number, zero-padded: sorted as the terms are
        (no term holds a NUL byte), 8 bytes a term, read from the file once."""
        if self._heads is None:
            starts, ends = self._ptr[:-1], self._ptr[1:]
            at = starts[:, None] + np.arange(8, dtype=np.int64)
            inside = at < ends[:, None]
            raw = np.where(inside, self._blob[np.minimum(at, max(len(self._blob) - 1, 0))], 0)
            self._heads = _pack(raw.astype(np.uint8))
        return self._heads

    def terms(self) -> list[str]:
        """Every term, in id order (reads the whole vocabulary: merges and tests)."""
        data, ends = self._blob.tobytes(), self._ptr.tolist()
        return [data[a:b].decode("utf-8") for a, b in itertools.pairwise(ends)]

    def save(self, folder: Path) -> None:
        np.save(
            folder / "term_vocab.npy", np.asarray(self._blob, dtype=np.uint8), allow_pickle=False
        )
        np.save(folder / "term_vocab_ptr.npy", self._ptr.astype(np.int64), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> Vocabulary:
        blob, ptr = _mapped(folder / "term_vocab.npy"), _mapped(folder / "term_vocab_ptr.npy")
        _check_ptr("term_vocab_ptr.npy", ptr, len(ptr) - 1, len(blob))
        return cls(blob, ptr)


def _pack(raw: np.ndarray) -> np.ndarray:
    """Rows of 8 bytes as big-endian unsigned numbers (byte order = number order)."""
    packed = np.ascontiguousarray(raw, dtype=np.uint8).reshape(-1, 8).view(">u8")
    return packed.astype(np.uint64).ravel()


def _heads(keys: Sequence[np.ndarray]) -> np.ndarray:
    raw = np.zeros((len(keys), 8), dtype=np.uint8)
    for row, key in enumerate(keys):
        raw[row, : min(8, len(key))] = key[:8]
    return _pack(raw)


@dataclass(frozen=True)
class TermRows:
    """Rows of term ids (compressed sparse rows): row r holds ``ids[ptr[r]:ptr[r+1]]``."""

    ptr: np.ndarray  # int64 (rows + 1,)
    ids: np.ndarray  # int32

    @classmethod
    def of(cls, rows: Sequence[Sequence[str]], index: dict[str, int]) -> TermRows:
        ptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(r) for r in rows], out=ptr[1:])
        ids = np.fromiter((index[t] for r in rows for t in r), dtype=np.int32, count=int(ptr[-1]))
        return cls(ptr, ids)

    def __len__(self) -> int:
        return len(self.ptr) - 1

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ids of ``rows``, end to end, and where each row's ids start (one more: the end)."""
        lo = self.ptr[rows]
        lengths = self.ptr[rows + 1] - lo
        bounds = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=bounds[1:])
        take = np.arange(bounds[-1], dtype=np.int64) + np.repeat(lo - bounds[:-1], lengths)
        return self.ids[take], bounds

    def kept(self, keep: np.ndarray, remap: np.ndarray) -> TermRows:
        """The rows where ``keep`` is true, their ids mapped through ``remap``."""
        if bool(keep.all()):  # no deletions: no index arrays as long as the ids (merges of 1M rows)
            return TermRows(np.array(self.ptr, dtype=np.int64), remap[self.ids])
        ids, bounds = self.gather(np.flatnonzero(keep))
        return TermRows(bounds, remap[ids].astype(np.int32))

    def save(self, folder: Path, name: str) -> None:
        np.save(folder / f"{name}_term_ptr.npy", self.ptr.astype(np.int64), allow_pickle=False)
        np.save(folder / f"{name}_term_ids.npy", self.ids.astype(np.int32), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, name: str, rows: int) -> TermRows:
        ptr = _mapped(folder / f"{name}_term_ptr.npy")
        ids = _mapped(folder / f"{name}_term_ids.npy")
        _check_ptr(f"{name}_term_ptr.npy", ptr, rows, len(ids))
        return cls(ptr, ids)


@dataclass(frozen=True)
class StoredTerms:
    """One segment's sentence and title terms."""

    vocab: Vocabulary
    sentences: TermRows
    titles: TermRows

    @classmethod
    def of(cls, sentences: Sequence[Sequence[str]], titles: Sequence[Sequence[str]]) -> StoredTerms:
        """From each sentence's and each title's ``text.terms``, in row order."""
        vocab = Vocabulary.of(t for rows in (sentences, titles) for r in rows for t in r)
        index = {t: i for i, t in enumerate(vocab.terms())}
        return cls(vocab, TermRows.of(sentences, index), TermRows.of(titles, index))

    @classmethod
    def merged(cls, parts: Sequence[tuple[StoredTerms, np.ndarray, np.ndarray]]) -> StoredTerms:
        """The kept rows of several segments' terms, in order: ``(terms, sentence kept, article
        kept)`` per segment (boolean masks), ids renumbered into one vocabulary."""
        words = [part.vocab.terms() for part, _, _ in parts]
        vocab = Vocabulary.of(t for w in words for t in w)
        index = {t: i for i, t in enumerate(vocab.terms())}
        remaps = [np.array([index[t] for t in w], dtype=np.int32) for w in words]
        sentences = [p.sentences.kept(k, r) for (p, k, _), r in zip(parts, remaps, strict=True)]
        titles = [p.titles.kept(k, r) for (p, _, k), r in zip(parts, remaps, strict=True)]
        return cls(vocab, _joined(sentences), _joined(titles))

    def sentence_terms(self, row: int) -> list[str]:
        return self._decode(self.sentences, row)

    def title_terms(self, article: int) -> list[str]:
        return self._decode(self.titles, article)

    def _decode(self, rows: TermRows, row: int) -> list[str]:
        ids = rows.ids[int(rows.ptr[row]) : int(rows.ptr[row + 1])].tolist()
        return [self.vocab._bytes(i).decode("utf-8") for i in ids]

    def save(self, folder: Path) -> None:
        self.vocab.save(folder)
        self.sentences.save(folder, "sentence")
        self.titles.save(folder, "title")

    @classmethod
    def load(cls, folder: Path, sentences: int, articles: int) -> StoredTerms:
        """The segment's terms; ValueError when a file does not match the segment's row counts."""
        return cls(
            Vocabulary.load(folder),
            TermRows.load(folder, "sentence", sentences),
            TermRows.load(folder, "title", articles),
        )


def _joined(parts: Sequence[TermRows]) -> TermRows:
    ptr = [np.zeros(1, dtype=np.int64)]
    at = 0
    for part in parts:
        ptr.append(part.ptr[1:] + at)
        at += len(part.ids)
    ids = [p.ids for p in parts]
    return TermRows(np.concatenate(ptr), np.concatenate(ids) if ids else np.zeros(0, np.int32))
