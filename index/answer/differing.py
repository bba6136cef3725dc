"""When articles disagree on a figure (issue 20): both answers, newest first, instead of one.

News is updated: a death toll of 12 one day is 17 two days later, and both stories stay in the
corpus. When the reader's best answer and the best answer it read in *another* article are both
figures, score within DIFFER_MARGIN of each other, and name different numbers, the answer shows
both with their articles' dates, the newest first. Only figures: two different names are as often two
true answers ("who spoke") as a disagreement, and telling them apart needs more than the reader.
Measured on tests/data/news/updates.jsonl (our own update pairs) and, for false alarms, on the news
set's other questions (docs/EVALUATION.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from index.generations.generation import Generation
from index.types import AnswerText, Differing

# A rival answer from another article is shown beside the best one when it scores at least this
# close (the choice's combined score: reader logit, span score, scorer, lede rule).
DIFFER_MARGIN = 4.0
# ... and when the two sentences say much the same (cosine of their stored sentence vectors): an
# update restates the story ("rose to 17" / "killing 12 people"); two stories that merely both hold a
# number do not (0.41 for two disasters' tallies in the news set, 0.61-0.93 for its update pairs).
SAME_STORY_COSINE = 0.6
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_WORDS = {
    w: n
    for n, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_WORD = re.compile(r"[A-Za-z]+")


def figures(text: str) -> frozenset[float]:
    """The numbers ``text`` names: digits ("1,200", "3.5") and number words up to twenty."""
    found = {float(m.group().replace(",", "")) for m in _NUMBER.finditer(text)}
    found |= {float(_WORDS[w.lower()]) for w in _WORD.findall(text) if w.lower() in _WORDS}
    return frozenset(found)


def rival(
    gen: Generation,
    best: tuple[int, AnswerText | None],
    others: Sequence[tuple[int, AnswerText | None, float]],
    best_score: float,
) -> tuple[int, AnswerText] | None:
    """The best-scoring answer of another article that names other figures than ``best``'s.

    ``best`` is (sentence, answer) of the chosen quote; ``others`` are (sentence, answer, score) of
    the other candidates the reader read, best first."""
    sentence, answer = best
    if answer is None or not (mine := figures(answer.text)):
        return None
    article = int(gen.sentence_article[sentence])
    for s, other, score in others:
        if int(gen.sentence_article[s]) == article:
            continue
        if score < best_score - DIFFER_MARGIN:
            return None
        theirs = figures(other.text) if other is not None else frozenset()
        if not theirs or other is None or theirs & mine or not _same_story(gen, sentence, s):
            return None  # no figure, the same figure, or another story: nothing to set side by side
        return s, other
    return None


def _same_story(gen: Generation, a: int, b: int) -> bool:
    vectors = gen.sentence_vectors[[a, b]].astype(np.float32)
    return float(vectors[0] @ vectors[1]) >= SAME_STORY_COSINE


def newest_first(
    gen: Generation, answers: Sequence[tuple[int, AnswerText]]
) -> tuple[Differing, ...]:
    """The answers as Differing, newest article first (undated ones after dated ones, in order)."""
    out = []
    for s, answer in answers:
        article = gen.articles[int(gen.sentence_article[s])]
        where = (article.id, article.title, article.url)
        out.append(Differing(*where, answer.text, answer.start, answer.end, date=article.date))
    order = sorted(range(len(out)), key=lambda i: (out[i].date is None, _neg(out[i].date), i))
    return tuple(out[i] for i in order)


def _neg(date: str | None) -> tuple[int, ...]:
    """A sort key putting later ISO-like dates ("2024-11-26", "2023-03") first."""
    digits = [int(d) for d in re.findall(r"\d+", date or "")]
    return tuple(-d for d in digits)
