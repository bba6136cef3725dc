"""Merging segments: which ones (a size-tiered policy over adjacent segments) and how.

Each update adds one small segment, so segments pile up; a build that ends with more than
``MAX_SEGMENTS`` small segments merges the adjacent run of them with the fewest live chunks into
one, just enough of them to get back to the bound. Small segments (recent updates) merge with each
other long before anything merges into a large one, so a chunk is rewritten about
log(corpus / update) times over its life, and an update rarely pays for rewriting (and, above the
size threshold, re-graphing) a large segment. ``articlebot index --optimize`` merges adjacent
segments into as few as fit the size cap, dropping deleted rows.

The size cap (SEGMENT_MAX_CHUNKS) bounds a merge's memory as it bounds a build's: as in Lucene's
tiered policy, a segment holding more than half the cap is "large" and takes part in no size-tiered
merge (it does not count against the bound either), and no merge makes a segment above the cap.

Merging keeps segment order and drops deleted rows, so the generation's rows (and its answers) are
the same before and after; nothing is embedded again (vectors come from the segments)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.generations.layout import lay_out, live_rows
from index.segments.postings import Postings
from index.segments.segment import (
    SegmentData,
    read_keys,
    read_segment,
    segment_entry,
    write_segment,
)
from index.segments.term_rows import StoredTerms

MAX_SEGMENTS = 8


def plan_merge(
    live_chunks: Sequence[int], bound: int = MAX_SEGMENTS, cap: int | None = None
) -> tuple[int, int] | None:
    """The adjacent run [start, end) of segments to merge into one, or None within the bound.

    Only small segments (at most ``cap // 2`` live chunks; all of them when ``cap`` is None) count
    and merge, and a run never sums above ``cap``. The run is as short as gets the count of small
    segments back to ``bound`` (shorter when no such run fits the cap); of those, the one with the
    fewest live chunks (the cheapest to rewrite), the newest on a tie.
    """
    small = [cap is None or c <= cap // 2 for c in live_chunks]
    excess = sum(small) - max(bound, 1)
    for width in range(excess + 1, 1, -1):
        fits = [
            i
            for i in range(len(live_chunks) - width + 1)
            if all(small[i : i + width]) and (cap is None or sum(live_chunks[i : i + width]) <= cap)
        ]
        if fits:
            start = min(fits, key=lambda i: (sum(live_chunks[i : i + width]), -i))
            return start, start + width
    return None


def plan_optimize(
    live_chunks: Sequence[int], has_deleted: Sequence[bool], cap: int | None = None
) -> list[tuple[int, int]]:
    """The runs ``--optimize`` rewrites: adjacent segments packed greedily into runs of at most
    ``cap`` live chunks; a run is rewritten when it joins segments or drops deleted rows."""
    runs: list[tuple[int, int]] = []
    start, total = 0, 0
    for i, chunks in enumerate(live_chunks):
        if i > start and cap is not None and total + chunks > cap:
            runs.append((start, i))
            start, total = i, 0
        total += chunks
    if live_chunks:
        runs.append((start, len(live_chunks)))
    return [(a, b) for a, b in runs if b - a > 1 or any(has_deleted[a:b])]


def merge_when_due(
    staging: Path,
    entries: list[dict[str, Any]],
    dim: int,
    name: str,
    *,
    optimize: bool,
    cap: int | None = None,
) -> list[dict[str, Any]]:
    """The segment entries of a generation being written in ``staging``, after the merges the
    policy asks for (``optimize``: into as few segments as ``cap`` allows, deleted rows dropped)."""
    live = [int(e["live"][1]) for e in entries]
    if optimize:
        runs = plan_optimize(live, [bool(e["deleted"]) for e in entries], cap)
    else:
        span = plan_merge(live, MAX_SEGMENTS, cap)
        runs = [] if span is None else [span]
    folder = staging / "segments"
    out: list[dict[str, Any]] = []
    done = 0
    for k, (start, end) in enumerate(runs):
        run = entries[start:end]
        data = merge_segments([(folder / e["name"], e["deleted"]) for e in run], dim)
        merged = f"{name}-m" if len(runs) == 1 else f"{name}-m{k}"
        write_segment(folder / merged, data)
        for entry in run:  # links (or this build's own new segments): the published files stay
            shutil.rmtree(folder / entry["name"])
        out += [*entries[done:start], segment_entry(merged, data.counts)]
        done = end
    return out + entries[done:]


def merge_segments(parts: Sequence[tuple[Path, Sequence[int]]], dim: int) -> SegmentData:
    """One segment holding the live rows of ``parts`` ((segment folder, deleted article rows)),
    in order."""
    segments = [read_segment(folder, dim) for folder, _ in parts]
    tables, places = lay_out(
        [(s.tables, deleted) for s, (_, deleted) in zip(segments, parts, strict=True)]
    )
    live_chunks = [p.chunks >= 0 for p in places]
    keys = [read_keys(folder) for folder, _ in parts]
    n_chunks = [len(s.tables.chunks) for s in segments]
    chunk_keys = [k[:n] for k, n in zip(keys, n_chunks, strict=True)]
    sentence_keys = [k[n:] for k, n in zip(keys, n_chunks, strict=True)]
    sentence_live = [p.live_sentences for p in places]
    return SegmentData(
        tables=tables,
        chunk_vectors=live_rows([_vectors(s.dense, dim) for s in segments], live_chunks),
        sentence_vectors=live_rows([s.sentence_vectors for s in segments], sentence_live),
        keys=np.concatenate(
            [live_rows(chunk_keys, live_chunks), live_rows(sentence_keys, sentence_live)]
        ),
        postings=Postings.merged(
            [(s.postings, p.chunks) for s, p in zip(segments, places, strict=True)]
        ),
        terms=StoredTerms.merged(
            [
                (s.terms, p.live_sentences, p.articles >= 0)
                for s, p in zip(segments, places, strict=True)
            ]
        ),
    )


def _vectors(dense: faiss.Index, dim: int) -> np.ndarray:
    if dense.ntotal == 0:
        return np.zeros((0, dim), dtype=np.float32)
    return dense.reconstruct_n(0, dense.ntotal)
