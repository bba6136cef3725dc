"""Why this quote (issue 20): what an admin needs to understand an answer, right or wrong.

The question's words found in the quote, the rank and score of the passage it came from, the
confidence against the threshold, and the confidence model's inputs by name. Pure: it reads the
Answer the engine returned (its ``extra["features"]``) and the threshold in use.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.text.analysis import terms, words
from index.types import Answer


@dataclass(frozen=True)
class Explanation:
    answered: bool
    confidence: float
    threshold: float
    found: tuple[str, ...]  # the question's content words that the primary quote holds
    missing: tuple[str, ...]  # those it does not
    passage_rank: int | None  # 1-based rank of the passage holding the primary quote
    passage_score: float | None
    features: tuple[tuple[str, float], ...]
    # The quote lies further down the first passage's article than the passages shown: the reader
    # read on there because it believed nothing in them (index/answer/further.py).
    further_in_story: bool = False

    def lines(self) -> list[str]:
        verdict = "answered" if self.answered else "declined"
        relation = ">=" if self.confidence >= self.threshold else "<"
        out = [
            f"confidence {self.confidence:.3f} {relation} threshold {self.threshold:.3f}: {verdict}"
        ]
        if self.passage_rank is not None:
            score = f" (ranker score {self.passage_score:.3f})" if self.passage_score else ""
            out.append(f"quote from retrieved passage {self.passage_rank}{score}")
        elif self.further_in_story:
            out.append(
                "quote from further down the first passage's article (read on a second look: "
                "nothing in the passages retrieved convinced the reader)"
            )
        if self.found or self.missing:
            out.append(
                "question words in the quote: "
                + (", ".join(self.found) or "none")
                + ("; not in it: " + ", ".join(self.missing) if self.missing else "")
            )
        if self.features:
            out.append(
                "confidence inputs: "
                + ", ".join(f"{name} {value:+.3f}" for name, value in self.features)
            )
        return out


def explain(answer: Answer, threshold: float) -> Explanation:
    quote = answer.quotes[0] if answer.quotes else None
    question_words = [w for w in dict.fromkeys(words(answer.question)) if terms(w)]
    quote_terms = set(terms(quote.text)) if quote else set()
    found = tuple(w for w in question_words if set(terms(w)) <= quote_terms)
    missing = tuple(w for w in question_words if w not in found) if quote else ()
    rank = score = None
    if quote is not None:
        for i, p in enumerate(answer.passages, start=1):
            if p.article == quote.article and p.start <= quote.start < p.end:
                rank, score = i, p.score
                break
    further = (
        quote is not None
        and rank is None
        and bool(answer.passages)
        and answer.passages[0].article == quote.article
    )
    features = tuple(
        (name, float(value)) for name, value in dict(answer.extra.get("features", {})).items()
    )
    return Explanation(
        answer.answered,
        answer.confidence,
        threshold,
        found,
        missing,
        rank,
        score,
        features,
        further,
    )
