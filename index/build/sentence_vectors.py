"""Sentence vectors pooled from the chunk pass, instead of a second pass over every sentence.

A chunk's vector is the mean of its token states; a sentence's vector here is the mean of the same
pass's token states inside the sentence (in the chunk that first holds it), so a build runs the
model once per chunk and never per sentence. Measured on ../shared/eval/squad1 (docs/PERFORMANCE.md,
"Sentence vectors from the chunk pass"): picking a quote by cosine among an article's sentences
finds the answer as often as with separately encoded sentences, and the build's sentence pass, about
half of its model time, is gone.

An embedder pools when it has ``encode_pooled`` (the ONNX backends); others (torch, the test and
bench fakes) encode sentences separately, as before. The kind is an index parameter, so an index
built the other way is rebuilt whole by the next build (chunk vectors still come from the cache).
A pooled vector depends on its chunk's text, so it is cached under a key of the chunk's text and
the sentence's place in it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from index.embedding.embedder import Embedder, shortest_first
from index.embedding.vector_cache import VectorCache, stacked, text_key

POOLED = "pooled"
ENCODED = "encoded"

Progress = Callable[[str, int, int], None]


class PoolingEmbedder(Embedder, Protocol):
    def encode_pooled(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]: ...


def kind(embedder: Embedder) -> str:
    """How this embedder's builds get sentence vectors: POOLED or ENCODED."""
    return POOLED if callable(getattr(embedder, "encode_pooled", None)) else ENCODED


@dataclass(frozen=True)
class SentencePlace:
    """Where a sentence is pooled from: chunk ``chunk``'s embedded text, characters [lo, hi)."""

    chunk: int
    lo: int
    hi: int


def pooled_key(chunk_text: str, place: SentencePlace) -> bytes:
    return text_key(f"pooled sentence {place.lo}:{place.hi}\x00{chunk_text}")


def embed_pooled(
    embedder: PoolingEmbedder,
    cache: VectorCache,
    chunk_texts: list[str],
    places: list[SentencePlace],
    *,
    full: bool,
    batch: int,
    report: Progress,
) -> tuple[np.ndarray, int, list[bytes]]:
    """(vectors: chunks then sentences, how many were computed, their cache keys). A chunk runs
    through the model when its vector or one of its sentences' vectors is not cached."""
    keys = [text_key(t) for t in chunk_texts]
    keys += [pooled_key(chunk_texts[p.chunk], p) for p in places]
    known = {} if full else cache.get_many(keys)
    of_chunk: dict[int, list[int]] = {}
    for row, place in enumerate(places):
        of_chunk.setdefault(place.chunk, []).append(row)
    n = len(chunk_texts)
    todo = shortest_first(
        embedder,
        chunk_texts,
        sorted(
            {c for c in range(n) if keys[c] not in known}
            | {p.chunk for r, p in enumerate(places) if keys[n + r] not in known}
        ),
    )
    computed = 0
    for done in range(0, len(todo), batch):
        rows = todo[done : done + batch]
        spans = [[(places[r].lo, places[r].hi) for r in of_chunk.get(c, [])] for c in rows]
        vecs, parts = embedder.encode_pooled([chunk_texts[c] for c in rows], spans)
        fresh = []
        for c, vec, part in zip(rows, vecs, parts, strict=True):
            fresh.append((keys[c], vec))
            fresh += [(keys[n + r], v) for r, v in zip(of_chunk.get(c, []), part, strict=True)]
        cache.put_many(fresh)
        known.update(fresh)
        computed += len(fresh)
        report("embedding", min(done + batch, len(todo)), len(todo))
    cache.commit()  # one transaction for the whole step
    return stacked(known, keys, embedder.dim), computed, keys


def places_of_article(
    title: str,
    chunks: Sequence[tuple[int, int, int]],
    sentence_bounds: Sequence[tuple[int, int]],
    first_chunk_row: int,
) -> list[SentencePlace]:
    """The places of one article's sentences: ``chunks`` as (chunk start, first sentence, last
    sentence), ``sentence_bounds`` as (start, end) in the article's text. A sentence is pooled
    from the first chunk that holds it (windows of a long paragraph share one); the embedded text
    is the title, a newline, then the chunk."""
    places: list[SentencePlace | None] = [None] * len(sentence_bounds)
    shift = len(title) + 1
    for k, (start, first, last) in enumerate(chunks):
        for s in range(first, last + 1):
            if places[s] is None:
                lo, hi = sentence_bounds[s]
                places[s] = SentencePlace(
                    first_chunk_row + k, shift + lo - start, shift + hi - start
                )
    if any(p is None for p in places):
        raise ValueError("a sentence belongs to no chunk")
    return [p for p in places if p is not None]
