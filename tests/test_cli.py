"""Every CLI command, run in-process on a real index built with the real model."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import index.embedding
from index.cli import chat, main
from index.engine import Engine
from tests.conftest import REPO

pytestmark = pytest.mark.integration

COMMANDS = [
    "index",
    "ask",
    "search",
    "chat",
    "info",
    "add",
    "remove",
    "eval",
    "bench",
    "run",
    "sync-commands",
]
ANSWER_KEYS = {"id", "question", "answered", "confidence", "quotes", "passages"}
QUOTE_KEYS = {"article", "title", "url", "text", "start", "end"}


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, real_embedder, corpus_dir: Path, tmp_path: Path):
    """Run `articlebot ARGS` in-process; returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(index.embedding, "load_embedder", lambda *args: real_embedder)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env from the repo

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main([*args, "--corpus", str(corpus_dir), "--index-dir", str(tmp_path / "idx")])
        return code, out.getvalue(), err.getvalue()

    return run


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "index.cli", command, "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "usage: articlebot" in result.stdout


def test_index_prints_summary_and_skipped_files(cli, corpus_dir: Path) -> None:
    (corpus_dir / "bad.docx").write_bytes(b"PK\x03\x04")
    code, out, _ = cli("index")
    assert code == 0
    assert "3 added, 0 changed, 0 removed, 0 unchanged articles" in out
    assert "skipped bad.docx: unsupported file type .docx" in out
    code, out, _ = cli("index")
    assert "0 added, 0 changed, 0 removed, 3 unchanged articles" in out
    assert "(0 embedded)" in out


def test_ask_json_matches_schema_and_is_verbatim(cli, corpus_dir: Path) -> None:
    cli("index")
    code, out, _ = cli("ask", "Which volcano in Sicily is very active?", "--json", "-k", "2")
    assert code == 0
    answer = json.loads(out)
    assert answer.keys() >= ANSWER_KEYS
    assert answer["answered"] is True
    assert 0.0 <= answer["confidence"] <= 1.0
    assert len(answer["passages"]) <= 2
    quote = answer["quotes"][0]
    assert quote.keys() >= QUOTE_KEYS
    assert "Etna" in quote["text"]
    raw = (corpus_dir / "volcano.md").read_text(encoding="utf-8")
    assert raw[quote["start"] : quote["end"]] == quote["text"]  # no front matter: file offsets
    assert all({"score", *QUOTE_KEYS} <= p.keys() for p in answer["passages"])


def test_ask_human_output(cli) -> None:
    cli("index")
    code, out, _ = cli("ask", "Who propels a bicycle and how?")
    assert code == 0
    assert "Bicycle" in out
    assert '"' in out


def test_ask_batch_json_lines_and_plain_lines(cli) -> None:
    cli("index")
    batch = '{"id": "q1", "question": "What is tea?"}\n\nWhat is a volcano?\n'
    code, out, _ = cli("ask", "--json", "--batch", "-", stdin=batch)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["q1", 3]
    assert all(r.keys() >= ANSWER_KEYS for r in rows)


def test_ask_batch_bad_line_names_the_line(cli, tmp_path: Path) -> None:
    cli("index")
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"id": 1, "q": "missing question field"}\n', encoding="utf-8")
    code, _, err = cli("ask", "--batch", str(bad))
    assert code == 2
    assert "line 1" in err and "question" in err


def test_search_json_scores_descend(cli) -> None:
    cli("index")
    code, out, _ = cli("search", "magma chamber gases", "--json", "-k", "3")
    assert code == 0
    passages = json.loads(out)
    assert passages[0]["article"] == "volcano"
    scores = [p["score"] for p in passages]
    assert scores == sorted(scores, reverse=True)


