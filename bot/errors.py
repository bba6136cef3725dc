"""The one error handler for slash commands, context menus and buttons.

The user gets one short ephemeral line; the full trace goes to the log with an id to match them up.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable

import discord
from discord import app_commands

from index.errors import CannotWrite, DiskFull

log = logging.getLogger(__name__)


class NotAdmin(app_commands.CheckFailure):
    """The user lacks Manage Server and is not listed as an admin in the settings."""


class NotOwner(app_commands.CheckFailure):
    """Only the bot's owners may do this."""


class NotOperator(app_commands.CheckFailure):
    """Only the bot's operators may touch the operator's library or the whole bot."""


class NotServerOwner(app_commands.CheckFailure):
    """Only the server's owner may export or delete everything of the server."""


class UserFacingError(Exception):
    """An error whose message is meant for the user as is (bad file name, missing article...)."""


async def send_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Reply, or follow up if the interaction was already answered (deferred or sent)."""
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.response.send_message(text, ephemeral=True)


def describe(error: BaseException) -> str | None:
    """The message a user may see for an expected error, or None for a bug."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, NotAdmin):
        return "This command is for admins: it needs the Manage Server permission or an admin role."
    if isinstance(error, NotOwner):
        return "Only the bot's owner can do this."
    if isinstance(error, NotOperator):
        return (
            "Only the bot's operators can do this: it changes the library every server reads, "
            "or the whole bot. Your server's own library is yours to manage."
        )
    if isinstance(error, NotServerOwner):
        return "Only this server's owner can do this."
    if isinstance(error, UserFacingError):
        return str(error)
    if isinstance(error, CannotWrite | DiskFull):  # the folder is named in the log, not to members
        problem = error.problem if isinstance(error, CannotWrite) else "no space left on device"
        return (
            f"The bot's disk refused the change ({problem}): nothing was lost and the current "
            "index still answers. The operator can find which folder in the bot's log."
        )
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use this command here."
    return None


async def handle_error(interaction: discord.Interaction, error: BaseException) -> None:
    text = describe(error)
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(original, CannotWrite | DiskFull):
        log.warning("%s", original.user_line())  # one line naming the folder, no traceback
    if text is None:
        ref = secrets.token_hex(3)
        command = interaction.command.qualified_name if interaction.command else "component"
        log.error("error %s in %s", ref, command, exc_info=error)
        text = f"Something went wrong (error {ref}); the admins can find the details in the log."
    try:
        await send_ephemeral(interaction, text)
    except discord.HTTPException:
        log.warning("could not tell the user about an error", exc_info=True)


async def guarded(interaction: discord.Interaction, work: Awaitable[object]) -> None:
    """Run a button callback, routing failures through the same handler as commands."""
    try:
        await work
    except Exception as exc:
        await handle_error(interaction, exc)
