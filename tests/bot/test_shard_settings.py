"""BOT_SHARDS and BOT_SHARD_IDS: parsing, one-line errors, and the bot class each one picks."""

from __future__ import annotations

from pathlib import Path

import pytest
from discord.ext import commands

from bot.client import ArticleBot, ShardedArticleBot, make_bot
from bot.config import BotConfigError, BotSettings
from index.config import Settings

TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMA.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"


def shard_settings(**env: str) -> tuple[bool, int | None, tuple[int, ...]]:
    s = BotSettings.from_env({"DISCORD_TOKEN": TOKEN, **env})
    return s.sharded, s.shard_count, s.shard_ids


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, (False, None, ())),
        ({"BOT_SHARDS": ""}, (False, None, ())),
        ({"BOT_SHARDS": "auto"}, (True, None, ())),
        ({"BOT_SHARDS": " AUTO "}, (True, None, ())),
        ({"BOT_SHARDS": "1"}, (True, 1, ())),
        ({"BOT_SHARDS": "4", "BOT_SHARD_IDS": "3, 1"}, (True, 4, (1, 3))),
    ],
)
def test_shard_settings(env: dict[str, str], expected: tuple[object, ...]) -> None:
    assert shard_settings(**env) == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BOT_SHARDS": "many"}, "BOT_SHARDS must be auto or a number of shards, got 'many'"),
        ({"BOT_SHARDS": "0"}, "BOT_SHARDS must be auto or at least 1, got 0"),
        ({"BOT_SHARDS": "-2"}, "BOT_SHARDS must be auto or at least 1, got -2"),
        ({"BOT_SHARD_IDS": "0"}, "BOT_SHARD_IDS needs BOT_SHARDS set to the total"),
        ({"BOT_SHARDS": "auto", "BOT_SHARD_IDS": "0"}, "BOT_SHARD_IDS needs BOT_SHARDS"),
        ({"BOT_SHARDS": "2", "BOT_SHARD_IDS": "0,2"}, "shard 2 is not one of BOT_SHARDS=2"),
        ({"BOT_SHARDS": "2", "BOT_SHARD_IDS": "-1"}, "shard -1 is not one of BOT_SHARDS=2"),
        ({"BOT_SHARDS": "2", "BOT_SHARD_IDS": "first"}, "BOT_SHARD_IDS must be a comma-sep"),
    ],
)
def test_bad_shard_settings_are_one_line_naming_the_variable(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(BotConfigError) as caught:
        BotSettings.from_env({"DISCORD_TOKEN": TOKEN, **env})
    assert message in str(caught.value) and "\n" not in str(caught.value)


async def test_make_bot_picks_the_class_the_setting_asks_for(tmp_path: Path) -> None:
    settings = Settings.from_env({}, corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "ix")
    env = {"DISCORD_TOKEN": TOKEN, "BOT_DB_PATH": str(tmp_path / "bot.sqlite3")}
    plain = make_bot(settings, BotSettings.from_env(env), load_engine=False)
    split = make_bot(
        settings,
        BotSettings.from_env(env | {"BOT_SHARDS": "4", "BOT_SHARD_IDS": "1,2"}),
        load_engine=False,
    )
    auto = make_bot(settings, BotSettings.from_env(env | {"BOT_SHARDS": "auto"}), load_engine=False)
    async with plain, split, auto:  # as bot.main runs them (close needs the set-up loop)
        assert type(plain) is ArticleBot and not isinstance(plain, commands.AutoShardedBot)
        assert plain.shard_count is None
        assert isinstance(split, ShardedArticleBot) and isinstance(split, commands.AutoShardedBot)
        assert (split.shard_count, split.shard_ids) == (4, [1, 2])
        assert isinstance(auto, ShardedArticleBot)
        assert (auto.shard_count, auto.shard_ids) == (None, None)  # asked of /gateway/bot
