"""Administration: `/reindex`, `/add-article`, `/remove-article`, `/stats`, owner-only sync.

Every command checks admin rights on the server side, whatever the client-side default permissions
say. Reindexing runs on its own worker thread, so questions keep being answered meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import admin_logic, render
from bot.errors import NotOwner, UserFacingError
from bot.listing import matching_articles
from bot.permissions import require_admin
from bot.protocols import ListsArticles
from bot.web_adding import add_from_url
from index.errors import BuildInProgress, ShrinkRefused
from index.types import BuildReport

if TYPE_CHECKING:
    from bot.client import ArticleBot

log = logging.getLogger(__name__)

PROGRESS_EVERY = 2.0  # seconds between progress edits (Discord rate-limits message edits)


def _who(interaction: discord.Interaction) -> str:
    return f"{interaction.user} ({interaction.user.id})"


class AdminCog(commands.Cog):
    def __init__(self, bot: ArticleBot) -> None:
        self.bot = bot

    @app_commands.command(name="reindex", description="Update the index from the corpus folder")
    @app_commands.describe(full="Re-embed every article instead of only the changed ones")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def reindex(self, interaction: discord.Interaction, full: bool = False) -> None:
        require_admin(interaction)
        if self.bot.reindex_lock.locked():
            raise UserFacingError("A reindex is already running; its reply shows the progress.")
        async with self.bot.reindex_lock:
            await interaction.response.defer(ephemeral=True, thinking=True)
            log.info("reindex (full=%s) started by %s", full, _who(interaction))
            report = await self._reindex(interaction, full=full)
            await self._final_edit(interaction, render.render_report(report, str(interaction.user)))

    async def _reindex(
        self, interaction: discord.Interaction, *, full: bool, header: str = ""
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
                self.bot.engine.reindex, full=full, progress=progress
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
    )
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def add_article(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment | None = None,
        url: str | None = None,
        replace: bool = False,
    ) -> None:
        require_admin(interaction)
        if (file is None) == (url is None):
            raise UserFacingError("Give a file or a url: one of the two.")
        if url is not None:
            await self._add_url(interaction, url, replace=replace)
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
        corpus = self.bot.engine.corpus_dir
        path = await self.bot.workers.io(
            admin_logic.save_article, corpus, name, data, replace=replace
        )
        log.info("article %s saved (%d bytes) by %s", path.name, len(data), _who(interaction))
        await self._reindex_after_change(interaction, f"Saved `{name}`. ")

    async def _add_url(self, interaction: discord.Interaction, url: str, *, replace: bool) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        item, header = await add_from_url(self.bot, url, replace=replace)
        log.info("web article %s (%s) by %s", item.path, item.outcome, _who(interaction))
        if item.outcome in ("added", "updated"):
            await self._reindex_after_change(interaction, header)
        else:
            await interaction.edit_original_response(content=header + "Nothing to reindex.")

    @app_commands.command(name="remove-article", description="Remove an article and reindex")
    @app_commands.describe(article="The article to remove")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def remove_article(self, interaction: discord.Interaction, article: str) -> None:
        require_admin(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await self.bot.workers.query(self.bot.engine.article, article)
        if found is None:
            raise UserFacingError("No article with that name is indexed.")
        info, _ = found
        corpus = self.bot.engine.corpus_dir
        await self.bot.workers.io(admin_logic.remove_article, corpus, info.path)
        log.info("article %s removed by %s", info.path, _who(interaction))
        await self._reindex_after_change(interaction, f"Removed `{info.path}`. ")

    @remove_article.autocomplete("article")
    async def _remove_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        lookup = self.bot.get_cog("LookupCog")
        if not isinstance(lookup, ListsArticles):
            return []
        return matching_articles(await lookup.articles(), current)

    async def _reindex_after_change(self, interaction: discord.Interaction, header: str) -> None:
        if self.bot.reindex_lock.locked():
            await interaction.edit_original_response(
                content=header + "A reindex is running; run /reindex after it to include this."
            )
            return
        async with self.bot.reindex_lock:
            report = await self._reindex(interaction, full=False, header=header)
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
        figures = await self.bot.workers.io(self.bot.store.stats)
        info = await self.bot.workers.io(self.bot.engine.info)
        await interaction.followup.send(embed=render.render_stats(figures, info), ephemeral=True)

    @app_commands.command(name="sync-commands", description="Owner only: publish slash commands")
    @app_commands.describe(scope="'global' (up to an hour to appear) or 'here' (this server)")
    @app_commands.default_permissions(administrator=True)
    async def sync_commands(
        self, interaction: discord.Interaction, scope: Literal["global", "here"] = "here"
    ) -> None:
        if not await self.bot.is_owner(interaction.user):
            raise NotOwner()
        await interaction.response.defer(ephemeral=True, thinking=True)
        if scope == "here" and interaction.guild_id is not None:
            count = await self.bot.sync_to_guild(interaction.guild_id)
        else:
            count = await self.bot.sync_globally()
        log.info("commands synced (%s) by %s", scope, _who(interaction))
        await interaction.followup.send(f"Synced {count} commands ({scope}).", ephemeral=True)


async def setup(bot: ArticleBot) -> None:
    await bot.add_cog(AdminCog(bot))
