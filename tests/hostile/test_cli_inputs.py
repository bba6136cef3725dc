"""Hostile inputs to the command line (issue 19): --batch lines that are not questions, terminal
escape sequences in articles, a -k that asks for nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.build.builder import build_index
from index.cli.display import terminal_safe
from index.cli.main import main
from index.config import Settings
from index.embedding.embedder import HashEmbedder
from tests.conftest import SMALL_CORPUS, write_corpus

ESCAPES = "\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZWNobyBoaQ==\x07\x9b31m"


@pytest.fixture
def indexed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    files = dict(SMALL_CORPUS)
    files["tricks.md"] = f"# Tricks {ESCAPES}\n\nThe lighthouse keeper {ESCAPES} rang the bell.\n"
    corpus = write_corpus(tmp_path / "corpus", files)
    settings = Settings.from_env({}, corpus_dir=corpus, index_dir=tmp_path / "index")
    build_index(settings, HashEmbedder(dim=64))
    monkeypatch.setattr(
        "index.embedding.embedder.load_embedder", lambda *a, **k: HashEmbedder(dim=64)
    )
    monkeypatch.setenv("READER", "off")
    return ["--corpus", str(corpus), "--index-dir", str(tmp_path / "index")]


def test_terminal_safe_shows_controls_and_keeps_lines() -> None:
    assert terminal_safe("a\x1b[2Jb\nc\td\x9b") == "a\\x1b[2Jb\nc\td\\x9b"


def test_batch_lines_that_are_not_questions_are_reported_and_the_rest_answered(
    tmp_path: Path, indexed: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    batch = tmp_path / "batch.jsonl"
    batch.write_bytes(
        b'{"id": "a", "question": "Where is Mount Etna?"}\n'
        b"caf\xe9 au lait?\n"
        + b'{"question": "\\ud800 what?"}\n'
        + b'{"a":' * 100_000
        + b"1"
        + b"}" * 100_000
        + b"\n"
        + ("{" + '"q":' * 1 + "1}\n").encode()
        + b'{"id": "z", "question": "What is tea?"}\n'
    )
    code = main(["ask", "--batch", str(batch), "--json", *indexed])
    captured = capsys.readouterr()
    answered = [json.loads(line)["id"] for line in captured.out.splitlines()]
    assert answered == ["a", "z"] and code == 2
    err = captured.err
    assert "line 2: not valid UTF-8" in err and "line 3: the question holds a lone surrogate" in err
    assert "line 4: JSON nested too deeply" in err
    assert "line 5: not a JSON object with 'question'" in err and "Traceback" not in err


def test_escape_sequences_in_an_article_are_shown_not_obeyed(
    indexed: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["search", "lighthouse keeper bell", *indexed]) == 0
    out = capsys.readouterr().out
    assert "lighthouse keeper" in out and "\x1b" not in out and "\x9b" not in out
    assert "\\x1b]52;c;" in out


@pytest.mark.parametrize("k", ["0", "-3"])
def test_search_k_must_ask_for_something(
    indexed: list[str], k: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["search", "tea", "-k", k, *indexed]) == 2
    assert "-k must be at least 1" in capsys.readouterr().err
