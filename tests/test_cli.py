"""Every CLI command, run in-process on a real index built with the real model."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import index.embedding.embedder
from index.cli.main import chat, main
from index.engine import Engine
from tests.conftest import REPO

pytestmark = pytest.mark.integration

COMMANDS = [
    "index",
    "ask",
    "search",
    "chat",
    "info",
    "verify",
    "add",
    "remove",
    "eval",
    "bench",
    "rollback",
    "health",
    "run",
    "sync-commands",
]
ANSWER_KEYS = {"id", "question", "answered", "confidence", "quotes", "passages"}
QUOTE_KEYS = {"article", "title", "url", "text", "start", "end"}


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, real_embedder, corpus_dir: Path, tmp_path: Path):
    """Run `articlebot ARGS` in-process; returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(index.embedding.embedder, "load_embedder", lambda *args: real_embedder)
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
        [sys.executable, "-m", "index.cli.main", command, "--help"],
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
    assert data["model"] == "articlebot-retriever-1"
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
    from index.build.builder import build_index

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
    assert figures["embedder"] in ("openvino bf16", "openvino f32")  # the default backend


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


# ---- issue 10: errors, losing things, what a user expects ----

STEAM = (
    "# Steam engine\n\nThe first commercially successful engine was the atmospheric engine. "
    "It was invented by Thomas Newcomen in 1712. It pumped water out of mines.\n\n"
    "James Watt later improved the design with a separate condenser in 1765."
)


def test_one_question_limit_for_every_entry_point(cli, real_embedder, settings) -> None:
    cli("index")
    long = "What is tea? " * 800  # 10,400 characters
    for args in (("ask", long), ("search", long)):
        code, out, err = cli(*args)
        assert code == 2 and out == ""
        assert "the question is 10400 characters; the limit is 500 (MAX_QUESTION_CHARS)" in err
    code, out, err = cli("ask", "--json", "--batch", "-", stdin=f"What is tea?\n{long}\n")
    assert code == 2 and len(out.splitlines()) == 1  # the good line is answered
    assert "question 2: the question is 10399 characters" in err  # the line, stripped
    engine = Engine.open(settings.with_(index_dir=settings.index_dir.parent / "idx"), real_embedder)
    out_chat = io.StringIO()
    chat(engine, io.StringIO(f"{long}\nWhat is tea?\n"), out_chat)
    assert "the limit is 500" in out_chat.getvalue() and "aromatic" in out_chat.getvalue()


def test_chat_reads_follow_ups_in_context(real_embedder, settings) -> None:
    from index.build.builder import build_index

    (settings.corpus_dir / "steam.md").write_text(STEAM, encoding="utf-8")
    build_index(settings, real_embedder)
    engine = Engine.open(settings, real_embedder)
    assert engine.ask("When?").answered is False  # alone, "When?" asks nothing
    out = io.StringIO()
    chat(engine, io.StringIO("Who invented the atmospheric engine?\nWhen?\nnew\nWhen?\n"), out)
    answers = out.getvalue().split("\n", 1)[1].split("\n\n")  # after the greeting
    assert "Newcomen in 1712" in answers[0]
    assert "Newcomen in 1712" in answers[1] and "confidence" in answers[1]  # in context
    assert "(new conversation)" in answers[2]
    assert "don't answer" in answers[3]  # a fresh conversation has no context


def test_search_scores_tell_passages_apart(cli) -> None:
    cli("index")
    code, out, _ = cli("search", "magma chamber gases", "-k", "3")
    assert code == 0
    scores = [line.split("]")[0].split()[-1] for line in out.splitlines() if "[ranker" in line]
    assert len(scores) == 3 and len(set(scores)) == 3  # not [1.0000] three times
    assert [float(s) for s in scores] == sorted((float(s) for s in scores), reverse=True)


def test_progress_is_plain_lines_when_not_a_terminal() -> None:
    from index.cli.indexing import ProgressBar

    err = io.StringIO()
    with ProgressBar(err, every_s=3600) as bar:
        for done in range(1, 101):
            bar("embedding", done, 100)
    # the first and the last update of the stage; the rest fall within the interval
    assert err.getvalue() == "embedding: 1/100 (1%)\nembedding: 100/100 (100%)\n"


def test_unchanged_corpus_publishes_nothing(cli, tmp_path: Path) -> None:
    _, first, _ = cli("index")
    code, _, _ = cli("run", stdin="")  # chat on an unchanged corpus
    assert code == 0
    generations = list((tmp_path / "idx" / "generations").iterdir())
    assert len(generations) == 1
    assert first.split("generation ")[1].split()[0] == generations[0].name


