"""The sample corpus and the real model, through Discord: golden questions are quoted verbatim and cited."""

from __future__ import annotations

import pytest

from bot.client import ArticleBot
from bot.config import BotSettings
from index.engine import Engine
from tests.e2e.conftest import FAST, running
from tests.e2e.loopback import LoopbackDiscord

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


async def ask_through_discord(
    loopback: LoopbackDiscord, bot_settings: BotSettings, engine: Engine, questions: list[str]
) -> list[str]:
    """The embed description of the bot's reply to each question, asked by mentioning the bot."""
    bot = ArticleBot(engine.settings, bot_settings, engine_factory=lambda s: engine, **FAST)
    descriptions = []
    async with running(bot, loopback):
        for question in questions:
            asked = await loopback.say(question, mention_bot=True)
            [reply] = await loopback.until(lambda m=asked: loopback.replies_to(m), timeout=30)
            descriptions.append(reply["embeds"][0]["description"])
    return descriptions


async def test_golden_questions_through_discord(
    loopback: LoopbackDiscord, bot_settings: BotSettings, sample_engine: Engine
) -> None:
    india_japan, pdf = await ask_through_discord(
        loopback,
        bot_settings,
        sample_engine,
        [
            "Which new fields did India and Japan agree to cooperate in?",
            "On what share of SQuAD 2.0 unanswerable questions does the bot abstain?",
        ],
    )
    description = india_japan.replace("**", "")
    assert "space" in description and "cyber" in description
    quoted = description.split("\n— ")[0].removeprefix("> ").replace("\\", "")
    corpus = sample_engine.settings.corpus_dir
    article = (corpus / "india-japan-defence-cooperation.md").read_text(encoding="utf-8")
    assert quoted.rstrip("…").strip() in article  # verbatim from the file
    assert "29.6%" in pdf and "p. 2" in pdf  # a PDF quote cites its page
