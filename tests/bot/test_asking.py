"""asking: cooldown, length limits, cleaning mentions, conversation memory, recording."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.asking import (
    Asked,
    AskService,
    Cooldown,
    Memory,
    Refusal,
    clean_question,
    forum_question,
    join_context,
)
from bot.stats import StatsStore
from bot.workers import Workers
from index.types import Answer, Quote


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeEngine:
    generation = "g1"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def ask(self, question: str, *, k: int = 5, context: str | None = None) -> Answer:
        self.calls.append((question, context))
        q = Quote("a", "A", None, "Quoted.", 0, 7)
        return Answer(question, True, 0.9, (q,), (), generation=self.generation)


def test_cooldown_is_a_sliding_window_per_user() -> None:
    clock = Clock()
    cooldown = Cooldown(2, 10.0, clock)
    assert cooldown.retry_after(1) == 0 and cooldown.retry_after(1) == 0
    assert cooldown.retry_after(1) == 10.0
    assert cooldown.retry_after(2) == 0  # other users are not affected
    clock.now += 10.0
    assert cooldown.retry_after(1) == 0


def test_clean_question_drops_only_the_bots_mention() -> None:
    assert clean_question("<@42>  what is <@7>?  ", 42) == "what is <@7>?"
    assert clean_question("<@!42> hi", 42) == "hi"


def test_memory_forgets_the_oldest() -> None:
    memory = Memory(size=2)
    for key in (1, 2, 3):
        memory.remember(key, f"q{key}")
    assert memory.recall(1) is None and memory.recall(3) == "q3" and memory.recall(None) is None


def test_join_context_keeps_the_latest_part() -> None:
    assert join_context(None, "q") == "q"
    assert join_context("a", "b") == "a b"
    joined = join_context("x" * 2000, "end")
    assert joined is not None and len(joined) == 1000 and joined.endswith("end")


async def test_ask_service_checks_then_answers_and_records(tmp_path: Path) -> None:
    engine = FakeEngine()
    store = StatsStore(tmp_path / "s.sqlite3")
    workers = Workers()
    service = AskService(
        lambda guild_id: engine, workers, store, max_chars=20, cooldown=Cooldown(1, 60.0, Clock())
    )
    try:
        too_long = await service.ask("x" * 21, user_id=1, guild_id=None)
        assert isinstance(too_long, Refusal) and "limit is 20" in too_long.text
        empty = await service.ask("   ", user_id=1, guild_id=None)
        assert isinstance(empty, Refusal)
        asked = await service.ask("why?", user_id=1, guild_id=5, context="before")
        assert isinstance(asked, Asked) and engine.calls == [("why?", "before")]
        again = await service.ask("why?", user_id=1, guild_id=5)
        assert isinstance(again, Refusal) and "try again" in again.text
        elsewhere = await service.ask("why?", user_id=1, guild_id=6)  # another server's cooldown
        assert isinstance(elsewhere, Asked)
        stored = store.question(asked.question_id)
        assert stored is not None and stored.context == "before" and stored.quote == "Quoted."
    finally:
        workers.shutdown()
        store.close()


@pytest.mark.parametrize(
    ("title", "body", "question", "context"),
    [
        ("Tea", "", "Tea", None),  # nothing else to read (or no message-content intent)
        ("Tea origins", "Where did tea originate?", "Where did tea originate?", "Tea origins"),
        ("where did  tea", "Where did tea originate?", "Where did tea originate?", None),
        ("Where is Etna?", "For a school project.", "Where is Etna?", "For a school project."),
        ("Where is Etna?", "And is it active?", "And is it active?", "Where is Etna?"),
        ("", "Where is Etna?", "Where is Etna?", None),
    ],
)
def test_a_forum_posts_question_and_context(
    title: str, body: str, question: str, context: str | None
) -> None:
    assert forum_question(title, body) == (question, context)
