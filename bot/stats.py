"""SQLite record of questions asked and feedback given, and the figures `/stats` shows.

Blocking: call every method through `Workers.io`. One connection guarded by a lock, so the store
can be used from any worker thread.
"""

from __future__ import annotations

import sqlite3
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from index.types import Answer, ArticleSpan

_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    user_id INTEGER NOT NULL,
    guild_id INTEGER,
    question TEXT NOT NULL,
    context TEXT,
    answered INTEGER NOT NULL,
    confidence REAL NOT NULL,
    latency_ms REAL NOT NULL,
    generation TEXT NOT NULL,
    article TEXT,
    quote TEXT,
    quote_start INTEGER,
    quote_end INTEGER,
    passage TEXT
);
CREATE INDEX IF NOT EXISTS questions_ts ON questions (ts);
CREATE INDEX IF NOT EXISTS questions_guild ON questions (guild_id, ts);
CREATE TABLE IF NOT EXISTS feedback (
    question_id INTEGER NOT NULL REFERENCES questions (id),
    user_id INTEGER NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    ts REAL NOT NULL,
    PRIMARY KEY (question_id, user_id)
);
-- Added with per-quote feedback (issue 20): the quotes an answer showed (position 0 the primary
-- quote, then the supporting passages), and each user's verdict on one of them. CREATE ... IF NOT
-- EXISTS is the whole migration: a database from before gains the two empty tables, and its
-- questions and feedback are kept as they were.
CREATE TABLE IF NOT EXISTS shown_quotes (
    question_id INTEGER NOT NULL REFERENCES questions (id),
    position INTEGER NOT NULL,
    article TEXT NOT NULL,
    title TEXT NOT NULL,
    quote_start INTEGER NOT NULL,
    quote_end INTEGER NOT NULL,
    PRIMARY KEY (question_id, position)
);
CREATE TABLE IF NOT EXISTS quote_feedback (
    question_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    ts REAL NOT NULL,
    PRIMARY KEY (question_id, position, user_id),
    FOREIGN KEY (question_id, position) REFERENCES shown_quotes (question_id, position)
);
"""

DAY = 86_400.0


@dataclass(frozen=True)
class AskedQuestion:
    """What a button under an answer needs to act on it later."""

    id: int
    guild_id: int | None
    question: str
    context: str | None
    answered: bool
    article: str | None
    quote: str | None
    quote_start: int | None
    quote_end: int | None
    passage: str | None


@dataclass(frozen=True)
class Period:
    answered: int
    abstained: int
    median_latency_ms: float | None


@dataclass(frozen=True)
class QuoteVerdicts:
    """How often one article's quotes were marked wrong and helpful (per-quote feedback)."""

    article: str
    title: str
    wrong: int
    helpful: int


@dataclass(frozen=True)
class Stats:
    day: Period
    week: Period
    thumbs_up: int
    thumbs_down: int
    gaps: tuple[tuple[str, int], ...]  # most frequent unanswered questions (last 7 days)
    # the articles whose quotes are most often marked wrong, most first
    wrong_quotes: tuple[QuoteVerdicts, ...] = ()


