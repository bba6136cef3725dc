"""Merging segments: which ones (a size-tiered policy over adjacent segments) and how.

Each update adds one small segment, so segments pile up; a build that ends with more than
``MAX_SEGMENTS`` merges the adjacent run of segments with the fewest live chunks into one, just
enough of them to get back to the bound. Small segments (recent updates) merge with each other long
before anything merges into a large one, so a chunk is rewritten about log(corpus / update) times
over its life, and an update rarely pays for rewriting (and, above the size threshold, re-graphing)
a large segment. ``articlebot index --optimize`` merges every segment into one.

Merging keeps segment order and drops deleted rows, so the generation's rows (and its answers) are
the same before and after; nothing is embedded again (vectors come from the segments).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.bm25 import Postings
from index.segment import SegmentData, read_keys, read_segment, segment_entry, write_segment
from index.segment_layout import lay_out, live_rows

MAX_SEGMENTS = 8


def plan_merge(live_chunks: Sequence[int], bound: int = MAX_SEGMENTS) -> tuple[int, int] | None:
    """The adjacent run [start, end) of segments to merge into one, or None within the bound.

    The run is as short as gets the count back to ``bound``; of those, the one with the fewest live
    chunks (the cheapest to rewrite), the newest on a tie.
    """
    n = len(live_chunks)
    if n <= max(bound, 1):
        return None
    width = n - max(bound, 1) + 1
    start = min(range(n - width + 1), key=lambda i: (sum(live_chunks[i : i + width]), -i))
    return start, start + width


def merge_when_due(
    staging: Path, entries: list[dict[str, Any]], dim: int, name: str, *, optimize: bool
) -> list[dict[str, Any]]:
    """The segment entries of a generation being written in ``staging``, after the merge the policy
    asks for (``optimize``: all segments into one, deleted rows dropped), if any."""
    span = plan_merge([int(e["live"][1]) for e in entries], MAX_SEGMENTS)
    if optimize and (len(entries) > 1 or any(e["deleted"] for e in entries)):
        span = (0, len(entries))
    if span is None:
        return entries
    start, end = span
    folder = staging / "segments"
    run = entries[start:end]
    data = merge_segments([(folder / e["name"], e["deleted"]) for e in run], dim)
    write_segment(folder / f"{name}-m", data)
    for entry in run:  # links (or this build's own new segment): the published files stay
        shutil.rmtree(folder / entry["name"])
    return [*entries[:start], segment_entry(f"{name}-m", data.counts), *entries[end:]]


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
    )


def _vectors(dense: faiss.Index, dim: int) -> np.ndarray:
    if dense.ntotal == 0:
        return np.zeros((0, dim), dtype=np.float32)
    return dense.reconstruct_n(0, dense.ntotal)
