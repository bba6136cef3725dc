"""Choosing the quote with the reader: the sentence scorer narrows the candidates, the reader decides.

The best READER_CANDIDATES sentences (by the sentence scorer of index/answer/quotes.py) are read together with the
question; the quote is the sentence the reader rates highest (with its neighbour when that one nearly ties,
since answers are sometimes split across two sentences), the answer span is the reader's span inside it,
and the confidence is a logistic model (index/data/reader_confidence.json) over the reader's verdicts and
the retrieval's signals, calibrated on questions and articles the reader was not trained on.
"""

from __future__ import annotations

import math
import re

import numpy as np

from index.answer import differing
from index.answer.lede import is_lede
from index.answer.quotes import (
    CONFIDENCE_FEATURES,
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
from index.reader.input import Pair
from index.reader.model import Reader, Reading, confidence_model_name
from index.text.dateline import dateline_end
from index.text.question import Asked, Query
from index.types import AnswerText, Differing

# 8 since session 13 (6 before): the listwise-trained reader (cpu-news8) gains from reading more of the
# story (no abstention: held news t25-t30 69.4% -> 71.3%, news measuring part 62.4% -> 65.2%; end to end,
# squad1 and latency in docs/EVALUATION.md, sessions 12-13), where the earlier readers gained little.
# Session 14 ships its successor cpu-news9, each pair read in its own pass (index/reader/model.py).
READER_CANDIDATES = 8
# A candidate's score is the reader's logit, plus SPAN_WEIGHT x the score of the answer span it found,
# plus SCORER_WEIGHT x the sentence scorer's logit, less PASSAGE_RANK_WEIGHT x its passage's rank in the
# retrieval (0 for the first passage), less LEDE_PENALTY for an article's lede. The weights are a
# conditional logit (one choice among a question's candidates; scripts/fit_choice.py), the reader's
# logit's weight fixed at 1, fit for the session-10 reader and passage ranker on the news set's fitting
# part, the news training questions the reader was not trained on (t16-t21: asked from the headline and
# three summary points, so their answers fall in the lede as often as a real reader's may, 9.4%) and
# squad1's articles of squad2's training half. The lede penalty (session 8: 2.5; session 9: 1.5) fits
# to about 0 now (-0.17 free; held at 0): the passage ranker's lede_dateline weight and a reader
# trained on 3,000 news questions already weigh the lede, and a penalty on top cost the questions whose
# answer is in it. docs/EVALUATION.md, "A news-aware passage ranker", has the figures. Session 11's
# reader keeps them: refit without a held news set they measured worse on news (docs/EVALUATION.md,
# "The summary-point questions").
SCORER_WEIGHT = 0.236
SPAN_WEIGHT = 0.014
PASSAGE_RANK_WEIGHT = 0.127
NO_SPAN = -10.0  # the span score of a sentence the reader finds no answer span in
LEDE_PENALTY = 0.0
# ... except for a question asking what or who something is ("What is tea?", "who's Rollo"): the
# lede is where an article says that, and the question restates nothing.
_DEFINITION = re.compile(
    r"^(?:what|who)(?:'s|\s+(?:is|are|was|were))\s+(?:an?\s+|the\s+)?[^\s?]+(?:\s+[^\s?]+){0,3}\s*\??$",
    re.IGNORECASE,
)
READER_PAIR_MARGIN = 2.0  # a neighbour scoring this close to the best sentence is quoted with it
READER_CONFIDENCE_MODEL = confidence_model_name("int8")  # the int8 reader's
READER_FEATURES = (
    "reader_best",
    "reader_gap",
    "reader_span",
    "reader_mean",
    "scorer_best",
    "top_passage",
    "passage_gap",
    "top_dense",
    "top_bm25_mass",
    "top_title_overlap",
    "best_overlap",
    "oov_mass",
    "n_terms",
)


def _previous(gen: Generation, s: int) -> str:
    p = s - 1
    if p >= 0 and (
        gen.sentence_article[p] == gen.sentence_article[s]
        and gen.sentence_paragraph[p] == gen.sentence_paragraph[s]
    ):
        return gen.sentence_text(p)
    return ""


def pairs_for(gen: Generation, question: str, candidates: list[Candidate]) -> list[Pair]:
    pairs = []
    for c in candidates:
        text = gen.sentence_text(c.sentence)
        pairs.append(
            Pair(
                question,
                text,
                _previous(gen, c.sentence),
                gen.articles[int(gen.sentence_article[c.sentence])].title,
                dateline_end(text) if is_lede(gen, c.sentence) else 0,
            )
        )
    return pairs


def reader_features(
    query: Query, scored: list[tuple[Candidate, Reading]], base: np.ndarray, choice: list[float]
) -> np.ndarray:
    """READER_FEATURES for one question; ``base`` holds the sentence scorer's confidence features,
    ``choice`` the candidates' scores in the choice (combined), in ``scored``'s order (best first).

    ``reader_gap`` is the choice's own margin: the best candidate's score less the runner-up's. (It was
    the reader's logit less the best other logit, which turned negative, reading as doubt, whenever the
    span score, the scorer or the lede rule chose another sentence than the reader's first.)"""
    logits = sorted((r.logit for _, r in scored), reverse=True)
    best_c, best_r = scored[0]
    scorer = named(CONFIDENCE_FEATURES, base)
    return np.array(
        [
            best_r.logit,
            choice[0] - choice[1] if len(choice) > 1 else 5.0,
            best_r.span_score if math.isfinite(best_r.span_score) else 0.0,
            float(np.mean(logits)),
            best_c.score,
            scorer["top_passage"],
            scorer["passage_gap"],
            scorer["top_dense"],
            scorer["top_bm25_mass"],
            scorer["top_title_overlap"],
            best_c.overlap,
            query.oov_mass,
            float(len(set(query.terms))),
        ]
    )


def reader_confidence(x: np.ndarray, name: str = READER_CONFIDENCE_MODEL) -> float:
    model = load_model(name)
    if model is not None:
        return float(model.prob(x.reshape(1, -1))[0])
    return 1.0 / (1.0 + math.exp(-float(x[0])))  # the reader's own probability, uncalibrated


class ReaderChooser:
    """READER=on: the reader reads the scorer's best candidates and decides."""

    def __init__(self, reader: Reader, extra: int = 2) -> None:
        self.reader = reader
        self.extra = extra  # supporting quotes from other passages, at most

    def choose(
        self,
        gen: Generation,
        asked: Asked,
        hits: list[Hit],
        candidates: list[Candidate],
        *,
        read: int | None = None,
    ) -> Choice:
        read = READER_CANDIDATES if read is None else read
        return choose_with_reader(
            gen, self.reader, asked, hits, candidates, extra=self.extra, read=read
        )


def choose_with_reader(
    gen: Generation,
    reader: Reader,
    asked: Asked,
    hits: list[Hit],
    candidates: list[Candidate],
    *,
    extra: int = 2,
    read: int = READER_CANDIDATES,
) -> Choice:
    """The quotes, the answer span and the confidence, from the reader's reading of the candidates.

    The reader reads the question with its thread context (``asked.text``) to choose the
    sentence; the sentence scorer weighs the question alone, and the span answers it alone."""
    query = asked.scoring
    if not candidates or not hits or read < 1:
        return Choice([], 0.0, None)
    top = candidates[:read]
    readings = reader.read(pairs_for(gen, asked.text, top))
    ledes = not asks_definition(asked.question)
    by_sentence = {
        c.sentence: combined(gen, c, r, ledes=ledes) for c, r in zip(top, readings, strict=True)
    }
    scored = sorted(
        zip(top, readings, strict=True),
        key=lambda cr: (-by_sentence[cr[0].sentence], cr[0].sentence),
    )
    best_c, best_r = scored[0]
    answer = _answer_text(gen, best_c.sentence, _span_reading(reader, gen, asked, best_c, best_r))
    other = differing.rival(
        gen,
        (best_c.sentence, answer),
        [
            (c.sentence, _answer_text(gen, c.sentence, r), by_sentence[c.sentence])
            for c, r in scored[1:]
        ],
        by_sentence[best_c.sentence],
    )
    primary = primary_span_quote(gen, best_c.sentence, by_sentence, READER_PAIR_MARGIN, answer)
    quotes = [primary]
    used = {best_c.passage_rank}
    differ: tuple[Differing, ...] = ()
    if other is not None and answer is not None:
        differ = differing.newest_first(gen, [(best_c.sentence, answer), other])
        rival_quote = quote_for(gen, other[0], keep=other[1])
        quotes = (
            [primary, rival_quote]
            if differ[0].article == primary.article
            else [rival_quote, primary]
        )
        answer = AnswerText(differ[0].text, differ[0].start, differ[0].end)
        used.add(next(c.passage_rank for c, _ in scored if c.sentence == other[0]))
    for cand, _reading in scored[1:]:
        if len(quotes) > extra:
            break
        if (
            cand.passage_rank in used
            or by_sentence[cand.sentence] < by_sentence[best_c.sentence] - 3.0
        ):
            continue
        used.add(cand.passage_rank)
        quotes.append(quote_for(gen, cand.sentence))
    base = confidence_features(query, candidates, hits)
    # What was asked, all in all: a follow-up's own words may be none ("when was that").
    x = reader_features(asked.retrieval, scored, base, [by_sentence[c.sentence] for c, _ in scored])
    confidence = reader_confidence(x, reader.confidence_model)
    return Choice(quotes, confidence, answer, named(READER_FEATURES, x), differ)


def _span_reading(
    reader: Reader, gen: Generation, asked: Asked, best: Candidate, reading: Reading
) -> Reading:
    """The reading whose span answers a follow-up: the sentence is chosen with the thread's earlier
    question ("when was that" alone finds nothing), but the answer words must answer the follow-up
    itself, so the chosen sentence is read once more with the follow-up alone."""
    if not asked.context:
        return reading
    [again] = reader.read(pairs_for(gen, asked.question, [best]))
    return again if again.span is not None else reading


def combined(
    gen: Generation, candidate: Candidate, reading: Reading, *, ledes: bool = True
) -> float:
    """The candidate's score for the choice: the reader's logit and span score, the scorer's logit,
    less its passage's rank, less LEDE_PENALTY for an article's lede (unless ``ledes`` is False: a definition question)."""
    span = reading.span_score if math.isfinite(reading.span_score) else NO_SPAN
    score = (
        reading.logit
        + SPAN_WEIGHT * span
        + SCORER_WEIGHT * candidate.score
        - PASSAGE_RANK_WEIGHT * candidate.passage_rank
    )
    return score - LEDE_PENALTY if ledes and is_lede(gen, candidate.sentence) else score


def asks_definition(question: str) -> bool:
    """ "What is tea?", "who were the Normans": asks what or who a named thing is, nothing more."""
    return bool(_DEFINITION.match(" ".join(question.split())))


def _answer_text(gen: Generation, sentence: int, reading: Reading) -> AnswerText | None:
    if reading.span is None:
        return None
    article = gen.articles[int(gen.sentence_article[sentence])]
    offset = int(gen.sentence_start[sentence])
    start, end = offset + reading.span[0], offset + reading.span[1]
    if not 0 <= start < end <= len(article.text):
        return None
    return AnswerText(article.text[start:end], start, end)
