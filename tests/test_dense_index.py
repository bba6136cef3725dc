"""The dense index by size: exact Flat for small corpora, HNSW above the threshold, one thread a query."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from index.answer import retrieval as search
from index.bench.hash_embedder import BenchHashEmbedder
from index.bench.scale import real_sentences
from index.build.builder import build_index
from index.config import Settings
from index.embedding.embedder import HashEmbedder
from index.generations.generation import load_generation
from index.generations.store import Manifest, current_generation
from index.segments import dense_index, read_ahead
from index.segments.segment import read_segment

SAMPLE_CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture(scope="module")
def sentence_vectors() -> tuple[np.ndarray, np.ndarray]:
    """Vectors of real sentences (corpus and queries), from the bench's hash embedder."""
    pool = real_sentences(SAMPLE_CORPUS)
    embedder = BenchHashEmbedder(dim=96)
    queries = [" ".join(s.split()[:8]) for s in pool[::7]]
    return embedder.encode(pool), embedder.encode(queries)


def test_small_corpora_get_an_exact_index(sentence_vectors: tuple[np.ndarray, np.ndarray]) -> None:
    vectors, _ = sentence_vectors
    index = dense_index.build_dense(vectors[:100])
    assert dense_index.kind(index) == "exact" and index.ntotal == 100
    scores, ids = dense_index.search_one(index, vectors[7], 3)
    assert ids[0] == 7 and scores[0] == pytest.approx(1.0, abs=1e-5)


def test_hnsw_above_the_threshold_finds_what_exact_search_finds(
    monkeypatch: pytest.MonkeyPatch, sentence_vectors: tuple[np.ndarray, np.ndarray]
) -> None:
    vectors, queries = sentence_vectors
    monkeypatch.setattr(dense_index, "EXACT_MAX_VECTORS", 50)
    approx = dense_index.build_dense(vectors)
    assert dense_index.kind(approx) == "hnsw" and approx.ntotal == len(vectors)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    found = [dense_index.search_one(approx, q, 10)[1] for q in queries]
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.95


def test_a_generation_above_the_threshold_is_hnsw_checksummed_and_searchable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, corpus_dir: Path
) -> None:
    monkeypatch.setattr(dense_index, "EXACT_MAX_VECTORS", 1)
    embedder = HashEmbedder()
    settings = Settings(corpus_dir=corpus_dir, index_dir=tmp_path / "index")
    build_index(settings, embedder)
    folder = current_generation(settings.index_dir)
    manifest = Manifest.read(folder)
    segment = manifest.segments[0]["name"]
    assert f"segments/{segment}/dense.faiss" in manifest.checksums
    gen = load_generation(folder, embedder.name, embedder.dim)
    assert dense_index.kind(gen.dense) == "hnsw"
    stored = read_segment(folder / "segments" / segment, embedder.dim).dense
    assert stored.hnsw.efSearch == dense_index.HNSW_EF_SEARCH  # not carried by the file
    text = gen.chunk_text(0)
    ids, _ = search.dense_search(gen, embedder.encode([text])[0], 5)
    assert ids[0] == 0 and len(ids) == min(5, gen.dense.ntotal)


def test_several_graphs_are_searched_with_a_smaller_ef_and_still_find_the_top(
    monkeypatch: pytest.MonkeyPatch, sentence_vectors: tuple[np.ndarray, np.ndarray]
) -> None:
    from index.generations.dense import SegmentedDense, ef_search

    assert ef_search(1) == dense_index.HNSW_EF_SEARCH
    assert ef_search(2) < ef_search(1) and ef_search(5) == ef_search(50) == 64
    vectors, queries = sentence_vectors
    monkeypatch.setattr(dense_index, "EXACT_MAX_VECTORS", 20)
    halves = np.array_split(np.arange(len(vectors)), 4)
    graphs = [dense_index.build_dense(vectors[h]) for h in halves]
    rows = [h.astype(np.int64) for h in halves]
    rows[1][3] = -1  # a deleted chunk: that graph is searched through a selector
    dense = SegmentedDense(list(zip(graphs, rows, strict=True)))
    assert [g.hnsw.efSearch for g in graphs] == [ef_search(4)] * 4
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, ranked = exact.search(queries, 11)
    truth = [[r for r in row if r != halves[1][3]][:10] for row in ranked.tolist()]
    _, found = dense.search(queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.95 and halves[1][3] not in found


@pytest.mark.parametrize("threshold", [50, 10_000])  # HNSW, and exact
def test_read_dense_reads_the_head_then_maps_the_vectors(
    monkeypatch: pytest.MonkeyPatch,
    sentence_vectors: tuple[np.ndarray, np.ndarray],
    tmp_path: Path,
    threshold: int,
) -> None:
    vectors, queries = sentence_vectors
    monkeypatch.setattr(dense_index, "EXACT_MAX_VECTORS", threshold)
    built = dense_index.build_dense(vectors)
    path = tmp_path / "dense.faiss"
    faiss.write_index(built, str(path))
    head = path.stat().st_size - vectors.size * 4  # everything before the vectors
    assert head > 0
    calls: list[int] = []
    read = read_ahead.read_ahead
    monkeypatch.setattr(
        read_ahead, "read_ahead", lambda p, n: calls.append(read(p, n)) or calls[-1]
    )
    loaded = dense_index.read_dense(path, len(vectors), vectors.shape[1])
    assert calls == [head]
    assert dense_index.kind(loaded) == dense_index.kind(built)
    for q in queries[:20]:
        assert np.array_equal(
            dense_index.search_one(loaded, q, 10)[1], dense_index.search_one(built, q, 10)[1]
        )


def test_read_ahead_without_sendfile_reads_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "file.bin"
    path.write_bytes(bytes(range(256)) * 40_000)  # 10,240,000 bytes: over one 8 MiB read
    assert read_ahead.read_ahead(path, 9_000_000) == 9_000_000
    assert read_ahead.read_ahead(path, 0) == 0
    assert read_ahead.read_ahead(path, 20_000_000) == 10_240_000  # the file is shorter
    monkeypatch.delattr(read_ahead.os, "sendfile")
    assert read_ahead.read_ahead(path, 9_000_000) == 9_000_000
    assert read_ahead.read_ahead(path, 20_000_000) == 10_240_000
