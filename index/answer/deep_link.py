"""A link to the quoted words themselves (issue 20): a text fragment for web pages, a page for PDFs.

A browser that opens ``https://example.org/story#:~:text=start,end`` scrolls to the first passage
that begins with the words ``start`` and ends with ``end`` and highlights it (the WICG text
fragments spec, in Chromium-based browsers and Safari; others open the page at the top). The words
are percent-encoded, "-", "," and "&" included, as the spec requires. When the starting words also
appear earlier in the article, the words before the quote go in front as a prefix (``prefix-,``),
so the first match is the quote; when the end words also appear earlier inside the quote, more of
its last words are taken, so the match does not stop short. tests/browser/ opens such links in
headless Chromium and reads what it highlights. A PDF with a web address gets ``#page=N`` of the quoted page.
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
    """The ``text=`` directive's value for ``text[start:end]``; None for a span without words.

    A browser highlights from the first place the start words occur (after the prefix, if any) to
    the first place the end words occur after them. So the prefix grows until prefix and start
    words occur nowhere earlier, and the end words grow until they occur nowhere earlier inside
    the quote (a quote ending "... opens at 7 a.m." after "opens at 7 a.m., ..." needs more).
    """
    quoted = list(_WORD.finditer(text, start, end))
    if not quoted:
        return None
    words = [m.group() for m in quoted]
    first, last = words, []
    if len(words) > WHOLE_QUOTE_WORDS:
        after_first = quoted[EDGE_WORDS - 1].end()
        for n in range(EDGE_WORDS, len(words) - EDGE_WORDS + 1):
            if _first_match(text, words[-n:], after_first, end) == quoted[-n].start():
                first, last = words[:EDGE_WORDS], words[-n:]
                break
    parts = [_encode(" ".join(first))] + ([_encode(" ".join(last))] if last else [])
    if _first_match(text, first, 0, start) >= 0:
        before = list(_WORD.finditer(text, max(0, start - 400), start))
        first_end = quoted[len(first) - 1].end()
        for n in range(min(PREFIX_WORDS, len(before)), len(before) + 1):
            prefix = before[len(before) - n :]
            if prefix and (
                n == len(before)  # as many words as there are: the best there is
                or _first_match(text, _words(prefix) + first, 0, first_end) == prefix[0].start()
            ):
                parts.insert(0, _encode(" ".join(_words(prefix))) + "-")
                break
    return ",".join(parts)


def _words(matches: list[re.Match[str]]) -> list[str]:
    return [m.group() for m in matches]


def _first_match(text: str, words: list[str], lo: int, hi: int) -> int:
    """Where ``words`` (white space between them collapsed, any case) first occur in
    ``text[lo:hi]``, as an offset into ``text``; -1 if they do not."""
    pattern = r"\s+".join(re.escape(w) for w in words)
    found = re.compile(pattern, re.IGNORECASE).search(text, lo, hi)
    return found.start() if found else -1


def _encode(words: str) -> str:
    return percent(words, safe="").replace("-", "%2D")
