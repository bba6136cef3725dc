"""`articlebot bench --build`: the figures exist and count what they say (no timing is asserted)."""

from __future__ import annotations

import pytest

from index.bench.build_speed import TimedEmbedder, build_figures, plain_figures
from index.build import sentence_vectors
from index.config import Settings
from index.embedding.embedder import HashEmbedder
from tests.conftest import REPO


def test_build_figures_count_the_texts_the_build_ran_through_the_model(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    figures = build_figures(settings, fake_embedder, plain=False)
    assert figures["build_real_tokens"] > 0 and figures["build_real_tokens_per_s"] > 0
    assert figures["runtime_tokens_per_s"] > 0 and figures["build_vs_runtime"] > 0
    assert "plain_s" not in figures


def test_the_timing_wrapper_pools_only_where_the_model_does(real_embedder) -> None:
    assert sentence_vectors.kind(TimedEmbedder(HashEmbedder())) == sentence_vectors.ENCODED
    timed = TimedEmbedder(real_embedder)
    assert sentence_vectors.kind(timed) == sentence_vectors.kind(real_embedder)
    timed.encode(["one two three"])
    assert timed.tokens == 5 and timed.seconds > 0  # three word pieces and two special tokens


@pytest.mark.integration
def test_the_plain_pipeline_embeds_every_paragraph_of_the_corpus() -> None:
    pytest.importorskip("sentence_transformers")
    settings = Settings.from_env({}, corpus_dir=REPO / "corpus")
    figures = plain_figures(settings, build_s=1.0)
    assert figures["plain_paragraphs"] > 20 and figures["plain_s"] > 0
    assert figures["build_vs_plain"] == pytest.approx(1.0 / figures["plain_s"], rel=0.01)
