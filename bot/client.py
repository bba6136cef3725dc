"""The Bot subclass: loads the engine in a thread at start-up, wires cogs, errors and command sync."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import discord
from discord.ext import commands, tasks

from bot.asking import AskService, Cooldown, Memory
from bot.config import BotSettings
from bot.errors import handle_error
from bot.feedback.quotes import QuoteFeedback
from bot.ops.watch import Watch
from bot.protocols import EngineLike
from bot.stats import StatsStore
from bot.views import Feedback, FullParagraph, MorePassages, WhyThisQuote
from bot.workers import Workers
from index.config import Settings
from index.library.scoped import ScopedLibrary
from index.library.servers import ServerLibraries, ServesLibrary

log = logging.getLogger(__name__)

COGS = ("bot.cogs.ask", "bot.cogs.lookup", "bot.cogs.admin", "bot.cogs.feeds", "bot.cogs.library")
# How often the bot looks for a generation published by `articlebot index` from the command line.
INDEX_POLL_SECONDS = 30.0
# Server libraries no question read for this long are closed (reopened on the next question).
LIBRARY_IDLE_SECONDS = 600.0
# How often left servers' libraries past SERVER_KEEP_DAYS are deleted.
PURGE_EVERY_SECONDS = 3600.0
OPERATOR = "operator"  # the reindex lock key of the operator's library (server ids for the others)
EngineFactory = Callable[[Settings], EngineLike]


def default_engine_factory(settings: Settings) -> EngineLike:
    from index.engine import Engine  # imported lazily: the model stack is heavy

    return Engine.open(settings)


def make_intents(message_content: bool) -> discord.Intents:
    """Only what the bot needs: guilds and guild messages; message content only for Q&A channels."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.message_content = message_content
    return intents


# The bot never joins voice: don't warn at every start that voice libraries are missing.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