class StatsStore:
    def __init__(self, path: Path) -> None:
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.executescript(_SCHEMA)
        self._db.commit()

    def record_question(
        self,
        answer: Answer,
        *,
        user_id: int,
        guild_id: int | None,
        latency_ms: float,
        context: str | None = None,
        now: float | None = None,
        shown: Sequence[ArticleSpan] = (),
    ) -> int:
        """Record a question and the quotes its reply showed (``shown``: the primary quote
        first, then the supporting passages: what per-quote feedback refers to by position)."""
        quote = answer.quotes[0] if answer.answered and answer.quotes else None
        passage = _passage_around(answer)
        with self._lock, self._db:
            cur = self._db.execute(
                "INSERT INTO questions (ts, user_id, guild_id, question, context, answered,"
                " confidence, latency_ms, generation, article, quote, quote_start, quote_end,"
                " passage) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time() if now is None else now,
                    user_id,
                    guild_id,
                    answer.question,
                    context,
                    int(answer.answered),
                    answer.confidence,
                    latency_ms,
                    answer.generation,
                    quote.article if quote else None,
                    quote.text if quote else None,
                    quote.start if quote else None,
                    quote.end if quote else None,
                    passage,
                ),
            )
            question_id = int(cur.lastrowid or 0)
            self._db.executemany(
                "INSERT INTO shown_quotes (question_id, position, article, title, quote_start,"
                " quote_end) VALUES (?, ?, ?, ?, ?, ?)",
                [(question_id, i, q.article, q.title, q.start, q.end) for i, q in enumerate(shown)],
            )
            return question_id

    def question(self, question_id: int) -> AskedQuestion | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, guild_id, question, context, answered, article, quote, quote_start,"
                " quote_end, passage FROM questions WHERE id = ?",
                (question_id,),
            ).fetchone()
        if row is None:
            return None
        return AskedQuestion(row[0], row[1], row[2], row[3], bool(row[4]), *row[5:])

    def record_feedback(
        self, question_id: int, user_id: int, vote: int, now: float | None = None
    ) -> bool:
        """Store (or change) one user's vote on one answer; False if the question is unknown."""
        with self._lock, self._db:
            known = self._db.execute("SELECT 1 FROM questions WHERE id = ?", (question_id,))
            if known.fetchone() is None:
                return False
            self._db.execute(
                "INSERT INTO feedback (question_id, user_id, vote, ts) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (question_id, user_id) DO UPDATE SET vote = excluded.vote,"
                " ts = excluded.ts",
                (question_id, user_id, 1 if vote > 0 else -1, time.time() if now is None else now),
            )
            return True

    def record_quote_feedback(
        self,
        question_id: int,
        position: int,
        user_id: int,
        vote: int,
        *,
        guild_id: int | None,
        now: float | None = None,
    ) -> ArticleSpan | None:
        """Store (or change) one user's verdict on one shown quote (``vote`` > 0: helpful, else
        wrong). Only for a question asked in ``guild_id``: a click never reaches another
        server's question. Returns the quote's article (text empty), None if unknown."""
        with self._lock, self._db:
            row = self._db.execute(
                "SELECT s.article, s.title, s.quote_start, s.quote_end FROM shown_quotes s"
                " JOIN questions q ON q.id = s.question_id"
                " WHERE s.question_id = ? AND s.position = ? AND q.guild_id IS ?",
                (question_id, position, guild_id),
            ).fetchone()
            if row is None:
                return None
            self._db.execute(
                "INSERT INTO quote_feedback (question_id, position, user_id, vote, ts)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (question_id, position, user_id)"
                " DO UPDATE SET vote = excluded.vote, ts = excluded.ts",
                (
                    question_id,
                    position,
                    user_id,
                    1 if vote > 0 else -1,
                    time.time() if now is None else now,
                ),
            )
        return ArticleSpan(row[0], row[1], None, "", row[2], row[3])

    def stats(
        self, now: float | None = None, gaps: int = 5, *, guild_id: int | None = None
    ) -> Stats:
        """The figures of one server (``guild_id``), or of every server and DM (None: the
        operator's `articlebot stats`)."""
        now = time.time() if now is None else now
        where, args = ("", ()) if guild_id is None else (" AND guild_id = ?", (guild_id,))
        with self._lock:
            day = self._period(now - DAY, where, args)
            week = self._period(now - 7 * DAY, where, args)
            up, down = self._db.execute(
                "SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) FROM feedback"
                " JOIN questions ON questions.id = feedback.question_id WHERE 1 = 1" + where,
                args,
            ).fetchone()
            rows = self._db.execute(
                "SELECT MIN(question), COUNT(*) AS n FROM questions"
                " WHERE answered = 0 AND ts >= ?" + where + " GROUP BY LOWER(TRIM(question))"
                " ORDER BY n DESC, MAX(ts) DESC LIMIT ?",
                (now - 7 * DAY, *args, gaps),
            ).fetchall()
            wrong = self._wrong_quotes(where, args, gaps)
        return Stats(day, week, int(up), int(down), tuple((q, int(n)) for q, n in rows), wrong)

    def _wrong_quotes(
        self, where: str, args: tuple[int, ...], limit: int
    ) -> tuple[QuoteVerdicts, ...]:
        rows = self._db.execute(
            "SELECT s.article, MAX(s.title), SUM(f.vote = -1) AS wrong, SUM(f.vote = 1)"
            " FROM quote_feedback f"
            " JOIN shown_quotes s ON s.question_id = f.question_id AND s.position = f.position"
            " JOIN questions ON questions.id = f.question_id WHERE 1 = 1"
            + where
            + " GROUP BY s.article HAVING wrong > 0 ORDER BY wrong DESC, s.article LIMIT ?",
            (*args, limit),
        ).fetchall()
        return tuple(QuoteVerdicts(a, t, int(w), int(h)) for a, t, w, h in rows)

    def _period(self, since: float, where: str = "", args: tuple[int, ...] = ()) -> Period:
        rows = self._db.execute(
            "SELECT answered, latency_ms FROM questions WHERE ts >= ?" + where, (since, *args)
        ).fetchall()
        answered = sum(1 for a, _ in rows if a)
        latency = statistics.median(ms for _, ms in rows) if rows else None
        return Period(answered, len(rows) - answered, latency)

    def last_activity(self) -> dict[int, float]:
        """Each server's latest question time (for `articlebot servers`)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT guild_id, MAX(ts) FROM questions WHERE guild_id IS NOT NULL"
                " GROUP BY guild_id"
            ).fetchall()
        return {int(g): float(t) for g, t in rows}

    def forget_guild(self, guild_id: int) -> int:
        """Delete a server's questions and their feedback; how many questions were deleted."""
        with self._lock, self._db:
            for table in ("feedback", "quote_feedback", "shown_quotes"):
                self._db.execute(
                    f"DELETE FROM {table} WHERE question_id IN"
                    " (SELECT id FROM questions WHERE guild_id = ?)",
                    (guild_id,),
                )
            cur = self._db.execute("DELETE FROM questions WHERE guild_id = ?", (guild_id,))
            return cur.rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _passage_around(answer: Answer) -> str | None:
    """The retrieved passage that holds the primary quote (the 'full paragraph' fallback)."""
    if not answer.quotes:
        return None
    q = answer.quotes[0]
    for p in answer.passages:
        if p.article == q.article and p.start <= q.start and q.end <= p.end:
            return p.text
    return q.text
