"""Asking through the real discord.py client: mentions, replies, /ask, the context menu, buttons."""

from __future__ import annotations

import pytest

from bot.client import ArticleBot
from tests.e2e.loopback import LoopbackDiscord

pytestmark = pytest.mark.e2e

QUESTION = "Which new fields did India and Japan agree to cooperate in?"


def embed_of(message: dict) -> dict:
    assert message["embeds"], f"no embed in {message}"
    return message["embeds"][0]


async def test_mention_gets_a_quoted_reply(bot: ArticleBot, loopback: LoopbackDiscord) -> None:
    asked = await loopback.say(QUESTION, mention_bot=True)
    [reply] = await loopback.until(lambda: loopback.replies_to(asked), what="the reply")
    embed = embed_of(reply)
    assert embed["title"] == "India and Japan summit"
    assert embed["url"].startswith("https://example.org/india-japan#:~:text=")  # at the words
    assert embed["description"].startswith("> ")
    assert "space and cyber security" in embed["description"].replace("**", "")
    assert "**" in embed["description"]  # the answering words are emphasized
    assert bot.engine.generation in embed["footer"]["text"]
    labels = [
        c.get("label") or c.get("emoji", {}).get("name")
        for row in reply["components"]
        for c in row["components"]
        if c["type"] == 2
    ]
    assert labels == ["More passages", "Show full paragraph", "👍", "👎", "Why this quote?"]
    [menu] = [c for row in reply["components"] for c in row["components"] if c["type"] == 3]
    shown = [(o["label"], o["value"], o["emoji"]["name"]) for o in menu["options"]]
    assert shown[:2] == [  # per-quote feedback: the primary quote first
        ("Wrong: India and Japan summit", "0:wrong", "👎"),
        ("Helpful: India and Japan summit", "0:helpful", "👍"),
    ]
    assert menu["options"][0]["description"] == "Quote 1, the answer's quote"
    why = await loopback.click(reply, reply["components"][0]["components"][4]["custom_id"])
    await loopback.until(lambda: why.original, what="the explanation")
    assert why.original["flags"] & 64  # only the one who asked sees it
    shown = why.original["embeds"][0]["description"]
    assert "threshold" in shown and "question words in the quote" in shown


def button_ids(message: dict) -> list[str]:
    return [
        c["custom_id"] for row in message["components"] for c in row["components"] if c["type"] == 2
    ]


async def test_slash_ask_defers_then_follows_up(bot: ArticleBot, loopback: LoopbackDiscord) -> None:
    log = await loopback.slash("ask", {"question": QUESTION})
    await loopback.until(lambda: log.followups, what="the followup")
    assert [c["type"] for c in log.callbacks] == [5]  # deferred first: "thinking..."
    [answer] = log.followups
    assert answer["id"] == log.original["id"]  # the followup filled in the deferred message
    assert not answer["flags"] & 64  # public
    assert "space and cyber security" in embed_of(answer)["description"].replace("**", "")


async def test_reply_to_an_answer_is_a_follow_up(
    bot: ArticleBot, loopback: LoopbackDiscord
) -> None:
    first = await loopback.say(QUESTION, mention_bot=True)
    [answer] = await loopback.until(lambda: loopback.replies_to(first))
    # A person can reply only once Discord has shown the answer, which is also when the bot's
    # request returns: wait for that rather than racing the bot's own HTTP response.
    await loopback.until(
        lambda: bot.memory.recall(int(answer["id"])), what="the bot to see its reply"
    )
    follow = await loopback.say("And how much did trade grow?", reply_to=answer)
    [second] = await loopback.until(lambda: loopback.replies_to(follow), what="follow-up reply")
    qid = int(button_ids(second)[1].split(":")[2])
    asked = bot.store.question(qid)
    assert asked is not None and asked.context == QUESTION
    assert embed_of(second)["title"] == "India and Japan summit"


async def test_qa_channel_needs_no_mention_but_other_channels_do(
    bot: ArticleBot, loopback: LoopbackDiscord
) -> None:
    ignored = await loopback.say("Where is Mount Etna?")  # general channel, no mention
    asked = await loopback.say("Where is Mount Etna?", channel=loopback.qa_channel_id)
    [reply] = await loopback.until(lambda: loopback.replies_to(asked))
    assert embed_of(reply)["title"] == "Volcano"
    assert loopback.replies_to(ignored) == []


async def test_context_menu_asks_about_a_message(
    bot: ArticleBot, loopback: LoopbackDiscord
) -> None:
    target = loopback.message_payload(
        loopback.channel_id, loopback.alice, "Where did tea originate?"
    )
    log = await loopback.context_menu("Ask the articles", target)
    await loopback.until(lambda: log.followups)
    assert embed_of(log.followups[0])["title"] == "Tea"
    assert bot.store.question(1).question == "Where did tea originate?"


