"""Segmented generations: an update writes one small segment and links the rest, deleted articles
stay deleted, merging changes no answer, and a crash while merging leaves the old generation serving
(real files on disk, a fake embedder)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import asdict, replace
from pathlib import Path

import bm25s
import numpy as np
import pytest

import index.build.merge
from index.answer.retrieval import dense_search
from index.build.builder import build_index
from index.build.merge import plan_merge
from index.build.rollback import rollback
from index.config import Settings
from index.embedding.embedder import HashEmbedder
from index.engine import Engine
from index.errors import IncompatibleIndex
from index.generations.generation import load_generation
from index.generations.layout import RowMap, RowStack, stacked_rows
from index.generations.store import Manifest, current_generation
from index.segments import dense_index
from index.segments.bm25 import SegmentedBm25
from index.segments.postings import Postings
from index.segments.segment import FILES
from index.text.analysis import terms
from tests.conftest import REPO, SMALL_CORPUS

QUESTIONS = (
    "Where is Mount Etna?",
    "During which dynasty did tea originate?",
    "What propels a bicycle?",
    "What escapes from a magma chamber?",
    "kettle whistle steam",
)


def _segments(settings: Settings) -> list[dict[str, object]]:
    return Manifest.read(current_generation(settings.index_dir)).segments


def _segment_dir(settings: Settings, name: object) -> Path:
    return current_generation(settings.index_dir) / "segments" / str(name)


def _inodes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_ino for p in folder.iterdir()}


def _write(settings: Settings, name: str, text: str) -> None:
    (settings.corpus_dir / name).write_text(text, encoding="utf-8")


def _answers(engine: Engine) -> list[object]:
    """Everything a user sees of the answers and searches, for comparing two generations."""
    out: list[object] = []
    for q in QUESTIONS:
        answer = engine.ask(q)
        out.append((answer.answered, round(answer.confidence, 6), answer.quotes))
        out.append([(p.article, p.start, p.end, round(p.score, 6)) for p in answer.passages])
        out.append([(p.article, p.text, round(p.score, 6)) for p in engine.search(q, k=8)])
    return out


def test_an_update_writes_one_segment_and_links_the_others(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    build_index(settings, fake_embedder)
    (first,) = _segments(settings)
    before = _inodes(_segment_dir(settings, first["name"]))
    _write(settings, "kettle.md", "# Kettle\n\nA kettle whistles when the water boils.")
    report = build_index(settings, fake_embedder)
    assert (report.added, report.unchanged) == (1, 3)
    old, new = _segments(settings)
    assert old["name"] == first["name"] and old["deleted"] == []
    assert _inodes(_segment_dir(settings, old["name"])) == before  # the same files, not rewritten
    assert new["rows"][0] == 1  # only the new article
    assert sorted(p.name for p in _segment_dir(settings, new["name"]).iterdir()) == sorted(FILES)
    assert report.embedded < 10  # its chunk and sentences only


def test_a_changed_article_is_deleted_from_its_segment_and_written_anew(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    build_index(settings, fake_embedder)
    path = settings.corpus_dir / "volcano.md"
    path.write_text(path.read_text().replace("Sicily", "Catania, Sicily"), encoding="utf-8")
    report = build_index(settings, fake_embedder)
    assert report.changed == 1
    old, new = _segments(settings)
    assert new["rows"][0] == 1 and len(old["deleted"]) == 1 and old["live"][0] == old["rows"][0] - 1
    gen = load_generation(current_generation(settings.index_dir), "hash-test", 64)
    assert [a.id for a in gen.articles].count("volcano") == 1
    assert "Catania" in gen.articles[-1].text
    assert gen.manifest.articles == 3 == len(gen.articles)


def test_deleted_articles_never_come_back_in_answers(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    build_index(settings, fake_embedder)
    path = settings.corpus_dir / "volcano.md"
    path.write_text("# Volcano\n\nVolcanoes are mountains of ash.", encoding="utf-8")
    (settings.corpus_dir / "tea.md").unlink()
    build_index(settings, fake_embedder)
    engine = Engine.open(settings, fake_embedder)
    seen = set()
    for q in (*QUESTIONS, "tea beverage hot water leaves", "Mount Etna Sicily active volcanoes"):
        for passage in engine.search(q, k=50):
            seen.add(passage.article)
            assert "Etna" not in passage.text  # the old text of the changed article
        answer = engine.ask(q)
        assert all(quote.article != "tea" and "Etna" not in quote.text for quote in answer.quotes)
    assert "tea" not in seen and "volcano" in seen
    assert {a.id for a in engine.articles()} == {"volcano", "notes/bicycle"}
    gen = engine._generation
    assert "shang" not in gen.doc_freq  # corpus statistics count live chunks only
    assert gen.bm25.get_scores(["etna"]).max() == 0.0


def test_a_deleted_row_is_filtered_out_of_an_hnsw_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, corpus_dir: Path
) -> None:
    monkeypatch.setattr(dense_index, "EXACT_MAX_VECTORS", 1)  # every segment a graph
    embedder = HashEmbedder()
    settings = Settings(corpus_dir=corpus_dir, index_dir=tmp_path / "index")
    build_index(settings, embedder)
    before = load_generation(current_generation(settings.index_dir), embedder.name, embedder.dim)
    etna = next(r for r in range(before.dense.ntotal) if "Etna" in before.chunk_text(r))
    qvec = before.dense.reconstruct(etna)
    (corpus_dir / "volcano.md").unlink()
    build_index(settings, embedder, allow_shrink=True)
    gen = load_generation(current_generation(settings.index_dir), embedder.name, embedder.dim)
    assert dense_index.kind(gen.dense) == "hnsw"
    ids, _ = dense_search(gen, qvec, 10)
    assert len(ids) == gen.dense.ntotal  # every live chunk, and no deleted one
    assert all("Etna" not in gen.chunk_text(int(r)) for r in ids)
    _, exact = gen.dense.exact_search(qvec.reshape(1, -1), 10)  # the bench's recall oracle
    assert sorted(exact[0][exact[0] >= 0].tolist()) == sorted(ids.tolist())


def test_merging_keeps_every_answer_identical(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    build_index(settings, fake_embedder)
    _write(settings, "kettle.md", "# Kettle\n\nA kettle whistles when the water boils. Steam.")
    build_index(settings, fake_embedder)
    path = settings.corpus_dir / "tea.md"
    path.write_text(path.read_text() + "\n\nGreen tea is not oxidised.", encoding="utf-8")
    build_index(settings, fake_embedder)
    _write(settings, "notes/pump.txt", "Pump\n\nA bicycle pump inflates the tyres with air.")
    build_index(settings, fake_embedder)
    assert len(_segments(settings)) == 4
    before = _answers(Engine.open(settings, fake_embedder))
    report = build_index(settings, fake_embedder, optimize=True)
    assert report.published and report.embedded == 0  # vectors come from the segments
    (merged,) = _segments(settings)
    assert merged["deleted"] == [] and merged["rows"][0] == 5
    assert _answers(Engine.open(settings, fake_embedder)) == before
    assert not build_index(settings, fake_embedder, optimize=True).published  # nothing to merge


def test_a_build_over_the_bound_merges_the_smallest_adjacent_segments(
    settings: Settings, fake_embedder: HashEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index.build.merge, "MAX_SEGMENTS", 3)
    build_index(settings, fake_embedder)
    base = _segments(settings)[0]["name"]
    for i in range(4):
        _write(settings, f"extra{i}.md", f"# Extra {i}\n\nExtra article number {i} about kettles.")
        build_index(settings, fake_embedder)
        assert len(_segments(settings)) <= 3
    assert _segments(settings)[0]["name"] == base  # the large one was left alone
    engine = Engine.open(settings, fake_embedder)
    assert {a.id for a in engine.articles()} >= {f"extra{i}" for i in range(4)}


def test_plan_merge_picks_the_cheapest_adjacent_run() -> None:
    assert plan_merge([100, 5, 5], bound=3) is None
    assert plan_merge([100, 5, 6, 1], bound=3) == (2, 4)
    assert plan_merge([100, 5, 6, 1, 1], bound=3) == (2, 5)
    assert plan_merge([1, 50, 50, 50], bound=3) == (0, 2)


@pytest.fixture
def two_segments(settings: Settings, fake_embedder: HashEmbedder) -> tuple[Path, list[object]]:
    """An index of two segments: (its serving generation's folder, its answers)."""
    build_index(settings, fake_embedder)
    _write(settings, "kettle.md", "# Kettle\n\nA kettle whistles when the water boils.")
    build_index(settings, fake_embedder)
    return current_generation(settings.index_dir), _answers(Engine.open(settings, fake_embedder))


def test_a_crash_while_merging_leaves_the_old_generation_serving(
    settings: Settings,
    fake_embedder: HashEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    two_segments: tuple[Path, list[object]],
) -> None:
    serving, before = two_segments

    def crash(folder: Path, data: object) -> None:
        folder.mkdir(parents=True)
        (folder / "dense.faiss").write_bytes(b"half a file")
        raise OSError("killed mid-merge (injected)")

    monkeypatch.setattr(index.build.merge, "write_segment", crash)
    with pytest.raises(OSError, match="injected"):
        build_index(settings, fake_embedder, optimize=True)
    assert current_generation(settings.index_dir) == serving
    assert not list((settings.index_dir / "generations").glob(".tmp-*"))
    assert _answers(Engine.open(settings, fake_embedder)) == before
    monkeypatch.undo()
    assert build_index(settings, fake_embedder, optimize=True).published


_KILLED_MID_MERGE = """
import sys, time
from pathlib import Path
import index.build.merge as merge
from index.build.builder import build_index
from index.config import Settings
from index.embedding.embedder import HashEmbedder
real = merge.write_segment
def stall(folder, data):
    real(folder, data)
    print("merged", flush=True)  # the merged segment is on disk, nothing is published yet
    time.sleep(3600)
merge.write_segment = stall
settings = Settings.from_env({{}}, corpus_dir=Path({corpus!r}), index_dir=Path({index!r}))
build_index(settings, HashEmbedder(dim=64), optimize=True)
"""


def test_a_build_killed_while_merging_leaves_the_old_generation_serving(
    settings: Settings, fake_embedder: HashEmbedder, two_segments: tuple[Path, list[object]]
) -> None:
    serving, before = two_segments
    script = _KILLED_MID_MERGE.format(
        corpus=str(settings.corpus_dir), index=str(settings.index_dir)
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "merged\n"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert list((settings.index_dir / "generations").glob(".tmp-*"))  # the half-done build
    assert current_generation(settings.index_dir) == serving
    assert _answers(Engine.open(settings, fake_embedder)) == before
    report = build_index(settings, fake_embedder, optimize=True)  # cleans up, then merges
    assert report.published and len(_segments(settings)) == 1
    assert not list((settings.index_dir / "generations").glob(".tmp-*"))
    assert _answers(Engine.open(settings, fake_embedder)) == before


def test_pruning_keeps_segments_that_kept_generations_use_and_rollback_works(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    build_index(settings, fake_embedder)
    first = _segments(settings)[0]["name"]
    for i in range(3):
        _write(settings, f"extra{i}.md", f"# Extra {i}\n\nExtra article number {i}.")
        build_index(settings, fake_embedder)
    kept = list((settings.index_dir / "generations").iterdir())
    assert len(kept) == settings.keep_generations
    for folder in kept:  # the first build's generation is gone, its segment is not
        assert (folder / "segments" / str(first) / "meta.sqlite").is_file()
    _, to = rollback(settings.index_dir)
    gen = load_generation(current_generation(settings.index_dir), "hash-test", 64)
    assert gen.name == to and "extra2" not in {a.id for a in gen.articles}


def test_a_damaged_segment_is_not_reused_by_an_update(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    build_index(settings, fake_embedder)
    (first,) = _segments(settings)
    target = _segment_dir(settings, first["name"]) / "sentence_vectors.npy"
    data = bytearray(target.read_bytes())
    data[-3] ^= 0x01
    target.write_bytes(bytes(data))
    _write(settings, "kettle.md", "# Kettle\n\nA kettle whistles when the water boils.")
    build_index(settings, fake_embedder)
    (only,) = _segments(settings)  # the damaged segment's articles were indexed again
    assert only["name"] != first["name"] and only["rows"][0] == 4
    assert Engine.open(settings, fake_embedder).ask("Where is Mount Etna?").passages


def test_bm25_matches_bm25s_and_spans_segments_with_corpus_wide_statistics() -> None:
    docs = [terms(t) for t in SMALL_CORPUS.values()] + [
        terms("A kettle boils water for tea"),
        terms("Volcanic ash and tea leaves"),
    ]
    reference = bm25s.BM25(k1=1.2, b=0.75)
    reference.index(docs, show_progress=False)
    whole = SegmentedBm25([(Postings.from_tokens(docs), np.arange(len(docs)))], len(docs))
    split = SegmentedBm25(
        [
            (Postings.from_tokens(docs[:2]), np.arange(2)),
            (Postings.from_tokens(docs[2:]), np.arange(2, len(docs))),
        ],
        len(docs),
    )
    for query in (["tea"], ["volcano", "ash"], ["tea", "tea", "water"], ["bicycl", "europ"]):
        expected = np.asarray(reference.get_scores(query), dtype=np.float32)
        assert np.array_equal(whole.get_scores(query), expected)
        assert np.array_equal(split.get_scores(query), expected)


def test_a_generation_folder_holds_only_links_to_unchanged_segment_files(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    build_index(settings, fake_embedder)
    _write(settings, "kettle.md", "# Kettle\n\nA kettle whistles when the water boils.")
    build_index(settings, fake_embedder)
    old = _segments(settings)[0]["name"]
    for path in _segment_dir(settings, old).iterdir():
        assert os.stat(path).st_nlink == 2  # this generation and the one before
    manifest = json.loads((current_generation(settings.index_dir) / "manifest.json").read_text())
    assert all(k.startswith("segments/") or k == "stamps.json" for k in manifest["checksums"])


def test_row_stack_gathers_the_live_rows_of_several_arrays() -> None:
    first = np.arange(12, dtype=np.float16).reshape(6, 2)
    second = np.arange(100, 108, dtype=np.float16).reshape(4, 2)
    third = np.arange(200, 206, dtype=np.float16).reshape(3, 2)  # kept whole: no row table
    keep = [np.array([1, 0, 1, 1, 0, 1], bool), np.array([0, 1, 1, 1], bool), np.ones(3, bool)]
    stack = stacked_rows([first, second, third], RowMap(keep))
    expected = np.concatenate([first[keep[0]], second[keep[1]], third])
    assert isinstance(stack, RowStack) and len(stack) == len(expected) == 10
    assert np.array_equal(stack[[6, 0, 9, 4, 3, 7]], expected[[6, 0, 9, 4, 3, 7]])
    assert np.array_equal(stack[np.arange(10)], expected)
    assert np.array_equal(stack[5], expected[5]) and stack[[]].shape == (0, 2)
    with pytest.raises(IndexError):
        stack[[10]]
    assert stacked_rows([first], RowMap([np.ones(6, bool)])) is first  # one kept whole: no copy


def test_an_index_of_the_previous_schema_is_rebuilt_by_the_next_build(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    """Schema 1 (one folder of files per generation) is refused when opened and replaced whole
    by the next build, as `articlebot run` does before serving."""
    build_index(settings, fake_embedder)
    folder = current_generation(settings.index_dir)
    older = replace(Manifest.read(folder), schema_version=1, segments=[]).sealed()
    (folder / "manifest.json").write_text(json.dumps(asdict(older)), encoding="utf-8")
    with pytest.raises(IncompatibleIndex, match="schema 1"):
        Engine.open(settings, fake_embedder)
    report = build_index(settings, fake_embedder)
    assert report.published and report.embedded == 0  # the vectors were still in the cache
    assert len(_segments(settings)) == 1
    assert Engine.open(settings, fake_embedder).ask("Where is Mount Etna?").passages
