"""`articlebot add URL` and `articlebot feed ...` end to end: loopback server, real model and index."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import index.embedding.embedder
from index.cli.main import main
from tests.web.pages import article, rss
from tests.web.server import LoopbackWeb

pytestmark = pytest.mark.integration

Run = Callable[..., tuple[int, str, str]]
OTTERS = (Path(__file__).parent.parent / "data" / "web" / "news-article.html").read_text("utf-8")


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, real_embedder, corpus_dir: Path, tmp_path: Path) -> Run:
    """`articlebot ARGS` in-process with FETCH_ALLOW_PRIVATE=1 (the server is on 127.0.0.1)."""
    monkeypatch.setattr(index.embedding.embedder, "load_embedder", lambda *args: real_embedder)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FETCH_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("BOT_DB_PATH", str(tmp_path / "bot.sqlite3"))

    def run(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        code = main([*args, "--corpus", str(corpus_dir), "--index-dir", str(tmp_path / "idx")])
        return code, out.getvalue(), err.getvalue()

    return run


def test_add_url_then_a_verbatim_quote_with_its_url_and_date(
    cli: Run, web: LoopbackWeb, corpus_dir: Path
) -> None:
    web.page("/otters", OTTERS)
    code, out, err = cli("add", web.url("/otters"))
    assert code == 0, err
    assert "added web/127.0.0.1/otters-" in out and "(2024-03-05)" in out
    code, out, _ = cli("ask", "--json", "Why did otters disappear from England?")
    answer = json.loads(out)
    [quote, *_] = answer["quotes"]
    assert (quote["url"], quote["date"]) == (web.url("/otters"), "2024-03-05")
    assert "organochlorine pesticides" in quote["text"]
    stored = (corpus_dir / f"{quote['article']}.md").read_text(encoding="utf-8")
    assert quote["text"] in stored
    assert quote["link"].startswith(web.url("/otters") + "#:~:text=")  # to the quoted words
    code, out, _ = cli("ask", "Why did otters disappear from England?")
    assert f"({quote['link']}, 2024-03-05)" in out


def test_add_refuses_a_bad_link_and_adds_nothing(
    cli: Run, web: LoopbackWeb, corpus_dir: Path, tmp_path: Path
) -> None:
    before = sorted(p.name for p in corpus_dir.rglob("*"))
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nA note that must not be added alone.\n", encoding="utf-8")
    web.route("/data.json", "{}", Content_Type="application/json")
    code, out, err = cli("add", str(note), web.url("/data.json"))
    assert code == 2 and out == ""
    assert err.strip() == (
        f"articlebot: error: {web.url('/data.json')}: not an HTML page "
        "(the server sent application/json)"
    )
    assert sorted(p.name for p in corpus_dir.rglob("*")) == before


def test_feed_add_list_poll_remove(cli: Run, web: LoopbackWeb) -> None:
    web.page(
        "/n1", article("Harbour", "The harbour wall will be repaired before the winter storms.")
    )
    web.route("/rss", rss("Harbour news", [("n1", web.url("/n1"), "")]), Content_Type="text/xml")
    code, out, err = cli("feed", "add", web.url("/rss"))
    assert code == 0, err
    assert out.startswith("following Harbour news") and "1 entries" in out
    code, out, _ = cli("feed", "list")
    assert "Harbour news" in out and "not polled yet" in out
    code, out, err = cli("feed", "poll")
    assert code == 0, err
    assert "Harbour news: 1 added, 0 updated, 0 already in the corpus" in out
    assert "generation" in out.splitlines()[-1]  # one index update, after the poll
    code, out, _ = cli("feed", "list", "--json")
    [feed] = json.loads(out)
    assert feed["articles"] == 1 and feed["last_error"] is None
    code, out, _ = cli("feed", "remove", web.url("/rss"))
    assert code == 0 and "no longer following" in out
    code, _, err = cli("feed", "remove", web.url("/rss"))
    assert code == 2 and "this feed is not followed" in err


def test_add_of_several_urls_is_all_or_none(
    cli: Run, web: LoopbackWeb, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed between two pages' saves, `add URL URL` kept one of them; now the pages are one
    journaled batch: a failure while writing the second leaves neither."""
    import index.corpus.batch as batch

    web.page("/a", article("Harbour", "The harbour wall will be rebuilt with granite."))
    web.page("/b", article("Ferry", "The ferry will run every hour from the new quay."))
    real_write, written = batch._write_part, []

    def fail_on_second(corpus: Path, data: bytes) -> Path:
        if written:
            raise OSError(28, "No space left on device")
        written.append(data)
        return real_write(corpus, data)

    monkeypatch.setattr(batch, "_write_part", fail_on_second)
    before = sorted(p.relative_to(corpus_dir) for p in corpus_dir.rglob("*") if p.is_file())
    code, _, err = cli("add", web.url("/a"), web.url("/b"))
    assert code != 0 and "No space left on device; nothing was added" in err
    assert "Traceback" not in err
    after = sorted(p.relative_to(corpus_dir) for p in corpus_dir.rglob("*") if p.is_file())
    assert after == before  # neither page, no part file left
