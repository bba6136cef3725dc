"""Each server its own library (issue 18), through the real client and two servers A and B.

A is the loopback's main guild; B is another guild the same bot is in. B's admin adds an article
to B's library: A's members never get it quoted, listed or searchable; B's admin cannot remove or
rebuild what A answers from; B's `/stats` never shows A's questions; A's admin adds to A's own.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.client import ArticleBot
from bot.config import BotSettings
from index.config import Settings
from index.engine import Engine
from tests.e2e.actions import InteractionLog
from tests.e2e.conftest import FAST, running
from tests.e2e.loopback import EPHEMERAL, LoopbackDiscord

pytestmark = pytest.mark.e2e

Json = dict[str, Any]

SECRET = (
    "# Project Nightjar\n\n"
    "The Nightjar launch code word is heliotrope, and only this server's members know it.\n"
)
HARBOUR = "# Harbour works\n\nThe harbour wall will be rebuilt with granite from Penryn.\n"


@dataclass
class TwoServers:
    bot: ArticleBot
    loopback: LoopbackDiscord
    b: str  # server B's id
    b_channel: str
    b_admin: Json  # Manage Server in B; an admin of B only

    async def run(self, name: str, options: dict[str, Any] | None = None, **kw: Any) -> Json:
        log = await self.loopback.slash(name, options, **kw)
        return await self.reply(log)

    async def reply(self, log: InteractionLog) -> Json:
        def last() -> Json | None:
            done = [m for m in (*log.followups, *log.edits) if not _loading(m)]
            if done:
                return done[-1]
            if log.original and not _loading(log.original):
                return log.original
            return None

        return await self.loopback.until(last, what=f"a reply to {log.payload['data']}")

    async def ask(self, question: str, channel: str | None = None) -> Json:
        asked = await self.loopback.say(question, mention_bot=True, channel=channel)
        [reply] = await self.loopback.until(lambda: self.loopback.replies_to(asked))
        return reply


def _loading(message: Json) -> bool:
    return bool(int(message.get("flags") or 0) & 128)


def said(message: Json) -> str:
    embeds = " ".join(
        " ".join([e.get("title") or "", e.get("description") or ""]) for e in message["embeds"]
    )
    return (message.get("content") or "") + " " + embeds


@pytest.fixture
async def servers(
    settings: Settings, bot_settings: BotSettings, engine: Engine, loopback: LoopbackDiscord
) -> AsyncIterator[TwoServers]:
    b, b_channel = loopback.add_guild(shard=0, shards=1)  # before the bot connects
    client = ArticleBot(settings, bot_settings, engine_factory=lambda s: engine, **FAST)
    async with running(client, loopback):
        yield TwoServers(client, loopback, b, b_channel, loopback.user("beatrice"))


async def add_to(two: TwoServers, guild: str | None, name: str, text: str, user: Json) -> Json:
    log = await two.loopback.attach_and_run(
        "add-article", name, text.encode(), user=user, guild=guild
    )
    return await two.loopback.until(
        lambda: next(
            (e for e in log.edits if "Reindex finished" in (e.get("content") or "")), None
        ),
        what=f"the reindex after adding {name}",
    )


async def test_an_article_added_in_b_never_reaches_a(
    servers: TwoServers, settings: Settings
) -> None:
    two, lb = servers, servers.loopback
    await add_to(two, two.b, "secret.md", SECRET, two.b_admin)
    assert not (settings.corpus_dir / "secret.md").exists()
    question = "What is the Nightjar launch code word?"

    in_b = await two.ask(question, channel=two.b_channel)
    assert in_b["embeds"][0]["title"] == "Project Nightjar"
    assert "heliotrope" in said(in_b) and "this server's library" in said(in_b)

    in_a = await two.ask(question)
    assert "heliotrope" not in said(in_a) and "Nightjar" not in in_a["embeds"][0]["title"]
    for field in in_a["embeds"][0].get("fields", []):
        assert "heliotrope" not in field["value"]

    searched = await two.run("search", {"query": "Nightjar launch code heliotrope"})
    found_text = str([e.get("description") or "" for e in searched["embeds"]])
    found_text += str([f["value"] for e in searched["embeds"] for f in e.get("fields", [])])
    assert "heliotrope" not in found_text and "Nightjar launch" not in found_text
    looked_up = await two.run("article", {"title": "server:secret"})
    assert "heliotrope" not in said(looked_up) and "No article" in said(looked_up)
    sources = await two.run("sources")
    assert "secret" not in said(sources) and "Nightjar" not in said(sources)
    choices = await lb.autocomplete("article", "title", "Night")
    await lb.until(lambda: choices.callbacks)
    assert choices.callbacks[0]["data"]["choices"] == []

    # In B, the same lookups find it.
    found = await two.run("article", {"title": "server:secret"}, guild=two.b)
    assert "Project Nightjar" in said(found)
    choices_b = await lb.autocomplete("article", "title", "Night", guild=two.b)
    await lb.until(lambda: choices_b.callbacks)
    assert [c["value"] for c in choices_b.callbacks[0]["data"]["choices"]] == ["server:secret"]

    # A's admin cannot remove B's article from A (it is not A's to see), nor from B's folder.
    refused = await two.run(
        "remove-article", {"article": "server:secret"}, admin=True, user=lb.admin
    )
    assert "No article" in said(refused)
    secret = two.bot.libraries.folder(int(two.b)) / "corpus" / "secret.md"
    assert secret.exists()


async def test_bs_admin_cannot_touch_what_a_answers_from(
    servers: TwoServers, settings: Settings
) -> None:
    two = servers
    shared_generation = two.bot.engine.generation
    for name, options in (
        ("remove-article", {"article": "tea"}),
        ("reindex", {"library": "operator", "full": True}),
        ("sync-commands", {"scope": "global"}),
    ):
        reply = await two.run(name, options, admin=True, user=two.b_admin, guild=two.b)
        assert reply["flags"] & EPHEMERAL and "operators" in reply["content"], name
    upload = await two.loopback.attach_and_run(
        "add-article",
        "harbour.md",
        HARBOUR.encode(),
        user=two.b_admin,
        guild=two.b,
        extra={"library": "operator"},
    )
    assert "operators" in (await two.reply(upload))["content"]
    assert (settings.corpus_dir / "tea.md").exists()
    assert not (settings.corpus_dir / "harbour.md").exists()
    assert two.bot.engine.generation == shared_generation
    # Reindexing B's own library is B's admins' to do, and leaves the shared library alone.
    done = await two.run("reindex", admin=True, user=two.b_admin, guild=two.b)
    assert "Reindex finished" in done["content"]
    assert two.bot.engine.generation == shared_generation


async def test_stats_are_per_server(servers: TwoServers) -> None:
    two, lb = servers, servers.loopback
    await two.ask("Who painted the zebra mural in the station?")  # A: unanswered
    await two.ask("When does the volcano museum open?", channel=two.b_channel)
    in_b = await two.run("stats", admin=True, user=two.b_admin, guild=two.b)
    text_b = str(in_b["embeds"])
    assert "zebra" not in text_b and "volcano museum" in text_b
    in_a = await two.run("stats", admin=True, user=lb.admin)
    text_a = str(in_a["embeds"])
    assert "zebra" in text_a and "volcano museum" not in text_a
    assert two.bot.store.stats().week.answered + two.bot.store.stats().week.abstained == 2


async def test_as_own_admin_adds_and_as_members_get_it_quoted(servers: TwoServers) -> None:
    two, lb = servers, servers.loopback
    await add_to(two, None, "harbour.md", HARBOUR, lb.admin)
    reply = await two.ask("Where will the granite for the harbour wall come from?")
    assert reply["embeds"][0]["title"] == "Harbour works" and "Penryn" in said(reply)
    in_b = await two.ask("Where will the granite for the harbour wall come from?", two.b_channel)
    assert "Penryn" not in said(in_b)


async def test_export_delete_and_leaving(servers: TwoServers) -> None:
    two, lb = servers, servers.loopback
    await add_to(two, two.b, "secret.md", SECRET, two.b_admin)
    await two.ask("What is the Nightjar launch code word?", channel=two.b_channel)
    folder = two.bot.libraries.folder(int(two.b))

    # Export and delete are the server owner's (the loopback's admin owns both servers).
    not_owner = await two.reply(await library(lb, "export", two.b_admin, two.b))
    assert "owner" in not_owner["content"]
    exported = await library(lb, "export", lb.admin, two.b)
    await lb.until(lambda: exported.followups)
    [archive] = lb_files(lb, exported)
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        assert z.read("secret.md").decode() == SECRET

    asking = await library(lb, "delete", lb.admin, two.b)
    await lb.until(lambda: asking.original)
    assert folder.exists()  # nothing is deleted before the confirmation
    confirm = asking.original["components"][0]["components"][0]["custom_id"]
    clicked = await lb.click(asking.original, confirm, user=lb.admin)
    await lb.until(lambda: clicked.followups)
    assert "Deleted" in clicked.followups[-1]["content"]
    assert not folder.exists()
    assert two.bot.store.stats(guild_id=int(two.b)).week.abstained == 0
    assert two.bot.store.stats(guild_id=int(two.b)).week.answered == 0

    # Leaving a server keeps its library (for SERVER_KEEP_DAYS), marked with the time it left.
    await add_to(two, two.b, "secret.md", SECRET, two.b_admin)
    await lb.dispatch("GUILD_DELETE", {"id": two.b})
    await lb.until(lambda: two.bot.libraries.left_at(int(two.b)), what="the left marker")
    assert (folder / "corpus" / "secret.md").exists()
    gone = await asyncio.to_thread(two.bot.libraries.purge_left, 0)
    assert gone == [int(two.b)] and not folder.exists()


async def library(lb: LoopbackDiscord, action: str, user: Json, guild: str) -> InteractionLog:
    """`/library ACTION` (a subcommand of a group) by ``user`` in ``guild``."""
    data: Json = {
        "id": lb.new_id(),
        "name": "library",
        "type": 1,
        "options": [{"name": action, "type": 1, "options": []}],
    }
    log = lb._interaction(2, data, user, admin=True, guild=guild)
    await lb.dispatch("INTERACTION_CREATE", log.payload)
    return log


def lb_files(lb: LoopbackDiscord, log: InteractionLog) -> list[bytes]:
    """The files the bot attached to its followups (kept by the loopback as bytes)."""
    return [f for m in log.followups for f in (m.get("_files") or {}).values()]


async def test_an_existing_deployment_carries_over_as_the_operators_library(
    settings: Settings,
    bot_settings: BotSettings,
    engine: Engine,
    loopback: LoopbackDiscord,
) -> None:
    """A deployment from before server libraries: its index (built by this version), statistics
    and feeds become the operator's library's, with nothing lost and no reindex."""
    from bot.stats import StatsStore
    from index.types import Answer
    from index.web.feedstore import FeedStore

    generation = engine.generation
    store = StatsStore(bot_settings.db_path)
    store.record_question(
        Answer("Who repaired the old lighthouse?", False, 0.1, (), ()),
        user_id=int(loopback.alice["id"]),
        guild_id=int(loopback.guild_id),
        latency_ms=5,
    )
    store.close()
    feeds = FeedStore(bot_settings.db_path)
    feeds.add("https://example.org/rss", "Example news")
    feeds.close()

    client = ArticleBot(settings, bot_settings, engine_factory=lambda s: engine, **FAST)
    async with running(client, loopback):
        assert client.engine.generation == generation  # served as it was: no rebuild
        two = TwoServers(client, loopback, "", "", loopback.admin)
        stats = await two.run("stats", admin=True, user=loopback.admin)
        assert "Who repaired the old lighthouse?" in str(stats["embeds"])
        sources = await loopback.slash("sources")
        await loopback.until(lambda: len(sources.followups) == 2)
        assert "Example news" in sources.followups[1]["embeds"][0]["description"]
        reply = await two.ask("Where is Mount Etna?")
        assert reply["embeds"][0]["title"] and generation in reply["embeds"][0]["footer"]["text"]
    assert not bot_settings.servers_dir.exists() or not any(bot_settings.servers_dir.iterdir())


async def test_the_allow_list_leaves_other_servers(
    settings: Settings, bot_settings: BotSettings, engine: Engine, loopback: LoopbackDiscord
) -> None:
    import dataclasses

    other, _ = loopback.add_guild(shard=0, shards=1)
    only_a = dataclasses.replace(
        bot_settings, allowed_server_ids=frozenset({int(loopback.guild_id)})
    )
    client = ArticleBot(settings, only_a, engine_factory=lambda s: engine, **FAST)
    async with running(client, loopback):
        await loopback.until(lambda: loopback.left_guilds, what="the bot to leave B")
        assert loopback.left_guilds == [other]  # B left, A kept
        await loopback.until(lambda: client.get_guild(int(other)) is None, what="B forgotten")
        reply = await TwoServers(client, loopback, other, "", loopback.admin).ask(
            "Where is Mount Etna?"
        )
        assert reply["embeds"]  # A still answered
