"""Administration: `/reindex`, `/add-article`, `/remove-article`, `/stats`, operator-only sync.

A server's admins manage that server's own library (SERVERS_DIR/<server id>/); the operator's
library (CORPUS_DIR), which every server reads, only the operators (`library: operator`). Every
command checks rights on the server side (bot/permissions.py), whatever the client-side default
permissions say. Reindexing runs on its own worker thread, so questions keep being answered.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import admin_logic, render
from bot.errors import UserFacingError
from bot.listing import matching_articles
from bot.permissions import is_operator, require_admin, require_operator
from bot.protocols import ListsArticles
from bot.web_adding import add_from_url
from index.errors import BuildInProgress, ShrinkRefused
from index.library.scoped import is_server_article, server_slug
from index.library.servers import ServesLibrary
from index.types import BuildReport

if TYPE_CHECKING:
    from bot.client import ArticleBot

log = logging.getLogger(__name__)

PROGRESS_EVERY = 2.0  # seconds between progress edits (Discord rate-limits message edits)
Library = Literal["server", "operator"]
LIBRARY_HELP = "This server's own library (default), or the operator's, which every server reads"


def _who(interaction: discord.Interaction) -> str:
    return f"{interaction.user} ({interaction.user.id})"


def _named(guild_id: int | None) -> str:
    return "the operator's library" if guild_id is None else f"server {guild_id}'s library"


class AdminCog(commands.Cog):
    def __init__(self, bot: ArticleBot) -> None:
        self.bot = bot

    async def _rights(self, interaction: discord.Interaction, library: Library) -> int | None:
        """The library an admin command acts on, after checking the user may: None for the
        operator's (operators only), else this server's id (its admins)."""
        if library == "operator":
            await require_operator(interaction)
            return None
        require_admin(interaction)
        assert interaction.guild_id is not None  # require_admin refuses outside servers
        return interaction.guild_id

    async def _engine(self, guild_id: int | None) -> ServesLibrary:
        """The operator's engine, or the server's library (created empty on first use)."""
        if guild_id is None:
            return self.bot.engine
        return await self.bot.workers.build(self.bot.libraries.ensure, guild_id)

    @app_commands.command(name="reindex", description="Update the index from the corpus folder")
    @app_commands.describe(
        full="Re-embed every article instead of only the changed ones", library=LIBRARY_HELP
    )
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def reindex(
        self, interaction: discord.Interaction, full: bool = False, library: Library = "server"
    ) -> None:
        guild_id = await self._rights(interaction, library)
        lock = self.bot.lock_for(guild_id)
        if lock.locked():
            raise UserFacingError("A reindex is already running; its reply shows the progress.")
        async with lock:
            await interaction.response.defer(ephemeral=True, thinking=True)
            engine = await self._engine(guild_id)
            log.info(
                "reindex of %s (full=%s) started by %s", _named(guild_id), full, _who(interaction)
            )
            report = await self._reindex(interaction, engine, full=full)
            await self._final_edit(interaction, render.render_report(report, str(interaction.user)))

    async def _reindex(
        self,
        interaction: discord.Interaction,
        engine: ServesLibrary,
        *,
        full: bool,
        header: str = "",
        allow_shrink: bool = False,
    ) -> BuildReport:
        """Run the engine's reindex in the build thread, editing the reply with its progress."""
        loop = asyncio.get_running_loop()
        latest = [render.render_progress("starting", 0, 0)]
        changed = asyncio.Event()

        def publish(text: str) -> None:
            latest[0] = text
            changed.set()

        def progress(stage: str, done: int, total: int) -> None:  # called in the build thread
            loop.call_soon_threadsafe(publish, render.render_progress(stage, done, total))

        async def pump() -> None:
            while True:
                await changed.wait()
                changed.clear()
                await interaction.edit_original_response(content=header + latest[0])
                await asyncio.sleep(PROGRESS_EVERY)

        pump_task = asyncio.create_task(pump())
        try:
            return await self.bot.workers.build(
                engine.reindex, full=full, progress=progress, allow_shrink=allow_shrink
            )
        except BuildInProgress:  # another process, or a reindex here (ReindexInProgress)
            raise UserFacingError("A reindex is already running; try again when it ends.") from None
        except ShrinkRefused as exc:  # most articles gone: a person decides, on the server
            raise UserFacingError(exc.user_line()) from None
        finally:
            pump_task.cancel()

    @app_commands.command(name="add-article", description="Add an article (a file or a link)")
    @app_commands.describe(
        file="A .md, .txt, .html or .pdf file",
        url="Or a web page's http(s) link: its article is fetched and saved",
        replace="Overwrite a file of the same name (or fetch a changed page again)",
        library=LIBRARY_HELP,
    )
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def add_article(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment | None = None,
        url: str | None = None,
        replace: bool = False,
        library: Library = "server",
    ) -> None:
        guild_id = await self._rights(interaction, library)
        if (file is None) == (url is None):
            raise UserFacingError("Give a file or a url: one of the two.")
        if url is not None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            engine = await self._engine(guild_id)
            await self._add_url(interaction, engine, guild_id, url, replace=replace)
            return
        assert file is not None
        name = admin_logic.safe_article_name(file.filename)
        limit = self.bot.bot_settings.max_attachment_bytes
        if file.size > limit:
            raise UserFacingError(
                f"Refused: {name} is {file.size:,} bytes; the limit is {limit:,}."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await file.read()
        if len(data) > limit:
            raise UserFacingError(f"Refused: {name} is larger than {limit:,} bytes.")
        engine = await self._engine(guild_id)
        # Checked on the build thread: reading a hostile file takes time, and the I/O thread
        # records every question's statistics (an answer's reply waits on it).
        path = await self.bot.workers.build(
            admin_logic.save_article, engine.corpus_dir, name, data, replace=replace
        )
        log.info(
            "article %s saved to %s (%d bytes) by %s",
            path.name,
            _named(guild_id),
            len(data),
            _who(interaction),
        )
        await self._reindex_after_change(interaction, engine, guild_id, f"Saved `{name}`. ")

    async def _add_url(
        self,
        interaction: discord.Interaction,
        engine: ServesLibrary,
        guild_id: int | None,
        url: str,
        *,
        replace: bool,
    ) -> None:
        item, header = await add_from_url(engine.corpus_dir, url, replace=replace)
        log.info(
            "web article %s (%s) in %s by %s",
            item.path,
            item.outcome,
            _named(guild_id),
            _who(interaction),
        )
        if item.outcome in ("added", "updated"):
            await self._reindex_after_change(interaction, engine, guild_id, header)
        else:
            await interaction.edit_original_response(content=header + "Nothing to reindex.")

    @app_commands.command(name="remove-article", description="Remove an article and reindex")
    @app_commands.describe(article="The article to remove")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def remove_article(self, interaction: discord.Interaction, article: str) -> None:
        library: Library = "server" if is_server_article(article) else "operator"
        guild_id = await self._rights(interaction, library)
        await interaction.response.defer(ephemeral=True, thinking=True)
        engine = await self._engine(guild_id)
        slug = server_slug(article) if guild_id is not None else article
        found = await self.bot.workers.query(engine.article, slug)
        if found is None:
            raise UserFacingError("No article with that name is indexed.")
        info, _ = found
        await self.bot.workers.io(admin_logic.remove_article, engine.corpus_dir, info.path)
        log.info("article %s removed from %s by %s", info.path, _named(guild_id), _who(interaction))
        await self._reindex_after_change(
            interaction, engine, guild_id, f"Removed `{info.path}`. ", removed=True
        )

    @remove_article.autocomplete("article")
    async def _remove_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        lookup = self.bot.get_cog("LookupCog")
        if not isinstance(lookup, ListsArticles):
            return []
        listed = await lookup.articles(interaction.guild_id)
        if not await is_operator(self.bot, interaction.user):  # only what the user may remove
            listed = [a for a in listed if is_server_article(a.id)]
        return matching_articles(listed, current)

    async def _reindex_after_change(
        self,
        interaction: discord.Interaction,
        engine: ServesLibrary,
        guild_id: int | None,
        header: str,
        *,
        removed: bool = False,
    ) -> None:
        lock = self.bot.lock_for(guild_id)
        if lock.locked():
            await interaction.edit_original_response(
                content=header + "A reindex is running; run /reindex after it to include this."
            )
            return
        async with lock:
            # A removal the admin asked for may shrink a small library by half or more.
            report = await self._reindex(
                interaction, engine, full=False, header=header, allow_shrink=removed
            )
        text = render.fit(header + render.render_report(report), render.MAX_CONTENT, str)
        await self._final_edit(interaction, text)

    @staticmethod
    async def _final_edit(interaction: discord.Interaction, text: str) -> None:
        """Edit the reply with the result; after a very long build (interaction tokens expire
        after 15 minutes) post it in the channel instead."""
        try:
            await interaction.edit_original_response(content=text)
        except discord.HTTPException:
            log.warning("could not edit the reindex reply; posting the result instead")
            channel = interaction.channel
            if isinstance(channel, discord.abc.Messageable):
                await channel.send(text)

    @app_commands.command(name="stats", description="Questions, feedback and knowledge gaps")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def stats(self, interaction: discord.Interaction) -> None:
        require_admin(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = interaction.guild_id
        figures = await self.bot.workers.io(lambda: self.bot.store.stats(guild_id=guild_id))
        info = await self.bot.workers.io(self.bot.reader_for(guild_id).info)
        await interaction.followup.send(embed=render.render_stats(figures, info), ephemeral=True)

    @app_commands.command(
        name="sync-commands", description="Operators only: publish slash commands"
    )
    @app_commands.describe(scope="'global' (up to an hour to appear) or 'here' (this server)")
    @app_commands.default_permissions(administrator=True)
    async def sync_commands(
        self, interaction: discord.Interaction, scope: Literal["global", "here"] = "here"
    ) -> None:
        await require_operator(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        if scope == "here" and interaction.guild_id is not None:
            count = await self.bot.sync_to_guild(interaction.guild_id)
        else:
            count = await self.bot.sync_globally()
        log.info("commands synced (%s) by %s", scope, _who(interaction))
        await interaction.followup.send(f"Synced {count} commands ({scope}).", ephemeral=True)


async def setup(bot: ArticleBot) -> None:
    await bot.add_cog(AdminCog(bot))
