"""Lookups through the real client: /search with its pager, /article with autocomplete, /sources."""

from __future__ import annotations

import pytest

from bot.client import ArticleBot
from tests.e2e.conftest import CORPUS
from tests.e2e.loopback import LoopbackDiscord

pytestmark = pytest.mark.e2e


def button(message: dict, label: str) -> str:
    for row in message["components"]:
        for c in row["components"]:
            if c.get("label") == label:
                return c["custom_id"]
    raise AssertionError(f"no {label!r} button")


def disabled(message: dict, label: str) -> bool:
    for row in message["components"]:
        for c in row["components"]:
            if c.get("label") == label:
                return bool(c.get("disabled"))
    raise AssertionError(f"no {label!r} button")


async def test_search_paginates_through_the_button(
    bot: ArticleBot, loopback: LoopbackDiscord
) -> None:
    log = await loopback.slash("search", {"query": "market town bridge", "k": 8})
    await loopback.until(lambda: log.followups)
    first = log.followups[0]
    assert log.callbacks[0]["type"] == 5 and first["flags"] & 64  # ephemeral by default
    names = [f["name"] for f in first["embeds"][0]["fields"]]
    assert names[0].startswith("1. ") and "score" in names[0]
    assert "Page 1 of" in first["embeds"][0]["footer"]["text"]
    assert disabled(first, "Previous") and not disabled(first, "Next")

    turn = await loopback.click(first, button(first, "Next"), user=loopback.alice)
    await loopback.until(lambda: turn.callbacks)
    assert turn.callbacks[0]["type"] == 7  # the same message is updated in place
    page2 = loopback.messages[first["id"]]
    assert page2["embeds"][0]["fields"][0]["name"].startswith("6. ")
    assert "Page 2 of 2" in page2["embeds"][0]["footer"]["text"]
    assert disabled(page2, "Next") and not disabled(page2, "Previous")

    share = await loopback.click(page2, button(page2, "Share in channel"), user=loopback.alice)
    await loopback.until(lambda: share.original)
    assert not share.original["flags"] & 64 and "Shared by" in share.original["content"]

    stranger = await loopback.click(page2, button(page2, "Previous"), user=loopback.admin)
    await loopback.until(lambda: stranger.original)
    assert stranger.original["flags"] & 64 and "belong to" in stranger.original["content"]


async def test_article_autocomplete_and_details(bot: ArticleBot, loopback: LoopbackDiscord) -> None:
    complete = await loopback.autocomplete("article", "title", "vol")
    await loopback.until(lambda: complete.callbacks)
    choices = complete.callbacks[0]["data"]["choices"]
    assert choices == [{"name": "Volcano", "value": "volcano"}]

    log = await loopback.slash("article", {"title": "volcano"})
    await loopback.until(lambda: log.followups)
    assert log.callbacks[0]["type"] == 5  # deferred first: the lookup may queue behind questions
    embed = log.followups[0]["embeds"][0]
    assert embed["title"] == "Volcano" and "rupture in the crust" in embed["description"]
    assert {f["name"] for f in embed["fields"]} >= {"File", "Chunks", "Length"}


async def test_sources_lists_the_corpus(bot: ArticleBot, loopback: LoopbackDiscord) -> None:
    log = await loopback.slash("sources")
    await loopback.until(lambda: log.followups)
    embed = log.followups[0]["embeds"][0]
    assert embed["title"].startswith(f"Sources: {len(CORPUS)} articles")
    assert "[Tea](<https://example.org/tea>)" in embed["description"]
    assert bot.engine.generation in embed["footer"]["text"]


async def test_article_with_an_unknown_title_says_so(
    bot: ArticleBot, loopback: LoopbackDiscord
) -> None:
    log = await loopback.slash("article", {"title": "no such thing"})
    await loopback.until(lambda: log.followups)
    assert "No article has that title" in log.followups[0]["content"]
