"""A fetched page's article: its main text (corpus/formats/html_main.py) or a clear error, its
charset, and a title from the url when the page names none."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from index.corpus.formats.html import parse_html_selectolax
from index.corpus.formats.html_flat import LXML_MAX_DEPTH, nesting_depth
from index.corpus.formats.html_main import Extracted, extract_html
from index.web.errors import WebError

# Fewer words than this is not an article: a paywall, a login page, or text built by JavaScript.
MIN_WORDS = 30


def read_page(html: str, url: str) -> Extracted:
    """The article of a fetched page; WebError when the page holds no article text."""
    page = extract_html(html, url)
    if page is None and nesting_depth(html) > LXML_MAX_DEPTH:  # whole, by the flat reader
        parsed = parse_html_selectolax(html)
        page = Extracted(text=parsed.text, title=parsed.title, url=parsed.url)
    words = len(page.text.split()) if page else 0
    if page is None or words < MIN_WORDS:
        raise WebError(
            url,
            f"no article text found ({words} words; a paywall, a login page, or a page that "
            "builds its text with JavaScript)",
        )
    return page


def title_from_url(url: str) -> str:
    """A readable title from the url's last path segment (or its host), for pages without one."""
    parts = urlsplit(url)
    segment = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1])
    segment = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", segment)
    words = re.sub(r"[-_+]+", " ", segment).strip()
    return words[:1].upper() + words[1:] if words else parts.hostname or url


def decode(body: bytes, charset: str | None) -> str:
    """The page's text: the charset the server named, else the page's own <meta charset>, else UTF-8."""
    for name in (charset, _meta_charset(body), "utf-8"):
        if not name:
            continue
        try:
            return body.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace")


_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii") if match else None
