"""`articlebot guilds` (each server's own library: articles, size, activity) and `articlebot
stats` (questions and feedback of every server, or one): the operator's view from the shell."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from typing import NoReturn, TextIO

from index.config import Settings
from index.library.servers import ServerLibraries, servers_dir
from index.web.feedstore import db_path


def add_guilds_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON object per server")


def add_stats_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--guild", type=int, default=None, help="one server's figures only")
    p.add_argument("--json", action="store_true")


def _never_open(settings: Settings) -> NoReturn:
    raise RuntimeError("listing never opens a library")


def run_guilds(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from bot.stats import StatsStore

    libraries = ServerLibraries(servers_dir(), settings, _never_open)
    path = db_path()
    activity = {}
    if path.exists():
        store = StatsStore(path)
        try:
            activity = store.last_activity()
        finally:
            store.close()
    ids = sorted(set(libraries.server_ids()) | set(activity))
    if not ids:
        print(f"No server has a library or has asked a question ({libraries.root}).", file=out)
        return 0
    for server_id in ids:
        summary = libraries.summary(server_id)
        row = asdict(summary) | {"last_question": activity.get(server_id)}
        if args.json:
            print(json.dumps(row), file=out)
            continue
        left = f" · left {_when(summary.left_at)}" if summary.left_at else ""
        print(
            f"{server_id}  {summary.articles} articles  {summary.bytes / 1e6:.1f} MB  "
            f"changed {_when(summary.last_change)}  "
            f"last question {_when(activity.get(server_id))}{left}",
            file=out,
        )
    return 0


def run_stats(args: argparse.Namespace, out: TextIO) -> int:
    from bot.stats import StatsStore

    path = db_path()
    if not path.exists():
        print(f"No questions recorded yet ({path} does not exist).", file=out)
        return 0
    store = StatsStore(path)
    try:
        figures = store.stats(guild_id=args.guild)
    finally:
        store.close()
    if args.json:
        print(json.dumps(asdict(figures)), file=out)
        return 0
    scope = f"server {args.guild}" if args.guild else "every server and DM"
    print(f"Questions of {scope}:", file=out)
    for name, period in (("last 24 hours", figures.day), ("last 7 days", figures.week)):
        median = f"{period.median_latency_ms:.0f} ms" if period.median_latency_ms else "-"
        print(
            f"  {name}: {period.answered} answered, {period.abstained} declined, median {median}",
            file=out,
        )
    print(f"  feedback: {figures.thumbs_up} up, {figures.thumbs_down} down", file=out)
    for question, count in figures.gaps:
        print(f"  unanswered x{count}: {question}", file=out)
    for article in figures.wrong_quotes:
        print(
            f"  quotes marked wrong x{article.wrong} (helpful x{article.helpful}): "
            f"{article.article} ({article.title})",
            file=out,
        )
    return 0


def _when(stamp: float | None) -> str:
    if not stamp:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))
