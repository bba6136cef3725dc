"""The vectors of the last few questions: a question one server asks is read by two libraries (the
operator's and the server's), which share one embedder; it is embedded once."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from index.embedding.embedder import Embedder

KEEP = 32


class RecentVectors:
    def __init__(self, keep: int = KEEP) -> None:
        self._keep = keep
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, embedder: Embedder, text: str) -> np.ndarray:
        """``embedder``'s vector of ``text``, from the recent ones when it was just embedded."""
        key = (embedder.name, text)
        with self._lock:
            found = self._vectors.get(key)
            if found is not None:
                self._vectors.move_to_end(key)
                return found
        vector = embedder.encode([text])[0]
        vector.setflags(write=False)  # shared between callers: nobody may change it
        with self._lock:
            self._vectors[key] = vector
            while len(self._vectors) > self._keep:
                self._vectors.popitem(last=False)
        return vector
