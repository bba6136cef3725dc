"""Forum channels (issue 20): each new post in a configured forum is answered once, in its
thread, from its first message read with the title; later messages in the post are follow-ups."""

from __future__ import annotations

import pytest

from bot.client import ArticleBot
from tests.e2e.loopback import LoopbackDiscord

pytestmark = pytest.mark.e2e


async def test_a_forum_post_is_answered_once_in_its_thread(
    bot: ArticleBot, loopback: LoopbackDiscord
) -> None:
    lb = loopback
    post = await lb.post_in_forum("History of a drink", "Where did tea originate?")
    [answer] = await lb.until(lambda: lb.replies_to(post), what="the answer in the post")
    assert answer["channel_id"] == post["channel_id"] == post["id"]  # in the post's thread
    assert answer["embeds"][0]["title"] == "Tea"
    assert any(c["type"] == 3 for row in answer["components"] for c in row["components"])
    qid = int(answer["components"][0]["components"][1]["custom_id"].split(":")[2])
    asked = bot.store.question(qid)
    assert asked is not None and asked.question == "Where did tea originate?"
    assert asked.context == "History of a drink"  # the title, as context

    # A later message in the post, no mention: a follow-up, read with the post's question. The
    # gateway delivers in order, so once it is answered, the post's own MESSAGE_CREATE (sent
    # after THREAD_CREATE) has been seen too: still one answer to the post.
    follow = await lb.say("And how is it drunk today?", channel=post["channel_id"])
    [second] = await lb.until(lambda: lb.replies_to(follow), what="the follow-up's answer")
    assert second["channel_id"] == post["id"] and second["embeds"]
    assert len(lb.replies_to(post)) == 1
    follow_id = int(second["components"][0]["components"][1]["custom_id"].split(":")[2])
    followed = bot.store.question(follow_id)
    assert followed is not None and followed.question == "And how is it drunk today?"
    assert followed.context == "History of a drink Where did tea originate?"


async def test_a_title_that_asks_and_posts_elsewhere(
    bot: ArticleBot, loopback: LoopbackDiscord
) -> None:
    lb = loopback
    ignored = await lb.post_in_forum("Where is Mount Etna?", "", forum=lb.channel_id)
    by_bot = await lb.post_in_forum("Where is Mount Etna?", "", author=lb.bot_user)
    # Only THREAD_CREATE reaches the bot (its first message's MESSAGE_CREATE comes late or never):
    # the bot reads the message from Discord.
    titled = await lb.post_in_forum(
        "Where is Mount Etna?", "Asking for a school project.", deliver_first_message=False
    )
    [answer] = await lb.until(lambda: lb.replies_to(titled), what="the answer to the title")
    fetched = [r for r in lb.requests if r.method == "GET" and r.path.endswith(f"/{titled['id']}")]
    assert len(fetched) == 1
    assert answer["channel_id"] == titled["id"] and answer["embeds"]
    asked = bot.store.question(int(answer["components"][0]["components"][1]["custom_id"][8:]))
    assert asked is not None and asked.question == "Where is Mount Etna?"
    assert asked.context == "Asking for a school project."
    # Events arrive in order: the two earlier posts were seen, and neither was answered (a
    # thread outside a configured forum; a post by a bot).
    assert lb.replies_to(ignored) == [] and lb.replies_to(by_bot) == []