class ArticleBot(commands.Bot):
    def __init__(
        self,
        settings: Settings,
        bot_settings: BotSettings,
        *,
        engine_factory: EngineFactory = default_engine_factory,
        message_content: bool | None = None,
        load_engine: bool = True,
        **options: Any,
    ) -> None:
        if message_content is None:
            message_content = bot_settings.wants_message_content
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=make_intents(message_content),
            allowed_mentions=discord.AllowedMentions.none(),
            owner_ids=set(bot_settings.owner_ids) or None,
            **options,
        )
        self.settings, self.bot_settings = settings, bot_settings
        self._engine_factory, self._load_engine = engine_factory, load_engine
        self._engine: EngineLike | None = None
        self.workers = Workers()
        self.store = StatsStore(bot_settings.db_path)
        self.memory = Memory()
        self._libraries: ServerLibraries | None = None
        self.asker = AskService(
            self.reader_for,
            self.workers,
            self.store,
            max_chars=bot_settings.max_question_chars,
            cooldown=Cooldown(bot_settings.cooldown_questions, bot_settings.cooldown_seconds),
        )
        self.reindex_lock = asyncio.Lock()  # the operator's library
        self._server_locks: dict[int, asyncio.Lock] = {}
        self.watch: Watch | None = None  # METRICS_PORT: the metrics and health endpoints

    @property
    def engine(self) -> EngineLike:
        """The operator's library (CORPUS_DIR): what the command line manages."""
        if self._engine is None:
            raise RuntimeError("the engine is not loaded yet")
        return self._engine

    @property
    def engine_open(self) -> bool:
        return self._engine is not None

    @property
    def open_libraries(self) -> int:
        return self._libraries.open_count if self._libraries is not None else 0

    @property
    def libraries(self) -> ServerLibraries:
        """Each server's own library, opened on demand."""
        if self._libraries is None:
            self._libraries = ServerLibraries(
                self.bot_settings.servers_dir,
                self.settings,
                self._open_library,
                max_open=self.bot_settings.max_open_libraries,
            )
        return self._libraries

    def _open_library(self, settings: Settings) -> ServesLibrary:
        library = self.engine.sibling(settings)
        library.rebuild_if_stale()
        return library

    def reader_for(self, guild_id: int | None) -> ScopedLibrary:
        """What a question from ``guild_id`` reads: the operator's library (unless turned off for
        servers) and that server's own. DMs (None) read the operator's library only."""
        shared = self.bot_settings.operator_library_in_servers or guild_id is None
        return ScopedLibrary(self.engine if shared else None, lambda: self.libraries.get(guild_id))

    def lock_for(self, guild_id: int | None) -> asyncio.Lock:
        """One build at a time per library: the operator's (None) or one server's."""
        if guild_id is None:
            return self.reindex_lock
        return self._server_locks.setdefault(guild_id, asyncio.Lock())

    @property
    def reads_message_content(self) -> bool:
        return self.intents.message_content

    async def setup_hook(self) -> None:
        if self._load_engine and self.bot_settings.metrics is not None:
            self.watch = Watch(self, self.bot_settings.metrics)  # before the index: /readyz 503
            self.watch.start()
        if self._load_engine:
            log.info("loading the index from %s", self.settings.index_dir)
            self._engine = await self.workers.build(self._engine_factory, self.settings)
            log.info("serving index generation %s", self._engine.generation)
            self._engine.rebuild_if_stale()
        self.tree.on_error = handle_error  # type: ignore[method-assign]
        self.add_dynamic_items(MorePassages, FullParagraph, Feedback, WhyThisQuote, QuoteFeedback)
        for name in COGS:
            await self.load_extension(name)
        if self._load_engine and self.bot_settings.dev_guild_id is not None:
            await self.sync_to_guild(self.bot_settings.dev_guild_id)
        if self._load_engine:
            self.follow_index.start()
            self.tend_libraries.start()

    @tasks.loop(seconds=INDEX_POLL_SECONDS)
    async def follow_index(self) -> None:
        """Pick up a generation that `articlebot index` published while the bot runs."""
        if self.reindex_lock.locked():
            return
        try:
            if await self.workers.build(self.engine.refresh):
                log.info("serving index generation %s", self.engine.generation)
        except Exception:
            log.exception("could not load the newest index generation; still serving the old one")

    @tasks.loop(seconds=PURGE_EVERY_SECONDS)
    async def tend_libraries(self) -> None:
        """Close idle server libraries; delete those of servers left more than SERVER_KEEP_DAYS ago."""
        try:
            closed = self.libraries.close_idle(LIBRARY_IDLE_SECONDS)
            gone = await self.workers.io(
                self.libraries.purge_left, self.bot_settings.keep_left_days
            )
            for guild_id in gone:
                await self.workers.io(self.store.forget_guild, guild_id)
                log.info("deleted server %d's library and data (left over the keep days)", guild_id)
            if closed:
                log.debug("closed %d idle server libraries", closed)
        except Exception:
            log.exception("tending the server libraries failed; trying again later")

    async def on_guild_join(self, guild: discord.Guild) -> None:
        if not await self._allowed(guild):
            return
        await self.workers.io(self.libraries.rejoined, guild.id)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        await self._allowed(guild)

    async def _allowed(self, guild: discord.Guild) -> bool:
        """DISCORD_ALLOWED_SERVER_IDS, when set: leave any other server, with a log line."""
        allowed = self.bot_settings.allowed_server_ids
        if not allowed or guild.id in allowed:
            return True
        log.warning("leaving server %d: not in DISCORD_ALLOWED_SERVER_IDS", guild.id)
        try:
            await guild.leave()
        except discord.HTTPException:
            log.warning("could not leave server %d", guild.id, exc_info=True)
        return False

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Removed from a server: its library and data are kept SERVER_KEEP_DAYS, then deleted."""
        log.info(
            "removed from server %d; its library is kept for %g days",
            guild.id,
            self.bot_settings.keep_left_days,
        )
        await self.workers.io(self.libraries.left, guild.id)

    async def sync_to_guild(self, guild_id: int) -> int:
        """Copy the commands to one guild and sync there (instant, unlike global sync)."""
        guild = discord.Object(id=guild_id)
        self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        log.info("synced %d commands to guild %d", len(synced), guild_id)
        return len(synced)

    async def sync_globally(self) -> int:
        synced = await self.tree.sync()
        log.info("synced %d commands globally", len(synced))
        return len(synced)

    async def on_ready(self) -> None:
        user = self.user
        log.info("connected as %s (id %s)", user, user.id if user else "?")
        if self.bot_settings.wants_message_content and not self.reads_message_content:
            log.warning(
                "Q&A or forum channels are set but the message-content intent is off: answering "
                "only mentions, replies, slash commands and forum posts' titles"
            )

    async def close(self) -> None:
        self.follow_index.cancel()
        self.tend_libraries.cancel()
        try:
            await super().close()
        finally:
            if self.watch is not None:
                await self.watch.close()
            self.workers.shutdown()
            self.store.close()

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: questions are handled by the ask cog's listener."""


class ShardedArticleBot(ArticleBot, commands.AutoShardedBot):
    """ArticleBot on discord.py's AutoShardedBot: one gateway connection per shard (BOT_SHARDS)."""

    async def on_ready(self) -> None:
        await super().on_ready()
        log.info("gateway shards %s of %s", sorted(self.shards), self.shard_count)


def make_bot(settings: Settings, bot_settings: BotSettings, **options: Any) -> ArticleBot:
    """The bot class BOT_SHARDS asks for: ArticleBot by default, else its sharded variant."""
    if not bot_settings.sharded:
        return ArticleBot(settings, bot_settings, **options)
    return ShardedArticleBot(
        settings,
        bot_settings,
        shard_count=bot_settings.shard_count,  # None: as many as Discord's /gateway/bot says
        shard_ids=list(bot_settings.shard_ids) or None,  # None: all of them in this process
        **options,
    )
