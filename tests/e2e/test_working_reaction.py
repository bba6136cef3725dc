"""The bot's own ⏳ while it works on a slow question (issue 20), through the real client.

No timing: the delay is 0 and the engine waits at a gate the test opens only once the loopback has
seen the reaction; with a delay no answer reaches, there is never a reaction.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.client import ArticleBot
from bot.config import BotSettings
from index.config import Settings
from index.engine import Engine
from tests.e2e.conftest import FAST, running
from tests.e2e.loopback import LoopbackDiscord

pytestmark = pytest.mark.e2e

WORKING = "⏳"
QUESTION = "Where is Mount Etna?"


def client_with(
    settings: Settings, bot_settings: BotSettings, engine: Engine, seconds: float | None
) -> ArticleBot:
    tuned = dataclasses.replace(bot_settings, working_reaction_seconds=seconds)
    return ArticleBot(settings, tuned, engine_factory=lambda s: engine, **FAST)


@pytest.fixture
def gate(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Questions wait (in the bot's worker thread) until the test sets this."""
    opened = threading.Event()
    ask: Callable[..., Any] = engine.ask

    def slow_ask(*args: Any, **kwargs: Any) -> Any:
        opened.wait(timeout=30)
        return ask(*args, **kwargs)

    monkeypatch.setattr(engine, "ask", slow_ask)
    return opened


@pytest.fixture
async def prompt_bot(
    settings: Settings, bot_settings: BotSettings, engine: Engine, loopback: LoopbackDiscord
) -> AsyncIterator[ArticleBot]:
    async with running(client_with(settings, bot_settings, engine, 0.0), loopback) as client:
        yield client


async def test_a_slow_question_gets_the_bots_reaction_until_the_reply(
    prompt_bot: ArticleBot, loopback: LoopbackDiscord, gate: threading.Event
) -> None:
    lb = loopback
    asked = await lb.say(QUESTION, mention_bot=True)
    await lb.until(lambda: lb.reactions, what="the working reaction")
    assert lb.reactions == [("PUT", asked["id"], WORKING)]
    assert lb.replies_to(asked) == []  # still working: the engine waits at the gate
    gate.set()
    [reply] = await lb.until(lambda: lb.replies_to(asked), what="the reply")
    await lb.until(lambda: len(lb.reactions) == 2, what="the reaction taken back")
    assert lb.reactions[1] == ("DELETE", asked["id"], WORKING)
    order = [
        (r.method, r.path.rsplit("/", 3)[-3] if "reactions" in r.path else "reply")
        for r in lb.requests
        if "reactions" in r.path or (r.method == "POST" and r.path.endswith("/messages"))
    ]
    assert order == [("PUT", "reactions"), ("POST", "reply"), ("DELETE", "reactions")]
    assert reply["embeds"]

    # A slash command has Discord's own "thinking…": never a reaction.
    log = await lb.slash("ask", {"question": QUESTION})
    await lb.until(lambda: log.followups, what="the slash command's answer")
    assert len(lb.reactions) == 2


async def test_no_reaction_when_the_answer_comes_within_the_delay(
    settings: Settings, bot_settings: BotSettings, engine: Engine, loopback: LoopbackDiscord
) -> None:
    lb = loopback
    for seconds in (3600.0, None):  # an hour: no answer takes that long; None: off
        async with running(client_with(settings, bot_settings, engine, seconds), lb):
            asked = await lb.say(QUESTION, mention_bot=True)
            await lb.until(lambda a=asked: lb.replies_to(a), what="the reply")
    assert lb.reactions == []
    assert not [r for r in lb.requests if "reactions" in r.path]
