"""scripts/fit_choice.py's neighbour-margin simulation: the first quote pairs the chosen sentence with
a read neighbour scoring within the margin, as index/answer/quotes.primary_span_quote does."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import fit_choice

W = np.array([1.0, 0.0, 0.0, 0.0, 0.0])  # the reader's logit alone decides


def row(logit: float, sentence: int, alone: int, prev: int, nxt: int) -> list[float]:
    """[logit, span, scorer, rank, lede, gold, sentence, alone gold, chars, prev gold, chars,
    next gold, chars]; -1: that neighbour cannot be paired."""
    return [logit, 0, 0, 0, 0, alone, sentence, alone, 100, prev, 180, nxt, 190]


def test_a_neighbour_within_the_margin_is_quoted_with_the_best_sentence() -> None:
    rows = np.array([row(3.0, 10, 0, 0, 1), row(1.5, 11, 1, 0, 0), row(0.0, 40, 0, 0, 0)])
    assert fit_choice.paired(rows, W, 2.0) == (True, 190.0)  # 10 with 11: the pair holds it
    assert fit_choice.paired(rows, W, 1.0) == (False, 100.0)  # 11 too far: 10 alone
    assert fit_choice.paired(rows, W, 0.0) == (False, 100.0)


def test_a_neighbour_that_cannot_be_paired_or_was_not_read_is_left_out() -> None:
    unpairable = np.array([row(3.0, 10, 0, 1, -1), row(2.5, 11, 1, 0, 0)])
    assert fit_choice.paired(unpairable, W, 2.0) == (False, 100.0)
    unread = np.array([row(3.0, 10, 0, 1, 1), row(2.5, 30, 1, 0, 0)])
    assert fit_choice.paired(unread, W, 2.0) == (False, 100.0)


def test_the_better_scoring_neighbour_is_the_mate() -> None:
    rows = np.array([row(3.0, 10, 0, 1, 0), row(2.0, 9, 0, 0, 0), row(2.5, 11, 0, 0, 0)])
    assert fit_choice.paired(rows, W, 2.0) == (False, 190.0)  # 11 (2.5) over 9 (2.0): next pair


def test_the_second_look_is_taken_when_the_first_choice_reads_under_the_threshold() -> None:
    w = np.array([1.0, 0.0, 0.0, 0.0, 0.0])
    # first look: the best candidate's reader logit is -1.0, none holds the answer
    first = fit_choice.signed(np.array([[-1.0, 0, 0, 0, 0], [-2.0, 0, 0, 0, 0]], dtype=float))
    second = fit_choice.signed(np.array([[-1.0, 0, 0, 0, 0], [0.5, 0, 0, 1, 0]], dtype=float))
    q = (first, np.array([False, False]), second, np.array([False, True]))
    x, g = fit_choice.as_engine(q, w, 0.0)
    assert x is second and bool(g[int(np.argmax(x @ w))])
    assert fit_choice.accuracy_looked([q], w, 0.0) == 1.0
    # under a lower threshold the first choice stands, and misses
    assert fit_choice.as_engine(q, w, -1.5)[0] is first
    assert fit_choice.accuracy_looked([q], w, -1.5) == 0.0
    # a question collected without a second look keeps its first candidates
    assert fit_choice.as_engine((first, q[1], None, None), w, 0.0)[0] is first
