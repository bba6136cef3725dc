"""`articlebot add URL...` and `articlebot feed add|list|remove|poll` (registered from index.cli.main)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from index.cli.display import terminal_safe
from index.config import Settings
from index.web.articles import Saved, fetch_article, plan, save, web_texts
from index.web.feeds import FeedReport, FeedSettings, follow, poll_all, unfollow
from index.web.feedstore import Feed, FeedStore, db_path, poll_line
from index.web.fetch import FetchPolicy


def is_url(item: str) -> bool:
    return item.lower().startswith(("http://", "https://"))


def add_sources(settings: Settings, items: Sequence[str | Path], *, replace: bool) -> list[str]:
    """Files and http(s) links: every link fetched and checked and every file checked before
    anything is written; the lines to print."""
    from index.cli.corpus import add_files

    urls = [str(i) for i in items if is_url(str(i))]
    files = [Path(i) for i in items if not is_url(str(i))]
    policy = FetchPolicy.from_env()
    texts = web_texts(settings.corpus_dir)
    planned: list[Saved] = []
    for url in urls:
        item = plan(settings.corpus_dir, fetch_article(url, policy), texts, replace=replace)
        texts.setdefault(item.article.sha256, item.path)  # the same page given twice is added once
        planned.append(item)
    copied = add_files(settings, files, replace=replace) if files else []
    lines = [f"added {p.relative_to(settings.corpus_dir).as_posix()}" for p in copied]
    save(settings.corpus_dir, planned)
    return lines + [describe(item) for item in planned]


def describe(item: Saved) -> str:
    """One line: what happened to a fetched page, with its title, date and url."""
    a = item.article
    dated = f" ({a.date})" if a.date else ""
    what = {
        "added": f"added {item.path}",
        "updated": f"updated {item.path}",
        "unchanged": f"unchanged {item.path} (already in the corpus)",
        "duplicate": f"skipped: the same text is already in {item.same_as}",
    }[item.outcome]
    return terminal_safe(f"{what}: {a.title}{dated} <{a.url}>")


def add_feed_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    """`feed add|list|remove|poll`; the common options (--corpus ...) go after the action."""
    sub = parser.add_subparsers(dest="feed_command", required=True, metavar="ACTION")

    def action(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], help=help)

    action("add", "follow an RSS or Atom feed").add_argument("url")
    action("list", "the feeds followed, their last poll and errors").add_argument(
        "--json", action="store_true"
    )
    action("remove", "stop following a feed (its articles stay)").add_argument("url")
    action("poll", "fetch new entries of every feed, then update the index (for cron)")


def run_feed_command(
    args: argparse.Namespace, settings: Settings, out: TextIO | None = None
) -> int:
    out = out or sys.stdout
    store = FeedStore(db_path())
    try:
        if args.feed_command == "add":
            feed, parsed = follow(store, args.url, FetchPolicy.from_env())
            print(
                terminal_safe(
                    f"following {feed.title or feed.url} <{feed.url}>: {len(parsed.entries)} "
                    "entries now; `articlebot feed poll` adds the new ones"
                ),
                file=out,
            )
        elif args.feed_command == "remove":
            unfollow(store, args.url)
            print(f"no longer following {args.url} (its articles stay in the corpus)", file=out)
        elif args.feed_command == "list":
            print_feeds(store.feeds(), json_out=args.json, out=out)
        else:
            return poll_and_index(store, settings, out)
        return 0
    finally:
        store.close()


def poll_and_index(store: FeedStore, settings: Settings, out: TextIO) -> int:
    """One poll of every feed, then one index update if anything was added; 1 if anything failed."""
    from index.cli.indexing import update_index
    from index.embedding.embedder import load_embedder

    reports = poll_all(store, settings.corpus_dir, FetchPolicy.from_env(), FeedSettings.from_env())
    for report in reports:
        print(terminal_safe(report.line()), file=out)
    if not reports:
        print("no feeds are followed; `articlebot feed add URL` follows one", file=out)
    if reports:  # also when this poll changed nothing: an earlier one killed after saving may
        # have left articles unindexed (the build publishes nothing when nothing changed)
        update_index(settings, load_embedder(settings.embed_model, settings.embed_backend), out)
    return 1 if any(r.error or r.failed for r in reports) else 0


def print_feeds(feeds: list[Feed], *, json_out: bool, out: TextIO) -> None:
    if json_out:
        print(json.dumps([f.__dict__ for f in feeds], ensure_ascii=False), file=out)
        return
    if not feeds:
        print("no feeds are followed", file=out)
    for f in feeds:
        line = f"{f.title or '(untitled)'} <{f.url}>: {f.articles} articles; {poll_line(f)}"
        print(terminal_safe(line), file=out)


def poll_summary(reports: list[FeedReport]) -> str:
    """The poll's lines, one per feed."""
    return "\n".join(r.line() for r in reports) or "No feeds are followed."
