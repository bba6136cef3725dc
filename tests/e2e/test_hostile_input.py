"""Hostile input through the real client (issue 9, Security): echoed text is neutralized, and a
YAML bomb or a backtracking bait uploaded with /add-article neither stalls the gateway nor lands."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from bot.client import ArticleBot
from index.config import Settings
from index.corpus import files as corpus_files
from tests.conftest import write_corpus
from tests.e2e.actions import InteractionLog
from tests.e2e.conftest import CORPUS
from tests.e2e.loopback import LoopbackDiscord
from tests.test_corpus_security import BOMB

pytestmark = pytest.mark.e2e

HOSTILE = "@everyone [click me](https://evil.example/t) <@&111>"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    hostile = {
        "hostile.md": f"---\ntitle: '{HOSTILE}'\n---\nThe glacier moved slowly down the valley.\n"
    }
    corpus = write_corpus(tmp_path / "corpus", CORPUS | hostile)
    return Settings.from_env({}, corpus_dir=corpus, index_dir=tmp_path / "index")


def live(text: str) -> bool:
    """A ping, masked link or mention Discord would render in a title or field name."""
    return "@everyone" in text or re.search(r"(?<!\\)\[|(?<!\\)<@", text) is not None


async def test_search_query_and_article_titles_are_neutralized(
    bot: ArticleBot, loopback: LoopbackDiscord
) -> None:
    log = await loopback.slash("search", {"query": f"{HOSTILE} glacier valley", "k": 3})
    await loopback.until(lambda: log.followups)
    embed = log.followups[0]["embeds"][0]
    assert embed["title"].startswith("Search: ") and "click me" in embed["title"]
    assert not live(embed["title"])
    names = [f["name"] for f in embed["fields"]]
    assert any("click me" in n for n in names) and not any(live(n) for n in names)

    complete = await loopback.autocomplete("article", "title", "click")
    await loopback.until(lambda: complete.callbacks)
    [choice] = complete.callbacks[0]["data"]["choices"]
    assert choice["value"] == "hostile" and "click me" in choice["name"]
    assert not any(s in choice["name"] for s in ("@everyone", "](", "<@", "\\"))


async def test_bomb_and_backtracking_bait_do_not_stall_the_gateway(
    bot: ArticleBot,
    loopback: LoopbackDiscord,
    settings: Settings,
    no_heartbeat_warnings: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked_on: list[threading.Thread] = []
    real_check = corpus_files.check_article

    def check(name: str, data: bytes) -> None:
        checked_on.append(threading.current_thread())
        real_check(name, data)

    monkeypatch.setattr(corpus_files, "check_article", check)
    before = sorted(p.name for p in settings.corpus_dir.iterdir())
    bomb = await loopback.attach_and_run("add-article", "bomb.md", BOMB.encode())

    def said(log: InteractionLog) -> str:
        messages = [*log.followups, *log.edits, *([log.original] if log.original else [])]
        return " ".join(m.get("content") or "" for m in messages)

    await loopback.until(lambda: "not a readable article" in said(bomb), what="the refusal")
    assert "bomb.md" in said(bomb) and "anchors and aliases are not allowed" in said(bomb)
    assert sorted(p.name for p in settings.corpus_dir.iterdir()) == before
    # Parsing the upload ran on a worker thread, never on the event loop's.
    assert checked_on and threading.current_thread() not in checked_on

    # 40,000 dots: about 30 s of backtracking per scan with the old sentence-end pattern.
    bait = ("# Dots\n\n" + "." * 40_000 + " The end of the dots.\n").encode()
    dots = await loopback.attach_and_run("add-article", "dots.md", bait)
    await loopback.until(lambda: "Reindex finished" in said(dots), what="the reindex")
    assert "server:dots" in {a.id for a in bot.reader_for(int(loopback.guild_id)).articles()}
    assert len(checked_on) == 2 and threading.current_thread() not in checked_on
