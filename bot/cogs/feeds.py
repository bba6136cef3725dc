"""Articles from the web on Discord: `/feed add|list|remove|poll` (each server its own feeds, whose
entries go to its own library; the operator's feeds are polled too), the poller, and the link
half of `/add-article url:` (called by the admin cog).

Fetching runs in threads off the event loop (asyncio.to_thread: network waits, not compute, so they
stay off the query and build workers); each poll that adds articles publishes one index generation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.errors import UserFacingError
from bot.listing import render_feeds
from bot.permissions import require_admin
from bot.web_adding import web_errors
from index.library.servers import ServesLibrary
from index.ops import metrics
from index.web.feeds import FeedReport, FeedSettings, follow, poll_all, unfollow
from index.web.feedstore import Feed, FeedStore
from index.web.fetch import FetchPolicy

if TYPE_CHECKING:
    from bot.client import ArticleBot

log = logging.getLogger(__name__)

MAX_FEED_CHOICES = 25
FEEDS_FILE = "feeds.sqlite3"  # in a server's library folder
OPEN_FEED_STORES = 64  # a poll over thousands of servers holds no more connections than this
T = TypeVar("T")


class FeedsCog(commands.Cog):
    feed = app_commands.Group(
        name="feed",
        description="Follow RSS or Atom feeds: new entries become articles",
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )

    def __init__(self, bot: ArticleBot) -> None:
        self.bot = bot
        self.policy = FetchPolicy.from_env()
        self.settings = FeedSettings.from_env()
        self.store = FeedStore(bot.bot_settings.db_path)  # the operator's library's feeds
        # Servers' feed databases, the least recently used closed past OPEN_FEED_STORES.
        self._server_stores: OrderedDict[int, FeedStore] = OrderedDict()
        self._poll_lock = asyncio.Lock()
        self._poller: asyncio.Task[None] | None = None

    def store_for(self, guild_id: int | None, *, create: bool = False) -> FeedStore | None:
        """The feeds of one server's library (SERVERS_DIR/<id>/feeds.sqlite3), or the
        operator's (None). A server that follows no feed has no file: None unless ``create``."""
        if guild_id is None:
            return self.store
        store = self._server_stores.get(guild_id)
        if store is None:
            path = self.bot.libraries.folder(guild_id) / FEEDS_FILE
            if not (create or path.exists()):
                return None
            store = self._server_stores[guild_id] = FeedStore(path)
            while len(self._server_stores) > OPEN_FEED_STORES:
                self._server_stores.popitem(last=False)[1].close()
        self._server_stores.move_to_end(guild_id)
        return store

    def forget(self, guild_id: int) -> None:
        """Close a server's feed database (its library folder is about to be deleted)."""
        store = self._server_stores.pop(guild_id, None)
        if store is not None:
            store.close()

    async def cog_load(self) -> None:
        if self.settings.poll_minutes > 0:
            self._poller = asyncio.create_task(self._poll_forever(self.settings.poll_minutes * 60))

    async def cog_unload(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        self.store.close()
        for store in self._server_stores.values():
            store.close()

    async def _poll_forever(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                for report in await self.poll_everywhere():
                    log.info("feed poll: %s", report.line())
            except Exception:
                log.exception("the feed poll failed; the next one runs in %.0f s", seconds)

    async def poll_everywhere(self) -> list[FeedReport]:
        """The operator's feeds, then every server's that follows any."""
        reports = await self.poll(None)
        for guild_id in await self.bot.workers.io(self.bot.libraries.server_ids):
            if self.store_for(guild_id) is not None:
                reports += await self.poll(guild_id)
        return reports

    async def poll(self, guild_id: int | None) -> list[FeedReport]:
        """Poll one library's feeds once, then publish one generation of it if anything changed."""
        store = self.store_for(guild_id)
        if store is None:
            return []
        async with self._poll_lock:
            engine: ServesLibrary = (
                self.bot.engine
                if guild_id is None
                else await self.bot.workers.build(self.bot.libraries.ensure, guild_id)
            )
            with metrics.feed_poll_timer():
                reports = await asyncio.to_thread(
                    poll_all, store, engine.corpus_dir, self.policy, self.settings
                )
                metrics.feeds_failed(sum(1 for r in reports if r.error))
                if reports:  # also when nothing changed now: a poll killed after saving left
                    # articles unindexed, and the build (which publishes nothing when nothing
                    # changed) takes them in now
                    async with self.bot.lock_for(guild_id):  # after a running reindex, one more
                        await self.bot.workers.build(engine.reindex)
            return reports

    async def feeds(self, guild_id: int | None) -> list[Feed]:
        store = self.store_for(guild_id)
        return [] if store is None else await self.bot.workers.io(store.feeds)

    @feed.command(name="add", description="Follow an RSS or Atom feed")
    @app_commands.describe(url="The feed's http(s) link")
    async def feed_add(self, interaction: discord.Interaction, url: str) -> None:
        require_admin(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.bot.workers.build(self.bot.libraries.ensure, _server(interaction))
        store = self.store_for(_server(interaction), create=True)
        assert store is not None
        feed, parsed = await web_errors(asyncio.to_thread(follow, store, url, self.policy))
        log.info("feed %s followed by %s", feed.url, interaction.user.id)
        every = (
            f"every {self.settings.poll_minutes:g} minutes" if self.settings.poll_minutes else ""
        )
        await interaction.followup.send(
            f"Following {render.source_link(feed.title or feed.url, feed.url)} "
            f"({len(parsed.entries)} entries now). New entries are added at the next poll "
            f"{every}, or now with `/feed poll`.",
            ephemeral=True,
        )

    @feed.command(name="list", description="The feeds followed, their last poll and errors")
    async def feed_list(self, interaction: discord.Interaction) -> None:
        require_admin(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        feeds = await self.feeds(_server(interaction))
        await interaction.followup.send(embed=render_feeds(feeds), ephemeral=True)

    @feed.command(name="remove", description="Stop following a feed (its articles stay)")
    @app_commands.describe(url="The feed to stop following")
    async def feed_remove(self, interaction: discord.Interaction, url: str) -> None:
        require_admin(interaction)
        store = self.store_for(_server(interaction))
        if store is None:
            raise UserFacingError("This server follows no feeds.")
        await web_errors(self.bot.workers.io(unfollow, store, url))
        log.info("feed %s unfollowed by %s", url, interaction.user.id)
        await interaction.response.send_message(
            f"No longer following <{render.safe_url(url) or 'that feed'}>; its articles stay.",
            ephemeral=True,
        )

    @feed_remove.autocomplete("url")
    async def _feed_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        typed = current.casefold()
        return [
            app_commands.Choice(
                name=render.fit(f.title or f.url, 100, render.plain_text), value=f.url
            )
            for f in await self.feeds(interaction.guild_id)
            if typed in f.url.casefold() or typed in (f.title or "").casefold()
            if len(f.url) <= 100
        ][:MAX_FEED_CHOICES]

    @feed.command(name="poll", description="Fetch new entries of every feed now, then reindex")
    async def feed_poll(self, interaction: discord.Interaction) -> None:
        require_admin(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        reports = await self.poll(_server(interaction))
        text = "\n".join(render.fit(r.line(), 400) for r in reports) or "No feeds are followed."
        changed = any(r.changed for r in reports)
        view = self.bot.reader_for(interaction.guild_id)
        generation = await self.bot.workers.io(lambda: view.generation)
        done = f"\nIndex generation {generation}." if changed else ""
        await interaction.followup.send(
            render.fit(text + done, render.MAX_CONTENT, str), ephemeral=True
        )


def _server(interaction: discord.Interaction) -> int:
    """The server a feed command acts on (require_admin has refused anything outside one)."""
    assert interaction.guild_id is not None
    return interaction.guild_id


async def setup(bot: ArticleBot) -> None:
    await bot.add_cog(FeedsCog(bot))
