"""Who may run an admin command: checked on the bot's side for every admin interaction."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot import admin_logic
from bot.errors import NotAdmin

if TYPE_CHECKING:
    from bot.client import ArticleBot

log = logging.getLogger(__name__)


def require_admin(interaction: discord.Interaction) -> None:
    bot: ArticleBot = interaction.client  # type: ignore[assignment]
    user = interaction.user
    roles = [r.id for r in getattr(user, "roles", [])]
    allowed = admin_logic.is_admin(
        user_id=user.id,
        role_ids=roles,
        manage_guild=interaction.permissions.manage_guild,
        admin_user_ids=bot.bot_settings.admin_user_ids,
        admin_role_ids=bot.bot_settings.admin_role_ids,
    )
    if not allowed:
        log.warning("refused admin command from user %s", user.id)
        raise NotAdmin()
