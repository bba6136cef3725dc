"""The operator's port for one running bot (METRICS_PORT): started before the index opens, so
/readyz says 503 while it loads; closed with the bot.

/healthz: the event loop beats every LOOP_BEAT_S; the HTTP thread answers 503 when the last beat
is older than LOOP_STALL_S (the loop is blocked: nothing the bot does will get done).
/readyz: the index is open and the gateway connected (every shard of this process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from typing import Protocol

from index.ops import metrics
from index.ops.address import MetricsAddress
from index.ops.http import OpsServer, Probes
from index.types import IndexInfo

log = logging.getLogger(__name__)

LOOP_BEAT_S = 1.0
LOOP_STALL_S = 15.0


class Engine(Protocol):
    def info(self) -> IndexInfo: ...


class WatchedBot(Protocol):
    """What the probes and the scrape read of the bot (bot.client.ArticleBot)."""

    @property
    def engine(self) -> Engine: ...

    @property
    def engine_open(self) -> bool: ...

    @property
    def open_libraries(self) -> int: ...

    @property
    def latency(self) -> float: ...

    @property
    def shard_id(self) -> int | None: ...

    def is_ready(self) -> bool: ...

    def is_closed(self) -> bool: ...


class Watch:
    def __init__(self, bot: WatchedBot, address: MetricsAddress) -> None:
        self._bot = bot
        self._beat = time.monotonic()
        self._beating: asyncio.Task[None] | None = None
        self._closed = False
        self.server = OpsServer(address.host, address.port, Probes(self.alive, self.ready))
        self._unwatch = metrics.watch(self.state)
        log.info(
            "metrics and health on http://%s:%d (/metrics, /healthz, /readyz)",
            address.host,
            self.server.port,
        )

    @property
    def port(self) -> int:
        return self.server.port

    def start(self) -> None:
        """Begin the event loop's heartbeat (call on the loop)."""
        self._beat = time.monotonic()
        self._beating = asyncio.get_running_loop().create_task(self._beat_forever())

    async def _beat_forever(self) -> None:
        while True:
            self._beat = time.monotonic()
            await asyncio.sleep(LOOP_BEAT_S)

    def alive(self) -> str | None:
        stalled = time.monotonic() - self._beat
        if self._beating is None or self._beating.done():
            return "the event loop's heartbeat is not running"
        if stalled > LOOP_STALL_S:
            return (
                f"the event loop has not answered for {stalled:.0f} s (limit {LOOP_STALL_S:.0f} s)"
            )
        return None

    def ready(self) -> str | None:
        bot = self._bot
        if not bot.engine_open:
            return "the index is not open yet"
        if bot.is_closed():
            return "the bot is shutting down"
        if not bot.is_ready():
            return "not connected to the Discord gateway yet"
        down = [shard for shard, seconds in _latencies(bot).items() if not math.isfinite(seconds)]
        if down:
            return f"gateway shard {down[0]} is disconnected"
        return None

    def state(self) -> metrics.State:
        bot = self._bot
        generations: tuple[metrics.Generation, ...] = ()
        if bot.engine_open:
            info = bot.engine.info()
            generations = (
                metrics.Generation(
                    "operator", info.generation, info.built_at, info.articles, info.chunks
                ),
            )
        return metrics.State(
            generations=generations,
            gateway_latency=_latencies(bot) if bot.is_ready() else {},
            open_libraries=bot.open_libraries,
        )

    async def close(self) -> None:
        """Stop serving (again is harmless: discord.py may close a bot twice)."""
        if self._closed:
            return
        self._closed = True
        self._unwatch()
        if self._beating is not None:
            self._beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beating
        await asyncio.to_thread(self.server.close)


def _latencies(bot: WatchedBot) -> dict[int, float]:
    """Gateway latency per shard (one shard, 0, without sharding)."""
    pairs = getattr(bot, "latencies", None)
    if pairs is None:
        return {bot.shard_id or 0: bot.latency}
    return {int(shard): float(seconds) for shard, seconds in pairs}
