"""A loopback Discord: an aiohttp server on 127.0.0.1 speaking enough REST and gateway for discord.py.

It plays Discord for one guild: logs the bot in, sends READY and GUILD_CREATE, delivers messages and
interactions, acknowledges heartbeats, and records every request the bot makes (and its own
reactions, in order). For sharding it
answers GET /gateway/bot, holds more guilds (``add_guild``) and sends each guild's events on the
connection whose IDENTIFY named that guild's shard, as Discord does. It also acts as a
referee: requests to routes it does not implement, messages over Discord's limits and messages whose
``allowed_mentions`` would ping anyone are collected in ``problems``, which the fixture asserts empty.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from aiohttp import WSMsgType, web

from tests.e2e.actions import BASIC_PERMISSIONS, InteractionLog, UserActions
from tests.e2e.payloads import guild_payload
from tests.e2e.referee import message_problems

JSON = "application/json"  # exactly this: discord.py ignores bodies with a charset
EPHEMERAL = 1 << 6
LOADING = 1 << 7
MESSAGE_CONTENT_INTENT = 1 << 15
MANAGE_GUILD = 1 << 5

Json = dict[str, Any]
REACTION = r"(?P<channel>\d+)/messages/(?P<message>\d+)/reactions/(?P<emoji>[^/]+)/@me"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    at: float


class LoopbackDiscord(UserActions):
    def __init__(self, *, token: str, heartbeat_ms: int = 250) -> None:
        self.token = token
        self.heartbeat_ms = heartbeat_ms
        self._ids = itertools.count(1_100_000_000_000_000_000)
        self.app_id = self.new_id()
        self.guild_id = self.new_id()
        self.channel_id = self.new_id()
        self.qa_channel_id = self.new_id()
        self.thread_id = self.new_id()
        self.admin_role_id = self.new_id()
        self.bot_user = self.user("Articlebot", bot=True)
        self.alice = self.user("alice")
        self.admin = self.user("admin")
        self.operator = self.user("olga")  # listed in DISCORD_OPERATOR_USER_IDS by the fixtures
        self.owner = self.user("owen")  # the application's owner (an operator by Discord's word)
        self.forum_channel_id = self.new_id()  # a forum (type 15): each post a thread
        self.grant_message_content = True
        self.identify_intents: list[int] = []
        self.requests: list[Recorded] = []
        self.problems: list[str] = []
        self.messages: dict[str, Json] = {}
        self.interactions: dict[str, InteractionLog] = {}
        self.attachments: dict[str, bytes] = {}
        self.heartbeats: list[float] = []
        self.commands: dict[str, list[Json]] = {}
        self.ready = asyncio.Event()
        self.shards = 1  # the shard count GET /gateway/bot recommends (BOT_SHARDS=auto)
        self.identify_shards: list[list[int] | None] = []  # sessions served: [shard, count] or None
        self.extra_guilds: dict[str, str] = {}  # guild id -> its one text channel (add_guild)
        self.left_guilds: list[str] = []  # guilds the bot left (DELETE /users/@me/guilds/ID)
        self.reactions: list[tuple[str, str, str]] = []  # the bot's: (PUT|DELETE, message, emoji)
        self._connections: list[web.WebSocketResponse] = []
        self._sockets: dict[str, web.WebSocketResponse] = {}  # guild id -> its gateway connection
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- identities ------------------------------------------------------------------------

    def new_id(self) -> str:
        return str(next(self._ids))

    def user(self, name: str, *, bot: bool = False) -> Json:
        return {
            "id": self.new_id(),
            "username": name,
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": bot,
        }

    def member(self, user: Json, *, admin: bool = False) -> Json:
        perms = BASIC_PERMISSIONS | (MANAGE_GUILD if admin else 0)
        return {
            "user": user,
            "roles": [self.admin_role_id] if admin else [],
            "joined_at": _now(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": str(perms),
        }

    @staticmethod
    def shard_of(guild_id: str, shards: int) -> int:
        """The shard Discord sends a guild's events to."""
        return (int(guild_id) >> 22) % shards

    def add_guild(self, *, shard: int, shards: int) -> tuple[str, str]:
        """Another guild, with one text channel, on ``shard`` of ``shards``: (guild id, channel id)."""
        top = (int(self.new_id()) >> 22) + shards  # beyond every id handed out so far
        guild = str((top - top % shards + shard) << 22)
        self.extra_guilds[guild] = channel = self.new_id()
        return guild, channel

    def guild_of(self, channel: str) -> str:
        return next((g for g, c in self.extra_guilds.items() if c == channel), self.guild_id)

    # ---- lifecycle --------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        for ws in self._connections:
            if not ws.closed:
                await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- HTTP dispatch ----------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path == "/gateway":
            return await self._gateway(request)
        body = await _read_body(request)
        self.requests.append(
            Recorded(request.method, request.path, dict(request.query), body, time.monotonic())
        )
        for method, pattern, handler in self._routes():
            match = re.fullmatch(pattern, request.path)
            if method == request.method and match:
                if pattern.startswith("/api/") and not self._authorized(request, pattern):
                    return _json({"message": "401: Unauthorized", "code": 0}, status=401)
                return await handler(request, body, **match.groupdict())
        self.problems.append(f"unimplemented route: {request.method} {request.path}")
        return _json({"message": "Unknown route (loopback Discord)", "code": 0}, status=404)

    def _authorized(self, request: web.Request, pattern: str) -> bool:
        if "/interactions/" in pattern or "/webhooks/" in pattern:
            return True  # authorized by the interaction token in the path, as on Discord
        return request.headers.get("Authorization") == f"Bot {self.token}"

    def _routes(self) -> list[tuple[str, str, Callable[..., Awaitable[web.Response]]]]:
        api = "/api/v10"
        return [
            ("GET", f"{api}/users/@me", self._me),
            ("GET", f"{api}/oauth2/applications/@me", self._application),
            ("GET", f"{api}/gateway/bot", self._gateway_bot),
            ("PUT", f"{api}/applications/(?P<app>\\d+)/commands", self._put_commands),
            (
                "PUT",
                f"{api}/applications/(?P<app>\\d+)/guilds/(?P<guild>\\d+)/commands",
                self._put_commands,
            ),
            ("POST", f"{api}/channels/(?P<channel>\\d+)/messages", self._create_message),
            (
                "PATCH",
                f"{api}/channels/(?P<channel>\\d+)/messages/(?P<message>\\d+)",
                self._edit_channel_message,
            ),
            (
                "GET",
                f"{api}/channels/(?P<channel>\\d+)/messages/(?P<message>\\d+)",
                self._get_message,
            ),
            ("POST", f"{api}/channels/(?P<channel>\\d+)/typing", self._typing),
            ("PUT", f"{api}/channels/{REACTION}", self._react),
            ("DELETE", f"{api}/channels/{REACTION}", self._react),
            ("POST", f"{api}/interactions/(?P<iid>\\d+)/(?P<token>[^/]+)/callback", self._callback),
            ("POST", f"{api}/webhooks/(?P<app>\\d+)/(?P<token>[^/]+)", self._followup),
            (
                "PATCH",
                f"{api}/webhooks/(?P<app>\\d+)/(?P<token>[^/]+)/messages/(?P<message>[^/]+)",
                self._edit_webhook_message,
            ),
            (
                "GET",
                f"{api}/webhooks/(?P<app>\\d+)/(?P<token>[^/]+)/messages/@original",
                self._get_original,
            ),
            ("DELETE", f"{api}/users/@me/guilds/(?P<guild>\\d+)", self._leave_guild),
            ("GET", "/attachments/(?P<name>[^/]+)", self._attachment),
        ]

    async def _leave_guild(self, request: web.Request, body: Any, guild: str) -> web.Response:
        """The bot leaves a guild: recorded, then GUILD_DELETE on its connection, as Discord does."""
        self.left_guilds.append(guild)
        await self.dispatch("GUILD_DELETE", {"id": guild})
        return web.Response(status=204)

    async def _me(self, request: web.Request, body: Any) -> web.Response:
        return _json(self.bot_user)

    async def _application(self, request: web.Request, body: Any) -> web.Response:
        return _json(
            {
                "id": self.app_id,
                "name": "Articlebot",
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": self.owner,
                "verify_key": "0" * 64,
                "flags": 0,
                "summary": "",
                "team": None,
            }
        )

    async def _gateway_bot(self, request: web.Request, body: Any) -> web.Response:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return _json({"url": self.gateway_url, "shards": self.shards, "session_start_limit": limit})

    async def _put_commands(
        self, request: web.Request, body: Any, app: str, guild: str | None = None
    ) -> web.Response:
        if app != self.app_id:
            self.problems.append(f"commands synced for unknown application {app}")
        out = []
        for cmd in body:
            stored = dict(cmd)
            stored.setdefault("type", 1)
            stored.setdefault("description", "")
            stored |= {"id": self.new_id(), "application_id": self.app_id, "version": "1"}
            if guild is not None:
                stored["guild_id"] = guild
            out.append(stored)
        self.commands[guild or "global"] = out
        return _json(out)

    async def _typing(self, request: web.Request, body: Any, channel: str) -> web.Response:
        return web.Response(status=204)

    async def _create_message(self, request: web.Request, body: Any, channel: str) -> web.Response:
        message = self._store_message(channel, body)
        # Discord echoes the bot's own messages through the gateway; the bot must ignore them.
        await self.dispatch("MESSAGE_CREATE", message)
        return _json(message)

    async def _react(
        self, request: web.Request, body: Any, channel: str, message: str, emoji: str
    ) -> web.Response:
        """The bot's own reaction added (PUT) or taken back (DELETE), recorded in order."""
        stored = self.messages.get(message)
        if stored is None or stored["channel_id"] != channel:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        self.reactions.append((request.method, message, unquote(emoji)))
        return web.Response(status=204)

    async def _get_message(
        self, request: web.Request, body: Any, channel: str, message: str
    ) -> web.Response:
        stored = self.messages.get(message)
        if stored is None or stored["channel_id"] != channel:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        return _json(stored)

    async def _edit_channel_message(
        self, request: web.Request, body: Any, channel: str, message: str
    ) -> web.Response:
        stored = self.messages.get(message)
        if stored is None:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        return _json(self._edit(stored, body))

    async def _callback(
        self, request: web.Request, body: Any, iid: str, token: str
    ) -> web.Response:
        log = self.interactions.get(token)
        if log is None or log.payload["id"] != iid:
            return _json({"message": "Unknown interaction", "code": 10062}, status=404)
        if log.callbacks:
            return _json(
                {"message": "Interaction has already been acknowledged.", "code": 40060}, 400
            )
        log.callbacks.append(body)
        kind, data = body["type"], body.get("data") or {}
        channel = log.payload["channel_id"]
        interaction: Json = {"id": iid, "type": log.payload["type"]}
        resource: Json | None = None
        if kind in (4, 5):
            flags = int(data.get("flags", 0)) | (LOADING if kind == 5 else 0)
            content = data if kind == 4 else {}
            log.original = self._store_message(channel, content, flags=flags, check=kind == 4)
            resource = {"type": kind, "message": log.original}
        elif kind == 7:
            target = self.messages[log.payload["message"]["id"]]
            log.original = self._edit(target, data)
            resource = {"type": kind, "message": log.original}
        elif kind == 8:
            pass  # autocomplete choices: recorded in callbacks
        elif kind != 6:
            self.problems.append(f"unexpected interaction callback type {kind}")
        if log.original is not None:
            interaction |= {
                "response_message_id": log.original["id"],
                "response_message_loading": bool(log.original["flags"] & LOADING),
                "response_message_ephemeral": bool(log.original["flags"] & EPHEMERAL),
            }
        reply: Json = {"interaction": interaction}
        if resource is not None:
            reply["resource"] = resource
        return _json(reply)

    async def _followup(
        self, request: web.Request, body: Any, app: str, token: str
    ) -> web.Response:
        log = self.interactions.get(token)
        if log is None or app != self.app_id:
            return _json({"message": "Unknown Webhook", "code": 10015}, status=404)
        if not log.callbacks:
            self.problems.append("followup sent before the interaction was acknowledged")
        original = log.original
        if original is not None and original["flags"] & LOADING and not log.followups:
            # On Discord the first followup after a deferral fills in the "thinking" message.
            message = self._edit(original, body)
            message["flags"] = (original["flags"] & ~LOADING) | int(body.get("flags", 0))
        else:
            message = self._store_message(
                log.payload["channel_id"], body, flags=int(body.get("flags", 0))
            )
        if body.get("_files"):  # attachments (multipart): kept for the test, not sent back
            message["_files"] = body["_files"]
        log.followups.append(message)
        return _json({k: v for k, v in message.items() if k != "_files"})

    async def _edit_webhook_message(
        self, request: web.Request, body: Any, app: str, token: str, message: str
    ) -> web.Response:
        log = self.interactions.get(token)
        if log is None:
            return _json({"message": "Unknown Webhook", "code": 10015}, status=404)
        target = log.original if message == "@original" else self.messages.get(message)
        if target is None:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        edited = self._edit(target, body)
        edited["flags"] &= ~LOADING
        log.edits.append(dict(body))
        return _json(edited)

    async def _get_original(
        self, request: web.Request, body: Any, app: str, token: str
    ) -> web.Response:
        log = self.interactions.get(token)
        if log is None or log.original is None:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        return _json(log.original)

    async def _attachment(self, request: web.Request, body: Any, name: str) -> web.Response:
        data = self.attachments.get(name)
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    # ---- messages ----------------------------------------------------------------------------

    def _store_message(
        self, channel: str, body: Json, *, flags: int = 0, check: bool = True
    ) -> Json:
        if check:
            self.problems.extend(message_problems(body))
        message = self.message_payload(
            channel,
            self.bot_user,
            body.get("content") or "",
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            flags=flags | int(body.get("flags") or 0),
            reference=body.get("message_reference"),
        )
        return message

    def _edit(self, stored: Json, body: Json) -> Json:
        self.problems.extend(message_problems(body))
        for key in ("content", "embeds", "components"):
            if key in body:
                stored[key] = (
                    body[key] if body[key] is not None else ([] if key != "content" else "")
                )
        stored["edited_timestamp"] = _now()
        return stored

    def message_payload(
        self,
        channel: str,
        author: Json,
        content: str,
        *,
        embeds: list[Json] | None = None,
        components: list[Json] | None = None,
        flags: int = 0,
        reference: Json | None = None,
        mentions: list[Json] | None = None,
        message_id: str | None = None,
    ) -> Json:
        message: Json = {
            "id": message_id or self.new_id(),
            "channel_id": channel,
            "guild_id": self.guild_of(channel),
            "author": author,
            "content": content,
            "timestamp": _now(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": mentions or [],
            "mention_roles": [],
            "attachments": [],
            "embeds": embeds or [],
            "components": components or [],
            "pinned": False,
            "type": 0,
            "flags": flags,
        }
        if not author.get("bot"):
            message["member"] = {k: v for k, v in self.member(author).items() if k != "user"}
        if reference:
            ref_id = str(reference.get("message_id"))
            message["type"] = 19
            message["message_reference"] = {
                "message_id": ref_id,
                "channel_id": channel,
                "guild_id": self.guild_of(channel),
            }
            if ref_id in self.messages:
                message["referenced_message"] = self.messages[ref_id]
        self.messages[message["id"]] = message
        return message

    # ---- gateway ----------------------------------------------------------------------------

    async def dispatch(
        self, event: str, data: Json, ws: web.WebSocketResponse | None = None
    ) -> None:
        """Send ``event`` on ``ws``, by default the connection (shard) of the event's guild."""
        ws = ws or self._sockets.get(str(data.get("guild_id") or self.guild_id))
        if ws is None or ws.closed:
            self.problems.append(f"cannot dispatch {event}: the bot is not connected")
            return
        self._seq += 1
        await ws.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._connections.append(ws)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_ms}}))
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            op = frame.get("op")
            if op == 1:
                self.heartbeats.append(time.monotonic())
                await ws.send_str(json.dumps({"op": 11}))
            elif op == 2:
                await self._identify(ws, frame["d"])
            elif op not in (3,):
                self.problems.append(f"unexpected gateway op {op}")
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: Json) -> None:
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = int(data.get("intents", 0))
        self.identify_intents.append(intents)
        if intents & MESSAGE_CONTENT_INTENT and not self.grant_message_content:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard = data.get("shard")  # [id, count] from a sharded client
        guilds = [
            g
            for g in (self.guild_id, *self.extra_guilds)
            if shard is None or self.shard_of(g, shard[1]) == shard[0]
        ]
        self._sockets |= dict.fromkeys(guilds, ws)
        ready = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [{"id": g, "unavailable": True} for g in guilds],
            "session_id": secrets.token_hex(16),
            "resume_gateway_url": self.gateway_url,
            "application": {"id": self.app_id, "flags": 0},
        } | ({"shard": shard} if shard is not None else {})
        await self.dispatch("READY", ready, ws)
        for g in guilds:
            payload = guild_payload(self) if g == self.guild_id else self._extra_guild(g)
            await self.dispatch("GUILD_CREATE", payload, ws)
        self.identify_shards.append(shard)  # after its guilds: events for them may follow now
        self.ready.set()

    def _extra_guild(self, guild: str) -> Json:
        """An ``add_guild`` guild: the loopback guild's payload with its own id and one channel."""
        base = guild_payload(self)
        everyone = base["roles"][0] | {"id": guild}
        text = base["channels"][0] | {"id": self.extra_guilds[guild], "guild_id": guild}
        return base | {"id": guild, "roles": [everyone], "channels": [text], "threads": []}

    # ---- waiting -----------------------------------------------------------------------------

    async def until(
        self, condition: Callable[[], Any], timeout: float = 10.0, what: str = ""
    ) -> Any:
        """Poll ``condition`` until it returns something truthy; fail with ``what`` on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or condition}")
            await asyncio.sleep(0.01)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": JSON}
    )


async def _read_body(request: web.Request) -> Any:
    if not request.can_read_body:
        return None
    if request.content_type == "multipart/form-data":
        form: Json = {}
        async for part in await request.multipart():
            if part.name == "payload_json":  # type: ignore[union-attr]
                form.update(json.loads(await part.text()))  # type: ignore[union-attr]
            else:
                form.setdefault("_files", {})[part.name] = await part.read()  # type: ignore[union-attr]
        return form
    text = await request.text()
    return json.loads(text) if text else None
