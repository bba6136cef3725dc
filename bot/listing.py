"""Lists shown in Discord: autocomplete choices of articles, and the feeds followed (pure)."""

from __future__ import annotations

import discord
from discord import app_commands

from bot import render
from index.types import ArticleInfo
from index.web.feedstore import Feed, poll_line

MAX_CHOICES = 25


def matching_articles(articles: list[ArticleInfo], typed: str) -> list[app_commands.Choice[str]]:
    """Autocomplete choices: titles (or slugs) containing what was typed, best matches first."""
    needle = typed.casefold().strip()
    scored = []
    for a in articles:
        title = (a.title or a.id).casefold()
        if needle and needle not in title and needle not in a.id.casefold():
            continue
        scored.append((not title.startswith(needle), title, a))
    scored.sort(key=lambda t: (t[0], t[1]))
    return [
        app_commands.Choice(
            name=render.fit(a.title or a.id, 100, transform=render.plain_text), value=a.id
        )
        for _, _, a in scored[:MAX_CHOICES]
        if len(a.id) <= 100
    ]


def feed_lines(feeds: list[Feed]) -> str:
    """One line per feed: title, url, articles, last poll and its error (escaped: web text)."""
    if not feeds:
        return "No feeds are followed. `/feed add url:` follows one."
    lines = [
        f"• {render.source_link(f.title or f.url, f.url, 200)} · {f.articles} articles · "
        f"{render.fit(poll_line(f), 300)}"
        for f in feeds
    ]
    return render.fit("\n".join(lines), render.MAX_CONTENT - 100, str)


def render_feeds(feeds: list[Feed]) -> discord.Embed:
    return discord.Embed(title="Feeds followed", description=feed_lines(feeds))
