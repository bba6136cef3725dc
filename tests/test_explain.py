"""Why this quote (issue 20): `articlebot ask --explain` and index/answer/explain.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.answer.explain import explain
from index.build.builder import build_index
from index.cli.main import main
from index.config import Settings
from index.embedding.embedder import HashEmbedder
from index.engine import Engine
from tests.conftest import SMALL_CORPUS, write_corpus


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    corpus = write_corpus(tmp_path / "corpus", SMALL_CORPUS)
    settings = Settings.from_env({}, corpus_dir=corpus, index_dir=tmp_path / "index")
    build_index(settings, HashEmbedder(dim=64))
    return Engine.open(settings, embedder=HashEmbedder(dim=64))


def test_the_explanation_names_words_rank_and_the_threshold(engine: Engine) -> None:
    answer = engine.ask("Where is Mount Etna?")
    why = explain(answer, engine.min_confidence)
    assert why.threshold == engine.min_confidence and why.confidence == answer.confidence
    assert why.answered == answer.answered == (answer.confidence >= engine.min_confidence)
    if answer.quotes:
        quote = answer.quotes[0].text.lower()
        assert all(w in quote for w in why.found) and "etna" in why.found
        assert why.passage_rank is not None and why.passage_rank >= 1
    assert {name for name, _ in why.features} == set(answer.extra["features"])
    text = "\n".join(why.lines())
    assert "threshold" in text and ("answered" in text or "declined" in text)


def test_ask_explain_prints_why(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        "index.embedding.embedder.load_embedder", lambda *a, **k: HashEmbedder(dim=64)
    )
    where = ["--corpus", str(engine.corpus_dir), "--index-dir", str(engine.settings.index_dir)]
    assert main(["ask", "Where is Mount Etna?", "--explain", *where]) == 0
    out = capsys.readouterr().out
    assert "\nwhy:\n" in out and "threshold" in out and "question words in the quote" in out
    assert main(["ask", "Where is Mount Etna?", "--explain", "--json", *where]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["explain"]["threshold"] == pytest.approx(engine.min_confidence)
    assert "etna" in data["explain"]["found"]