def test_run_serve_only_serves_the_published_index_without_building(
    cli, corpus_dir: Path, tmp_path: Path
) -> None:
    cli("index")
    generations = tmp_path / "idx" / "generations"
    before = sorted(p.name for p in generations.iterdir())
    lock = tmp_path / "idx" / ".build.lock"
    lock_before = (lock.stat().st_mtime_ns, lock.read_bytes())
    (corpus_dir / "kettle.md").write_text("# Kettle\n\nA kettle whistles when it boils.\n")
    code, out, _ = cli("run", "--serve-only", stdin="What whistles when it boils?\n")
    assert code == 0 and "Articlebot chat" in out
    assert sorted(p.name for p in generations.iterdir()) == before  # the new article waits
    assert (lock.stat().st_mtime_ns, lock.read_bytes()) == lock_before  # no build was started


def test_emptied_corpus_is_not_published_unless_allowed(
    cli, corpus_dir: Path, tmp_path: Path
) -> None:
    cli("index")
    corpus_dir.rename(tmp_path / "away")
    corpus_dir.mkdir()  # e.g. an empty or unmounted folder
    code, _, err = cli("index")
    assert code == 2
    assert "refusing to publish an index without 3 of the 3 articles" in err
    assert "--allow-shrink" in err
    code, out, _ = cli("info", "--json")
    assert json.loads(out)["articles"] == 3  # still serving
    code, out, err = cli("run", stdin="What is tea?\n")  # the chat warns and serves on
    assert code == 0 and "warning: refusing to publish" in err and "aromatic" in out
    code, out, _ = cli("index", "--allow-shrink")
    assert code == 0 and "3 removed" in out


def test_rollback_serves_the_previous_generation(cli, corpus_dir: Path) -> None:
    _, out, _ = cli("index")
    first = out.split("generation ")[1].split()[0]
    (corpus_dir / "tea.md").unlink()
    _, out, _ = cli("index")
    second = out.split("generation ")[1].split()[0]
    code, out, _ = cli("rollback")
    assert code == 0 and f"now serving generation {first} (was {second})" in out
    _, out, _ = cli("info", "--json")
    info = json.loads(out)
    assert info["generation"] == first and "tea" in info["article_ids"]
    code, _, err = cli("rollback", "--to", "nonsense")
    assert code == 2 and "no generation 'nonsense'" in err


def test_index_optimize_merges_the_segments(cli, corpus_dir: Path) -> None:
    cli("index")
    (corpus_dir / "tea.md").unlink()
    cli("index")
    _, out, _ = cli("info", "--json")
    assert len(json.loads(out)["segments"]) == 1 and json.loads(out)["segments"][0]["deleted"]
    (corpus_dir / "kettle.md").write_text("# Kettle\n\nIt boils water.", encoding="utf-8")
    cli("index")
    code, out, _ = cli("index", "--optimize")
    assert code == 0 and "0 added, 0 changed, 0 removed, 3 unchanged articles" in out
    _, out, _ = cli("info", "--json")
    info = json.loads(out)
    assert [s["deleted"] for s in info["segments"]] == [[]]
    assert sorted(info["article_ids"]) == ["kettle", "notes/bicycle", "volcano"]


def test_add_checks_every_file_before_copying_any(cli, corpus_dir: Path, tmp_path: Path) -> None:
    new = tmp_path / "a.md"
    new.write_text("# A\n\nSome text about a.", encoding="utf-8")
    clash = tmp_path / "tea.md"
    clash.write_text("# Tea\n\nOther tea text.", encoding="utf-8")
    code, _, err = cli("add", str(new), str(clash))
    assert code == 2 and "already exists" in err
    assert not (corpus_dir / "a.md").exists()


def test_added_files_get_the_folders_mode_and_any_letters(
    cli, corpus_dir: Path, tmp_path: Path
) -> None:
    corpus_dir.chmod(0o755)
    src = tmp_path / "Thé über notes.md"
    src.write_text("# Thé\n\nÜber notes about tea.", encoding="utf-8")
    code, out, err = cli("add", str(src))
    assert code == 0, err
    saved = corpus_dir / "Thé über notes.md"
    assert saved.stat().st_mode & 0o777 == 0o644
    assert "added Thé über notes.md" in out


def test_add_a_folder_says_it_is_a_folder(cli, tmp_path: Path) -> None:
    folder = tmp_path / "drafts"
    folder.mkdir()
    code, _, err = cli("add", str(folder))
    assert code == 2 and "is a folder; name its files instead" in err
    assert "extension" not in err


