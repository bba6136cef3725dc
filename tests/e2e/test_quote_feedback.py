"""Feedback per quote (issue 20) through the real client: the menu under an answer, what it
stores, `/stats` per server, and the menu still working after the bot restarts."""

from __future__ import annotations

from typing import Any

import pytest

from bot.client import ArticleBot
from bot.config import BotSettings
from index.config import Settings
from index.engine import Engine
from tests.e2e.actions import InteractionLog
from tests.e2e.conftest import FAST, running
from tests.e2e.loopback import EPHEMERAL, LoopbackDiscord

pytestmark = pytest.mark.e2e

Json = dict[str, Any]
QUESTION = "Which new fields did India and Japan agree to cooperate in?"
WRONG_FIELD = "Articles whose quotes are most often marked wrong"


def menu_of(message: Json) -> Json:
    [menu] = [c for row in message["components"] for c in row["components"] if c["type"] == 3]
    return menu


async def stats_fields(lb: LoopbackDiscord, guild: str | None = None) -> dict[str, str]:
    log = await lb.slash("stats", admin=True, user=lb.admin, guild=guild)
    await lb.until(lambda: log.followups, what="the /stats reply")
    return {f["name"]: f["value"] for f in log.followups[0]["embeds"][0]["fields"]}


async def private_line(lb: LoopbackDiscord, log: InteractionLog) -> str:
    await lb.until(lambda: log.original, what="the private reply")
    assert log.original["flags"] & EPHEMERAL
    return str(log.original["content"])


async def test_quotes_marked_wrong_show_in_this_servers_stats_and_survive_a_restart(
    settings: Settings, bot_settings: BotSettings, engine: Engine, loopback: LoopbackDiscord
) -> None:
    lb = loopback
    other_guild, _ = lb.add_guild(shard=0, shards=1)  # before the bot connects
    client = ArticleBot(settings, bot_settings, engine_factory=lambda s: engine, **FAST)
    async with running(client, lb):
        asked = await lb.say(QUESTION, mention_bot=True)
        [answer] = await lb.until(lambda: lb.replies_to(asked), what="the answer")
        menu = menu_of(answer)
        options = {o["value"]: o for o in menu["options"]}
        assert menu["custom_id"].startswith("ab:qfb:") and len(options) >= 4  # support too
        support_title = options["1:wrong"]["label"].removeprefix("Wrong: ")
        assert support_title != "India and Japan summit"

        marked = await lb.choose(answer, menu["custom_id"], ["1:wrong"])
        said = await private_line(lb, marked)
        assert "quote 2" in said and "wrong" in said
        helpful = await lb.choose(answer, menu["custom_id"], ["0:helpful"], user=lb.admin)
        assert "helpful" in await private_line(lb, helpful)
        forged = await lb.choose(answer, menu["custom_id"], ["9:wrong"])
        assert "no longer know that quote" in await private_line(lb, forged)

        fields = await stats_fields(lb)
        assert support_title in fields[WRONG_FIELD] and "1 wrong, 0 helpful" in fields[WRONG_FIELD]
        assert "India and Japan" not in fields[WRONG_FIELD]  # marked helpful only
        elsewhere = await stats_fields(lb, guild=other_guild)
        assert elsewhere[WRONG_FIELD].startswith("None")  # another server's figures are apart

    # A new process: the menu under the old answer still records (a dynamic item, no state).
    again = ArticleBot(settings, bot_settings, engine_factory=lambda s: engine, **FAST)
    async with running(again, lb):
        late = await lb.choose(answer, menu["custom_id"], ["0:wrong"], user=lb.admin)
        assert "wrong" in await private_line(lb, late)
        [*verdicts] = again.store.stats(guild_id=int(lb.guild_id)).wrong_quotes
        assert {(v.title, v.wrong, v.helpful) for v in verdicts} == {
            (support_title, 1, 0),
            ("India and Japan summit", 1, 0),  # the admin changed their verdict
        }