def test_info(cli) -> None:
    cli("index")
    code, out, _ = cli("info", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["articles"] == 3
    assert data["model"] == "all-MiniLM-L6-v2"
    assert sorted(data["article_ids"]) == ["notes/bicycle", "tea", "volcano"]


def test_commands_before_any_index_give_one_clear_error(cli) -> None:
    code, _out, err = cli("ask", "anything")
    assert code == 2
    assert "no index" in err and "articlebot index" in err
    assert "Traceback" not in err


def test_missing_corpus_is_a_clear_error(cli, corpus_dir: Path) -> None:
    import shutil

    shutil.rmtree(corpus_dir)
    code, _, err = cli("index")
    assert code == 2
    assert "corpus folder not found" in err


def test_run_without_token_opens_the_chat(cli) -> None:
    code, out, err = cli("run", stdin="What is magma?\n")
    assert code == 0
    assert "No DISCORD_TOKEN" in err
    assert "Articlebot chat" in out
    assert "Volcano" in out


def test_chat_answers_each_line(real_embedder, settings) -> None:
    from index.build import build_index

    build_index(settings, real_embedder)
    engine = Engine.open(settings, real_embedder)
    out = io.StringIO()
    assert chat(engine, io.StringIO("What is tea?\n\nquit\nnot asked\n"), out) == 0
    text = out.getvalue()
    assert text.count("confidence") + text.count("Closest I found") == 1


def test_bench_reports_figures(cli) -> None:
    code, out, _ = cli("bench", "-n", "3", "--json")
    assert code == 0
    figures = json.loads(out)
    assert figures["questions"] == 3
    assert figures["articles"] == 3
    assert figures["build_full_s"] > 0
    assert figures["ask_ms_p95"] >= figures["ask_ms_p50"] > 0


def test_add_checks_copies_and_indexes(cli, corpus_dir: Path, tmp_path: Path) -> None:
    cli("index")
    new = tmp_path / "glaciers.md"
    new.write_text("# Glaciers\n\nA glacier is a persistent body of dense ice.", encoding="utf-8")
    code, out, _ = cli("add", str(new))
    assert code == 0
    assert "added glaciers.md" in out
    assert "1 added, 0 changed, 0 removed, 3 unchanged articles" in out
    assert (corpus_dir / "glaciers.md").read_bytes() == new.read_bytes()
    code, out, _ = cli("ask", "What is a glacier?", "--json")
    assert json.loads(out)["quotes"][0]["article"] == "glaciers"


def test_add_refuses_bad_files_and_copies_none(cli, corpus_dir: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.md"
    good.write_text("# Good\n\nFine text.", encoding="utf-8")
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    code, _, err = cli("add", str(good), str(empty))
    assert code == 2
    assert "empty.md: Refused: empty.md is not a readable article: empty file" in err
    assert not (corpus_dir / "good.md").exists()  # all or nothing
    doc = tmp_path / "report.docx"
    doc.write_bytes(b"PK")
    code, _, err = cli("add", str(doc))
    assert code == 2 and "Refused: .docx" in err


def test_add_does_not_overwrite_without_replace(cli, corpus_dir: Path, tmp_path: Path) -> None:
    clash = tmp_path / "tea.md"
    clash.write_text("# Tea\n\nA new text about tea.", encoding="utf-8")
    code, _, err = cli("add", str(clash))
    assert code == 2 and "already exists" in err and "--replace" in err
    assert "aromatic" in (corpus_dir / "tea.md").read_text(encoding="utf-8")
    code, out, _ = cli("add", str(clash), "--replace")
    assert code == 0 and "added tea.md" in out
    assert (corpus_dir / "tea.md").read_text(encoding="utf-8") == clash.read_text(encoding="utf-8")


def test_remove_by_slug_then_reindex(cli, corpus_dir: Path) -> None:
    cli("index")
    code, out, _ = cli("remove", "notes/bicycle")
    assert code == 0
    assert "removed notes/bicycle.txt" in out
    assert "0 added, 0 changed, 1 removed, 2 unchanged articles" in out
    assert not (corpus_dir / "notes" / "bicycle.txt").exists()
    code, _, err = cli("remove", "notes/bicycle")
    assert code == 2 and "no article" in err


def test_empty_question_or_query_is_a_usage_error(cli) -> None:
    cli("index")
    code, _, err = cli("ask", "  ")
    assert code == 2 and "the question is empty" in err
    code, _, err = cli("search", "")
    assert code == 2 and "the query is empty" in err
