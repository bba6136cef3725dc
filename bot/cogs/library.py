"""A server's own library as a whole: `/library export` (its articles as one zip) and
`/library delete` (everything of the server, after a confirmation button). Server owners only.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError, guarded
from bot.permissions import require_server_owner
from bot.protocols import KeepsServerData
from index.library.servers import NoSuchLibrary

if TYPE_CHECKING:
    from bot.client import ArticleBot

log = logging.getLogger(__name__)

EXPORT_MAX_BYTES = 8_000_000  # what any server may receive as one attachment
CONFIRM_SECONDS = 60.0


class LibraryCog(commands.Cog):
    library = app_commands.Group(
        name="library",
        description="This server's own library: export it, or delete everything of the server",
        default_permissions=discord.Permissions(administrator=True),
        guild_only=True,
    )

    def __init__(self, bot: ArticleBot) -> None:
        self.bot = bot

    @library.command(name="export", description="This server's articles as one zip file")
    async def export(self, interaction: discord.Interaction) -> None:
        await require_server_owner(interaction)
        guild_id = _server(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            data = await self.bot.workers.io(self.bot.libraries.export, guild_id, EXPORT_MAX_BYTES)
        except NoSuchLibrary as exc:
            raise UserFacingError(exc.user_line()) from None
        log.info("library of server %d exported (%d bytes)", guild_id, len(data))
        await interaction.followup.send(
            "This server's articles, as added here (the operator's shared library is not included).",
            file=discord.File(io.BytesIO(data), filename=f"library-{guild_id}.zip"),
            ephemeral=True,
        )

    @library.command(
        name="delete", description="Delete this server's articles, feeds, questions and feedback"
    )
    async def delete(self, interaction: discord.Interaction) -> None:
        await require_server_owner(interaction)
        view = ConfirmDelete(self, interaction.user.id, _server(interaction))
        await interaction.response.send_message(
            "Delete **everything** of this server: its own articles and index, its feeds, the "
            "questions asked here and their feedback? This cannot be undone "
            "(`/library export` first keeps a copy of the articles).",
            view=view,
            ephemeral=True,
        )

    async def delete_everything(self, guild_id: int) -> tuple[bool, int]:
        """Blocking work on the workers: the library folder, then the server's questions."""
        async with self.bot.lock_for(guild_id):  # never under a running build of it
            for cog in self.bot.cogs.values():
                if isinstance(cog, KeepsServerData):
                    cog.forget(guild_id)  # e.g. its feed database, closed before the folder goes
            had = await self.bot.workers.build(self.bot.libraries.delete, guild_id)
            questions = await self.bot.workers.io(self.bot.store.forget_guild, guild_id)
        log.info("server %d deleted its library and %d questions", guild_id, questions)
        return had, questions


class ConfirmDelete(discord.ui.View):
    def __init__(self, cog: LibraryCog, owner_id: int, guild_id: int) -> None:
        super().__init__(timeout=CONFIRM_SECONDS)
        self.cog, self.owner_id, self.guild_id = cog, owner_id, guild_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.owner_id and interaction.guild_id == self.guild_id

    @discord.ui.button(label="Delete everything", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await guarded(interaction, self._confirm(interaction))

    async def _confirm(self, interaction: discord.Interaction) -> None:
        self.stop()
        await interaction.response.defer(ephemeral=True, thinking=True)
        had, questions = await self.cog.delete_everything(self.guild_id)
        what = "its library, feeds" if had else "no library (none was added)"
        await interaction.followup.send(
            f"Deleted: {what}, and {questions} recorded questions with their feedback.",
            ephemeral=True,
        )

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        self.stop()
        await interaction.response.edit_message(content="Nothing was deleted.", view=None)


def _server(interaction: discord.Interaction) -> int:
    if interaction.guild_id is None:
        raise UserFacingError("This works in a server only.")
    return interaction.guild_id


async def setup(bot: ArticleBot) -> None:
    await bot.add_cog(LibraryCog(bot))
