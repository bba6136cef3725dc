"""What users do in the loopback Discord: post messages, run commands, click buttons."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]
# Add Reactions, View Channels, Send Messages, Embed Links, Read Message History, Send Messages in
# Threads: what the invite link of docs/DISCORD.md grants
BASIC_PERMISSIONS = (1 << 6) | (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 38)


@dataclass
class InteractionLog:
    """What the bot did with one interaction: callback(s), followups, the original response."""

    payload: Json
    callbacks: list[Json] = field(default_factory=list)
    followups: list[Json] = field(default_factory=list)
    edits: list[Json] = field(default_factory=list)
    original: Json | None = None

    @property
    def token(self) -> str:
        return str(self.payload["token"])


class UserActions:
    """Mixed into LoopbackDiscord: each action builds the payload Discord would send and
    dispatches it to the bot over the gateway."""

    # Provided by LoopbackDiscord.
    extra_guilds: dict[str, str]
    app_id: str
    guild_id: str
    channel_id: str
    forum_channel_id: str
    bot_user: Json
    alice: Json
    admin: Json
    messages: dict[str, Json]
    interactions: dict[str, InteractionLog]
    attachments: dict[str, bytes]

    async def say(
        self,
        content: str,
        *,
        author: Json | None = None,
        channel: str | None = None,
        mention_bot: bool = False,
        reply_to: Json | None = None,
    ) -> Json:
        """A user posts a message; it reaches the bot as MESSAGE_CREATE."""
        author = author or self.alice
        mentions = [self.bot_user] if mention_bot or reply_to else []
        if mention_bot:
            content = f"<@{self.bot_user['id']}> {content}"
        reference = {"message_id": reply_to["id"]} if reply_to else None
        message = self.message_payload(
            channel or self.channel_id, author, content, reference=reference, mentions=mentions
        )
        await self.dispatch("MESSAGE_CREATE", message)
        return message

    async def post_in_forum(
        self,
        title: str,
        content: str,
        *,
        author: Json | None = None,
        forum: str | None = None,
        deliver_first_message: bool = True,
    ) -> Json:
        """A user opens a post in a forum (default the loopback's): as on Discord, a thread
        (THREAD_CREATE, newly created) whose first message has the thread's id (MESSAGE_CREATE
        in the thread, unless not ``deliver_first_message``: the bot must fetch it). Returns
        that first message."""
        from tests.e2e.payloads import thread_payload  # payloads imports this module

        author = author or self.alice
        thread_id = self.new_id()
        parent = forum or self.forum_channel_id
        thread = thread_payload(self, thread_id, parent, author, title)  # type: ignore[arg-type]
        starter = self.message_payload(thread_id, author, content, message_id=thread_id)
        await self.dispatch("THREAD_CREATE", thread | {"newly_created": True})
        if deliver_first_message:
            await self.dispatch("MESSAGE_CREATE", starter)
        return starter

    def replies_to(self, message: Json) -> list[Json]:
        return [
            m
            for m in self.messages.values()
            if m.get("message_reference", {}).get("message_id") == message["id"]
            and m["author"]["id"] == self.bot_user["id"]
        ]

    # ---- interactions ------------------------------------------------------------------------

    def _interaction(
        self, kind: int, data: Json, user: Json, *, admin: bool, guild: str | None = None
    ) -> InteractionLog:
        """``guild``: another guild of ``add_guild`` (its one channel), default the main one."""
        guild = guild or self.guild_id
        channel = self.channel_id if guild == self.guild_id else self.extra_guilds[guild]
        payload: Json = {
            "id": self.new_id(),
            "application_id": self.app_id,
            "type": kind,
            "data": data,
            "guild_id": guild,
            "channel_id": channel,
            "channel": {"id": channel, "type": 0, "guild_id": guild},
            "member": self.member(user, admin=admin),
            "token": secrets.token_urlsafe(24),
            "version": 1,
            "app_permissions": str(BASIC_PERMISSIONS),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": guild},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        log = InteractionLog(payload)
        self.interactions[log.token] = log
        return log

    async def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: Json | None = None,
        admin: bool = False,
        resolved: Json | None = None,
        option_types: dict[str, int] | None = None,
        guild: str | None = None,
    ) -> InteractionLog:
        """A user runs a slash command (option types default to string/integer/boolean)."""
        opts = [
            {"name": k, "type": (option_types or {}).get(k, _option_type(v)), "value": v}
            for k, v in (options or {}).items()
        ]
        data: Json = {"id": self.new_id(), "name": name, "type": 1, "options": opts}
        if resolved:
            data["resolved"] = resolved
        log = self._interaction(2, data, user or self.alice, admin=admin, guild=guild)
        await self.dispatch("INTERACTION_CREATE", log.payload)
        return log

    async def attach_and_run(
        self,
        name: str,
        filename: str,
        content: bytes,
        *,
        admin: bool = True,
        extra: dict[str, Any] | None = None,
        user: Json | None = None,
        guild: str | None = None,
    ) -> InteractionLog:
        """A slash command with a ``file`` attachment option (served from /attachments/)."""
        att_id = self.new_id()
        key = secrets.token_hex(8)
        self.attachments[key] = content
        attachment = {
            "id": att_id,
            "filename": filename,
            "size": len(content),
            "url": f"{self.base}/attachments/{key}",
            "proxy_url": f"{self.base}/attachments/{key}",
            "content_type": "text/markdown",
        }
        options = {"file": att_id, **(extra or {})}
        return await self.slash(
            name,
            options,
            admin=admin,
            user=user or (self.admin if admin else self.alice),
            resolved={"attachments": {att_id: attachment}},
            option_types={"file": 11},
            guild=guild,
        )

    async def context_menu(
        self, name: str, target: Json, *, user: Json | None = None
    ) -> InteractionLog:
        data = {
            "id": self.new_id(),
            "name": name,
            "type": 3,
            "target_id": target["id"],
            "resolved": {"messages": {target["id"]: target}},
        }
        log = self._interaction(2, data, user or self.alice, admin=False)
        await self.dispatch("INTERACTION_CREATE", log.payload)
        return log

    async def autocomplete(
        self,
        name: str,
        option: str,
        typed: str,
        *,
        user: Json | None = None,
        guild: str | None = None,
    ) -> InteractionLog:
        opts = [{"name": option, "type": 3, "value": typed, "focused": True}]
        data = {"id": self.new_id(), "name": name, "type": 1, "options": opts}
        log = self._interaction(4, data, user or self.admin, admin=True, guild=guild)
        await self.dispatch("INTERACTION_CREATE", log.payload)
        return log

    async def click(
        self, message: Json, custom_id: str, *, user: Json | None = None
    ) -> InteractionLog:
        """A user clicks the button ``custom_id`` under ``message`` (in the message's guild)."""
        return await self._use_component(
            message, {"custom_id": custom_id, "component_type": 2}, user
        )

    async def choose(
        self, message: Json, custom_id: str, values: list[str], *, user: Json | None = None
    ) -> InteractionLog:
        """A user picks ``values`` in the string select ``custom_id`` under ``message``."""
        data = {"custom_id": custom_id, "component_type": 3, "values": values}
        return await self._use_component(message, data, user)

    async def _use_component(self, message: Json, data: Json, user: Json | None) -> InteractionLog:
        guild = message.get("guild_id") or self.guild_id
        log = self._interaction(3, data, user or self.alice, admin=False, guild=guild)
        log.payload["message"] = self.messages[message["id"]]
        log.payload["channel_id"] = message["channel_id"]
        await self.dispatch("INTERACTION_CREATE", log.payload)
        return log


def _option_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    return 3
