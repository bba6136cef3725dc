"""One segment's BM25 postings (term frequencies as a CSC matrix) and a segment's part of a
generation's BM25 (its postings, live rows and length norms), read by bm25.py and bm25_topk.py."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILES = ("terms.json", "term_ptr.npy", "term_docs.npy", "term_tf.npy", "doc_len.npy")


@dataclass(frozen=True)
class Postings:
    """Term frequencies of one segment's chunks: column ``c`` (term ``terms[c]``) holds the chunks
    ``docs[ptr[c]:ptr[c+1]]`` (ascending) with their counts ``tf``; ``doc_len`` is each chunk's
    number of terms."""

    terms: list[str]
    ptr: np.ndarray  # int64 (V + 1,)
    docs: np.ndarray  # int32
    tf: np.ndarray  # int32
    doc_len: np.ndarray  # int32 (n_docs,)

    @classmethod
    def from_tokens(cls, docs_tokens: Sequence[Sequence[str]]) -> Postings:
        vocab: dict[str, int] = {}
        ids = [vocab.setdefault(t, len(vocab)) for doc in docs_tokens for t in doc]
        lengths = np.array([len(doc) for doc in docs_tokens], dtype=np.int64)
        doc_of = np.repeat(np.arange(len(docs_tokens), dtype=np.int64), lengths)
        return cls._from_pairs(list(vocab), np.asarray(ids, dtype=np.int64), doc_of, None, lengths)

    @classmethod
    def _from_pairs(
        cls,
        terms: list[str],
        term: np.ndarray,
        doc: np.ndarray,
        tf: np.ndarray | None,
        doc_len: np.ndarray,
    ) -> Postings:
        """From (term id, doc) pairs (``tf`` None: one pair per occurrence); unused terms dropped."""
        n = max(len(doc_len), 1)
        keys, counts = np.unique(term * n + doc, return_counts=True)
        if tf is not None:  # pairs are unique already: carry their counts along in key order
            counts = tf[np.argsort(term * n + doc, kind="stable")]
        used, col = np.unique(keys // n, return_inverse=True)
        ptr = np.searchsorted(col, np.arange(len(used) + 1)).astype(np.int64)
        return cls(
            [terms[i] for i in used.tolist()],
            ptr,
            (keys % n).astype(np.int32),
            counts.astype(np.int32),
            np.asarray(doc_len, dtype=np.int32),
        )

    @classmethod
    def merged(cls, parts: Sequence[tuple[Postings, np.ndarray]]) -> Postings:
        """One segment's postings from several: ``(postings, new_row)`` where ``new_row[d]`` is
        chunk d's row in the merged segment, or -1 for a deleted chunk (its postings are dropped)."""
        vocab: dict[str, int] = {}
        terms, docs, tfs, lengths = [], [], [], []
        for post, new_row in parts:
            cols = np.array([vocab.setdefault(t, len(vocab)) for t in post.terms], dtype=np.int64)
            term = np.repeat(cols, np.diff(post.ptr))
            doc = new_row[post.docs].astype(np.int64)
            keep = doc >= 0
            terms.append(term[keep])
            docs.append(doc[keep])
            tfs.append(post.tf[keep])
            lengths.append(post.doc_len[new_row >= 0])
        return cls._from_pairs(
            list(vocab),
            np.concatenate(terms) if terms else np.zeros(0, np.int64),
            np.concatenate(docs) if docs else np.zeros(0, np.int64),
            np.concatenate(tfs) if tfs else np.zeros(0, np.int32),
            np.concatenate(lengths) if lengths else np.zeros(0, np.int32),
        )

    def save(self, folder: Path) -> None:
        (folder / "terms.json").write_text(json.dumps(self.terms), encoding="utf-8")
        for name, array in (
            ("term_ptr", self.ptr),
            ("term_docs", self.docs),
            ("term_tf", self.tf),
            ("doc_len", self.doc_len),
        ):
            np.save(folder / f"{name}.npy", array, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> Postings:
        terms = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
        # Memory-mapped: a question reads its terms' columns only (issue 11).
        arrays = [
            np.asarray(np.load(folder / n, mmap_mode="r", allow_pickle=False)) for n in FILES[1:]
        ]
        post = cls(terms, *arrays)
        if not isinstance(terms, list) or len(post.ptr) != len(terms) + 1:
            raise ValueError("terms.json and term_ptr.npy disagree")
        if post.ptr[-1] != len(post.docs) or len(post.docs) != len(post.tf):
            raise ValueError("term arrays of different lengths")
        return post


@dataclass
class Part:
    column: dict[str, int]
    post: Postings
    rows: np.ndarray  # chunk -> row in the generation, -1 when deleted
    norm: np.ndarray  # float64 per chunk: k1 * (1 - b + b * length / average length)
    deleted: np.ndarray  # the deleted chunks, ascending
    first_row: int  # the generation row of its first live chunk (live chunks are numbered in order)

    live_docs: np.ndarray | None = None  # the live chunks in order, made on first use

    def docs_of(self, rows: np.ndarray) -> np.ndarray:
        """The chunks (numbers in this segment) of generation rows that belong to it."""
        live = rows - self.first_row
        if not len(self.deleted):
            return live
        if self.live_docs is None:  # once, not a pass over the segment's rows per question
            self.live_docs = np.flatnonzero(self.rows >= 0)
        return self.live_docs[live]

    def live_doc_freq(self, col: int) -> int:
        """How many live chunks hold column ``col``'s term: its postings, less the deleted chunks
        among them (found by binary search: the postings are ascending), or counted through the
        live mask when more than a few thousand chunks are deleted."""
        lo, hi = int(self.post.ptr[col]), int(self.post.ptr[col + 1])
        if not len(self.deleted):
            return hi - lo
        docs = self.post.docs[lo:hi]
        if len(self.deleted) > SEARCH_DELETED_MAX:
            return int((self.rows[docs] >= 0).sum())
        at = np.searchsorted(docs, self.deleted)
        inside = at < len(docs)
        return hi - lo - int((docs[at[inside]] == self.deleted[inside]).sum())


SEARCH_DELETED_MAX = 4_096
