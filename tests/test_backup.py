"""`articlebot backup` and `articlebot restore` (issue 21): a backup taken while the bot's database
is open and being written is consistent, and restores into empty places (or with --force) give back
the databases, the operator's corpus and the servers' libraries; the index is rebuilt, not copied."""

from __future__ import annotations

import io
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.stats import StatsStore
from index.cli.main import main
from index.types import Answer
from index.web.feedstore import FeedStore
from tests.conftest import SMALL_CORPUS, write_corpus

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bot's home: its database, the operator's corpus, server 41's library (with an index)."""
    home = tmp_path / "live"
    write_corpus(home / "corpus", SMALL_CORPUS)
    server = home / "servers" / "41"
    write_corpus(server / "corpus", {"notes/a.md": "# A\n\nThe harbour wall is granite.\n"})
    (server / "left").write_text("1700000000\n", encoding="utf-8")
    (server / "index" / "generations").mkdir(parents=True)
    FeedStore(server / "feeds.sqlite3").close()
    monkeypatch.chdir(tmp_path)
    _point_at(monkeypatch, home)
    return home


def _point_at(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    monkeypatch.setenv("BOT_DB_PATH", str(home / "bot.sqlite3"))
    monkeypatch.setenv("SERVERS_DIR", str(home / "servers"))
    monkeypatch.setenv("CORPUS_DIR", str(home / "corpus"))
    monkeypatch.setenv("INDEX_DIR", str(home / "index"))


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Run:
    def articlebot(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        return main(list(args)), out.getvalue(), err.getvalue()

    return articlebot


@pytest.fixture
def writing(live: Path) -> Iterator[threading.Event]:
    """The bot's statistics store open and recording questions until the test ends; yields once
    the first question is stored (the event stops it)."""
    store = StatsStore(live / "bot.sqlite3")
    stop, first = threading.Event(), threading.Event()

    def write() -> None:
        answer = Answer("why?", False, 0.1, (), (), generation="g")
        while not stop.is_set():
            store.record_question(answer, user_id=1, guild_id=41, latency_ms=3.0)
            first.set()
            stop.wait(0.002)  # a busy bot's pace, not a tight loop on the shared cores

    writer = threading.Thread(target=write)
    writer.start()
    first.wait(30)
    yield stop
    stop.set()
    writer.join()
    store.close()


def questions(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return int(db.execute("SELECT count(*) FROM questions").fetchone()[0])
    finally:
        db.close()


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_backup_while_written_then_restore_round_trips(
    live: Path, writing: threading.Event, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = tmp_path / "backup"
    code, out, err = run("backup", str(saved))
    assert code == 0, err
    assert "copied database bot.sqlite3" in out and "copied folder corpus (3 files" in out
    assert "rebuilds it from the restored corpus" in out
    writing.set()  # the writer stops; the live database kept growing meanwhile
    backed_up = questions(saved / "bot.sqlite3")
    assert 1 <= backed_up <= questions(live / "bot.sqlite3")
    assert not (saved / "servers" / "41" / "index").exists()  # rebuilt, not copied

    fresh = tmp_path / "fresh"
    _point_at(monkeypatch, fresh)
    code, out, err = run("restore", str(saved))
    assert code == 0, err
    assert "restored database bot.sqlite3 (1 files" not in out  # a database is not a folder
    assert "restored database bot.sqlite3" in out and str(fresh / "bot.sqlite3") in out
    assert "Restored 5 items" in out and "articlebot index" in out
    assert questions(fresh / "bot.sqlite3") == backed_up
    assert files(fresh / "corpus") == files(live / "corpus")
    restored, original = files(fresh / "servers"), files(live / "servers")
    assert restored.keys() == {"41/corpus/notes/a.md", "41/left", "41/feeds.sqlite3"}
    for name in ("41/corpus/notes/a.md", "41/left"):
        assert restored[name] == original[name]
    feeds = FeedStore(fresh / "servers" / "41" / "feeds.sqlite3")
    assert feeds.feeds() == []  # a working feed database
    feeds.close()


def test_restore_refuses_to_overwrite_without_force(live: Path, run: Run, tmp_path: Path) -> None:
    StatsStore(live / "bot.sqlite3").close()
    saved = tmp_path / "backup"
    assert run("backup", str(saved))[0] == 0
    (live / "corpus" / "added-later.md").write_text("# Later\n\nNew.\n", encoding="utf-8")

    code, out, err = run("restore", str(saved))
    assert code == 2 and out == ""
    assert "restore would overwrite" in err and "--force" in err
    assert str(live / "bot.sqlite3") in err or str(live / "corpus") in err
    assert (live / "corpus" / "added-later.md").exists()  # nothing was touched

    code, out, err = run("restore", str(saved), "--force")
    assert code == 0, err
    assert not (live / "corpus" / "added-later.md").exists()
    assert "restored folder corpus (3 files" in out
    assert not list(live.glob(".corpus.*"))  # no staging folder left behind


def test_backup_and_restore_errors_name_the_folder(live: Path, run: Run, tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "something").write_text("x", encoding="utf-8")
    code, _, err = run("backup", str(busy))
    assert code == 2 and f"backup folder {busy} is not empty" in err
    code, _, err = run("restore", str(busy))
    assert code == 2 and f"{busy / 'backup.json'} not found" in err and "not a backup" in err
