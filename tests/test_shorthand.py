"""Chat shorthand spelled out before a question is searched and read (index/text/shorthand.py)."""

from __future__ import annotations

from index.engine import Engine, Prepared
from index.text.shorthand import SHORTHAND, expand


def test_common_short_forms_are_spelled_out() -> None:
    assert expand("y r ppl leaving the govt job") == "why are people leaving the government job"
    assert expand("whos leading belgium govt talks") == "who is leading belgium government talks"
    assert expand("when is the rally w/ the mayor") == "when is the rally with the mayor"
    assert expand("how much cargo goes thru duluth port a yr") == (
        "how much cargo goes through duluth port a year"
    )


def test_capitals_dots_and_ampersands_keep_a_word_as_typed() -> None:
    for typed in ("how many died in the U.S. storm", "R&B star", "r&b chart", "u.s. exports"):
        assert expand(typed).split()[-2:] == typed.split()[-2:]
    assert expand("u.s. govt shutdown") == "u.s. government shutdown"
    assert expand("Y are they") == "Y are they"


def test_one_letter_forms_only_where_they_cannot_be_letters() -> None:
    assert expand("y did the vote fail") == "why did the vote fail"
    assert expand("the x and y axis") == "the x and y axis"  # "y" only opens a question
    assert expand("what did u say") == "what did you say"
    assert expand("vitamin u") == "vitamin u"  # "u" and "r" only between two words
    assert expand("r") == "r"


def test_written_questions_are_unchanged() -> None:
    for q in ("When did the bridge open?", "Who wanted Tibet's independence?", "how old is she"):
        assert expand(q) is q
    assert all(full != short for short, full in SHORTHAND.items())


def test_the_engine_searches_and_reads_the_spelled_out_question(sample_engine: Engine) -> None:
    typed = "wat new fields did india and japan agree to cooperate in"
    prepared = sample_engine.prepare(typed)
    assert isinstance(prepared, Prepared)
    assert prepared.asked.text.startswith("what new fields")
    answer = sample_engine.ask(typed)
    assert answer.question == typed  # the reply names the question as it was asked
