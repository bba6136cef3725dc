"""Bot settings: read from the environment (and `.env`) when the bot starts, never at import."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from index.config import home, read_dotenv, under_home
from index.errors import SettingsError
from index.library.servers import DEFAULT_DIR as DEFAULT_SERVERS_DIR
from index.library.servers import servers_dir
from index.ops.address import MetricsAddress, metrics_address
from index.process.health import DEFAULT_FILE as DEFAULT_HEARTBEAT_FILE
from index.process.health import heartbeat_path

# A bot token is three dot-separated base64url parts; checking the shape catches pasted client
# secrets and stray quotes before Discord is asked at all.
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$")


T = TypeVar("T", int, float)


class BotConfigError(ValueError):
    """A bot setting is missing or unusable; the message names the setting and says what to do."""


@dataclass(frozen=True)
class BotSettings:
    """Everything the Discord side needs besides the engine's own settings."""

    token: str = field(repr=False)
    qa_channel_ids: frozenset[int] = frozenset()
    # DISCORD_FORUM_CHANNEL_IDS: forum channels whose each new post is answered in its thread.
    forum_channel_ids: frozenset[int] = frozenset()
    admin_role_ids: frozenset[int] = frozenset()
    admin_user_ids: frozenset[int] = frozenset()
    owner_ids: frozenset[int] = frozenset()
    # Operators manage the operator's library (CORPUS_DIR) and the whole bot from Discord: the
    # application's owner or team (from Discord) plus these users (docs/DISCORD.md, who may do what).
    operator_user_ids: frozenset[int] = frozenset()
    # Each server's own library lives in SERVERS_DIR/<server id>/ (issue 18).
    servers_dir: Path = DEFAULT_SERVERS_DIR
    operator_library_in_servers: bool = (
        True  # OPERATOR_LIBRARY_IN_SERVERS=off: servers read their own only
    )
    allowed_server_ids: frozenset[int] = frozenset()  # DISCORD_ALLOWED_SERVER_IDS: empty = any
    keep_left_days: float = 30.0  # SERVER_KEEP_DAYS: a left server's library is deleted after
    max_open_libraries: int = 64  # SERVER_LIBRARIES_OPEN: server libraries held open at once
    dev_guild_id: int | None = None
    # BOT_WORKING_REACTION_SECONDS: the bot reacts ⏳ to a question (a message, not a slash
    # command) still unanswered after this long, until its reply is sent; None ("off"): never.
    working_reaction_seconds: float | None = 1.0
    cooldown_questions: int = 5
    cooldown_seconds: float = 60.0
    max_question_chars: int = 500
    max_attachment_bytes: int = 2_000_000
    db_path: Path = Path("var/bot.sqlite3")
    heartbeat_path: Path = Path(DEFAULT_HEARTBEAT_FILE)
    # BOT_SHARDS (docs/SCALING.md): unset, one gateway connection (commands.Bot); "auto", as many
    # shards as Discord recommends; N, exactly N (commands.AutoShardedBot either way).
    # BOT_SHARD_IDS: the shards this process runs when several processes split N between them.
    sharded: bool = False
    shard_count: int | None = None
    shard_ids: tuple[int, ...] = ()
    # METRICS_PORT / METRICS_HOST: /metrics, /healthz, /readyz (docs/OPERATIONS.md); None: off.
    metrics: MetricsAddress | None = None

    @property
    def wants_message_content(self) -> bool:
        """Q&A channels and forum posts' text need the privileged message-content intent
        (without it a forum post is answered from its title); mentions and replies do not."""
        return bool(self.qa_channel_ids or self.forum_channel_ids)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BotSettings:
        """Settings from ``env`` (default: the process environment over `.env`)."""
        env = load_env() if env is None else env
        token = env.get("DISCORD_TOKEN", "").strip()
        if not token:
            raise BotConfigError(
                "DISCORD_TOKEN is not set: put the bot token from the Discord Developer Portal "
                "(Bot > Reset Token) in .env or the environment"
            )
        if not _TOKEN_SHAPE.match(token):
            raise BotConfigError(
                "DISCORD_TOKEN does not look like a bot token (three dot-separated parts): "
                "copy it again from the Developer Portal (Bot > Reset Token)"
            )
        settings = cls(
            token=token,
            qa_channel_ids=_ids(env, "DISCORD_QA_CHANNEL_IDS"),
            forum_channel_ids=_ids(env, "DISCORD_FORUM_CHANNEL_IDS"),
            admin_role_ids=_ids(env, "DISCORD_ADMIN_ROLE_IDS"),
            admin_user_ids=_ids(env, "DISCORD_ADMIN_USER_IDS"),
            owner_ids=_ids(env, "DISCORD_OWNER_IDS"),
            operator_user_ids=_ids(env, "DISCORD_OPERATOR_USER_IDS"),
            servers_dir=servers_dir(env),
            operator_library_in_servers=_on_off(env, "OPERATOR_LIBRARY_IN_SERVERS", True),
            allowed_server_ids=_ids(env, "DISCORD_ALLOWED_SERVER_IDS"),
            keep_left_days=_number(env, "SERVER_KEEP_DAYS", float, cls.keep_left_days),
            max_open_libraries=_number(env, "SERVER_LIBRARIES_OPEN", int, cls.max_open_libraries),
            dev_guild_id=_optional_id(env, "DISCORD_DEV_GUILD_ID"),
            working_reaction_seconds=_seconds_or_off(
                env, "BOT_WORKING_REACTION_SECONDS", cls.working_reaction_seconds
            ),
            cooldown_questions=_number(env, "BOT_COOLDOWN_QUESTIONS", int, cls.cooldown_questions),
            cooldown_seconds=_number(env, "BOT_COOLDOWN_SECONDS", float, cls.cooldown_seconds),
            max_question_chars=_question_limit(env),
            max_attachment_bytes=_number(
                env, "BOT_MAX_ATTACHMENT_BYTES", int, cls.max_attachment_bytes
            ),
            db_path=under_home(env.get("BOT_DB_PATH") or cls.db_path, env),
            heartbeat_path=heartbeat_path(env),
            metrics=_metrics(env),
            **_shards(env),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.cooldown_questions < 1:
            raise BotConfigError("BOT_COOLDOWN_QUESTIONS must be at least 1")
        if self.cooldown_seconds < 0:
            raise BotConfigError("BOT_COOLDOWN_SECONDS must not be negative")
        if not (math.isfinite(self.keep_left_days) and self.keep_left_days >= 0):
            raise BotConfigError("SERVER_KEEP_DAYS must be a number of days, 0 or more")
        if self.max_open_libraries < 1:
            raise BotConfigError("SERVER_LIBRARIES_OPEN must be at least 1")
        if self.max_attachment_bytes < 1:
            raise BotConfigError("BOT_MAX_ATTACHMENT_BYTES must be at least 1")
        if self.shard_count is not None and self.shard_count < 1:
            raise BotConfigError(f"BOT_SHARDS must be auto or at least 1, got {self.shard_count}")
        if self.shard_ids and self.shard_count is None:
            raise BotConfigError(
                "BOT_SHARD_IDS needs BOT_SHARDS set to the total number of shards across all "
                "processes (a number, not auto), e.g. BOT_SHARDS=4"
            )
        outside = [i for i in self.shard_ids if not 0 <= i < (self.shard_count or 0)]
        if outside:
            raise BotConfigError(
                f"BOT_SHARD_IDS: shard {outside[0]} is not one of BOT_SHARDS={self.shard_count} "
                f"(ids run from 0 to {(self.shard_count or 1) - 1})"
            )


def load_env(dotenv: Path | None = None) -> dict[str, str]:
    """The process environment over the values in ``dotenv`` (default ARTICLEBOT_HOME/.env)."""
    try:
        values = read_dotenv(dotenv or home() / ".env")
    except SettingsError as exc:
        raise BotConfigError(str(exc)) from None
    values.update(os.environ)
    return values


def _question_limit(env: Mapping[str, str]) -> int:
    """The engine's limit (MAX_QUESTION_CHARS, formerly BOT_MAX_QUESTION_CHARS): one for all."""
    from index.config import Settings

    try:
        return Settings.from_env(env).max_question_chars
    except SettingsError as exc:
        raise BotConfigError(str(exc)) from None


def _metrics(env: Mapping[str, str]) -> MetricsAddress | None:
    try:
        return metrics_address(env)
    except SettingsError as exc:
        raise BotConfigError(str(exc)) from None


def _shards(env: Mapping[str, str]) -> dict[str, Any]:
    """BOT_SHARDS (unset, "auto" or a count) and BOT_SHARD_IDS as BotSettings fields."""
    raw = env.get("BOT_SHARDS", "").strip().lower()
    ids = tuple(sorted(_ids(env, "BOT_SHARD_IDS")))
    if raw in ("", "auto"):
        return {"sharded": raw == "auto" or bool(ids), "shard_count": None, "shard_ids": ids}
    try:
        count = int(raw)
    except ValueError:
        raise BotConfigError(
            f"BOT_SHARDS must be auto or a number of shards, got {env['BOT_SHARDS']!r}"
        ) from None
    return {"sharded": True, "shard_count": count, "shard_ids": ids}


def _ids(env: Mapping[str, str], name: str) -> frozenset[int]:
    raw = env.get(name, "")
    parts = [p for p in re.split(r"[\s,]+", raw.strip()) if p]
    try:
        return frozenset(int(p) for p in parts)
    except ValueError:
        raise BotConfigError(
            f"{name} must be a comma-separated list of Discord ids (numbers), got {raw!r}"
        ) from None


def _on_off(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("on", "1", "true", "yes"):
        return True
    if raw in ("off", "0", "false", "no"):
        return False
    raise BotConfigError(f"{name} must be on or off, got {env[name]!r}")


def _seconds_or_off(env: Mapping[str, str], name: str, default: float | None) -> float | None:
    if env.get(name, "").strip().lower() == "off":
        return None
    seconds = _number(env, name, float, default if default is not None else 0.0)
    if not (math.isfinite(seconds) and seconds >= 0):
        raise BotConfigError(f"{name} must be a number of seconds, 0 or more, or off")
    return seconds


def _optional_id(env: Mapping[str, str], name: str) -> int | None:
    ids = _ids(env, name)
    if len(ids) > 1:
        raise BotConfigError(f"{name} takes one Discord id, got {len(ids)}")
    return next(iter(ids), None)


def _number(env: Mapping[str, str], name: str, kind: type[T], default: T) -> T:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise BotConfigError(f"{name} must be a number, got {raw!r}") from None
