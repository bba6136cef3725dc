"""The segment size cap (SEGMENT_MAX_CHUNKS): a build writes new articles in segments of bounded size,
merges never make a segment above the cap, and answers are the same as from one segment (real files
on disk, a fake embedder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.build.builder import build_index
from index.build.merge import plan_merge, plan_optimize
from index.config import Settings
from index.embedding.embedder import HashEmbedder
from index.engine import Engine
from index.errors import SettingsError
from index.generations.store import Manifest, current_generation

QUESTIONS = (
    "Where is Mount Etna?",
    "During which dynasty did tea originate?",
    "What propels a bicycle?",
    "What escapes from a magma chamber?",
)


def _live_chunks(settings: Settings) -> list[int]:
    manifest = Manifest.read(current_generation(settings.index_dir))
    return [int(e["live"][1]) for e in manifest.segments]


def _answers(engine: Engine) -> list[object]:
    out: list[object] = []
    for q in QUESTIONS:
        answer = engine.ask(q)
        out.append((answer.answered, round(answer.confidence, 6), answer.quotes))
        out.append([(p.article, p.text, round(p.score, 6)) for p in engine.search(q, k=8)])
    return out


def _many_articles(corpus: Path, n: int) -> None:
    for i in range(n):
        (corpus / f"note{i:02d}.md").write_text(
            f"# Note {i}\n\nNote {i} is about kettle number {i}, which whistles at dawn.\n\n"
            f"Its owner keeps {i} cups beside it on the shelf.",
            encoding="utf-8",
        )


def test_a_build_writes_segments_of_at_most_the_cap_with_the_same_answers(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    _many_articles(settings.corpus_dir, 12)
    one = settings.with_(index_dir=settings.index_dir.parent / "one")
    build_index(one, fake_embedder)
    assert len(_live_chunks(one)) == 1
    capped = settings.with_(segment_max_chunks=6)
    report = build_index(capped, fake_embedder)
    sizes = _live_chunks(capped)
    assert len(sizes) > 2 and sum(sizes) == report.chunks == sum(_live_chunks(one))
    assert max(sizes) <= 6
    assert _answers(Engine.open(capped, fake_embedder)) == _answers(Engine.open(one, fake_embedder))


def test_optimize_merges_into_segments_no_larger_than_the_cap(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    _many_articles(settings.corpus_dir, 12)
    build_index(settings.with_(segment_max_chunks=4), fake_embedder)
    small = len(_live_chunks(settings))
    capped = settings.with_(segment_max_chunks=10)
    before = _answers(Engine.open(capped, fake_embedder))
    build_index(capped, fake_embedder, optimize=True)
    sizes = _live_chunks(capped)
    assert 1 < len(sizes) < small and max(sizes) <= 10
    assert _answers(Engine.open(capped, fake_embedder)) == before
    assert not build_index(capped, fake_embedder, optimize=True).published  # nothing fits more


def test_plan_merge_leaves_large_segments_alone_and_stays_under_the_cap() -> None:
    assert plan_merge([100, 5, 6, 1], bound=3, cap=None) == (2, 4)
    # 60 and 70 are large (over half of 100): only the small ones count against the bound
    assert plan_merge([60, 70, 5, 6, 1], bound=3, cap=100) is None
    assert plan_merge([60, 5, 70, 6, 1, 2], bound=3, cap=100) == (4, 6)
    # no adjacent small run fits under the cap: nothing is merged
    assert plan_merge([40, 45, 40, 45], bound=3, cap=80) is None


def test_plan_optimize_packs_adjacent_segments_up_to_the_cap() -> None:
    no = [False] * 4
    assert plan_optimize([5, 5, 5, 5], no, cap=None) == [(0, 4)]
    assert plan_optimize([5, 5, 5, 5], no, cap=10) == [(0, 2), (2, 4)]
    assert plan_optimize([12, 5, 5], no, cap=10) == [(1, 3)]
    assert plan_optimize([12, 5], [True, False], cap=10) == [(0, 1)]  # drops deleted rows
    assert plan_optimize([12], [False], cap=10) == []


def test_a_segment_cap_below_the_minimum_is_one_clear_error() -> None:
    with pytest.raises(SettingsError, match="SEGMENT_MAX_CHUNKS must be at least 1000, got 10"):
        Settings.from_env({"SEGMENT_MAX_CHUNKS": "10"})
