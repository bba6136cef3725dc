"""stats: questions, feedback (one vote per user, changeable), periods and knowledge gaps."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.render import shown_quotes
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


# The schema of the database before per-quote feedback (issue 20): what a deployed bot has.
OLD_SCHEMA = """
CREATE TABLE questions (
    id INTEGER PRIMARY KEY, ts REAL NOT NULL, user_id INTEGER NOT NULL, guild_id INTEGER,
    question TEXT NOT NULL, context TEXT, answered INTEGER NOT NULL, confidence REAL NOT NULL,
    latency_ms REAL NOT NULL, generation TEXT NOT NULL, article TEXT, quote TEXT,
    quote_start INTEGER, quote_end INTEGER, passage TEXT
);
CREATE TABLE feedback (
    question_id INTEGER NOT NULL REFERENCES questions (id), user_id INTEGER NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)), ts REAL NOT NULL,
    PRIMARY KEY (question_id, user_id)
);
INSERT INTO questions VALUES (1, 1000000.0, 5, 10, 'Old question?', NULL, 1, 0.7, 12.0, 'g',
    'a', 'Quoted here.', 9, 21, 'Context. Quoted here. More.');
INSERT INTO feedback VALUES (1, 5, -1, 1000000.0);
"""


def answered_with_support(question: str) -> Answer:
    primary = Quote("tea", "Tea", None, "Tea came from China.", 0, 20)
    passages = (
        Passage("tea", "Tea", None, "Tea came from China.", 0, 20, 0.9),
        Passage("volcano", "Volcano", None, "Etna is in Sicily.", 0, 18, 0.5),
    )
    return Answer(question, True, 0.8, (primary,), passages, generation="g")


def test_per_quote_feedback_names_the_articles_most_often_marked_wrong(tmp_path: Path) -> None:
    store = StatsStore(tmp_path / "s.sqlite3")
    answer = answered_with_support("Where did tea come from?")
    shown = shown_quotes(answer)
    assert [q.article for q in shown] == ["tea", "volcano"]  # the primary quote, then support
    q1 = store.record_question(answer, user_id=1, guild_id=10, latency_ms=1, shown=shown)
    q2 = store.record_question(answer, user_id=1, guild_id=10, latency_ms=1, shown=shown)
    other = store.record_question(answer, user_id=1, guild_id=20, latency_ms=1, shown=shown)

    marked = store.record_quote_feedback(q1, 1, 7, -1, guild_id=10)
    assert marked is not None and (marked.article, marked.title) == ("volcano", "Volcano")
    assert store.record_quote_feedback(q2, 1, 7, -1, guild_id=10)
    assert store.record_quote_feedback(q2, 1, 8, 1, guild_id=10)
    assert store.record_quote_feedback(q1, 0, 7, 1, guild_id=10)  # helpful: never listed
    assert store.record_quote_feedback(q1, 0, 9, 1, guild_id=10)
    assert store.record_quote_feedback(q1, 0, 9, -1, guild_id=10)  # changed its mind
    assert store.record_quote_feedback(other, 0, 7, -1, guild_id=20)
    # Unknown position, unknown question, or a question of another server: nothing stored.
    assert store.record_quote_feedback(q1, 2, 7, -1, guild_id=10) is None
    assert store.record_quote_feedback(999, 0, 7, -1, guild_id=10) is None
    assert store.record_quote_feedback(other, 0, 7, -1, guild_id=10) is None

    in_10 = store.stats(guild_id=10).wrong_quotes
    assert [(v.article, v.title, v.wrong, v.helpful) for v in in_10] == [
        ("volcano", "Volcano", 2, 1),
        ("tea", "Tea", 1, 1),
    ]
    assert [(v.article, v.wrong) for v in store.stats(guild_id=20).wrong_quotes] == [("tea", 1)]
    assert [(v.article, v.wrong) for v in store.stats().wrong_quotes] == [
        ("tea", 2),
        ("volcano", 2),
    ]
    assert store.stats(guild_id=10).thumbs_down == 0  # the answer's own votes are apart

    assert store.forget_guild(10) == 2
    assert store.stats(guild_id=10).wrong_quotes == ()
    assert [(v.article, v.wrong) for v in store.stats().wrong_quotes] == [("tea", 1)]
    store.close()


def test_an_old_database_keeps_its_data_and_gains_per_quote_feedback(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    db.commit()
    db.close()

    store = StatsStore(path)
    old = store.question(1)
    assert old is not None and old.question == "Old question?" and old.quote == "Quoted here."
    stats = store.stats(now=NOW, guild_id=10)
    assert (stats.day.answered, stats.thumbs_down) == (1, 1)
    assert store.record_quote_feedback(1, 0, 5, -1, guild_id=10) is None  # nothing was shown

    answer = answered_with_support("Where did tea come from?")
    new = store.record_question(
        answer, user_id=2, guild_id=10, latency_ms=1, shown=shown_quotes(answer)
    )
    assert new == 2 and store.record_quote_feedback(new, 0, 5, -1, guild_id=10)
    assert [v.article for v in store.stats(guild_id=10).wrong_quotes] == ["tea"]
    store.close()
    StatsStore(path).close()  # opening again is harmless
