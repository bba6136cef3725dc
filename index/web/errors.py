"""The errors of fetching and following the web, in the engine's error family (index.errors)."""

from __future__ import annotations

from index.errors import ArticlebotError


class WebError(ArticlebotError, ValueError):
    """A page or feed cannot be fetched, read or added; the message names the url and the reason."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{shorten_url(url)}: {reason}")


class FeedError(WebError):
    """A feed cannot be followed (not a feed, unknown, already followed)."""


def shorten_url(url: str, limit: int = 200) -> str:
    """The url on one line, cut to ``limit`` characters (a user's line must stay one line)."""
    flat = " ".join(url.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
