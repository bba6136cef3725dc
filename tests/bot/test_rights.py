"""Who may do what (bot/permissions.py): a server's admins, the operators, a server's owner."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from bot.config import BotSettings
from bot.errors import NotAdmin, NotOperator, NotServerOwner, describe
from bot.permissions import require_admin, require_operator, require_server_owner

TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMA.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"
OWNER, OPERATOR, SERVER_OWNER, ADMIN, MEMBER = 1, 2, 3, 4, 5


class FakeBot:
    bot_settings = BotSettings(
        token=TOKEN, operator_user_ids=frozenset({OPERATOR}), admin_role_ids=frozenset({77})
    )

    async def is_owner(self, user: Any) -> bool:  # the application's owner, from Discord
        return bool(user.id == OWNER)


def interaction(user_id: int, *, manage: bool = False, roles: tuple[int, ...] = (), guild=9) -> Any:
    return SimpleNamespace(
        client=FakeBot(),
        user=SimpleNamespace(id=user_id, roles=[SimpleNamespace(id=r) for r in roles]),
        permissions=SimpleNamespace(manage_guild=manage),
        guild_id=guild,
        guild=SimpleNamespace(owner_id=SERVER_OWNER) if guild else None,
    )


def test_a_servers_admins_are_manage_server_or_configured_roles_in_that_server() -> None:
    require_admin(interaction(ADMIN, manage=True))
    require_admin(interaction(MEMBER, roles=(77,)))
    for refused in (interaction(MEMBER), interaction(ADMIN, manage=True, guild=None)):
        with pytest.raises(NotAdmin):
            require_admin(refused)  # a member, or anyone outside a server (a DM)


async def test_operators_are_the_applications_owner_and_the_listed_users() -> None:
    await require_operator(interaction(OWNER))
    await require_operator(interaction(OPERATOR))
    for user in (ADMIN, SERVER_OWNER, MEMBER):
        with pytest.raises(NotOperator):
            await require_operator(interaction(user, manage=True))


async def test_export_and_delete_are_the_server_owners_or_an_operators() -> None:
    await require_server_owner(interaction(SERVER_OWNER))
    await require_server_owner(interaction(OPERATOR))
    with pytest.raises(NotServerOwner):
        await require_server_owner(interaction(ADMIN, manage=True))


def test_refusals_are_one_clear_line() -> None:
    assert "operators" in (describe(NotOperator()) or "")
    assert "server's owner" in (describe(NotServerOwner()) or "")
    assert "Manage Server" in (describe(NotAdmin()) or "")
