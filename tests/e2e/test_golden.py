"""The sample corpus and the real model, through Discord: the golden question is quoted verbatim."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.client import ArticleBot
from bot.config import BotSettings
from index.engine import Engine
from tests.e2e.conftest import FAST, running
from tests.e2e.loopback import LoopbackDiscord

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]


async def test_golden_question_through_discord(
    loopback: LoopbackDiscord, bot_settings: BotSettings, sample_engine: Engine
) -> None:
    engine = sample_engine
    corpus = engine.settings.corpus_dir
    bot = ArticleBot(engine.settings, bot_settings, engine_factory=lambda s: engine, **FAST)
    async with running(bot, loopback):
        asked = await loopback.say(
            "Which new fields did India and Japan agree to cooperate in?", mention_bot=True
        )
        [reply] = await loopback.until(lambda: loopback.replies_to(asked), timeout=30)
    description = reply["embeds"][0]["description"].replace("**", "")
    assert "space" in description and "cyber" in description
    quoted = description.split("\n— ")[0].removeprefix("> ").replace("\\", "")
    article = (corpus / "india-japan-defence-cooperation.md").read_text(encoding="utf-8")
    assert quoted.rstrip("…").strip() in article  # verbatim from the file
