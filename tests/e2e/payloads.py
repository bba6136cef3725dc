"""Gateway payloads of the loopback guild."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tests.e2e.actions import BASIC_PERMISSIONS

if TYPE_CHECKING:
    from tests.e2e.loopback import LoopbackDiscord

Json = dict[str, Any]
MANAGE_GUILD = 1 << 5


def guild_payload(server: LoopbackDiscord) -> Json:
    """GUILD_CREATE for the one loopback guild: two text channels, a forum, a thread, two roles."""
    everyone = {"id": server.guild_id, "name": "@everyone", "permissions": str(BASIC_PERMISSIONS)}
    admin = {"id": server.admin_role_id, "name": "admins", "permissions": str(MANAGE_GUILD)}
    roles = [
        r | {"position": i, "color": 0, "hoist": False, "managed": False, "mentionable": False}
        for i, r in enumerate((everyone, admin))
    ]
    text = {"type": 0, "position": 0, "permission_overwrites": [], "guild_id": server.guild_id}
    return {
        "id": server.guild_id,
        "name": "Loopback guild",
        "icon": None,
        "owner_id": server.admin["id"],
        "roles": roles,
        "channels": [
            text | {"id": server.channel_id, "name": "general"},
            text | {"id": server.qa_channel_id, "name": "questions"},
            text
            | {"id": server.forum_channel_id, "name": "help", "type": 15, "available_tags": []},
        ],
        "threads": [
            thread_payload(server, server.thread_id, server.channel_id, server.alice, "a thread")
        ],
        "members": [server.member(server.bot_user) | {"roles": []}],
        "member_count": 3,
        "emojis": [],
        "stickers": [],
        "features": [],
        "voice_states": [],
        "presences": [],
        "large": False,
        "unavailable": False,
        "mfa_level": 0,
        "verification_level": 0,
        "explicit_content_filter": 0,
        "default_message_notifications": 0,
        "system_channel_flags": 0,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "afk_timeout": 300,
    }


def thread_payload(
    server: LoopbackDiscord, thread_id: str, parent_id: str, owner: Json, name: str
) -> Json:
    """A public thread (type 11): one under a text channel, or a post in a forum (type 15)."""
    return {
        "id": thread_id,
        "guild_id": server.guild_id,
        "parent_id": parent_id,
        "owner_id": owner["id"],
        "name": name,
        "type": 11,
        "message_count": 0,
        "member_count": 1,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": _now(),
            "locked": False,
        },
    }


def _now() -> str:
    return datetime.now(UTC).isoformat()
