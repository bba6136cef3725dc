"""Choosing the quote without the reader (READER=off): the learned sentence scorer's best sentence,
supporting quotes from other passages, and a confidence from two logistic models (P(the articles
cover the question) x P(the quote answers if they do)).
"""

from __future__ import annotations

import math

from index.answer.quotes import (
    CONFIDENCE_FEATURES,
    CONFIDENCE_MODEL,
    IN_CORPUS_MODEL,
    PAIR_MARGIN,
    SENTENCE_MODEL,
    Candidate,
    Choice,
    confidence_features,
    named,
    primary_span_quote,
    quote_for,
)
from index.answer.retrieval import Hit
from index.answer.scoring import load_model
from index.generations.generation import Generation
from index.text.question import Asked, Query
from index.types import Quote


def primary_quote(gen: Generation, candidates: list[Candidate]) -> Quote:
    """The best sentence, with its best-scoring neighbour when that one nearly ties and both fit."""
    margin = PAIR_MARGIN if load_model(SENTENCE_MODEL) else 0.0
    return primary_span_quote(
        gen, candidates[0].sentence, {c.sentence: c.score for c in candidates}, margin
    )


def confidence(query: Query, candidates: list[Candidate], hits: list[Hit]) -> float:
    """A 0..1 estimate that the primary quote answers the question: P(the articles cover the
    question) x P(the quote answers, if they do), two logistic models over the same features."""
    x = confidence_features(query, candidates, hits).reshape(1, -1)
    model, covered = load_model(CONFIDENCE_MODEL), load_model(IN_CORPUS_MODEL)
    if model is not None:
        p_in = float(covered.prob(x)[0]) if covered is not None else 1.0
        return p_in * float(model.prob(x)[0])
    best, top = candidates[0], hits[0]
    z = 6.0 * (top.dense - 0.35) + 3.0 * (best.overlap - 0.5) + 2.0 * (best.cosine - 0.4)
    return 1.0 / (1.0 + math.exp(-z))


class ScorerChooser:
    """READER=off: the sentence scorer's best sentence is the quote."""

    def __init__(self, extra: int = 2) -> None:
        self.extra = extra  # supporting quotes from other passages, at most

    def choose(
        self,
        gen: Generation,
        asked: Asked,
        hits: list[Hit],
        candidates: list[Candidate],
        *,
        read: int | None = None,  # no reader here: nothing to share
    ) -> Choice:
        return choose_quotes(gen, asked.scoring, hits, candidates, extra=self.extra)


def choose_quotes(
    gen: Generation,
    query: Query,
    hits: list[Hit],
    candidates: list[Candidate],
    *,
    extra: int = 2,
) -> Choice:
    """The primary quote, up to ``extra`` supporting quotes from other passages, and a confidence."""
    if not candidates or not hits:
        return Choice([], 0.0, None)
    best = candidates[0]
    quotes = [primary_quote(gen, candidates)]
    used_ranks = {best.passage_rank}
    floor = best.score - 2.0 if load_model(SENTENCE_MODEL) else 0.6 * best.score
    for cand in candidates[1:]:
        if len(quotes) > extra:
            break
        if cand.passage_rank in used_ranks or cand.score < floor:
            continue
        used_ranks.add(cand.passage_rank)
        quotes.append(quote_for(gen, cand.sentence))
    x = confidence_features(query, candidates, hits)
    return Choice(quotes, confidence(query, candidates, hits), None, named(CONFIDENCE_FEATURES, x))
