"""From retrieved passages to an Answer: the quoted sentence(s), verbatim, and a confidence.

Candidate sentences come from the top passages. Each is scored on its meaning (cosine with the
question, from sentence vectors stored at index time), the question's rare words it contains
(IDF-weighted), and the rank of its passage. The confidence says how likely the quote answers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from index.generation import Generation
from index.search import Hit
from index.text import terms
from index.types import Quote

CANDIDATE_PASSAGES = 5
MAX_QUOTE_CHARS = 400
MIN_SENTENCE_CHARS = 25  # shorter "sentences" (headings, list stubs) are joined to the next one


@dataclass(frozen=True)
class Candidate:
    sentence: int  # global sentence row
    passage_rank: int
    cosine: float
    overlap: float  # share of the question's IDF mass found in the sentence
    score: float


def score_candidates(
    gen: Generation, qvec: np.ndarray, question: str, hits: list[Hit]
) -> list[Candidate]:
    q_terms = set(terms(question))
    q_idf = {t: gen.idf(t) for t in q_terms}
    q_mass = sum(q_idf.values()) or 1.0
    seen: set[int] = set()
    rows: list[tuple[int, int]] = []
    for rank, hit in enumerate(hits[:CANDIDATE_PASSAGES]):
        first, last = int(gen.chunk_first_sentence[hit.row]), int(gen.chunk_last_sentence[hit.row])
        for s in range(first, last + 1):
            if s not in seen:
                seen.add(s)
                rows.append((s, rank))
    if not rows:
        return []
    vecs = gen.sentence_vectors[[s for s, _ in rows]].astype(np.float32)
    cosines = vecs @ qvec.astype(np.float32)
    out = []
    for (s, rank), cos in zip(rows, cosines.tolist(), strict=True):
        text = gen.sentence_text(s)
        if _is_heading(text, gen.articles[int(gen.sentence_article[s])].title):
            continue
        s_terms = set(terms(text))
        overlap = sum(v for t, v in q_idf.items() if t in s_terms) / q_mass
        score = cos + 0.8 * overlap + 0.15 / (rank + 1)
        out.append(Candidate(s, rank, float(cos), overlap, score))
    out.sort(key=lambda c: -c.score)
    return out


def _is_heading(text: str, title: str) -> bool:
    """Headings and the title line name a topic; they never answer a question."""
    return text.startswith("#") or text.strip().rstrip(".") == title.strip().rstrip(".")


def quote_for(gen: Generation, sentence: int) -> Quote:
    """The sentence, joined with its neighbour when it is too short to stand alone."""
    article_row = int(gen.sentence_article[sentence])
    article = gen.articles[article_row]
    start, end = int(gen.sentence_start[sentence]), int(gen.sentence_end[sentence])
    nxt = sentence + 1
    if (
        end - start < MIN_SENTENCE_CHARS
        and nxt < len(gen.sentence_article)
        and int(gen.sentence_article[nxt]) == article_row
        and int(gen.sentence_end[nxt]) - start <= MAX_QUOTE_CHARS
    ):
        end = int(gen.sentence_end[nxt])
    if end - start > MAX_QUOTE_CHARS:
        end = _word_boundary(article.text, start, start + MAX_QUOTE_CHARS)
    return Quote(
        article=article.id,
        title=article.title,
        url=article.url,
        text=article.text[start:end],
        start=start,
        end=end,
        page=article.page_at(start),
    )


def _word_boundary(text: str, start: int, limit: int) -> int:
    cut = text.rfind(" ", start, limit)
    return cut if cut > start else limit


def confidence(best: Candidate, top_hit: Hit) -> float:
    """A 0..1 score that the primary quote answers the question."""
    z = 6.0 * (top_hit.dense - 0.35) + 3.0 * (best.overlap - 0.5) + 2.0 * (best.cosine - 0.4)
    return 1.0 / (1.0 + math.exp(-z))


def choose_quotes(
    gen: Generation, qvec: np.ndarray, question: str, hits: list[Hit], *, extra: int = 2
) -> tuple[list[Quote], float]:
    """The primary quote, up to ``extra`` supporting quotes from other passages, and a confidence."""
    candidates = score_candidates(gen, qvec, question, hits)
    if not candidates or not hits:
        return [], 0.0
    best = candidates[0]
    quotes = [quote_for(gen, best.sentence)]
    used_ranks = {best.passage_rank}
    for cand in candidates[1:]:
        if len(quotes) > extra:
            break
        if cand.passage_rank in used_ranks or cand.score < 0.6 * best.score:
            continue
        used_ranks.add(cand.passage_rank)
        quotes.append(quote_for(gen, cand.sentence))
    return quotes, confidence(best, hits[0])
