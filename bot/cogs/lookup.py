"""Lookups: `/search`, `/article` (with autocomplete), `/sources`."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.errors import UserFacingError
from bot.listing import matching_articles, render_feeds
from bot.protocols import ListsFeeds
from bot.views import Pager
from index.types import ArticleInfo
from index.web.feedstore import Feed

if TYPE_CHECKING:
    from bot.client import ArticleBot


LISTS_CACHED = 256  # servers whose article lists autocomplete keeps


class LookupCog(commands.Cog):
    def __init__(self, bot: ArticleBot) -> None:
        self.bot = bot
        self._articles: OrderedDict[int | None, tuple[str, list[ArticleInfo]]] = OrderedDict()

    async def articles(self, guild_id: int | None) -> list[ArticleInfo]:
        """The articles ``guild_id`` reads (the operator's and its own), cached per generation
        (autocomplete must answer fast)."""
        view = self.bot.reader_for(guild_id)
        generation = await self.bot.workers.io(lambda: view.generation)
        cached = self._articles.get(guild_id)
        if cached is None or cached[0] != generation:
            cached = (generation, await self.bot.workers.io(view.articles))
            self._articles[guild_id] = cached
        self._articles.move_to_end(guild_id)
        while len(self._articles) > LISTS_CACHED:
            self._articles.popitem(last=False)
        return cached[1]

    @app_commands.command(name="search", description="The passages that best match a query")
    @app_commands.describe(query="What to look for", k="How many passages (1-25)")
    async def search(
        self,
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, 300],
        k: app_commands.Range[int, 1, 25] = 10,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        view = self.bot.reader_for(interaction.guild_id)
        passages = await self.bot.workers.query(view.search, query, k=k)

        def page(n: int) -> discord.Embed:
            return render.render_passages(
                passages, title=f"Search: {query}", page=n, question=query
            )

        pager = Pager(
            page, render.page_count(len(passages)), owner_id=interaction.user.id, shareable=True
        )
        await interaction.followup.send(embed=page(0), view=pager, ephemeral=True)

    @app_commands.command(name="article", description="One article: its details and link")
    @app_commands.describe(title="Start typing a title")
    async def article(self, interaction: discord.Interaction, title: str) -> None:
        # The lookup waits its turn behind questions on the query thread: acknowledge first.
        await interaction.response.defer(thinking=True)
        view = self.bot.reader_for(interaction.guild_id)
        found = await self.bot.workers.query(view.article, title)
        if found is None:
            matches = matching_articles(await self.articles(interaction.guild_id), title)
            if not matches:
                raise UserFacingError("No article has that title; pick one from the list.")
            found = await self.bot.workers.query(view.article, matches[0].value)
            if found is None:
                raise UserFacingError("That article is no longer in the index.")
        info, text = found
        await interaction.followup.send(embed=render.render_article(info, text))

    @article.autocomplete("title")
    async def _article_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return matching_articles(await self.articles(interaction.guild_id), current)

    @app_commands.command(name="sources", description="The articles the bot answers from")
    async def sources(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        articles = await self.articles(interaction.guild_id)
        info = await self.bot.workers.io(self.bot.reader_for(interaction.guild_id).info)

        def page(n: int) -> discord.Embed:
            return render.render_sources(articles, info, n)

        pages = render.page_count(len(articles), render.SOURCES_PER_PAGE)
        pager = Pager(page, pages, owner_id=interaction.user.id)
        await interaction.followup.send(embed=page(0), view=pager, ephemeral=True)
        feeds_cog = self.bot.get_cog("FeedsCog")
        feeds: list[Feed] = []
        if isinstance(feeds_cog, ListsFeeds):
            if self.bot.bot_settings.operator_library_in_servers or interaction.guild_id is None:
                feeds += await feeds_cog.feeds(None)  # the shared library's
            if interaction.guild_id is not None:
                feeds += await feeds_cog.feeds(interaction.guild_id)
        if feeds:  # where the web articles come from: each feed's last poll and error
            await interaction.followup.send(embed=render_feeds(feeds), ephemeral=True)


async def setup(bot: ArticleBot) -> None:
    await bot.add_cog(LookupCog(bot))
