"""The feeds followed and the entries seen, in the bot's SQLite file (BOT_DB_PATH).

Blocking: the bot calls it from a worker thread. One connection guarded by a lock; SQLite's own
locking lets `articlebot feed poll` from cron share the file with a running bot.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from index.config import under_home
from index.errors import writing

DEFAULT_DB = "var/bot.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    title TEXT,
    etag TEXT,
    last_modified TEXT,
    added_at REAL NOT NULL,
    last_poll_at REAL,
    last_status TEXT,
    last_error TEXT,
    articles INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS feed_entries (
    feed_id INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    entry_key TEXT NOT NULL,
    updated TEXT,
    article TEXT,
    seen_at REAL NOT NULL,
    PRIMARY KEY (feed_id, entry_key)
);
"""


@dataclass(frozen=True)
class Feed:
    id: int
    url: str
    title: str | None
    etag: str | None
    last_modified: str | None
    added_at: float
    last_poll_at: float | None
    last_status: str | None  # "ok: 2 added", "not modified", "error"
    last_error: str | None
    articles: int  # articles added from this feed so far


def db_path(env: Mapping[str, str] | None = None) -> Path:
    """BOT_DB_PATH, as the bot reads it (relative paths under ARTICLEBOT_HOME)."""
    env = os.environ if env is None else env
    return under_home(env.get("BOT_DB_PATH") or DEFAULT_DB, env)


class FeedStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        with self._writing():
            if str(path) != ":memory:":
                path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.executescript(_SCHEMA)
            self._db.commit()

    def _writing(self) -> contextlib.AbstractContextManager[None]:
        """A database its disk will not change (read-only, full): one line naming the file; the
        transaction is rolled back, so the feeds stay as they were."""
        return writing(self.path, "the feed list was not changed (BOT_DB_PATH)")

    def add(self, url: str, title: str | None, now: float | None = None) -> Feed | None:
        """Follow ``url``; None when it is already followed."""
        with self._writing(), self._lock, self._db:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO feeds (url, title, added_at) VALUES (?, ?, ?)",
                (url, title, time.time() if now is None else now),
            )
            added = cur.rowcount == 1
        return self.get(url) if added else None

    def remove(self, url: str) -> bool:
        with self._writing(), self._lock, self._db:
            return self._db.execute("DELETE FROM feeds WHERE url = ?", (url,)).rowcount == 1

    def get(self, url: str) -> Feed | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM feeds WHERE url = ?", (url,)).fetchone()
        return Feed(*row) if row else None

    def feeds(self) -> list[Feed]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM feeds ORDER BY id").fetchall()
        return [Feed(*row) for row in rows]

    def seen(self, feed_id: int) -> dict[str, str | None]:
        """Entry key -> the `updated` stamp it had when it was last handled."""
        with self._lock:
            rows = self._db.execute(
                "SELECT entry_key, updated FROM feed_entries WHERE feed_id = ?", (feed_id,)
            ).fetchall()
        return dict(rows)

    def mark_seen(
        self, feed_id: int, key: str, updated: str | None, article: str | None, now: float
    ) -> None:
        with self._writing(), self._lock, self._db:
            self._db.execute(
                "INSERT INTO feed_entries (feed_id, entry_key, updated, article, seen_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (feed_id, entry_key) DO UPDATE SET"
                " updated = excluded.updated, article = COALESCE(excluded.article, article),"
                " seen_at = excluded.seen_at",
                (feed_id, key, updated, article, now),
            )

    def record_poll(
        self,
        feed_id: int,
        *,
        now: float,
        status: str,
        error: str | None = None,
        added: int = 0,
        validators: tuple[str | None, str | None] | None = None,
        title: str | None = None,
    ) -> None:
        """The poll's outcome; ``validators`` (ETag, Last-Modified) only after a good poll."""
        with self._writing(), self._lock, self._db:
            self._db.execute(
                "UPDATE feeds SET last_poll_at = ?, last_status = ?, last_error = ?,"
                " articles = articles + ?, title = COALESCE(?, title) WHERE id = ?",
                (now, status, error, added, title, feed_id),
            )
            if validators is not None:
                self._db.execute(
                    "UPDATE feeds SET etag = ?, last_modified = ? WHERE id = ?",
                    (*validators, feed_id),
                )

    def close(self) -> None:
        with self._lock:
            self._db.close()


_COLUMNS = (
    "id, url, title, etag, last_modified, added_at, last_poll_at, last_status, last_error, articles"
)


def poll_line(feed: Feed) -> str:
    """When the feed was last polled and how that went, on one line."""
    if feed.last_poll_at is None:
        return "not polled yet"
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(feed.last_poll_at))
    error = f"; error: {feed.last_error}" if feed.last_error else ""
    return f"last poll {when}: {feed.last_status}{error}"
