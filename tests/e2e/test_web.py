"""Articles from the web through the real client: `/add-article url:`, `/feed`, `/sources`, and a
quote from a fetched page that carries its url and date. Pages come from a loopback HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest

from bot.client import ArticleBot
from index.config import Settings
from tests.conftest import DATA
from tests.e2e.actions import Json
from tests.e2e.loopback import EPHEMERAL, LoopbackDiscord
from tests.web.pages import article, rss
from tests.web.server import LoopbackWeb

pytestmark = pytest.mark.e2e

OTTERS = (DATA / "web" / "news-article.html").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def fetch_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before the bot starts: the test server is on 127.0.0.1; no background poller."""
    monkeypatch.setenv("FETCH_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("FEED_POLL_MINUTES", "0")


@pytest.fixture
def web() -> Iterator[LoopbackWeb]:
    with LoopbackWeb().running() as server:
        yield server


async def feed_command(
    loopback: LoopbackDiscord, action: str, admin: bool = True, **options: Any
) -> Any:
    """`/feed ACTION option:value ...` as a member (admin or not) runs it."""
    opts = [{"name": k, "type": 3, "value": v} for k, v in options.items()]
    data: Json = {
        "id": loopback.new_id(),
        "name": "feed",
        "type": 1,
        "options": [{"name": action, "type": 1, "options": opts}],
    }
    user = loopback.admin if admin else loopback.alice
    log = loopback._interaction(2, data, user, admin=admin)
    await loopback.dispatch("INTERACTION_CREATE", log.payload)
    return log


def said(log: Any) -> str:
    return ((log.followups or log.edits or [log.original])[-1] or {}).get("content") or ""


async def test_add_article_by_url_then_a_quote_with_url_and_date(
    bot: ArticleBot, loopback: LoopbackDiscord, web: LoopbackWeb, settings: Settings
) -> None:
    web.page("/otters", OTTERS)
    log = await loopback.slash(
        "add-article", {"url": web.url("/otters")}, admin=True, user=loopback.admin
    )
    await loopback.until(
        lambda: any("Reindex finished" in (e.get("content") or "") for e in log.edits)
    )
    final = log.edits[-1]["content"]
    assert final.startswith(f"Saved [River otters return to the Severn](<{web.url('/otters')}>)")
    assert "(2024-03-05) as `web/127.0.0.1/otters-" in final
    again = await loopback.slash(
        "add-article", {"url": web.url("/otters")}, admin=True, user=loopback.admin
    )
    await loopback.until(lambda: "Nothing to reindex" in said(again))
    assert "is already in the corpus, unchanged" in said(again)
    assert not (settings.corpus_dir / "web").exists()  # the server's own library, not the shared
    mine = bot.libraries.folder(int(loopback.guild_id)) / "corpus"
    [path] = list((mine / "web").rglob("*.md"))
    stored = path.read_text(encoding="utf-8")

    asked = await loopback.say("Why did otters disappear from England?", mention_bot=True)
    [reply] = await loopback.until(lambda: loopback.replies_to(asked))
    embed = reply["embeds"][0]
    # The link opens the page at the quoted words (a text fragment of its first words).
    assert embed["url"].startswith(web.url("/otters") + "#:~:text=")
    first_words = unquote(embed["url"].split("#:~:text=", 1)[1].split(",")[0].split("-,")[-1])
    assert "(2024-03-05)" in embed["description"]
    quoted = [line[2:] for line in embed["description"].splitlines() if line.startswith("> ")]
    plain = " ".join(quoted).replace("**", "").replace("\\", "")
    assert plain and plain in " ".join(stored.split())
    assert plain.startswith(first_words)


async def test_add_article_by_url_errors_are_one_ephemeral_line(
    bot: ArticleBot, loopback: LoopbackDiscord, web: LoopbackWeb, settings: Settings
) -> None:
    log = await loopback.slash(
        "add-article", {"url": web.url("/gone")}, admin=True, user=loopback.admin
    )
    await loopback.until(lambda: log.followups)
    assert said(log) == f"{web.url('/gone')}: the server answered 404 Not Found"
    assert log.followups[-1]["flags"] & EPHEMERAL

    neither = await loopback.slash("add-article", {}, admin=True, user=loopback.admin)
    await loopback.until(lambda: neither.original)
    assert "a file or a url" in neither.original["content"]
    assert not (settings.corpus_dir / "web").exists()


async def test_feed_add_poll_list_and_sources(
    bot: ArticleBot, loopback: LoopbackDiscord, web: LoopbackWeb, settings: Settings
) -> None:
    web.page("/n1", article("Harbour", "The harbour wall will be repaired before the storms."))
    web.route("/rss", rss("Harbour news", [("n1", web.url("/n1"), "")]), Content_Type="text/xml")

    refused = await feed_command(loopback, "add", admin=False, url=web.url("/rss"))
    await loopback.until(lambda: refused.original)
    assert "admins" in refused.original["content"]

    added = await feed_command(loopback, "add", url=web.url("/rss"))
    await loopback.until(lambda: added.followups)
    assert "Following [Harbour news]" in said(added) and "1 entries" in said(added)

    here = bot.reader_for(int(loopback.guild_id))
    before, shared = here.generation, bot.engine.generation
    polled = await feed_command(loopback, "poll")
    await loopback.until(lambda: polled.followups)
    assert "Harbour news: 1 added" in said(polled)
    assert here.generation != before and here.generation in said(polled)
    assert bot.engine.generation == shared  # the entries went to the server's own library
    assert not (settings.corpus_dir / "web").exists()

    listed = await feed_command(loopback, "list")
    await loopback.until(lambda: listed.followups)
    description = listed.followups[-1]["embeds"][0]["description"]
    assert "Harbour news" in description and "1 articles" in description

    sources = await loopback.slash("sources")
    await loopback.until(lambda: len(sources.followups) == 2)
    assert sources.followups[1]["embeds"][0]["title"] == "Feeds followed"

    removed = await feed_command(loopback, "remove", url=web.url("/rss"))
    await loopback.until(lambda: removed.original)
    assert "No longer following" in removed.original["content"]
