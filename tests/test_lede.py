"""The lede (issue 22): an article's first sentence, which a question asked from the headline restates,
is not preferred over the sentence further down that holds the detail; the passage ranker knows a wire
story's first passage (index/answer/lede.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import index.answer.with_reader as with_reader
from index.answer import retrieval
from index.answer.lede import dateline_lede_chunks, is_lede
from index.build.builder import build_index
from index.config import Settings
from index.engine import Engine
from tests.conftest import REPO, generation_of

NEWS = REPO / "tests/data/news/corpus"


def test_the_lede_is_the_first_sentence_or_the_one_after_a_heading(tmp_path: Path) -> None:
    gen = generation_of(
        tmp_path,
        {
            "a-with-heading": "Council rejects port levy in close vote\n\n"
            "DULUTH, Minn., March 12 — The council rejected a levy on cargo on Monday night. "
            "The levy would have charged 18 cents per ton on bulk cargo moving through the port.\n",
            "b-no-heading": "The museum reopened on Friday after a two-year restoration of its roof. "
            "Visitors queued for an hour before the doors opened at nine in the morning.\n",
        },
    )
    ledes = {gen.sentence_text(s) for s in range(len(gen.sentence_article)) if is_lede(gen, s)}
    assert any(t.startswith("DULUTH") for t in ledes)
    assert any(t.startswith("The museum reopened") for t in ledes)
    assert not any("18 cents" in t or "Visitors queued" in t for t in ledes)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("story", "question", "answer"),
    [
        (
            "b-norway-ice-patch-arrows",
            "How old are the arrows found in the melting ice in Norway?",
            "A.D. 300 to A.D. 1300",
        ),
        (
            "b-tasmania-deep-sea-species",
            "Where was the new ghost shark found off Tasmania?",
            "1,900 metres",
        ),
    ],
)
def test_a_question_restating_the_headline_is_answered_from_the_detail(
    real_embedder,
    tmp_path: Path,
    story: str,
    question: str,
    answer: str,
) -> None:
    """News set fitting-part questions (tests/data/news) whose lede restates the question: session 8's
    reader quoted the lede; the news-trained reader and ranker quote the detail (session 9 needed the
    choice's lede penalty for it, session 10's fit sets that penalty to 0)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for slug in (story, "a-duluth-council-rejects-port-levy"):
        shutil.copy(NEWS / f"{slug}.md", corpus / f"{slug}.md")
    settings = Settings.from_env(
        {"MIN_CONFIDENCE": "0"}, corpus_dir=corpus, index_dir=tmp_path / "index"
    )
    build_index(settings, real_embedder)
    engine = Engine.open(settings, real_embedder)
    quote = engine.ask(question).quotes[0]
    assert answer in quote.text
    found = engine.article(quote.article)
    assert found is not None and found[1][quote.start : quote.end] == quote.text


@pytest.mark.parametrize(
    ("question", "definition"),
    [
        ("What is tea?", True),
        ("who were the Normans", True),
        ("what's a volcano", True),
        ("What is the death toll of the Batu Ampar landslide?", False),
        ("Who won best actor at the 2025 Northern Screen Awards?", False),
    ],
)
def test_a_definition_question_keeps_the_lede(question: str, definition: bool) -> None:
    """ "What is tea?" is answered by the article's first sentence: the rule does not apply."""
    assert with_reader.asks_definition(question) is definition


def test_the_ranker_knows_a_wire_storys_first_passage_and_nothing_else(tmp_path: Path) -> None:
    """lede_dateline (index/answer/lede.py) marks the first chunk of a story whose lede opens with a
    dateline, after a heading or not; never a later chunk, nor an article without a dateline."""
    body = " ".join(
        f"Paragraph {i} says the cargo figure was {i} tons that week." for i in range(40)
    )
    gen = generation_of(
        tmp_path,
        {
            "a-wire": "Council rejects port levy in close vote\n\n"
            "DULUTH, Minn., March 12 (Articlebot Wire) — The council rejected a levy on Monday.\n\n"
            + body,
            "b-cnn": "(CNN) -- A museum reopened on Friday after two years.\n\n" + body,
            "c-plain": "The museum reopened on Friday after a two-year restoration of its roof.\n\n"
            + body,
            "d-heading-only": "Council rejects port levy in close vote\n\nThe council met on Monday.\n\n"
            + body,
        },
    )
    rows = list(range(len(gen.chunk_article)))
    marked = dateline_lede_chunks(gen, rows)
    slug = {r: gen.articles[int(gen.chunk_article[r])].id for r in rows}
    firsts = {r for r in rows if r == 0 or gen.chunk_article[r - 1] != gen.chunk_article[r]}
    assert len(rows) > len(firsts)  # every article has later chunks, which are never marked
    assert {slug[r] for r in rows if marked[r]} == {"a-wire", "b-cnn"}
    assert all(r in firsts for r in rows if marked[r])
    assert "lede_dateline" in retrieval.PASSAGE_FEATURES
