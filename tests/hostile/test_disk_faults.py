"""A read-only or full disk under the corpus, the index or the feed database (issue 19): `remove`,
`feed poll`, `index`, `verify`, `rollback` and the bot's admin commands say so in one line naming
the path and the problem, exit non-zero, and lose nothing (the article whole, the previous
generation serving, the feeds' entries retried). The faults are injected (tests/hostile/disk_faults.py):
CI runs as root, where chmod does not bite."""

from __future__ import annotations

import errno
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import index.embedding.embedder
from bot import admin_logic
from bot.errors import describe
from index.cli.indexing import open_engine
from index.cli.main import main
from index.config import Settings
from index.embedding.embedder import HashEmbedder
from index.errors import CannotWrite
from index.web.feedstore import FeedStore
from tests.conftest import SMALL_CORPUS, write_corpus
from tests.hostile.disk_faults import break_disk
from tests.web.pages import article, rss
from tests.web.server import LoopbackWeb

Run = Callable[..., tuple[int, str, str]]
EMBEDDER = HashEmbedder(dim=64)
READ_ONLY, FULL = errno.EROFS, errno.ENOSPC


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    corpus = write_corpus(tmp_path / "corpus", SMALL_CORPUS)
    return Settings.from_env({}, corpus_dir=corpus, index_dir=tmp_path / "idx")


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path) -> Run:
    """`articlebot ARGS` in-process (exit code, stdout, stderr), with a fast fake embedder."""
    monkeypatch.setattr(index.embedding.embedder, "load_embedder", lambda *args: EMBEDDER)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.setenv("FETCH_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("BOT_DB_PATH", str(tmp_path / "var" / "bot.sqlite3"))

    def run(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        streams = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            code = main(
                [
                    *args,
                    "--corpus",
                    str(settings.corpus_dir),
                    "--index-dir",
                    str(settings.index_dir),
                ]
            )
        finally:
            sys.stdout, sys.stderr = streams
        return code, out.getvalue(), err.getvalue()

    return run


def one_line(err: str) -> str:
    """The one error line (progress lines of a build may come before it), and no traceback."""
    assert "Traceback" not in err
    [line] = [x for x in err.splitlines() if not x.startswith(("chunking:", "embedding:"))]
    return line


def two_generations(cli: Run, settings: Settings) -> tuple[str, str]:
    """An index with a previous generation kept (for rollback); returns (previous, current)."""
    assert cli("index")[0] == 0
    first = current(settings)
    (settings.corpus_dir / "kettle.md").write_text("# Kettle\n\nA kettle boils water.\n")
    assert cli("index")[0] == 0
    return first, current(settings)


def current(settings: Settings) -> str:
    return (settings.index_dir / "CURRENT").read_text().strip()


def answers(settings: Settings) -> bool:
    engine = open_engine(settings, build=False)
    return engine.ask("Where did tea originate?").answered


# remove ----------------------------------------------------------------------------------------


def test_remove_on_a_read_only_corpus_is_one_line_and_the_article_stays_whole(
    cli: Run, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("index")[0] == 0
    tea = settings.corpus_dir / "tea.md"
    before, generation = tea.read_bytes(), current(settings)
    fault = break_disk(monkeypatch, settings.corpus_dir, READ_ONLY)
    code, out, err = cli("remove", "tea")
    assert code == 74 and out == ""
    assert one_line(err) == (
        f"articlebot: error: cannot write to {tea}: read-only file system; "
        "the article was not removed"
    )
    assert fault.refused == [str(tea)]
    assert tea.read_bytes() == before and current(settings) == generation
    assert answers(settings)


def test_remove_on_a_full_corpus_disk_still_deletes(
    cli: Run, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk still allows deletes: removing an article is how an admin frees space."""
    assert cli("index")[0] == 0
    break_disk(monkeypatch, settings.corpus_dir, FULL)
    code, out, err = cli("remove", "tea")
    assert code == 0, err
    assert out.startswith("removed tea.md") and not (settings.corpus_dir / "tea.md").exists()


def test_remove_with_a_read_only_index_touches_nothing(
    cli: Run, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build lock is taken before the corpus changes: with INDEX_DIR read-only, the article is
    not deleted (the corpus and the index would disagree)."""
    assert cli("index")[0] == 0
    break_disk(monkeypatch, settings.index_dir, READ_ONLY)
    code, _, err = cli("remove", "tea")
    assert code == 74
    assert one_line(err) == (
        f"articlebot: error: cannot write to {settings.index_dir / '.build.lock'}: read-only "
        "file system; nothing was changed; the current index still serves"
    )
    assert (settings.corpus_dir / "tea.md").is_file()


# index, verify, rollback -----------------------------------------------------------------------


@pytest.mark.parametrize("code", [READ_ONLY, FULL])
def test_index_on_a_read_only_or_full_index_folder_keeps_the_previous_generation(
    cli: Run, settings: Settings, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    assert cli("index")[0] == 0
    generation = current(settings)
    (settings.corpus_dir / "kettle.md").write_text("# Kettle\n\nA kettle boils water.\n")
    fault = break_disk(monkeypatch, settings.index_dir, code)
    status, _, err = cli("index", "--full")
    line = one_line(err)
    assert status == 74 and fault.refused
    if code == READ_ONLY:
        assert line.startswith(f"articlebot: error: cannot write to {settings.index_dir}/")
        assert "read-only file system" in line
    else:
        assert line.startswith(f"articlebot: error: the disk holding {settings.index_dir}")
        assert "is full" in line
    assert current(settings) == generation
    assert not list((settings.index_dir / "generations").glob(".tmp-*"))
    assert answers(settings)
    fault.lift()  # the disk works again: the next build publishes
    assert cli("index")[0] == 0 and current(settings) != generation


def test_verify_on_a_read_only_index_checks_every_file(
    cli: Run, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("index")[0] == 0
    fault = break_disk(monkeypatch, settings.index_dir, READ_ONLY)
    code, out, err = cli("verify")
    assert code == 0 and err == "", err
    assert "every checksum matches" in out
    assert any(".verified.json" in p for p in fault.refused)  # its stamp could not be written


@pytest.mark.parametrize("code", [READ_ONLY, FULL])
def test_rollback_on_a_read_only_or_full_index_folder_keeps_current(
    cli: Run, settings: Settings, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    previous, serving = two_generations(cli, settings)
    fault = break_disk(monkeypatch, settings.index_dir, code)
    status, out, err = cli("rollback")
    assert status == 74 and out == ""
    line = one_line(err)
    problem = "read-only file system" if code == READ_ONLY else "no space left on device"
    assert line.startswith(f"articlebot: error: cannot write to {settings.index_dir}/")
    assert problem in line
    if code == FULL:  # the lock could be taken: it got as far as the pointer
        assert f"CURRENT still names generation {serving}" in line
    assert fault.refused
    assert current(settings) == serving
    assert not (settings.index_dir / "CURRENT.tmp").exists()
    fault.lift()
    assert cli("rollback")[0] == 0 and current(settings) == previous


def test_serving_on_a_read_only_index_starts_on_the_current_generation(
    cli: Run,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`run` and `chat` build first; a read-only INDEX_DIR (a replica's copy) serves as it is."""
    assert cli("index")[0] == 0
    (settings.corpus_dir / "kettle.md").write_text("# Kettle\n\nA kettle boils water.\n")
    monkeypatch.setattr(index.embedding.embedder, "load_embedder", lambda *args: EMBEDDER)
    break_disk(monkeypatch, settings.index_dir, READ_ONLY)
    engine = open_engine(settings)  # builds first, as `run` does
    assert engine.ask("Where did tea originate?").answered
    err = capsys.readouterr().err
    assert f"articlebot: warning: cannot write to {settings.index_dir}" in err
    assert "read-only file system" in err and "the current index still serves" in err


# feed poll -------------------------------------------------------------------------------------


@pytest.fixture
def web() -> LoopbackWeb:
    with LoopbackWeb().running() as server:
        yield server  # type: ignore[misc]


def test_feed_poll_on_a_read_only_corpus_saves_nothing_and_retries_next_time(
    cli: Run, settings: Settings, monkeypatch: pytest.MonkeyPatch, web: LoopbackWeb, tmp_path: Path
) -> None:
    web.page("/n1", article("Harbour", "The harbour wall will be repaired before the storms."))
    web.route("/rss", rss("Harbour news", [("n1", web.url("/n1"), "")]), Content_Type="text/xml")
    assert cli("feed", "add", web.url("/rss"))[0] == 0
    assert cli("index")[0] == 0
    files = sorted(settings.corpus_dir.rglob("*"))
    fault = break_disk(monkeypatch, settings.corpus_dir, READ_ONLY)
    code, out, err = cli("feed", "poll")
    assert code == 1 and "Traceback" not in err
    [line, *_] = out.splitlines()
    assert line.startswith(f"Harbour news: cannot write to {settings.corpus_dir}")
    assert "read-only file system; this entry and the rest of the feed were not saved" in line
    assert sorted(settings.corpus_dir.rglob("*")) == files
    store = FeedStore(tmp_path / "var" / "bot.sqlite3")
    [feed] = store.feeds()
    assert store.seen(feed.id) == {}  # not marked seen: the next poll tries it again
    assert "read-only file system" in (feed.last_error or "")  # `feed list` shows why
    store.close()
    fault.lift()
    code, out, err = cli("feed", "poll")
    assert code == 0, err
    assert "Harbour news: 1 added" in out


def test_feed_poll_with_a_read_only_feed_database_is_one_line(
    cli: Run, settings: Settings, monkeypatch: pytest.MonkeyPatch, web: LoopbackWeb, tmp_path: Path
) -> None:
    web.route("/rss", rss("Harbour news", []), Content_Type="text/xml")
    assert cli("feed", "add", web.url("/rss"))[0] == 0
    database = tmp_path / "var" / "bot.sqlite3"
    break_disk(monkeypatch, database.parent, READ_ONLY)
    code, _, err = cli("feed", "poll")
    assert code == 74
    assert one_line(err) == (
        f"articlebot: error: cannot write to {database}: readonly database; the feed list was "
        "not changed (BOT_DB_PATH)"
    )
    code, out, _ = cli("feed", "list", "--json")  # reading still works
    assert code == 0 and json.loads(out)[0]["last_poll_at"] is None


# the bot's admin commands ----------------------------------------------------------------------


def test_bot_upload_and_removal_on_a_refusing_disk_tell_the_admin_and_lose_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    tea = settings.corpus_dir / "tea.md"
    before = sorted(settings.corpus_dir.rglob("*"))
    fault = break_disk(monkeypatch, settings.corpus_dir, FULL)
    with pytest.raises(CannotWrite) as full:
        admin_logic.save_article(
            settings.corpus_dir, "new.md", b"# New\n\nNew text.\n", replace=False
        )
    assert str(settings.corpus_dir) in full.value.user_line()
    assert "no space left on device; nothing was saved" in full.value.user_line()
    assert sorted(settings.corpus_dir.rglob("*")) == before  # no part file left
    fault.lift()
    break_disk(monkeypatch, settings.corpus_dir, READ_ONLY)
    with pytest.raises(CannotWrite) as read_only:
        admin_logic.remove_article(settings.corpus_dir, "tea.md")
    assert tea.is_file()
    for error in (full.value, read_only.value):
        text = describe(error)  # what the admin reads: the problem, not the server's paths
        assert text is not None and str(settings.corpus_dir) not in text
        assert error.problem in text and "nothing was lost" in text