async def test_answer_buttons(bot: ArticleBot, loopback: LoopbackDiscord) -> None:
    asked = await loopback.say(QUESTION, mention_bot=True)
    [answer] = await loopback.until(lambda: loopback.replies_to(asked))
    more_id, para_id, up_id, _, _ = button_ids(answer)

    more = await loopback.click(answer, more_id)
    await loopback.until(lambda: more.original)
    assert more.callbacks[0]["type"] == 4 and more.original["flags"] & 64  # ephemeral
    assert embed_of(more.original)["fields"][0]["name"].startswith("1. ")

    para = await loopback.click(answer, para_id)
    await loopback.until(lambda: para.original)
    paragraph = embed_of(para.original)["description"]
    assert "prime ministers met in Tokyo" in paragraph and "Trade between" not in paragraph

    vote = await loopback.click(answer, up_id, user=loopback.admin)
    await loopback.until(lambda: vote.original)
    assert bot.store.stats().thumbs_up == 1


async def test_quoted_everyone_pings_nobody(bot: ArticleBot, loopback: LoopbackDiscord) -> None:
    asked = await loopback.say("What did the announcement say about the meeting?", mention_bot=True)
    [reply] = await loopback.until(lambda: loopback.replies_to(asked))
    [request] = [
        r for r in loopback.requests if r.method == "POST" and r.path.endswith("/messages")
    ]
    assert request.body["allowed_mentions"]["parse"] == []
    assert not request.body["allowed_mentions"].get("replied_user")
    text = embed_of(reply)["description"]
    assert "@\u200beveryone" in text and "@everyone" not in text
    assert "\\<@&123\\>" in text and "\\<@456\\>" in text
    assert "\\[the agenda\\]\\(" in text  # no masked link smuggled through


async def test_over_long_question_is_refused_politely(
    bot: ArticleBot, loopback: LoopbackDiscord
) -> None:
    asked = await loopback.say("why " * 200, mention_bot=True)
    [reply] = await loopback.until(lambda: loopback.replies_to(asked))
    assert "limit is 500" in reply["content"] and not reply["embeds"]


async def test_follow_up_in_a_thread_without_mention(
    bot: ArticleBot, loopback: LoopbackDiscord
) -> None:
    first = await loopback.say(QUESTION, mention_bot=True, channel=loopback.thread_id)
    await loopback.until(lambda: loopback.replies_to(first))
    follow = await loopback.say("And trade?", channel=loopback.thread_id)
    [reply] = await loopback.until(lambda: loopback.replies_to(follow), what="thread follow-up")
    qid = int(button_ids(reply)[1].split(":")[2])
    asked = bot.store.question(qid)
    assert asked is not None and asked.context == QUESTION


async def test_errors_reach_the_user_briefly_and_the_log_fully(
    bot: ArticleBot,
    loopback: LoopbackDiscord,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(bot.engine, "search", broken)
    log = await loopback.slash("search", {"query": "tea"})
    await loopback.until(lambda: log.followups)
    said = log.followups[0]["content"]
    assert said.startswith("Something went wrong (error ") and "disk on fire" not in said
    assert log.followups[0]["flags"] & 64
    [record] = [r for r in caplog.records if r.name == "bot.errors"]
    assert record.exc_info is not None and "disk on fire" in str(record.exc_info[1])

    monkeypatch.setattr(bot.engine, "ask", broken)
    asked = await loopback.say("Where is Mount Etna?", mention_bot=True)
    [reply] = await loopback.until(lambda: loopback.replies_to(asked))
    assert reply["content"].startswith("Sorry, something went wrong")


async def test_an_ephemeral_ask_is_private_until_shared(
    bot: ArticleBot, loopback: LoopbackDiscord
) -> None:
    log = await loopback.slash("ask", {"question": QUESTION, "ephemeral": True})
    await loopback.until(lambda: log.followups, what="the private answer")
    assert log.callbacks[0] == {"type": 5, "data": {"flags": 64}}  # deferred, privately
    [answer] = log.followups
    assert answer["flags"] & 64 and "space and cyber" in embed_of(answer)["description"]
    buttons = {
        c.get("label") or c.get("emoji", {}).get("name"): c["custom_id"]
        for row in answer["components"]
        for c in row["components"]
    }
    assert {"More passages", "Why this quote?", "Share in channel"} <= buttons.keys()

    stranger = await loopback.click(answer, buttons["Share in channel"], user=loopback.admin)
    await loopback.until(lambda: stranger.original)
    assert stranger.original["flags"] & 64 and "Only whoever asked" in stranger.original["content"]

    shared = await loopback.click(answer, buttons["Share in channel"])
    await loopback.until(lambda: shared.original, what="the shared answer")
    assert not shared.original["flags"] & 64  # now everyone sees it
    assert shared.original["content"].startswith("Shared by")
    assert embed_of(shared.original)["description"] == embed_of(answer)["description"]
    assert "Why this quote?" in str(shared.original["components"])
