"""Quote choice and confidence: verbatim quotes, the neighbour rule, abstention, shipped models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.answer import quotes as ans
from index.answer import retrieval as search
from index.answer import scorer_choice, scoring
from index.build.builder import build_index
from index.config import Settings
from index.embedding.embedder import HashEmbedder
from index.engine import Engine
from index.generations.generation import Generation
from index.text.question import Query

ARTICLE = (
    "# Steam engine\n\n"
    "The steam engine changed industry. James Watt improved the steam engine in 1776 with a "
    "separate condenser. Watt's partner was Matthew Boulton.\n\n"
    "The centrifugal governor was adopted by Watt in 1788. The governor could not actually hold "
    "a set speed. " + "Engines spread to mills and mines across Britain and beyond. " * 12 + "\n"
)
OTHER = "# Rhine\n\nThe Rhine flows from the Swiss Alps to the North Sea. It is 1,230 km long.\n"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "steam.md").write_text(ARTICLE, encoding="utf-8")
    (corpus / "rhine.md").write_text(OTHER, encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", min_confidence=0.0)
    embedder = HashEmbedder()
    build_index(settings, embedder)
    return Engine.open(settings, embedder)


def gen_of(engine: Engine) -> Generation:
    return engine._generation


def test_quotes_are_verbatim_and_short(engine: Engine) -> None:
    texts = {a.id: a.text for a in gen_of(engine).articles}
    for q in ("Who improved the steam engine?", "How long is the Rhine?", "What is a governor?"):
        answer = engine.ask(q, k=5)
        assert answer.quotes
        for quote in answer.quotes:
            assert texts[quote.article][quote.start : quote.end] == quote.text
        assert len(answer.quotes[0].text) <= ans.MAX_QUOTE_CHARS


def test_the_answer_sentence_is_chosen(engine: Engine) -> None:
    answer = engine.ask("In what year did James Watt improve the steam engine with a condenser?")
    assert "1776" in answer.quotes[0].text


def test_confidence_is_a_probability_and_the_threshold_abstains(engine: Engine) -> None:
    answer = engine.ask("Who improved the steam engine?")
    assert 0.0 <= answer.confidence <= 1.0
    strict = Engine(engine.settings.with_(min_confidence=1.0), engine.embedder, gen_of(engine))
    refused = strict.ask("Who improved the steam engine?")
    assert not refused.answered and refused.quotes == () and refused.passages


def test_candidates_have_one_feature_row_each(engine: Engine) -> None:
    gen = gen_of(engine)
    q = "What could the governor not hold?"
    qv = engine.embedder.encode([q])[0]
    hits = search.retrieve(gen, qv, Query.make(gen, q), k=5, per_article_cap=3)
    cands = ans.score_candidates(gen, qv, Query.make(gen, q), hits)
    assert cands and all(len(c.features) == len(ans.SENTENCE_FEATURES) for c in cands)
    assert [c.score for c in cands] == sorted((c.score for c in cands), reverse=True)
    feats = ans.confidence_features(Query.make(gen, q), cands, hits)
    assert feats.shape == (len(ans.CONFIDENCE_FEATURES),) and np.isfinite(feats).all()


def _candidate(sentence: int, score: float) -> ans.Candidate:
    return ans.Candidate(sentence, 0, 0.5, 0.5, score)


def test_a_nearly_tied_neighbour_is_quoted_with_the_best_sentence(engine: Engine) -> None:
    gen = gen_of(engine)
    s = next(i for i in range(len(gen.sentence_article)) if "1788" in gen.sentence_text(i))
    tied = scorer_choice.primary_quote(gen, [_candidate(s, 5.0), _candidate(s + 1, 4.9)])
    alone = scorer_choice.primary_quote(gen, [_candidate(s, 5.0), _candidate(s + 1, 1.0)])
    assert "1788" in tied.text and "set speed" in tied.text
    assert "1788" in alone.text and "set speed" not in alone.text


def test_neighbours_across_paragraphs_are_never_joined(engine: Engine) -> None:
    gen = gen_of(engine)
    s = next(i for i in range(len(gen.sentence_article)) if "Boulton" in gen.sentence_text(i))
    quote = scorer_choice.primary_quote(gen, [_candidate(s, 5.0), _candidate(s + 1, 5.0)])
    assert "governor" not in quote.text


def test_a_long_sentence_is_cut_at_a_word_boundary(engine: Engine) -> None:
    gen = gen_of(engine)
    s = max(range(len(gen.sentence_article)), key=lambda i: len(gen.sentence_text(i)))
    quote = ans.quote_for(gen, s)
    assert len(quote.text) <= ans.MAX_QUOTE_CHARS
    assert gen.articles[int(gen.sentence_article[s])].text[quote.start : quote.end] == quote.text


@pytest.mark.parametrize("name", [ans.SENTENCE_MODEL, ans.CONFIDENCE_MODEL, ans.IN_CORPUS_MODEL])
def test_the_shipped_models_match_the_features(name: str) -> None:
    model = scoring.load_model(name)
    assert model is not None, f"index/data/{name}.json is missing"
    expected = ans.SENTENCE_FEATURES if name == ans.SENTENCE_MODEL else ans.CONFIDENCE_FEATURES
    assert model.names == expected


def test_the_default_threshold_is_the_one_learned() -> None:
    import json

    data = json.loads((scoring.DATA_DIR / f"{ans.CONFIDENCE_MODEL}.json").read_text())
    assert Settings().min_confidence is None  # unset: the threshold stored with the model applies
    assert scoring.model_threshold(ans.CONFIDENCE_MODEL, -1.0) == pytest.approx(data["threshold"])
