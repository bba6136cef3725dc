"""Adding a web page to the corpus from Discord (`/add-article url:`, `/feed add`): fetched in a
thread, stored as an article, and said in one line whose web text is escaped."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

from bot import render
from bot.errors import UserFacingError
from index.web.articles import Saved, fetch_article, plan, save, web_texts
from index.web.errors import WebError
from index.web.fetch import FetchPolicy

T = TypeVar("T")


async def add_from_url(corpus: Path, url: str, *, replace: bool) -> tuple[Saved, str]:
    """Fetch ``url``, store its article in ``corpus`` (checked first), and say what happened
    (escaped)."""
    policy = FetchPolicy.from_env()

    def fetch_and_save() -> Saved:
        item = plan(corpus, fetch_article(url, policy), web_texts(corpus), replace=replace)
        save(corpus, [item])
        return item

    item = await web_errors(asyncio.to_thread(fetch_and_save))
    return item, saved_line(item)


def saved_line(item: Saved) -> str:
    """What happened to a fetched page, with its linked title and date (web text escaped)."""
    a = item.article
    page = render.source_link(a.title, a.url) + (f" ({render.fit(a.date, 40)})" if a.date else "")
    return {
        "added": f"Saved {page} as `{item.path}`. ",
        "updated": f"Updated {page} (`{item.path}`). ",
        "unchanged": f"{page} is already in the corpus, unchanged (`{item.path}`). ",
        "duplicate": f"Not added: the same text is already in `{item.same_as}`. ",
    }[item.outcome]


async def web_errors(work: Awaitable[T]) -> T:
    """Await ``work``; a WebError becomes the user's one line (the url and the reason)."""
    try:
        return await work
    except WebError as exc:
        hint = " Add `replace: True` to fetch it again." if "replace it" in exc.reason else ""
        raise UserFacingError(render.fit(exc.user_line(), 1800) + hint) from None
