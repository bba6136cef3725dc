"""The second look in the leading story (index/answer/further.py): when the reader believes none of
the sentences of the first passages, it reads the story's next-ranked chunks, and the reader re-reads
nothing it has read."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import index.engine as engine_mod
from index.answer.explain import explain
from index.answer.further import (
    LOOK_FURTHER_BELOW,
    SECOND_LOOK_EXTRA,
    looks_further,
    second_look_budget,
)
from index.answer.quotes import Choice
from index.answer.retrieval import Hit, story_further
from index.answer.with_reader import READER_CANDIDATES
from index.build.builder import build_index
from index.config import BASE_MODEL, Settings
from index.embedding.embedder import load_embedder
from index.engine import Engine
from index.reader.input import Pair
from index.reader.model import Reader, load_reader
from index.types import Quote
from tests.conftest import REPO

NEWS = REPO / "tests/data/news/corpus"


def _hit(row: int) -> Hit:
    return Hit(row, 1.0 / (row + 1), 0.0, 0.0, row, row)


def test_the_further_chunks_are_the_leading_storys_next_ranked_ones() -> None:
    # chunks 0-5 belong to article 0, 6-8 to article 1
    gen = SimpleNamespace(chunk_article=np.array([0, 0, 0, 0, 0, 0, 1, 1, 1]))
    ranked = [_hit(r) for r in (0, 6, 2, 7, 4, 1, 8, 5, 3)]
    taken = ranked[:3]  # 0 (article 0 leads), 6, 2
    further = story_further(gen, ranked, taken, 3)  # type: ignore[arg-type]
    assert [h.row for h in further] == [4, 1, 5]  # article 0's, in ranked order, none taken
    assert story_further(gen, ranked, taken, 0) == []  # type: ignore[arg-type]
    assert story_further(gen, ranked, [], 3) == []  # type: ignore[arg-type]
    led_by_other = [ranked[1], ranked[0]]  # article 1 leads
    assert [h.row for h in story_further(gen, ranked, led_by_other, 5)] == [7, 8]  # type: ignore[arg-type]


def _choice(features: dict[str, float], quoted: bool = True) -> Choice:
    quote = Quote("a", "A", None, "text", 0, 4)
    return Choice([quote] if quoted else [], 0.5, None, features)


def test_the_second_look_is_taken_only_when_the_reader_believes_nothing_it_read() -> None:
    assert looks_further(_choice({"reader_best": LOOK_FURTHER_BELOW - 0.5}))
    assert not looks_further(_choice({"reader_best": LOOK_FURTHER_BELOW + 0.5}))
    assert not looks_further(_choice({"reader_best": -5.0}, quoted=False))  # nothing found at all
    assert not looks_further(_choice({"best_logit": -5.0}))  # READER=off: the scorer's features


def test_the_second_look_reads_a_little_more_than_the_first() -> None:
    assert second_look_budget(8) == 8 + SECOND_LOOK_EXTRA
    assert second_look_budget(3) == 3 + SECOND_LOOK_EXTRA  # a budget shared between two libraries
    assert second_look_budget(0) == 0  # a library given nothing to read reads nothing more


@pytest.mark.integration
def test_a_pair_read_again_is_not_run_again(monkeypatch: pytest.MonkeyPatch) -> None:
    reader: Reader = load_reader()
    runs: list[int] = []
    real = reader._read_batch

    def counted(pairs: list[Pair]) -> list:  # type: ignore[type-arg]
        runs.append(len(pairs))
        return real(pairs)

    monkeypatch.setattr(reader, "_read_batch", counted)
    a = Pair(
        "Who chaired the talks on the port levy?", "The talks were chaired by Ana Ruiz.", "", ""
    )
    b = Pair("Who chaired the talks on the port levy?", "The levy was 18 cents a ton.", "", "")
    first = reader.read([a, b])
    again = reader.read([b, a])
    assert len(runs) == 2  # a and b once each
    assert again == [first[1], first[0]]


@pytest.fixture(scope="module")
def base_embedder():  # type: ignore[no-untyped-def]
    """all-MiniLM-L6-v2 itself: the shipped retriever (session 18) puts this question's passage 5th,
    so the case the second look exists for needs the base model's ranking."""
    return load_embedder(BASE_MODEL, Settings().embed_backend)


@pytest.mark.integration
def test_the_answer_in_a_later_paragraph_of_the_story_is_quoted(
    base_embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A news set fitting-part question (tests/data/news, B-029): the story's lede and the paragraphs
    repeating the question's words fill the 5 passages; the head count is further down."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for slug in ("b-m6-coach-crash-cumbria", "a-duluth-council-rejects-port-levy"):
        shutil.copy(NEWS / f"{slug}.md", corpus / f"{slug}.md")
    settings = Settings.from_env(
        {"MIN_CONFIDENCE": "0"}, corpus_dir=corpus, index_dir=tmp_path / "index"
    )
    build_index(settings, base_embedder)
    engine = Engine.open(settings, base_embedder)
    question = "How many people were on the coach that overturned on the M6 in Cumbria?"
    answer = engine.ask(question)
    quote = answer.quotes[0]
    assert "44 people" in quote.text
    found = engine.article(quote.article)
    assert found is not None and found[1][quote.start : quote.end] == quote.text
    shown = {p.chunk_id for p in answer.passages}
    assert len(shown) == 5  # the passages shown are still the first 5
    why = explain(answer, 0.0)
    assert why.passage_rank is None and why.further_in_story  # the quote is in none of them
    assert any("second look" in line for line in why.lines())
    budgets: list[int | None] = []
    choose = engine._chooser.choose

    def counted(*args, read=None, **kwargs):  # type: ignore[no-untyped-def]
        budgets.append(read)
        return choose(*args, read=read, **kwargs)

    monkeypatch.setattr(engine._chooser, "choose", counted)
    engine.ask(question)
    assert budgets == [None, second_look_budget(READER_CANDIDATES)]  # the default, then 2 more
    monkeypatch.setattr(engine_mod, "looks_further", lambda choice: False)
    assert "44 people" not in engine.ask(question).quotes[0].text  # without the second look
