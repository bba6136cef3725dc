"""Following RSS and Atom feeds (feedparser): follow, unfollow, and poll for new entries.

A poll asks each feed with its ETag / Last-Modified (a 304 costs nothing), fetches the newest
``max_entries`` entries not seen before (or whose `updated` stamp changed), and stores each as a web
article once (the same canonical url maps to one file; the same text is not added twice). Blocking:
the bot runs it on a worker thread; the caller publishes one index generation per poll.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from index.errors import CannotWrite, SettingsError, write_problem
from index.web.articles import HTML_TYPES, Saved, fetch_article, plan, save, web_texts
from index.web.errors import FeedError, WebError
from index.web.feedstore import Feed, FeedStore
from index.web.fetch import FetchPolicy, Response, check_url, fetch

# A batch is all or none and an entry is marked seen only once saved: it is tried again next poll.
DISK_REFUSED_ENTRY = (
    "this entry and the rest of the feed were not saved (tried again at the next poll)"
)
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)


@dataclass(frozen=True)
class FeedSettings:
    max_entries: int = 20  # entries fetched per feed per poll (the newest first)
    poll_minutes: float = 30.0  # the bot's poller; 0 turns it off

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FeedSettings:
        env = os.environ if env is None else env
        try:
            settings = cls(
                max_entries=int(env.get("FEED_MAX_ENTRIES") or cls.max_entries),
                poll_minutes=float(env.get("FEED_POLL_MINUTES") or cls.poll_minutes),
            )
        except ValueError:
            raise SettingsError(
                "FEED_MAX_ENTRIES must be a whole number and FEED_POLL_MINUTES a number"
            ) from None
        if settings.max_entries < 1 or settings.poll_minutes < 0:
            raise SettingsError("FEED_MAX_ENTRIES must be at least 1, FEED_POLL_MINUTES at least 0")
        return settings


@dataclass(frozen=True)
class Entry:
    key: str  # the entry's id, or its link
    link: str
    updated: str | None


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    entries: tuple[Entry, ...]


@dataclass
class FeedReport:
    feed: Feed
    status: str = "ok"  # "ok", "not modified" or "error"
    saved: list[Saved] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one line per entry that could not be added
    error: str | None = None  # why the feed itself failed

    def count(self, *outcomes: str) -> int:
        return sum(1 for s in self.saved if s.outcome in outcomes)

    @property
    def changed(self) -> bool:
        return self.count("added", "updated") > 0

    def summary(self) -> str:
        if self.error:
            return self.error
        if self.status == "not modified":
            return "not modified"
        parts = [f"{self.count('added')} added", f"{self.count('updated')} updated"]
        parts.append(f"{self.count('unchanged', 'duplicate')} already in the corpus")
        if self.failed:
            parts.append(f"{len(self.failed)} failed ({self.failed[0]})")
        return ", ".join(parts)

    def line(self) -> str:
        return f"{self.feed.title or self.feed.url}: {self.summary()}"


def parse_feed(url: str, response: Response) -> ParsedFeed:
    """The entries of an RSS or Atom document; FeedError when it is not one."""
    import feedparser  # imported on use: only feeds need it

    if response.content_type in HTML_TYPES:
        raise FeedError(url, "this is an HTML page, not an RSS or Atom feed")
    headers = {"content-location": response.final_url}
    if response.content_type:
        charset = f"; charset={response.charset}" if response.charset else ""
        headers["content-type"] = response.content_type + charset
    parsed = feedparser.parse(response.body, response_headers=headers)
    if not parsed.get("version"):
        problem = parsed.get("bozo_exception")
        reason = f" ({' '.join(str(problem).split())})" if problem else ""
        raise FeedError(url, f"not an RSS or Atom feed{reason}")
    entries = []
    for item in parsed.entries:
        link = item.get("link")
        if link:
            # dict.get: feedparser's own .get maps a missing `updated` to `published`, with a warning
            updated = dict.get(item, "updated") or dict.get(item, "published")
            entries.append(Entry(str(item.get("id") or link), str(link), updated))
    title = parsed.feed.get("title")
    return ParsedFeed(" ".join(title.split()) if title else None, tuple(entries))


def follow(store: FeedStore, url: str, policy: FetchPolicy) -> tuple[Feed, ParsedFeed]:
    """Check that ``url`` is a feed we can read, then follow it (its entries come at the next poll)."""
    url = check_url(url)
    if store.get(url) is not None:
        raise FeedError(url, "this feed is already followed")
    parsed = parse_feed(url, fetch(url, policy, accept=FEED_ACCEPT))
    feed = store.add(url, parsed.title)
    if feed is None:
        raise FeedError(url, "this feed is already followed")
    return feed, parsed


def unfollow(store: FeedStore, url: str) -> None:
    """Stop following ``url``; the articles it brought stay in the corpus."""
    if not store.remove(url.strip()):
        raise FeedError(url, "this feed is not followed (`articlebot feed list` shows them)")


def poll_all(
    store: FeedStore, corpus_dir: Path, policy: FetchPolicy, settings: FeedSettings
) -> list[FeedReport]:
    """Poll every followed feed once; the caller reindexes once if any report changed."""
    texts = web_texts(corpus_dir)
    return [poll_feed(store, feed, corpus_dir, policy, settings, texts) for feed in store.feeds()]


def poll_feed(
    store: FeedStore,
    feed: Feed,
    corpus_dir: Path,
    policy: FetchPolicy,
    settings: FeedSettings,
    texts: dict[str, str],
) -> FeedReport:
    now = time.time()
    report = FeedReport(feed)
    conditional = {"If-None-Match": feed.etag, "If-Modified-Since": feed.last_modified}
    try:
        response = fetch(
            feed.url,
            policy,
            accept=FEED_ACCEPT,
            headers={k: v for k, v in conditional.items() if v},
        )
        if response.status == 304:
            report.status = "not modified"
            store.record_poll(feed.id, now=now, status=report.status)
            return report
        parsed = parse_feed(feed.url, response)
    except WebError as exc:
        report.status, report.error = "error", exc.user_line()
        store.record_poll(feed.id, now=now, status="error", error=report.error)
        return report
    seen = store.seen(feed.id)
    for entry in parsed.entries[: settings.max_entries]:
        if entry.key in seen and seen[entry.key] == entry.updated:
            continue
        try:
            item = plan(corpus_dir, fetch_article(entry.link, policy), texts, replace=True)
            save(corpus_dir, [item])
        except WebError as exc:
            report.failed.append(exc.user_line())
            continue
        except OSError as exc:  # a read-only or full corpus disk: the next entries would fail too
            problem = write_problem(exc)
            if problem is None:
                raise
            report.status = "error"
            report.error = CannotWrite(
                exc.filename or corpus_dir, problem, DISK_REFUSED_ENTRY
            ).user_line()
            break
        texts[item.article.sha256] = item.path
        report.saved.append(item)
        store.mark_seen(feed.id, entry.key, entry.updated, item.same_as or item.path, now)
    # Without the validators the next poll reads the feed again and retries the failed entries.
    validators = None if report.failed or report.error else (response.etag, response.last_modified)
    store.record_poll(
        feed.id,
        now=now,
        status=report.summary(),
        error=report.error or "; ".join(report.failed[:3]) or None,
        added=report.count("added"),
        validators=validators,
        title=parsed.title,
    )
    return report
