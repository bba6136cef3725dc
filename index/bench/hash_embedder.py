"""A fast deterministic bag-of-words embedder of the model's dimension, for benchmarks and tests only.

It is never a choice of EMBED_BACKEND: `articlebot bench --scale` builds its large synthetic corpora
with it (the real model would take days at a million chunks), and adds the real question encoder's
measured cost to each question's latency. Texts sharing words get close vectors, so search behaves
like search over natural text (clusters, near ties), unlike random vectors.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from index.text.chunking import word_count_tokens

_WORD = re.compile(r"\w+")
BUCKETS_PER_WORD = 3


class _Buckets(dict[str, tuple[int, ...]]):
    """word -> (bucket, ...) with sign in the high half; computed once per distinct word."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def __missing__(self, word: str) -> tuple[int, ...]:
        digest = hashlib.blake2b(word.encode(), digest_size=4 * BUCKETS_PER_WORD).digest()
        found = []
        for i in range(BUCKETS_PER_WORD):
            h = int.from_bytes(digest[4 * i : 4 * i + 4], "big")
            found.append((h % self.dim) + (self.dim if h & 1 << 31 else 0))
        value = self[word] = tuple(found)
        return value


class BenchHashEmbedder:
    """Bag of words hashed into ``dim`` signed buckets, unit length; about a microsecond per word."""

    def __init__(self, dim: int = 384, max_tokens: int = 254, name: str = "bench-hash") -> None:
        self.name = name
        self.dim = dim
        self.max_tokens = max_tokens
        self._buckets = _Buckets(dim)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return word_count_tokens(texts)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        n, dim = len(texts), self.dim
        rows: list[int] = []
        cols: list[int] = []
        lookup = self._buckets.__getitem__
        for row, text in enumerate(texts):
            found = [b for w in _WORD.findall(text.lower()) for b in lookup(w)]
            cols.extend(found)
            rows.extend([row] * len(found))
        col = np.asarray(cols, dtype=np.int64)
        sign = np.where(col >= dim, -1.0, 1.0)
        flat = np.asarray(rows, dtype=np.int64) * dim + col % dim
        out = np.bincount(flat, weights=sign, minlength=n * dim).reshape(n, dim).astype(np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        empty = norms[:, 0] == 0
        out[empty, 0], norms[empty] = 1.0, 1.0
        return out / norms
