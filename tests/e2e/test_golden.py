"""The sample corpus and the real model, through Discord: the golden question is quoted verbatim."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.client import ArticleBot
from bot.config import BotSettings
from index.build import build_index
from index.config import Settings
from index.engine import Engine
from tests.e2e.conftest import FAST, running
from tests.e2e.loopback import LoopbackDiscord

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]


async def test_golden_question_through_discord(
    tmp_path: Path, loopback: LoopbackDiscord, bot_settings: BotSettings, real_embedder: Any
) -> None:
    corpus = shutil.copytree(REPO / "corpus", tmp_path / "sample")
    settings = Settings.from_env({}, corpus_dir=corpus, index_dir=tmp_path / "real-index")
    build_index(settings, real_embedder)
    engine = Engine.open(settings, embedder=real_embedder)
    bot = ArticleBot(settings, bot_settings, engine_factory=lambda s: engine, **FAST)
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
