"""Fixtures: the loopback Discord, a real Engine (fake embedder) on a tmp corpus, a running bot."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import discord
import numpy as np
import pytest
import yarl

from bot.client import ArticleBot
from bot.config import BotSettings
from index.build.builder import build_index
from index.config import Settings
from index.embedding.embedder import HashEmbedder
from index.engine import Engine
from tests.conftest import SMALL_CORPUS, write_corpus
from tests.e2e.loopback import LoopbackDiscord

TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMA.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"

CORPUS = {
    "india-japan.md": (
        "---\ntitle: India and Japan summit\nurl: https://example.org/india-japan\n---\n"
        "# India and Japan summit\n\n"
        "The prime ministers met in Tokyo for their annual summit. "
        "India and Japan agreed to cooperate in new fields such as space and cyber security.\n\n"
        "Trade between the two countries grew by ten percent last year."
    ),
    "tea.md": SMALL_CORPUS["tea.md"],
    "volcano.md": SMALL_CORPUS["volcano.md"],
    "announcements.md": (
        "# Announcements\n\n"
        "The announcement said: @everyone the meeting moves to Friday, read "
        "[the agenda](https://evil.example/phish) and ping <@&123> and <@456>.\n"
    ),
}

CITIES = ("Arden", "Belmont", "Corvale", "Dunmore", "Elmstead", "Fairhaven")
CORPUS |= {
    f"cities/{name.lower()}.md": (
        f"# {name}\n\n{name} is a market town on the river. The town has a stone bridge, "
        f"a weekly market and a museum of local history.\n"
    )
    for name in CITIES
}


class GatedEmbedder:
    """HashEmbedder whose encodes on the build thread wait at a gate the test opens.

    Lets a test hold a reindex mid-way and ask questions meanwhile.
    """

    def __init__(self) -> None:
        self.inner = HashEmbedder(dim=64)
        self.name, self.dim, self.max_tokens = (
            self.inner.name,
            self.inner.dim,
            self.inner.max_tokens,
        )
        self.closed = False
        self.entered = threading.Event()
        self.release = threading.Event()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.inner.count_tokens(texts)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.closed and threading.current_thread().name.startswith("articlebot-build"):
            self.entered.set()
            self.release.wait(timeout=30)
        return self.inner.encode(texts)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    corpus = write_corpus(tmp_path / "corpus", CORPUS)
    return Settings.from_env({}, corpus_dir=corpus, index_dir=tmp_path / "index")


@pytest.fixture
def embedder() -> GatedEmbedder:
    return GatedEmbedder()


@pytest.fixture
def engine(settings: Settings, embedder: GatedEmbedder) -> Engine:
    build_index(settings, embedder)
    return Engine.open(settings, embedder=embedder)


@pytest.fixture
async def loopback(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[LoopbackDiscord]:
    server = LoopbackDiscord(token=TOKEN)
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url)
    )
    yield server
    await server.close()
    assert server.problems == [], "the loopback Discord saw problems:\n" + "\n".join(
        server.problems
    )


@pytest.fixture
def bot_settings(tmp_path: Path, loopback: LoopbackDiscord) -> BotSettings:
    return BotSettings(
        token=TOKEN,
        qa_channel_ids=frozenset({int(loopback.qa_channel_id)}),
        forum_channel_ids=frozenset({int(loopback.forum_channel_id)}),
        working_reaction_seconds=None,  # off unless a test asks (test_working_reaction.py)
        admin_user_ids=frozenset(),
        dev_guild_id=int(loopback.guild_id),
        cooldown_questions=1000,
        cooldown_seconds=60,
        db_path=tmp_path / "bot.sqlite3",
        operator_user_ids=frozenset({int(loopback.operator["id"])}),
        servers_dir=tmp_path / "servers",
    )


FAST = {"guild_ready_timeout": 0.1}  # the loopback sends GUILD_CREATE right after READY


@contextlib.asynccontextmanager
async def running(bot: ArticleBot, loopback: LoopbackDiscord) -> AsyncIterator[ArticleBot]:
    """Log ``bot`` in to the loopback Discord, wait until ready, and close it afterwards."""
    await bot.login(TOKEN)
    task = asyncio.create_task(bot.connect(reconnect=False))
    try:
        await asyncio.wait_for(bot.wait_until_ready(), timeout=15)
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError, discord.ConnectionClosed):
            await asyncio.wait_for(task, timeout=10)


@pytest.fixture
async def bot(
    settings: Settings, bot_settings: BotSettings, engine: Engine, loopback: LoopbackDiscord
) -> AsyncIterator[ArticleBot]:
    client = ArticleBot(settings, bot_settings, engine_factory=lambda s: engine, **FAST)
    async with running(client, loopback):
        yield client


@pytest.fixture
def no_heartbeat_warnings(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level("WARNING", logger="discord.gateway")
    yield
    blocked = [r for r in caplog.records if "heartbeat blocked" in r.getMessage()]
    behind = [r for r in caplog.records if "behind" in r.getMessage()]
    assert not blocked and not behind
