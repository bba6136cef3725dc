"""The per-generation term cache stays within its bounds and returns what stemming returns."""

from __future__ import annotations

import pytest

from index.build import build_index
from index.config import Settings
from index.embedding import HashEmbedder
from index.generation import Generation, load_generation
from index.scoring import TermCache, term_cache
from index.store import current_generation
from index.text import terms


@pytest.fixture
def gen(settings: Settings, fake_embedder: HashEmbedder) -> Generation:
    build_index(settings, fake_embedder)
    folder = current_generation(settings.index_dir)
    return load_generation(folder, fake_embedder.name, fake_embedder.dim)


def test_terms_match_stemming_and_callers_cannot_change_them(gen: Generation) -> None:
    cache = term_cache(gen)
    assert cache is term_cache(gen)  # one per generation
    for row in range(len(gen.sentence_start)):
        assert cache.sentence_terms(row) == terms(gen.sentence_text(row))
    cache.sentence_terms(0).append("tampered")
    assert "tampered" not in cache.sentence_terms(0)


def test_the_cache_forgets_the_least_recently_used_past_its_limits(
    gen: Generation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TermCache, "SENTENCES", 2)
    monkeypatch.setattr(TermCache, "CHUNKS", 1)
    cache = TermCache(gen)
    n = len(gen.sentence_start)
    assert n > 3
    for row in range(n):
        cache.sentence_terms(row)
        cache.sentence_signals(row)
    for row in range(len(gen.chunk_start)):
        assert cache.chunk_terms(row) == frozenset(
            t
            for s in range(gen.chunk_first_sentence[row], gen.chunk_last_sentence[row] + 1)
            for t in terms(gen.sentence_text(s))
        )
    sentences, signals, chunks, _ = cache.sizes()
    assert sentences <= 2 and signals <= 2 and chunks == 1