def test_remove_by_file_path(cli, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli("index")
    code, out, err = cli("remove", str(corpus_dir / "tea.md"))  # absolute
    assert code == 0, err and "removed tea.md" in out
    monkeypatch.chdir(corpus_dir.parent)
    code, out, err = cli("remove", "corpus/notes/bicycle.txt")  # relative to the current folder
    assert code == 0, err
    assert "removed notes/bicycle.txt" in out


def test_over_large_article_is_skipped_once_with_the_setting(
    cli, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_ARTICLE_BYTES", "1000")
    (corpus_dir / "big.txt").write_text("Big\n\n" + "word " * 400, encoding="utf-8")
    code, out, err = cli("index")
    assert code == 0
    assert (
        "skipped big.txt: file is 2,005 bytes, over the 1,000-byte limit (MAX_ARTICLE_BYTES)" in out
    )
    assert "big.txt" not in err  # reported once, not again as a WARNING log line
    monkeypatch.setenv("MAX_ARTICLE_BYTES", "lots")
    code, _, err = cli("index")
    assert code == 2 and "MAX_ARTICLE_BYTES must be a whole number, got 'lots'" in err


def test_bad_front_matter_is_one_line(cli, corpus_dir: Path) -> None:
    (corpus_dir / "bad.md").write_text(
        '---\ntitle: "unclosed\nurl: x\n---\nBody.\n', encoding="utf-8"
    )
    _, out, _ = cli("index")
    [line] = [x for x in out.splitlines() if "bad.md" in x]
    assert line == (
        "skipped bad.md: front matter is not valid YAML: while scanning a quoted scalar on line 2:"
        " found unexpected end of stream on line 3"
    )


def test_page_without_title_is_named_after_its_file(cli, corpus_dir: Path) -> None:
    (corpus_dir / "kettle-notes.html").write_text(
        "<html><body><p>A kettle boils water for tea in a few minutes.</p></body></html>",
        encoding="utf-8",
    )
    cli("index")
    _, out, _ = cli("search", "kettle boils water", "--json", "-k", "1")
    assert json.loads(out)[0]["title"] == "kettle notes"


def test_health_reads_the_bots_heartbeat(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from index.process.health import write_heartbeat

    beat = tmp_path / "beat"
    monkeypatch.setenv("BOT_HEARTBEAT_FILE", str(beat))
    code, _, err = cli("health")
    assert code == 1 and f"no heartbeat file {beat}" in err
    write_heartbeat(beat, now=1.0)  # long ago
    code, _, err = cli("health")
    assert code == 1 and "stuck or disconnected" in err
    write_heartbeat(beat)
    assert cli("health")[0] == 0


def test_json_logs(cli, monkeypatch: pytest.MonkeyPatch, corpus_dir: Path) -> None:
    monkeypatch.setenv("LOG_FORMAT", "json")
    code, _, err = cli("index", "-v")
    assert code == 0
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert records and {"time", "level", "logger", "message"} <= records[0].keys()
    monkeypatch.setenv("LOG_LEVEL", "loud")
    code, _, err = cli("info")
    assert code == 2 and "LOG_LEVEL must be one of DEBUG" in err


def test_guilds_and_stats_show_the_operator_every_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.stats import StatsStore
    from index.types import Answer, Quote

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SERVERS_DIR", str(tmp_path / "servers"))
    monkeypatch.setenv("BOT_DB_PATH", str(tmp_path / "bot.sqlite3"))
    (tmp_path / "servers" / "41" / "corpus").mkdir(parents=True)
    (tmp_path / "servers" / "41" / "corpus" / "a.md").write_text("# A\n\nText.\n", "utf-8")
    store = StatsStore(tmp_path / "bot.sqlite3")
    for guild in (41, 42):
        store.record_question(
            Answer(f"asked in {guild}?", False, 0.1, (), ()),
            user_id=1,
            guild_id=guild,
            latency_ms=3,
        )
    quote = Quote("tea", "Tea", None, "Tea came from China.", 0, 20)
    answered = Answer("Tea?", True, 0.9, (quote,), ())
    asked = store.record_question(answered, user_id=1, guild_id=41, latency_ms=3, shown=(quote,))
    assert store.record_quote_feedback(asked, 0, 2, -1, guild_id=41)
    store.close()

    assert main(["guilds", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["server_id"], r["articles"]) for r in rows] == [(41, 1), (42, 0)]
    assert all(r["last_question"] for r in rows)

    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    assert "asked in 41?" in out and "asked in 42?" in out and "1 answered, 2 declined" in out
    assert "quotes marked wrong x1 (helpful x0): tea (Tea)" in out
    assert main(["stats", "--guild", "42"]) == 0
    out = capsys.readouterr().out
    assert "asked in 42?" in out and "asked in 41?" not in out and "marked wrong" not in out
    assert main(["stats", "--guild", "41", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)["wrong_quotes"]
    assert row == {"article": "tea", "title": "Tea", "wrong": 1, "helpful": 0}
