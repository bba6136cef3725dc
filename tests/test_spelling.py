"""Misspelled question words corrected against the articles' words (index/answer/spelling.py)."""

from __future__ import annotations

from index.answer.spelling import correct
from index.text.analysis import terms


class _Lexicon:
    """The articles' words, as a served generation offers them (terms and their words)."""

    def __init__(self, words: list[str]) -> None:
        self.by_term: dict[str, set[str]] = {}
        for word in words:
            for term in terms(word):
                self.by_term.setdefault(term, set()).add(word)
        self.terms = sorted(self.by_term)
        self.df = {t: 1 for t in self.terms}

    def surfaces(self, term: str) -> set[str]:
        return self.by_term.get(term, set())


LEXICON = _Lexicon(["wanted", "recount", "arrested", "landslide", "measles", "scored", "cord"])


def test_misspelled_words_take_the_articles_spelling() -> None:
    assert correct("who wnated the recount", LEXICON, LEXICON.df) == "who wanted the recount"
    assert correct("how many dead in landslde?", LEXICON, LEXICON.df) == (
        "how many dead in landslide?"
    )
    assert correct("ppl arested", LEXICON, LEXICON.df) == "ppl arrested"


def test_words_the_articles_hold_or_english_knows_stay_as_typed() -> None:
    for question in ("Who painted the Mona Lisa?", "What did the recount show?", "in what year"):
        assert correct(question, LEXICON, LEXICON.df) == question


def test_only_near_words_and_the_typed_first_letter_first() -> None:
    assert correct("who scord", LEXICON, LEXICON.df) == "who scored"  # not "cord"
    assert correct("xylophones", LEXICON, LEXICON.df) == "xylophones"  # nothing near
