"""BOT_SHARDS: the bot on commands.AutoShardedBot connects through the loopback gateway and answers."""

from __future__ import annotations

import dataclasses

import pytest

from bot.client import ShardedArticleBot, make_bot
from bot.config import BotSettings
from index.config import Settings
from index.engine import Engine
from tests.e2e.conftest import FAST, running
from tests.e2e.loopback import LoopbackDiscord
from tests.e2e.test_ask import QUESTION

pytestmark = pytest.mark.e2e


async def test_auto_sharded_bot_asks_gateway_bot_identifies_with_a_shard_and_answers(
    settings: Settings, bot_settings: BotSettings, engine: Engine, loopback: LoopbackDiscord
) -> None:
    sharded = dataclasses.replace(bot_settings, sharded=True)  # BOT_SHARDS=auto
    bot = make_bot(settings, sharded, engine_factory=lambda s: engine, **FAST)
    assert isinstance(bot, ShardedArticleBot)
    async with running(bot, loopback):
        assert [r.path for r in loopback.requests].count("/api/v10/gateway/bot") == 1
        assert loopback.identify_shards == [[0, 1]]  # the one shard /gateway/bot recommended
        assert bot.shard_count == 1 and sorted(bot.shards) == [0]
        asked = await loopback.say(QUESTION, mention_bot=True)
        [reply] = await loopback.until(lambda: loopback.replies_to(asked), what="the reply")
    assert "space and cyber security" in reply["embeds"][0]["description"].replace("**", "")


async def test_fixed_shard_count_skips_gateway_bot_and_serves_each_shards_guild(
    settings: Settings, bot_settings: BotSettings, engine: Engine, loopback: LoopbackDiscord
) -> None:
    """BOT_SHARDS=2 BOT_SHARD_IDS=n in one process: only shard n's guild reaches this bot."""
    ours = loopback.shard_of(loopback.guild_id, 2)
    other, _ = loopback.add_guild(shard=1 - ours, shards=2)
    split = dataclasses.replace(bot_settings, sharded=True, shard_count=2, shard_ids=(ours,))
    bot = make_bot(settings, split, engine_factory=lambda s: engine, **FAST)
    async with running(bot, loopback):
        assert "/api/v10/gateway/bot" not in [r.path for r in loopback.requests]
        assert loopback.identify_shards == [[ours, 2]]
        assert [g.id for g in bot.guilds] == [int(loopback.guild_id)]  # not the other's
        assert int(other) not in {g.id for g in bot.guilds}
        asked = await loopback.say(QUESTION, mention_bot=True)
        await loopback.until(lambda: loopback.replies_to(asked), what="the reply")
