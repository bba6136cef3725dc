"""A dict that empties itself when full: the bounded caches of the query path (issue 11)."""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Bounded(dict[K, V]):
    """A dict emptied whenever it reaches ``limit`` entries: one plain lookup per hit, no order to
    keep up. A question's own keys are looked up together, so losing the rest costs little."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def keep(self, key: K, value: V) -> V:
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value
