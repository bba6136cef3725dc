"""Build work that grows with the corpus: chunk reuse, length-sorted embedding, the cache's pruning."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import index.build.builder
from index.bench.scale import real_sentences, write_synthetic_corpus
from index.build.builder import build_index
from index.config import Settings
from index.embedding import vector_cache
from index.embedding.embedder import HashEmbedder
from index.embedding.vector_cache import VectorCache, text_key
from index.generations.generation import load_generation
from index.generations.store import current_generation

SAMPLE_CORPUS = Path(__file__).resolve().parent.parent / "corpus"
BATCH = 32  # the ONNX embedder's batch


class RecordingEmbedder(HashEmbedder):
    """The hash embedder, keeping every text it was asked to encode, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return super().encode(texts)


def _rows(index_dir: Path) -> dict[str, tuple[list[tuple[int, ...]], list[tuple[int, ...]]]]:
    """Per article: its chunks' and its sentences' spans (rows are per generation, spans are not)."""
    gen = load_generation(current_generation(index_dir), "hash-test", 64)
    out: dict[str, tuple[list[tuple[int, ...]], list[tuple[int, ...]]]] = {}
    for a, article in enumerate(gen.articles):
        first = int(np.flatnonzero(gen.sentence_article == a)[0])
        chunks = [
            (int(gen.chunk_start[c]), int(gen.chunk_end[c]),
             int(gen.chunk_first_sentence[c]) - first, int(gen.chunk_last_sentence[c]) - first)
            for c in np.flatnonzero(gen.chunk_article == a)
        ]  # fmt: skip
        sents = [
            (int(gen.sentence_start[s]), int(gen.sentence_end[s]), int(gen.sentence_paragraph[s]))
            for s in np.flatnonzero(gen.sentence_article == a)
        ]
        out[article.id] = (chunks, sents)
    return out


def test_unchanged_articles_keep_their_chunks_without_being_split_again(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder = HashEmbedder()
    build_index(settings, embedder)
    path = settings.corpus_dir / "volcano.md"
    path.write_text(path.read_text() + "\n\nKilauea in Hawaii erupts often.", encoding="utf-8")
    split = index.build.builder.split_article
    seen: list[str] = []
    monkeypatch.setattr(
        index.build.builder, "split_article", lambda a, *rest: seen.append(a.id) or split(a, *rest)
    )
    build_index(settings, embedder)
    assert seen == ["volcano"]
    fresh = settings.with_(index_dir=tmp_path / "fresh")
    build_index(fresh, embedder)
    assert _rows(settings.index_dir) == _rows(fresh.index_dir)


def test_texts_are_embedded_shortest_first_with_little_padding(tmp_path: Path) -> None:
    pool = real_sentences(SAMPLE_CORPUS)
    corpus = write_synthetic_corpus(tmp_path / "c", pool, 200, 200, 0).folder
    embedder = RecordingEmbedder()
    build_index(Settings(corpus_dir=corpus, index_dir=tmp_path / "i"), embedder)
    lengths = embedder.count_tokens(embedder.texts)
    assert lengths == sorted(lengths)
    computed = sum(
        max(lengths[i : i + BATCH]) * len(lengths[i : i + BATCH])
        for i in range(0, len(lengths), BATCH)
    )
    assert 1 - sum(lengths) / computed <= 0.10  # padding share of the tokens computed


def test_the_cache_prunes_unused_vectors_only_when_they_add_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vector_cache, "STALE_MIN", 0)
    unit = np.eye(1, 8, dtype=np.float32)[0]
    keys = [text_key(str(i)) for i in range(10)]
    cache = VectorCache(tmp_path / "v.sqlite", "m", 8)
    cache.put_many((k, unit) for k in keys)
    cache.commit()
    assert cache.keep_only(keys, 10)  # no bound recorded yet: one pass
    assert not cache.keep_only(keys[:9], 0)  # 10 rows for 9 live: within the slack
    assert len(cache.get_many(keys)) == 10
    assert cache.keep_only(keys[:5], 0)  # 10 rows for 5 live
    assert len(cache.get_many(keys)) == 5
    cache.close()
    reopened = VectorCache(tmp_path / "v.sqlite", "m", 8)
    assert not reopened.keep_only(keys[:5], 0)  # the bound was kept on disk
    reopened.close()
