"""Sentence vectors pooled from the chunk pass (index/build/sentence_vectors.py): the places point at the
sentences' exact text, the pooled vectors are the sentences' own meaning, a build with the real model
runs the model once per chunk, and an index built the other way is rebuilt whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.build.builder import (
    _places,
    build_index,
    embed_text_for_chunk,
    sentence_vectors,
    split_article,
)
from index.config import Settings
from index.corpus.folder import scan_corpus
from index.embedding.embedder import HashEmbedder
from index.generations.store import Manifest, current_generation
from index.text.chunking import word_count_tokens
from tests.conftest import REPO


class _Splitter(HashEmbedder):
    def count_tokens(self, texts: list[str]) -> list[int]:  # type: ignore[override]
        return word_count_tokens(texts)


def test_every_place_holds_exactly_its_sentence_text() -> None:
    splitter = _Splitter(max_tokens=60)  # small chunks: long paragraphs become overlapping windows
    scan = scan_corpus(REPO / "corpus", 2_000_000, None)
    splits = [split_article(a, splitter, 60) for a in scan.articles]
    places = _places(splits)
    texts = [embed_text_for_chunk(s.article.title, c.text) for s in splits for c in s.chunks]
    sentences = [x.text for s in splits for x in s.sentences]
    assert len(places) == len(sentences) > 100
    assert [texts[p.chunk][p.lo : p.hi] for p in places] == sentences
    holders: dict[int, list[int]] = {}  # sentence -> the chunks that hold it
    row = sentence = 0
    for split in splits:
        for c in split.chunks:
            for k in range(c.first_sentence, c.last_sentence + 1):
                holders.setdefault(sentence + k, []).append(row)
            row += 1
        sentence += len(split.sentences)
    shared = [k for k, rows in holders.items() if len(rows) > 1]
    assert shared  # overlapping windows: pooled from the first chunk that holds them
    assert all(places[k].chunk == holders[k][0] for k in shared)


def test_a_sentence_outside_every_chunk_is_an_error() -> None:
    with pytest.raises(ValueError, match="no chunk"):
        sentence_vectors.places_of_article("T", [(0, 0, 0)], [(0, 3), (4, 8)], 0)


@pytest.mark.integration
def test_pooled_vectors_mean_what_their_sentences_mean(real_embedder) -> None:
    if sentence_vectors.kind(real_embedder) != sentence_vectors.POOLED:
        pytest.skip("the default backend does not pool (EMBED_BACKEND=torch?)")
    first = "Tea originated in southwest China during the Shang dynasty."
    second = "A bicycle is propelled by pedals that turn a chain."
    text = f"Notes\n{first} {second}"
    lo1 = text.index(first)
    lo2 = text.index(second)
    spans = [(lo1, lo1 + len(first)), (lo2, lo2 + len(second))]
    whole, (parts,) = real_embedder.encode_pooled([text], [spans])
    assert np.allclose(whole, real_embedder.encode([text]), atol=1e-5)  # the chunk: unchanged
    alone = real_embedder.encode([first, second])
    sims = parts @ alone.T
    # in context (the second also carries some of the first), yet nearest to itself alone
    assert sims[0, 0] > sims[0, 1] + 0.1 and sims[1, 1] > sims[1, 0] + 0.1
    assert np.allclose(np.linalg.norm(parts, axis=1), 1.0, atol=1e-5)


@pytest.mark.integration
def test_a_span_cut_off_by_the_window_is_encoded_alone(real_embedder) -> None:
    if sentence_vectors.kind(real_embedder) != sentence_vectors.POOLED:
        pytest.skip("the default backend does not pool (EMBED_BACKEND=torch?)")
    tail = "The kettle whistles when the water boils."
    text = "word " * 400 + tail
    lo = text.index(tail)
    _, (parts,) = real_embedder.encode_pooled([text], [[(lo, lo + len(tail))]])
    assert np.allclose(parts[0], real_embedder.encode([tail])[0], atol=1e-5)


@pytest.mark.integration
def test_a_build_pools_sentences_and_rebuilds_an_index_built_the_other_way(
    tmp_path: Path, real_embedder
) -> None:
    if sentence_vectors.kind(real_embedder) != sentence_vectors.POOLED:
        pytest.skip("the default backend does not pool (EMBED_BACKEND=torch?)")
    settings = Settings.from_env({}, corpus_dir=REPO / "corpus", index_dir=tmp_path / "index")
    encoded = HashEmbedder(dim=real_embedder.dim, name=real_embedder.name)
    build_index(settings, encoded)
    manifest = Manifest.read(current_generation(settings.index_dir))
    assert manifest.params["sentence_vectors"] == sentence_vectors.ENCODED
    report = build_index(settings, real_embedder)  # same model name, other kind: all of it again
    assert report.published and report.added == 0 and report.unchanged == manifest.articles
    manifest = Manifest.read(current_generation(settings.index_dir))
    assert manifest.params["sentence_vectors"] == sentence_vectors.POOLED
    assert report.embedded == manifest.chunks + manifest.sentences
    assert not build_index(settings, real_embedder).published  # nothing changed: nothing run
