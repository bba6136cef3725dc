"""The bot's own reaction while it works on a slow question (issue 20): ⏳ on the asking message
once answering has taken ``delay`` seconds, removed when the reply is sent. For messages only:
slash commands and the menu have Discord's own "thinking…"."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable

import discord

log = logging.getLogger(__name__)

WORKING = "⏳"


@contextlib.asynccontextmanager
async def working_reaction(
    message: discord.Message, delay: float | None, me: discord.abc.Snowflake | None
) -> AsyncIterator[None]:
    """While the body runs (answering, then replying): after ``delay`` seconds (None: never) the
    bot (``me``) reacts with ⏳ to ``message``; when the body ends, the reaction is taken back.
    A courtesy: a failure (no Add Reactions permission, a deleted message) is logged, not raised."""
    if delay is None or me is None:
        yield
        return
    reacting = asyncio.Event()  # set once the delay is over: from then on the task is not cancelled

    async def react() -> bool:
        await asyncio.sleep(delay)
        reacting.set()
        return await _try(message.add_reaction(WORKING), "add")

    task = asyncio.create_task(react())
    try:
        yield
    finally:
        if not reacting.is_set():
            task.cancel()  # answered within the delay: nothing was sent
            with contextlib.suppress(asyncio.CancelledError):
                await task
        elif await task:
            await _try(message.remove_reaction(WORKING, me), "remove")


async def _try(request: Awaitable[None], what: str) -> bool:
    try:
        await request
    except discord.HTTPException as exc:
        log.info("could not %s the working reaction: %s", what, exc)
        return False
    return True
