"""What both ways of choosing the quote share (index/answer/scorer_choice.py, READER=off, and
index/answer/with_reader.py): candidate sentences, their features and scores, quotes cut from
sentences (verbatim, with offsets), the confidence's features, and the ``Choice`` they return.

Candidate sentences come from the top passages. Each is scored by a small learned model
(index/data/sentence_scorer.json) on: its meaning (cosine with the question, from sentence vectors
stored at index time), the question's rare words and word pairs it contains, the same words in its
neighbours, whether it holds what the question asks for (a number for "how many", a date for "when",
a new name for "who"/"where"), and its passage's rank and score. The confidence is a calibrated
probability that the primary quote answers: P(the articles cover the question, in_corpus.json) x
P(the quote answers if they do, confidence.json); the engine abstains below
Settings.min_confidence. Without the model files, hand-set weights apply.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from index.answer.deep_link import quote_link
from index.answer.retrieval import PASSAGE_FEATURES, Hit
from index.answer.scoring import Signals, load_model, signals, type_match
from index.generations.generation import Generation
from index.text.question import Asked, Query
from index.types import AnswerText, Differing, Quote

CANDIDATE_PASSAGES = 5
MAX_QUOTE_CHARS = 400
MIN_SENTENCE_CHARS = 25  # shorter "sentences" (headings, list stubs) are joined to the next one
# A neighbour scoring within this much (in logits) of the best sentence is quoted with it: when two
# adjacent sentences compete, the answer is often split between them (see docs/EVALUATION.md).
PAIR_MARGIN = 3.0
SENTENCE_MODEL = "sentence_scorer"
CONFIDENCE_MODEL = "confidence"  # P(the quote answers | the corpus covers the question)
IN_CORPUS_MODEL = "in_corpus"  # P(the corpus covers the question)
SENTENCE_FEATURES = (
    "cos",
    "cos_gap",
    "overlap",
    "overlap_gap",
    "bigram",
    "window_overlap",
    "neighbour_overlap",
    "novelty",
    "log_chars",
    "passage_gap",
    "passage_prob",
    "passage_rr",
    "first_in_paragraph",
    "match_quantity",
    "match_time",
    "match_name",
    "match_other",
    "matched_share",
    "best_in_passage",
    "chunk_dense",
    "overlap_x_passage",
    "cos_x_passage",
    "new_names",
    "new_numbers",
)
CONFIDENCE_FEATURES = (
    "best_logit",
    "logit_gap",
    "best_cos",
    "best_overlap",
    "best_bigram",
    "best_window_overlap",
    "top_passage",
    "passage_gap",
    "top_dense",
    "top_bm25_mass",
    "top_chunk_overlap",
    "top_title_overlap",
    "oov_mass",
    "n_terms",
)
_P = {name: i for i, name in enumerate(PASSAGE_FEATURES)}
_S = {name: i for i, name in enumerate(SENTENCE_FEATURES)}


@dataclass(frozen=True)
class Candidate:
    sentence: int  # global sentence row
    passage_rank: int
    cosine: float
    overlap: float  # share of the question's IDF mass found in the sentence
    score: float
    features: tuple[float, ...] = ()


def candidate_rows(
    gen: Generation, hits: list[Hit], passages: int = CANDIDATE_PASSAGES
) -> list[tuple[int, int]]:
    """(sentence row, passage rank) of the sentences of the top ``passages``, headings left out."""
    seen: set[int] = set()
    rows: list[tuple[int, int]] = []
    for rank, hit in enumerate(hits[:passages]):
        first, last = int(gen.chunk_first_sentence[hit.row]), int(gen.chunk_last_sentence[hit.row])
        for s in range(first, last + 1):
            if s in seen:
                continue
            seen.add(s)
            title = gen.articles[int(gen.sentence_article[s])].title
            if not _is_heading(gen.sentence_text(s), title):
                rows.append((s, rank))
    return rows


def _neighbour(gen: Generation, s: int, step: int) -> int | None:
    """The sentence ``step`` rows away when it is in the same paragraph."""
    n = s + step
    if 0 <= n < len(gen.sentence_article) and (
        gen.sentence_article[n] == gen.sentence_article[s]
        and gen.sentence_paragraph[n] == gen.sentence_paragraph[s]
    ):
        return n
    return None


def sentence_features(
    gen: Generation, qvec: np.ndarray, query: Query, hits: list[Hit], rows: list[tuple[int, int]]
) -> np.ndarray:
    """One row of SENTENCE_FEATURES per candidate sentence."""
    cos = gen.sentence_vectors[[s for s, _ in rows]].astype(np.float32) @ qvec.astype(np.float32)
    feats = []
    n_q_terms = max(1, len(query.term_set))
    q_words = set(query.words)
    around = [(_neighbour(gen, s, -1), _neighbour(gen, s, 1)) for s, _ in rows]
    # Only the question's terms in a sentence count (Query.present): the stored terms of the
    # sentences and their neighbours, matched once (index/generations/term_match.py); their overlap is computed
    # once per set of them: the same floats as summing over the whole sentence.
    asked = sorted({s for s, _ in rows} | {n for pair in around for n in pair if n is not None})
    at = {s: i for i, s in enumerate(asked)}
    got = gen.terms.sentences(query, asked, distinct=True)
    none: frozenset[str] = frozenset()
    for (s, rank), c, (prev, nxt) in zip(rows, cos.tolist(), around, strict=True):
        found, n_terms = got.found[at[s]], got.distinct[at[s]]
        found_prev = none if prev is None else got.found[at[prev]]
        found_next = none if nxt is None else got.found[at[nxt]]
        text_len = int(gen.sentence_end[s]) - int(gen.sentence_start[s])
        no_prev = prev is None or got.lengths[at[prev]] == 0  # no terms before it in the paragraph
        first = no_prev and (s == 0 or gen.sentence_paragraph[s - 1] != gen.sentence_paragraph[s])
        sig = signals(gen.sentence_text(s), query.qtype)  # read for quoting anyway
        feats.append(
            [
                c,
                0.0,
                query.overlap_of(found),
                0.0,
                got.bigram[at[s]],
                query.overlap_of(found | found_prev | found_next),
                max(query.overlap_of(found_prev), query.overlap_of(found_next)),
                (n_terms - len(found)) / max(1, n_terms),
                math.log(max(1, text_len)),
                hits[rank].logit - hits[0].logit,
                hits[rank].score,
                1.0 / (1 + rank),
                float(first),
                *type_match(query.qtype, sig, q_words),
                len(found) / n_q_terms,
                0.0,
                hits[rank].dense,
                0.0,
                0.0,
                *_novel_counts(sig, query.words),
            ]
        )
    x = np.asarray(feats, dtype=np.float64).reshape(-1, len(SENTENCE_FEATURES))
    if len(x):
        _relative_columns(x, [rank for _, rank in rows])
    return x


def _novel_counts(sig: Signals, q_words: frozenset[str]) -> tuple[float, float]:
    """How many names and numbers the sentence adds to the question (log scale)."""
    return math.log1p(len(sig.capitals - q_words)), math.log1p(len(sig.numbers - q_words))


def _relative_columns(x: np.ndarray, ranks: list[int]) -> None:
    """Fill the columns that compare a sentence with the other candidates."""
    col = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    x[:, col["cos_gap"]] = x[:, col["cos"]] - x[:, col["cos"]].max()
    x[:, col["overlap_gap"]] = x[:, col["overlap"]] - x[:, col["overlap"]].max()
    r = np.asarray(ranks)
    for rank in set(ranks):
        same = r == rank
        top = x[same, col["overlap"]].max()
        x[same, col["best_in_passage"]] = (x[same, col["overlap"]] >= top).astype(float)
    x[:, col["overlap_x_passage"]] = x[:, col["overlap"]] * x[:, col["passage_gap"]]
    x[:, col["cos_x_passage"]] = x[:, col["cos"]] * x[:, col["passage_gap"]]


def score_candidates(
    gen: Generation,
    qvec: np.ndarray,
    query: Query,
    hits: list[Hit],
    passages: int = CANDIDATE_PASSAGES,
) -> list[Candidate]:
    """Candidate sentences of the top ``passages``, best first."""
    rows = candidate_rows(gen, hits, passages)
    if not rows:
        return []
    x = sentence_features(gen, qvec, query, hits, rows)
    model = load_model(SENTENCE_MODEL)
    if model is not None:
        scores = model.logit(x)
    else:  # the hand-set scorer the engine started with
        scores = x[:, _S["cos"]] + 0.8 * x[:, _S["overlap"]] + 0.15 * x[:, _S["passage_rr"]]
    out = [
        Candidate(s, rank, float(f[0]), float(f[2]), float(score), tuple(f.tolist()))
        for (s, rank), f, score in zip(rows, x, scores.tolist(), strict=True)
    ]
    out.sort(key=lambda c: (-c.score, c.sentence))
    return out


def _is_heading(text: str, title: str) -> bool:
    """Headings and the title line name a topic; they never answer a question."""
    return text.startswith("#") or text.strip().rstrip(".") == title.strip().rstrip(".")


def quote_for(
    gen: Generation, sentence: int, last: int | None = None, keep: AnswerText | None = None
) -> Quote:
    """Sentences ``sentence``..``last`` (default: the one), joined with the next when too short.

    A quote longer than MAX_QUOTE_CHARS is cut at a word boundary, around ``keep`` (the answer) if given.
    """
    article_row = int(gen.sentence_article[sentence])
    article = gen.articles[article_row]
    last = sentence if last is None else last
    start, end = int(gen.sentence_start[sentence]), int(gen.sentence_end[last])
    nxt = last + 1
    if (
        end - start < MIN_SENTENCE_CHARS
        and nxt < len(gen.sentence_article)
        and int(gen.sentence_article[nxt]) == article_row
        and int(gen.sentence_end[nxt]) - start <= MAX_QUOTE_CHARS
    ):
        end = int(gen.sentence_end[nxt])
    if end - start > MAX_QUOTE_CHARS:
        if keep is not None and keep.end - start > MAX_QUOTE_CHARS:
            lo = max(start, keep.end - MAX_QUOTE_CHARS // 2)
            cut = article.text.find(" ", lo, keep.start)
            start = cut + 1 if cut >= 0 else keep.start
        end = min(end, _word_boundary(article.text, start, start + MAX_QUOTE_CHARS))
        if keep is not None and keep.end > end:
            end = keep.end
    return Quote(
        article=article.id,
        title=article.title,
        url=article.url,
        text=article.text[start:end],
        start=start,
        end=end,
        page=article.page_at(start),
        date=article.date,
        link=quote_link(article.url, article.text, start, end, article.page_at(start)),
    )


def primary_span_quote(
    gen: Generation,
    s: int,
    scores: dict[int, float],
    margin: float,
    keep: AnswerText | None = None,
) -> Quote:
    """Sentence ``s``, with its best-scoring neighbour when that one is within ``margin`` and both fit."""
    mate = None
    for n in (s - 1, s + 1):
        if (
            n in scores
            and scores[n] >= scores[s] - margin
            and gen.sentence_article[n] == gen.sentence_article[s]
            and gen.sentence_paragraph[n] == gen.sentence_paragraph[s]
            and (mate is None or scores[n] > scores[mate])
        ):
            mate = n
    if mate is not None:
        first, last = min(s, mate), max(s, mate)
        if int(gen.sentence_end[last]) - int(gen.sentence_start[first]) <= MAX_QUOTE_CHARS:
            return quote_for(gen, first, last, keep)
    return quote_for(gen, s, keep=keep)


def _word_boundary(text: str, start: int, limit: int) -> int:
    cut = text.rfind(" ", start, limit)
    return cut if cut > start else limit


def named(names: Sequence[str], values: np.ndarray) -> dict[str, float]:
    """Feature values by name (what a Choice reports), from a model's input row."""
    return {name: float(v) for name, v in zip(names, values.tolist(), strict=True)}


