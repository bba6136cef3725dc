"""A link to the quoted words themselves (issue 20): a text fragment for web pages, a page for PDFs.

A browser that opens ``https://example.org/story#:~:text=start,end`` scrolls to the first passage
that begins with the words ``start`` and ends with ``end`` and highlights it (the WICG text
fragments spec, in Chromium-based browsers and Safari; others open the page at the top). The words
are percent-encoded, "-", "," and "&" included, as the spec requires. When the starting words also
appear earlier in the article, the words before the quote go in front as a prefix (``prefix-,``),
so the first match is the quote. A PDF with a web address gets ``#page=N`` of the quoted page.
"""

from __future__ import annotations

import re
from urllib.parse import quote as percent
from urllib.parse import urlsplit

WHOLE_QUOTE_WORDS = 8  # a quote this short goes whole; a longer one as its first and last words
EDGE_WORDS = 4
PREFIX_WORDS = 3
_WORD = re.compile(r"\S+")


def quote_link(
    url: str | None, text: str, start: int, end: int, page: int | None = None
) -> str | None:
    """The article's ``url`` pointed at ``text[start:end]``, or None without an http(s) url."""
    if not url or urlsplit(url).scheme.lower() not in ("http", "https"):
        return None
    base = url.split("#", 1)[0]
    if page is not None:
        return f"{base}#page={page}"
    fragment = text_fragment(text, start, end)
    return f"{base}#:~:text={fragment}" if fragment else url


def text_fragment(text: str, start: int, end: int) -> str | None:
    """The ``text=`` directive's value for ``text[start:end]``; None for a span without words."""
    words = _WORD.findall(text[start:end])
    if not words:
        return None
    if len(words) <= WHOLE_QUOTE_WORDS:
        first, last = " ".join(words), None
    else:
        first, last = " ".join(words[:EDGE_WORDS]), " ".join(words[-EDGE_WORDS:])
    parts = [_encode(first)] + ([_encode(last)] if last else [])
    if _found_before(text, first, start):
        before = _WORD.findall(text[max(0, start - 200) : start])[-PREFIX_WORDS:]
        if before:
            parts.insert(0, _encode(" ".join(before)) + "-")
    return ",".join(parts)


def _found_before(text: str, words: str, start: int) -> bool:
    """Whether ``words`` (white space collapsed, any case) occur in ``text`` before ``start``."""
    pattern = r"\s+".join(re.escape(w) for w in words.split())
    return re.search(pattern, text[:start], re.IGNORECASE) is not None


def _encode(words: str) -> str:
    return percent(words, safe="").replace("-", "%2D")
