"""Starting up: token problems are one clear line; a refused privileged intent degrades gracefully."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from bot import main
from bot.client import ArticleBot
from bot.config import BotSettings
from index.build.builder import build_index
from index.config import DEFAULT_MODEL, Settings
from index.embedding.embedder import Embedder, load_embedder
from index.embedding.model_path import resolve_model_path
from index.engine import Engine
from index.generations.store import current_manifest
from tests.e2e.conftest import FAST, running
from tests.e2e.loopback import MESSAGE_CONTENT_INTENT, LoopbackDiscord

pytestmark = pytest.mark.e2e

WRONG_TOKEN = "MTExMTExMTExMTExMTExMTExMQ.ZZZZZZ.wrongwrongwrongwrongwrongwrongwrong12"


def never_called(settings: Settings) -> Engine:
    raise AssertionError("the engine must not load when the token is unusable")


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, "DISCORD_TOKEN is not set"), ({"DISCORD_TOKEN": "abc"}, "does not look like")],
)
def test_missing_or_malformed_token_is_one_line(
    settings: Settings, capsys: pytest.CaptureFixture[str], env: dict[str, str], expected: str
) -> None:
    code = main.run(settings, env, engine_factory=never_called)
    err = capsys.readouterr().err
    assert code == 2 and expected in err
    assert err.count("\n") == 1 and "Traceback" not in err


async def test_rejected_token_is_one_line_without_traceback(
    settings: Settings, loopback: LoopbackDiscord, capfd: pytest.CaptureFixture[str]
) -> None:
    env = {"DISCORD_TOKEN": WRONG_TOKEN, "BOT_DB_PATH": str(settings.index_dir / "bot.sqlite3")}
    code = await asyncio.to_thread(main.run, settings, env, engine_factory=never_called)
    out, err = capfd.readouterr()
    assert code == 1
    lines = [line for line in err.splitlines() if "articlebot" in line]
    assert lines == [f"articlebot: error: {main.REJECTED_TOKEN}"]
    assert "Traceback" not in err and WRONG_TOKEN not in out + err


async def test_refused_message_content_intent_falls_back_to_mentions(
    loopback: LoopbackDiscord, bot_settings: BotSettings, settings: Settings, engine: Engine
) -> None:
    loopback.grant_message_content = False
    task = asyncio.create_task(main.serve(settings, bot_settings, engine_factory=lambda s: engine))
    try:
        await loopback.until(lambda: len(loopback.identify_intents) == 2, timeout=15)
        await loopback.until(loopback.ready.is_set)
        first, second = loopback.identify_intents
        assert first & MESSAGE_CONTENT_INTENT and not second & MESSAGE_CONTENT_INTENT
        asked = await loopback.say("Where is Mount Etna?", mention_bot=True)
        await loopback.until(lambda: loopback.replies_to(asked), what="a reply to a mention")
        unmentioned = await loopback.say("Where is Mount Etna?", channel=loopback.qa_channel_id)
        await asyncio.sleep(0.3)
        assert loopback.replies_to(unmentioned) == []  # no content intent: Q&A channel is off
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_sync_commands_publishes_globally_and_to_the_dev_guild(
    settings: Settings, loopback: LoopbackDiscord, tmp_path: object
) -> None:
    env = {
        "DISCORD_TOKEN": loopback.token,
        "DISCORD_DEV_GUILD_ID": loopback.guild_id,
        "BOT_DB_PATH": str(settings.index_dir.parent / "sync.sqlite3"),
    }
    code = await asyncio.to_thread(main.sync_commands, settings, env)
    assert code == 0
    names = {c["name"] for c in loopback.commands["global"]}
    assert {"ask", "search", "article", "sources", "reindex", "add-article", "stats"} <= names
    assert "Ask the articles" in names
    assert {c["name"] for c in loopback.commands[loopback.guild_id]} == names


async def test_operator_only_sync_command(bot: object, loopback: LoopbackDiscord) -> None:
    # A server's admin (Manage Server) is not an operator: syncing touches every server.
    for user in (loopback.alice, loopback.admin):
        refused = await loopback.slash("sync-commands", {"scope": "global"}, user=user)
        await loopback.until(lambda refused=refused: refused.original)
        assert "operators" in refused.original["content"]
    # The application's owner (from Discord) and the DISCORD_OPERATOR_USER_IDS users may.
    for user in (loopback.owner, loopback.operator):
        loopback.commands.pop("global", None)
        done = await loopback.slash("sync-commands", {"scope": "global"}, user=user)
        await loopback.until(lambda done=done: done.followups)
        assert "global" in loopback.commands and "Synced" in done.followups[0]["content"]


def test_unreachable_discord_is_one_line_without_traceback(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    import socket

    import discord

    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")
    env = {"DISCORD_TOKEN": WRONG_TOKEN, "BOT_DB_PATH": str(settings.index_dir / "bot.sqlite3")}
    code = main.run(settings, env, engine_factory=never_called)
    out, err = capfd.readouterr()
    assert code == 1
    lines = [line for line in err.splitlines() if "articlebot" in line]
    assert len(lines) == 1 and "cannot reach Discord" in lines[0]
    assert "Traceback" not in err and WRONG_TOKEN not in out + err


async def test_bot_started_over_an_index_of_another_model_rebuilds_it_while_answering(
    settings: Settings,
    bot_settings: BotSettings,
    loopback: LoopbackDiscord,
    real_embedder: Embedder,
) -> None:
    """An upgrade changed the model (here: EMBED_MODEL names the shipped model's folder, another
    name to the manifest): the old index answers at once, read with its own model, and the bot
    rebuilds it with the new one behind it."""
    build_index(settings, real_embedder)
    folder = str(resolve_model_path(DEFAULT_MODEL))
    configured = settings.with_(embed_model=folder)
    engine = await asyncio.to_thread(
        Engine.open, configured, load_embedder(folder, settings.embed_backend)
    )
    assert engine.stale_model
    old = engine.generation
    client = ArticleBot(configured, bot_settings, engine_factory=lambda s: engine, **FAST)
    async with running(client, loopback):
        await loopback.until(lambda: not engine.stale_model, timeout=120, what="the rebuild")
        assert engine.generation != old
        assert current_manifest(settings.index_dir).model == folder
        asked = await loopback.say("Where is Mount Etna?", mention_bot=True)
        [reply] = await loopback.until(lambda: loopback.replies_to(asked))
        assert reply["embeds"][0]["title"] == "Volcano"
        assert engine.generation in reply["embeds"][0]["footer"]["text"]
