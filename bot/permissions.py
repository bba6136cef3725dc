"""Who may do what, checked on the bot's side for every admin interaction (docs/DISCORD.md).

- a server's admins (Manage Server, or DISCORD_ADMIN_ROLE_IDS / DISCORD_ADMIN_USER_IDS) manage that
  server's own library, feeds and statistics;
- the operators (the application's owner or team, and DISCORD_OPERATOR_USER_IDS) manage the
  operator's library, which every server reads, and the whole bot (`/sync-commands`);
- a server's owner exports or deletes everything of the server.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot import admin_logic
from bot.errors import NotAdmin, NotOperator, NotServerOwner

if TYPE_CHECKING:
    from bot.client import ArticleBot

log = logging.getLogger(__name__)


def require_admin(interaction: discord.Interaction) -> None:
    """The user administers the server the interaction comes from (never another's)."""
    bot: ArticleBot = interaction.client  # type: ignore[assignment]
    user = interaction.user
    roles = [r.id for r in getattr(user, "roles", [])]
    allowed = interaction.guild_id is not None and admin_logic.is_admin(
        user_id=user.id,
        role_ids=roles,
        manage_guild=interaction.permissions.manage_guild,
        admin_user_ids=bot.bot_settings.admin_user_ids,
        admin_role_ids=bot.bot_settings.admin_role_ids,
    )
    if not allowed:
        log.warning("refused admin command from user %s", user.id)
        raise NotAdmin()


async def is_operator(bot: ArticleBot, user: discord.abc.User) -> bool:
    if user.id in bot.bot_settings.operator_user_ids:
        return True
    return await bot.is_owner(user)


async def require_operator(interaction: discord.Interaction) -> None:
    bot: ArticleBot = interaction.client  # type: ignore[assignment]
    if not await is_operator(bot, interaction.user):
        log.warning("refused operator command from user %s", interaction.user.id)
        raise NotOperator()


async def require_server_owner(interaction: discord.Interaction) -> None:
    """The server's owner (or an operator, who may act for any server)."""
    bot: ArticleBot = interaction.client  # type: ignore[assignment]
    guild = interaction.guild
    if guild is not None and guild.owner_id == interaction.user.id:
        return
    if await is_operator(bot, interaction.user):
        return
    log.warning("refused server-owner command from user %s", interaction.user.id)
    raise NotServerOwner()
