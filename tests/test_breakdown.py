"""`articlebot eval --breakdown`: every question in exactly one bin (index/bench/breakdown.py)."""

from __future__ import annotations

from index.bench.breakdown import (
    ANSWERABLE_BINS,
    answerable_bin,
    format_breakdown,
    same_article,
    tally,
    unanswerable_bin,
)
from index.types import Answer, Passage, Quote

TEXT = "The bridge opened in 1932. It cost four million pounds. Crowds came from far away."


def _passage(start: int, end: int, article: str = "bridge") -> Passage:
    return Passage(article, "Bridge", None, TEXT[start:end], start, end, 0.5)


def _answer(answered: bool, quote: tuple[int, int] | None, passages: list[Passage]) -> Answer:
    quotes = ()
    if quote is not None:
        quotes = (Quote("bridge", "Bridge", None, TEXT[quote[0] : quote[1]], *quote),)
    return Answer("When did the bridge open?", answered, 0.5, quotes, tuple(passages))


FIRST, SECOND = _passage(0, 27), _passage(27, len(TEXT))
OTHER = _passage(0, 27, article="elsewhere")


def test_a_quote_holding_the_answer_is_a_hit() -> None:
    assert answerable_bin(_answer(True, (0, 26), [FIRST]), [1], True) == "quote_hit"


def test_the_right_passage_with_the_wrong_sentence() -> None:
    # the answer is in the second passage; the quote is another sentence of it
    answer = _answer(True, (54, len(TEXT)), [FIRST, SECOND])
    assert answerable_bin(answer, [2], False) == "wrong_sentence"


def test_another_passage_though_the_answer_s_was_returned() -> None:
    answer = _answer(True, (0, 26), [OTHER, FIRST])
    assert answerable_bin(answer, [2], False) == "wrong_sentence"
    answer = _answer(True, (27, 54), [SECOND, FIRST])
    assert answerable_bin(answer, [2], False) == "other_passage"


def test_retrieval_misses_and_declines() -> None:
    assert answerable_bin(_answer(True, (27, 54), [SECOND]), [], False) == "missed_answered"
    assert answerable_bin(_answer(False, None, [SECOND]), [], False) == "missed_declined"
    assert answerable_bin(_answer(False, None, [FIRST]), [1], False) == "declined_first"
    assert answerable_bin(_answer(False, None, [SECOND, FIRST]), [2], False) == "declined_top"
    # an answer's passage below the top five counts as missed
    six = [SECOND] * 5 + [FIRST]
    assert answerable_bin(_answer(False, None, six), [6], False) == "missed_declined"


def test_unanswerable_questions_are_declined_or_answered() -> None:
    assert unanswerable_bin(_answer(False, None, [FIRST])) == "declined"
    assert unanswerable_bin(_answer(True, (0, 26), [FIRST])) == "answered"


def test_the_tally_counts_each_question_once_and_lists_every_bin() -> None:
    bins = ["quote_hit", "quote_hit", "declined_first", "declined", "answered", "answered"]
    table = tally(bins)
    assert sum(table[b]["n"] for b in ANSWERABLE_BINS) == 3
    assert table["quote_hit"]["share"] == round(2 / 3, 4)
    assert table["missed_answered"] == {"n": 0, "share": 0.0}
    assert table["answered"]["share"] == round(2 / 3, 4)
    text = format_breakdown(table, {"answerable": 3, "impossible": 3})
    assert "quote holds the answer" in text and "declined (right)" in text


def test_an_other_passage_answer_knows_whether_it_quoted_the_answer_s_own_article() -> None:
    answer = _answer(True, (27, 54), [SECOND, FIRST])
    assert answerable_bin(answer, [2], False) == "other_passage"
    assert same_article(answer, "bridge")
    assert not same_article(answer, "elsewhere")
    assert not same_article(_answer(False, None, [FIRST]), "bridge")  # no quote, no article
    table = tally(["other_passage", "other_passage", "quote_hit"])
    text = format_breakdown(table, {"answerable": 3}, same=1)
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "another passage" in line)
    assert "own article" in lines[at + 1] and lines[at + 1].rstrip().endswith("1")
    assert "own article" not in format_breakdown(table, {"answerable": 3})
