"""Entry points the CLI calls: `run` (start the bot) and `sync_commands`. Both return an exit code.

`python -m bot.main` starts the bot on the published index generation without building first (a
read-only replica, docs/SCALING.md); `articlebot run` brings the index up to date, then starts it.

Expected failures (missing or rejected token, no index) are one line on stderr and a non-zero exit,
never a traceback. The token is never printed or logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

import aiohttp
import discord

from bot.client import ArticleBot, EngineFactory, default_engine_factory, make_bot
from bot.config import BotConfigError, BotSettings
from bot.protocols import EngineLike
from index.config import Settings, load_dotenv_file
from index.errors import ArticlebotError, SettingsError
from index.process import gc_policy
from index.process.health import HEARTBEAT_EVERY_S, write_heartbeat
from index.process.log_setup import configure_logging

log = logging.getLogger(__name__)

REJECTED_TOKEN = (
    "Discord rejected DISCORD_TOKEN (401 Unauthorized): copy a fresh token from the Developer "
    "Portal (your application > Bot > Reset Token) into .env"
)
NO_CONTENT_INTENT = (
    "the Message Content intent is not enabled for this bot, so Q&A channels are off: answering "
    "mentions, replies and slash commands only (enable it under Bot > Privileged Gateway Intents)"
)


def _fail(message: str, code: int = 1) -> int:
    print(f"articlebot: error: {message}", file=sys.stderr)
    return code


def _configure_logging() -> None:
    """LOG_LEVEL (default INFO) and LOG_FORMAT (text or json), unless the CLI did it already."""
    if not logging.getLogger().handlers:
        configure_logging("INFO")


def run(
    settings: Settings,
    env: Mapping[str, str] | None = None,
    *,
    engine_factory: EngineFactory = default_engine_factory,
) -> int:
    """Start the bot and serve until stopped; the exit code for the CLI."""
    try:
        bot_settings = BotSettings.from_env(env)
        _configure_logging()
    except (BotConfigError, SettingsError) as exc:
        return _fail(str(exc), 2)
    gc_policy.serve_long_lived()  # also when started without the CLI
    try:
        return asyncio.run(serve(settings, bot_settings, engine_factory=engine_factory))
    except KeyboardInterrupt:
        return 0


async def serve(
    settings: Settings,
    bot_settings: BotSettings,
    *,
    engine_factory: EngineFactory = default_engine_factory,
) -> int:
    """Run the bot; without the privileged intent, fall back to mentions and slash commands."""
    engines: list[EngineLike] = []

    def load_once(s: Settings) -> EngineLike:  # a restart without the intent reuses the engine
        if not engines:
            engines.append(engine_factory(s))
        return engines[0]

    message_content = bot_settings.wants_message_content
    while True:
        bot = make_bot(
            settings, bot_settings, engine_factory=load_once, message_content=message_content
        )
        try:
            async with bot:
                stop_on_sigterm(bot)
                beats = asyncio.create_task(heartbeat(bot, bot_settings.heartbeat_path))
                try:
                    await bot.start(bot_settings.token)
                finally:
                    beats.cancel()
            return 0
        except discord.LoginFailure:
            return _fail(REJECTED_TOKEN)
        except discord.PrivilegedIntentsRequired:
            if not message_content:
                return _fail("Discord refused the bot's intents; see docs/DISCORD.md")
            log.warning(NO_CONTENT_INTENT)
            message_content = False
        except ArticlebotError as exc:
            return _fail(exc.user_line(), exc.exit_code)
        except (aiohttp.ClientError, OSError) as exc:
            return _fail(f"cannot reach Discord: {exc}")


def stop_on_sigterm(bot: ArticleBot) -> None:
    """`docker stop` and systemd send SIGTERM: close the gateway cleanly, then exit 0."""
    with contextlib.suppress(NotImplementedError, RuntimeError):  # not on every platform/thread
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGTERM, lambda: asyncio.ensure_future(bot.close())
        )


async def heartbeat(bot: ArticleBot, path: Path, every_s: float = HEARTBEAT_EVERY_S) -> None:
    """Rewrite the heartbeat file while the bot is connected (`articlebot health` reads it)."""
    while True:
        if bot.is_ready() and not bot.is_closed() and math.isfinite(bot.latency):
            try:
                await asyncio.to_thread(write_heartbeat, path)
            except OSError as exc:
                log.warning("cannot write the heartbeat file %s: %s", path, exc)
        await asyncio.sleep(every_s)


def sync_commands(settings: Settings, env: Mapping[str, str] | None = None) -> int:
    """Publish the slash commands globally (and to the dev guild if set), then exit."""
    try:
        bot_settings = BotSettings.from_env(env)
        _configure_logging()
    except (BotConfigError, SettingsError) as exc:
        return _fail(str(exc), 2)
    return asyncio.run(sync_only(settings, bot_settings))


async def sync_only(settings: Settings, bot_settings: BotSettings) -> int:
    bot = ArticleBot(settings, bot_settings, load_engine=False)
    try:
        async with bot:
            await bot.login(bot_settings.token)
            count = await bot.sync_globally()
            where = "globally (may take up to an hour to appear)"
            if bot_settings.dev_guild_id is not None:
                await bot.sync_to_guild(bot_settings.dev_guild_id)
                where += f" and to guild {bot_settings.dev_guild_id}"
    except discord.LoginFailure:
        return _fail(REJECTED_TOKEN)
    except discord.HTTPException as exc:
        return _fail(f"Discord refused the command sync: {exc.status} {exc.text}")
    except (aiohttp.ClientError, OSError) as exc:
        return _fail(f"cannot reach Discord: {exc}")
    print(f"Synced {count} commands {where}.")
    return 0


def main() -> int:
    """`python -m bot.main`: serve the published generation as it is (no build at start)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # as `articlebot run`: the model is local
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        load_dotenv_file()  # ARTICLEBOT_HOME/.env; the environment wins
        settings = Settings.from_env()
    except SettingsError as exc:
        return _fail(str(exc), 2)
    return run(settings)


if __name__ == "__main__":
    sys.exit(main())
