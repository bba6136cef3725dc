"""Asking through the real discord.py client: mentions, replies, /ask, the context menu, buttons."""

from __future__ import annotations

import pytest

from bot.client import ArticleBot
from tests.e2e.loopback import LoopbackDiscord

pytestmark = pytest.mark.e2e

QUESTION = "Which new fields did India and Japan agree to cooperate in?"


def embed_of(message: dict) -> dict:
    assert message["embeds"], f"no embed in {message}"
    return message["embeds"][0]


async def test_mention_gets_a_quoted_reply(bot: ArticleBot, loopback: LoopbackDiscord) -> None:
    asked = await loopback.say(QUESTION, mention_bot=True)
    [reply] = await loopback.until(lambda: loopback.replies_to(asked), what="the reply")
    embed = embed_of(reply)
    assert embed["title"] == "India and Japan summit"
    assert embed["url"] == "https://example.org/india-japan"
    assert embed["description"].startswith("> ")
    assert "space and cyber security" in embed["description"].replace("**", "")
    assert "**" in embed["description"]  # the answering words are emphasized
    assert bot.engine.generation in embed["footer"]["text"]
    labels = [
        c.get("label") or c.get("emoji", {}).get("name")
        for row in reply["components"]
        for c in row["components"]
    ]
    assert labels == ["More passages", "Show full paragraph", "👍", "👎"]
