"""Running it in production (issue 21) through the real client and the loopback Discord: with
METRICS_PORT set, /metrics moves with questions, /healthz and /readyz answer (503 before the index
is open), `articlebot health` asks /readyz, and JSON log lines carry the question's fields."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import io
import json
import logging
import threading
import urllib.error
import urllib.request

import discord
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.client import ArticleBot
from bot.config import BotSettings
from index.cli.main import cmd_health
from index.config import Settings
from index.engine import Engine
from index.ops.address import MetricsAddress
from index.process.log_setup import JsonFormatter
from tests.e2e.conftest import FAST, TOKEN
from tests.e2e.loopback import LoopbackDiscord

pytestmark = pytest.mark.e2e

QUESTION = "Which new fields did India and Japan agree to cooperate in?"


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def sample(base: str, name: str, **labels: str) -> float:
    """One sample's value on /metrics (0 when absent)."""
    status, text = get(base + "/metrics")
    assert status == 200
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


@pytest.fixture
def bot_settings(bot_settings: BotSettings) -> BotSettings:
    """The e2e bot's settings with METRICS_PORT=0 (any free port); the `bot` fixture uses them."""
    return dataclasses.replace(bot_settings, metrics=MetricsAddress("127.0.0.1", 0))


def base_of(bot: ArticleBot) -> str:
    assert bot.watch is not None
    return f"http://127.0.0.1:{bot.watch.port}"


async def test_a_question_moves_the_counters_and_the_latency_histogram(
    bot: ArticleBot, loopback: LoopbackDiscord
) -> None:
    base = base_of(bot)
    answered = sample(base, "articlebot_questions_total", outcome="answered", surface="mention")
    replies = sample(base, "articlebot_question_seconds_count", surface="mention")
    slashes = sample(base, "articlebot_questions_total", outcome="answered", surface="slash")
    choose = sample(base, "articlebot_engine_stage_seconds_count", stage="choose")

    asked = await loopback.say(QUESTION, mention_bot=True)
    [reply] = await loopback.until(lambda: loopback.replies_to(asked), what="the reply")
    assert "space and cyber" in reply["embeds"][0]["description"].replace("**", "")
    await loopback.until(
        lambda: sample(base, "articlebot_question_seconds_count", surface="mention") == replies + 1,
        what="the reply's latency observed",
    )
    after = sample(base, "articlebot_questions_total", outcome="answered", surface="mention")
    assert after == answered + 1
    assert sample(base, "articlebot_engine_stage_seconds_count", stage="choose") == choose + 1
    assert sample(base, "articlebot_question_seconds_bucket", surface="mention", le="+Inf") >= 1

    log = await loopback.slash("ask", {"question": QUESTION})
    await loopback.until(lambda: log.followups, what="the /ask answer")
    await loopback.until(
        lambda: (
            sample(base, "articlebot_questions_total", outcome="answered", surface="slash")
            == slashes + 1
        ),
        what="/ask counted as slash",
    )

    info = bot.engine.info()
    assert sample(base, "articlebot_index_chunks", library="operator") == info.chunks
    assert sample(base, "articlebot_index_articles", library="operator") == info.articles
    generation = sample(
        base, "articlebot_index_generation_info", library="operator", generation=info.generation
    )
    assert generation == 1
    assert sample(base, "articlebot_gateway_latency_seconds", shard="0") >= 0
    assert sample(base, "process_resident_memory_bytes") > 0


async def test_cooldown_drops_are_counted_as_refused(
    bot: ArticleBot, loopback: LoopbackDiscord
) -> None:
    base = base_of(bot)
    bot.asker.cooldown.rate = 1  # one question a minute for this test
    drops = sample(base, "articlebot_cooldown_drops_total", surface="mention")
    refused = sample(base, "articlebot_questions_total", outcome="refused", surface="mention")
    for _ in range(2):
        asked = await loopback.say(QUESTION, mention_bot=True)
        await loopback.until(lambda a=asked: loopback.replies_to(a), what="a reply")
    assert sample(base, "articlebot_cooldown_drops_total", surface="mention") == drops + 1
    assert (
        sample(base, "articlebot_questions_total", outcome="refused", surface="mention")
        == refused + 1
    )


async def test_health_and_readiness_answer_200_and_the_health_command_agrees(
    bot: ArticleBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = base_of(bot)
    assert get(base + "/healthz") == (200, "ok\n")
    assert get(base + "/readyz") == (200, "ok\n")
    assert get(base + "/nothing")[0] == 404
    monkeypatch.setenv("METRICS_PORT", str(bot.watch.port if bot.watch else 0))
    monkeypatch.setenv("BOT_HEARTBEAT_FILE", "/nonexistent/heartbeat")  # not what is asked
    namespace = argparse.Namespace(live=False, max_age=120.0)
    assert await asyncio.to_thread(cmd_health, namespace) == 0
    assert await asyncio.to_thread(cmd_health, argparse.Namespace(live=True, max_age=1.0)) == 0


async def test_readyz_is_503_until_the_index_is_open_and_the_gateway_connected(
    settings: Settings, bot_settings: BotSettings, engine: Engine, loopback: LoopbackDiscord
) -> None:
    gate = threading.Event()

    def slow_open(s: Settings) -> Engine:
        gate.wait(30)
        return engine

    client = ArticleBot(settings, bot_settings, engine_factory=slow_open, **FAST)
    login = asyncio.create_task(client.login(TOKEN))
    connect: asyncio.Task[None] | None = None
    try:
        await loopback.until(lambda: client.watch, what="the metrics port open")
        base = base_of(client)
        status, reason = await asyncio.to_thread(get, base + "/readyz")
        assert (status, reason) == (503, "the index is not open yet\n")
        assert await asyncio.to_thread(get, base + "/healthz") == (200, "ok\n")
        gate.set()
        await login
        status, reason = await asyncio.to_thread(get, base + "/readyz")
        assert (status, reason) == (503, "not connected to the Discord gateway yet\n")
        connect = asyncio.create_task(client.connect(reconnect=False))
        await asyncio.wait_for(client.wait_until_ready(), timeout=15)
        assert await asyncio.to_thread(get, base + "/readyz") == (200, "ok\n")
    finally:
        gate.set()
        await client.close()
        for task in (login, connect):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, discord.ConnectionClosed):
                    await asyncio.wait_for(task, timeout=10)
    with pytest.raises(OSError):  # closed with the bot
        urllib.request.urlopen(base + "/healthz", timeout=2)


async def test_json_logs_parse_line_by_line_with_the_question_fields(
    bot: ArticleBot, loopback: LoopbackDiscord
) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        asked = await loopback.say(QUESTION, mention_bot=True)
        await loopback.until(lambda: loopback.replies_to(asked), what="the reply")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    lines = out.getvalue().splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert records and all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    [answered] = [r for r in records if r["logger"] == "bot.asking"]
    assert answered["level"] == "INFO" and isinstance(answered["question_id"], int)
    assert answered["guild"] == int(loopback.guild_id)
    assert answered["generation"] == bot.engine.generation
    assert "India and Japan" not in out.getvalue()  # message contents are not logged at INFO
    assert TOKEN not in out.getvalue() and TOKEN.split(".")[0] not in out.getvalue()
