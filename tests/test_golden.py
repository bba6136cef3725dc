"""Golden answers on the shipped sample corpus, with the real model."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.engine import Engine
from tests.conftest import REPO

pytestmark = pytest.mark.integration


def test_india_japan_question_quotes_space_and_cyber(sample_engine: Engine) -> None:
    answer = sample_engine.ask("Which new fields did India and Japan agree to cooperate in?")
    assert answer.answered
    quote = answer.quotes[0]
    assert quote.article == "india-japan-defence-cooperation"
    assert "space and cyber" in quote.text
    raw = (REPO / "corpus" / "india-japan-defence-cooperation.md").read_text(encoding="utf-8")
    assert quote.text in raw  # character for character in the file
    found = sample_engine.article(quote.article)
    assert found is not None and found[1][quote.start : quote.end] == quote.text


@pytest.mark.parametrize(
    ("question", "article", "words"),
    [
        ("When was Nikola Tesla born?", "nikola-tesla", "1856"),
        (
            "Who co-chaired the Defence Policy Dialogue?",
            "india-japan-defence-cooperation",
            "Aramane",
        ),
        ("Into which sea does the Rhine flow?", "rhine", "North Sea"),
    ],
)
def test_sample_questions(sample_engine: Engine, question: str, article: str, words: str) -> None:
    answer = sample_engine.ask(question)
    assert answer.answered
    assert answer.quotes[0].article == article
    assert words in " ".join(q.text for q in answer.quotes)


def test_off_topic_question_abstains(sample_engine: Engine) -> None:
    answer = sample_engine.ask("What is the best recipe for chocolate chip cookies?")
    assert not answer.answered
    assert answer.quotes == ()


def test_every_sample_file_is_an_article() -> None:
    names = sorted(p.name for p in Path(REPO / "corpus").iterdir())
    assert "india-japan-defence-cooperation.md" in names
