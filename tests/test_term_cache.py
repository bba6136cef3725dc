"""The per-generation term cache stays within its bounds, returns what stemming returns, and does not
keep its generation alive."""

from __future__ import annotations

import gc
import weakref

import pytest

from index.build import build_index
from index.config import Settings
from index.embedding import HashEmbedder
from index.generation import Generation, load_generation
from index.scoring import TermCache, signals, term_cache
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
        assert cache.sentence_terms(row) == tuple(terms(gen.sentence_text(row)))
    assert isinstance(cache.sentence_terms(0), tuple)  # immutable: a caller cannot change it


def test_the_cache_stays_within_its_limits_and_stays_right(
    gen: Generation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TermCache, "SENTENCES", 2)
    monkeypatch.setattr(TermCache, "SIGNALS", 2)
    monkeypatch.setattr(TermCache, "TITLES", 1)
    cache = TermCache(gen)
    n = len(gen.sentence_start)
    assert n > 3
    for _ in range(2):  # the second pass reads what the first one left behind
        for row in range(n):
            text = gen.sentence_text(row)
            assert cache.sentence_terms(row) == tuple(terms(text))
            assert cache.sentence_signals(row) == signals(text)
        for article in range(len(gen.articles)):
            assert cache.title_terms(article) == frozenset(terms(gen.articles[article].title))
        rows = [n - 1, 0, 1, 0, n - 1]  # some cached, some not, one twice
        assert cache.sentences_terms(rows) == [tuple(terms(gen.sentence_text(r))) for r in rows]
    sentences, sigs, titles = cache.sizes()
    assert sentences <= 2 and sigs <= 2 and titles == 1


def test_a_generation_is_freed_by_reference_counting_alone(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    """Frozen objects (index/gc_policy.py) are never collected as cycles: the cache, kept on the
    generation, must not refer back to it."""
    build_index(settings, fake_embedder)
    folder = current_generation(settings.index_dir)
    gen = load_generation(folder, fake_embedder.name, fake_embedder.dim)
    cache = term_cache(gen)
    cache.sentence_terms(0)
    cache.title_terms(0)
    ref = weakref.ref(gen)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        del gen
        assert ref() is None
    finally:
        if was_enabled:
            gc.enable()
    with pytest.raises(RuntimeError, match="outlived"):
        cache.sentence_terms(1)
