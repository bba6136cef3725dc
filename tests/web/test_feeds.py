"""Following RSS and Atom feeds over a loopback server: new, updated and duplicate entries, 304s."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.web.errors import FeedError
from index.web.feeds import FeedSettings, follow, poll_all, unfollow
from index.web.feedstore import FeedStore
from index.web.fetch import FetchPolicy
from tests.web.pages import article, atom, rss
from tests.web.server import LoopbackWeb, conditional

RSS_TYPE = "application/rss+xml"
ATOM_TYPE = "application/atom+xml"


@pytest.fixture
def store(tmp_path: Path) -> FeedStore:
    return FeedStore(tmp_path / "bot.sqlite3")


def corpus_files(corpus: Path) -> list[str]:
    return sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*.md"))


def test_rss_new_updated_and_duplicate_entries_across_polls(
    web: LoopbackWeb, policy: FetchPolicy, store: FeedStore, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    web.page("/a", article("Ferry", "The new ferry carries two hundred cars across the estuary."))
    web.page("/b", article("Market", "The Saturday market moves to the harbour from June."))
    items = [("a", web.url("/a"), "Mon, 06 May 2024 08:00:00 GMT"), ("b", web.url("/b"), "")]
    web.routes["/feed.xml"] = conditional(rss("Valley", items), RSS_TYPE, etag='"v1"')
    feed, parsed = follow(store, web.url("/feed.xml"), policy)
    assert (feed.title, len(parsed.entries)) == ("Valley", 2)

    [first] = poll_all(store, corpus, policy, FeedSettings())
    assert (first.count("added"), first.failed) == (2, [])
    assert len(corpus_files(corpus)) == 2

    [second] = poll_all(store, corpus, policy, FeedSettings())
    assert second.status == "not modified"  # the server answered 304 to If-None-Match
    assert web.requests[-1][1]["If-None-Match"] == '"v1"'

    # v2: entry a updated (new text), entry c new, entry d a second link to b's text.
    web.page("/a", article("Ferry", "The new ferry carries three hundred cars across the estuary."))
    web.page("/c", article("School", "The village school celebrates its hundredth year in July."))
    web.page("/d", article("Market", "The Saturday market moves to the harbour from June."))
    items = [
        ("a", web.url("/a"), "Tue, 07 May 2024 08:00:00 GMT"),
        ("b", web.url("/b"), ""),
        ("c", web.url("/c"), ""),
        ("d", web.url("/d"), ""),
    ]
    web.routes["/feed.xml"] = conditional(rss("Valley", items), RSS_TYPE, etag='"v2"')
    before = len(web.requests)
    [third] = poll_all(store, corpus, policy, FeedSettings())
    assert (third.count("added"), third.count("updated"), third.count("duplicate")) == (1, 1, 1)
    assert web.url("/b") not in [web.url(p) for p, _ in web.requests[before:]]  # b not refetched
    files = corpus_files(corpus)
    assert len(files) == 3
    ferry = next(f for f in files if "/a-" in f)
    assert "three hundred cars" in (corpus / ferry).read_text(encoding="utf-8")
    [listed] = store.feeds()
    assert listed.articles == 3 and listed.last_error is None


def test_atom_with_last_modified_and_a_failing_entry(
    web: LoopbackWeb, policy: FetchPolicy, store: FeedStore, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    web.page("/x", article("Rain", "Heavy rain closed the mountain road for two days last week."))
    entries = [
        ("urn:x", web.url("/x"), "2024-05-01T10:00:00Z"),
        ("urn:gone", web.url("/gone"), "2024-05-01T09:00:00Z"),
    ]
    stamp = "Wed, 01 May 2024 10:00:00 GMT"
    web.routes["/atom"] = conditional(atom("Weather", entries), ATOM_TYPE, last_modified=stamp)
    follow(store, web.url("/atom"), policy)
    [report] = poll_all(store, corpus, policy, FeedSettings())
    assert report.count("added") == 1
    assert report.failed == [f"{web.url('/gone')}: the server answered 404 Not Found"]
    # An entry failed: no validators kept, so the next poll reads the feed again and retries it.
    [again] = poll_all(store, corpus, policy, FeedSettings())
    assert again.status == "ok" and len(again.failed) == 1 and again.count("added") == 0
    assert "If-Modified-Since" not in web.requests[-2][1]
    assert store.feeds()[0].last_error == report.failed[0]


def test_entries_per_poll_are_capped(
    web: LoopbackWeb, policy: FetchPolicy, store: FeedStore, tmp_path: Path
) -> None:
    for n in range(3):
        web.page(f"/n{n}", article(f"Item {n}", f"Item number {n} is about the harbour wall."))
    items = [(f"n{n}", web.url(f"/n{n}"), "") for n in range(3)]
    web.route("/feed", rss("Caps", items), Content_Type=RSS_TYPE)
    follow(store, web.url("/feed"), policy)
    [report] = poll_all(store, tmp_path / "corpus", policy, FeedSettings(max_entries=2))
    assert report.count("added") == 2


def test_what_is_not_a_feed_is_refused(
    web: LoopbackWeb, policy: FetchPolicy, store: FeedStore
) -> None:
    web.route("/broken", "Just some words, no XML at all.", Content_Type="text/plain")
    web.page("/page", article("Page", "A page is not a feed."))
    with pytest.raises(FeedError, match="not an RSS or Atom feed"):
        follow(store, web.url("/broken"), policy)
    with pytest.raises(FeedError, match="an HTML page, not an RSS or Atom feed"):
        follow(store, web.url("/page"), policy)
    assert store.feeds() == []


def test_follow_twice_and_unfollow(web: LoopbackWeb, policy: FetchPolicy, store: FeedStore) -> None:
    web.route("/f", rss("F", []), Content_Type=RSS_TYPE)
    follow(store, web.url("/f"), policy)
    with pytest.raises(FeedError, match="already followed"):
        follow(store, web.url("/f"), policy)
    unfollow(store, web.url("/f"))
    with pytest.raises(FeedError, match="not followed"):
        unfollow(store, web.url("/f"))


def test_a_feed_that_fails_records_its_error(
    web: LoopbackWeb, policy: FetchPolicy, store: FeedStore, tmp_path: Path
) -> None:
    web.route("/f", rss("F", []), Content_Type=RSS_TYPE)
    follow(store, web.url("/f"), policy)
    del web.routes["/f"]
    [report] = poll_all(store, tmp_path, policy, FeedSettings())
    assert report.status == "error" and "404 Not Found" in (report.error or "")
    assert store.feeds()[0].last_status == "error"