def confidence_features(query: Query, candidates: list[Candidate], hits: list[Hit]) -> np.ndarray:
    """CONFIDENCE_FEATURES of one question's answer."""
    best, top = candidates[0], hits[0]
    second = candidates[1].score if len(candidates) > 1 else best.score - 5.0
    next_hit = hits[1].logit if len(hits) > 1 else top.logit - 5.0
    pf = top.features or (0.0,) * len(PASSAGE_FEATURES)
    return np.array(
        [
            best.score,
            best.score - second,
            best.cosine,
            best.overlap,
            best.features[_S["bigram"]] if best.features else 0.0,
            best.features[_S["window_overlap"]] if best.features else best.overlap,
            top.logit,
            top.logit - next_hit,
            top.dense,
            pf[_P["bm25_mass"]],
            pf[_P["chunk_overlap"]],
            pf[_P["title_overlap"]],
            query.oov_mass,
            float(len(set(query.terms))),
        ]
    )


@dataclass(frozen=True)
class Choice:
    """What the engine answers with: quotes (best first), confidence, the answer span (reader only),
    and the confidence model's input features (kept for evaluation and calibration)."""

    quotes: list[Quote]
    confidence: float
    answer: AnswerText | None
    features: Mapping[str, float] = field(default_factory=dict)  # the confidence model's, by name
    differing: tuple[Differing, ...] = ()  # articles disagreeing on the figure, newest first


class QuoteChooser(Protocol):
    """One way of choosing the quote: the engine holds one (READER=on or off) and asks it."""

    def choose(
        self,
        gen: Generation,
        asked: Asked,
        hits: list[Hit],
        candidates: list[Candidate],
        *,
        read: int | None = None,
    ) -> Choice:
        """The quotes (best first), the answer span if any, the confidence and its features,
        from ``candidates`` (score_candidates' result for ``hits``). ``read``: how many candidates
        the reader may read (None: its default; a question read by two libraries shares one
        budget between them)."""
        ...
