"""The heartbeat the Docker healthcheck reads: written while connected, not while disconnected."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest

from bot.main import heartbeat
from index.process.health import check_heartbeat


class FakeBot:
    """The three things heartbeat() reads from discord.py's client."""

    def __init__(self, ready: bool, latency: float = 0.05) -> None:
        self._ready, self.latency = ready, latency

    def is_ready(self) -> bool:
        return self._ready

    def is_closed(self) -> bool:
        return False


async def beats(bot: FakeBot, path: Path, rounds: int = 50) -> None:
    task = asyncio.create_task(heartbeat(bot, path, every_s=0))  # type: ignore[arg-type]
    for _ in range(rounds):
        await asyncio.sleep(0.001)
        if path.exists():
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_connected_bot_beats(tmp_path: Path) -> None:
    path = tmp_path / "var" / "bot.heartbeat"
    asyncio.run(beats(FakeBot(ready=True), path))
    assert check_heartbeat(path, max_age_s=120) is None


@pytest.mark.parametrize("bot", [FakeBot(ready=False), FakeBot(ready=True, latency=math.nan)])
def test_disconnected_bot_does_not_beat(tmp_path: Path, bot: FakeBot) -> None:
    path = tmp_path / "bot.heartbeat"
    asyncio.run(beats(bot, path))
    assert not path.exists()
    assert "no heartbeat file" in (check_heartbeat(path, max_age_s=120) or "")
