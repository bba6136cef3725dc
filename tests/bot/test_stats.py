"""stats: questions, feedback (one vote per user, changeable), periods and knowledge gaps."""

from __future__ import annotations

from pathlib import Path

from bot.stats import DAY, StatsStore
from index.types import Answer, Passage, Quote

NOW = 1_000_000.0


def ans(question: str, answered: bool) -> Answer:
    passage = Passage("a", "A", None, "Context. Quoted here. More.", 0, 27, 0.9)
    quotes = (Quote("a", "A", None, "Quoted here.", 9, 21),) if answered else ()
    return Answer(question, answered, 0.5, quotes, (passage,), generation="g")


def test_stats_by_period_with_gaps_and_feedback(tmp_path: Path) -> None:
    store = StatsStore(tmp_path / "db" / "s.sqlite3")
    q1 = store.record_question(ans("Where?", True), user_id=1, guild_id=1, latency_ms=10, now=NOW)
    store.record_question(ans("What is X?", False), user_id=1, guild_id=1, latency_ms=30, now=NOW)
    store.record_question(ans("what is x? ", False), user_id=2, guild_id=1, latency_ms=20, now=NOW)
    store.record_question(
        ans("Old?", False), user_id=2, guild_id=1, latency_ms=5, now=NOW - 3 * DAY
    )
    assert store.record_feedback(q1, 7, 1) and store.record_feedback(q1, 7, -1)
    assert store.record_feedback(q1, 8, 1)
    assert not store.record_feedback(999, 7, 1)

    stats = store.stats(now=NOW)
    assert (stats.day.answered, stats.day.abstained, stats.day.median_latency_ms) == (1, 2, 20)
    assert (stats.week.answered, stats.week.abstained) == (1, 3)
    assert (stats.thumbs_up, stats.thumbs_down) == (1, 1)
    assert stats.gaps[0][1] == 2 and stats.gaps[0][0].lower().startswith("what is x")

    asked = store.question(q1)
    assert asked is not None and asked.passage == "Context. Quoted here. More."
    assert (asked.quote_start, asked.quote_end) == (9, 21)
    store.close()


def test_each_server_sees_its_own_figures_and_can_forget_them(tmp_path: Path) -> None:
    store = StatsStore(tmp_path / "s.sqlite3")
    a = store.record_question(ans("A's question?", False), user_id=1, guild_id=10, latency_ms=1)
    b = store.record_question(ans("B's question?", False), user_id=2, guild_id=20, latency_ms=1)
    store.record_question(ans("In a DM?", True), user_id=3, guild_id=None, latency_ms=1)
    assert store.record_feedback(a, 5, -1) and store.record_feedback(b, 5, 1)

    in_a, in_b = store.stats(guild_id=10), store.stats(guild_id=20)
    assert [q for q, _ in in_a.gaps] == ["A's question?"] and in_a.thumbs_down == 1
    assert [q for q, _ in in_b.gaps] == ["B's question?"] and in_b.thumbs_up == 1
    assert (in_a.thumbs_up, in_b.thumbs_down) == (0, 0)
    everything = store.stats()  # the operator's view
    assert everything.week.answered + everything.week.abstained == 3
    assert set(store.last_activity()) == {10, 20}

    stored = store.question(b)
    assert stored is not None and stored.guild_id == 20
    assert store.forget_guild(20) == 1
    assert store.question(b) is None and store.stats(guild_id=20).thumbs_up == 0
    assert store.stats(guild_id=10).thumbs_down == 1  # A's untouched
    store.close()
