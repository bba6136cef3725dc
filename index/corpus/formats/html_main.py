"""The main text and metadata of an HTML page, by trafilatura (local .html files and fetched pages).

trafilatura was measured against the selectolax reader on the project's own test pages
(scripts/compare_html_extractors.py, docs/WEB.md): it keeps the same article sentences and drops the
navigation, ads, comments and footers selectolax lets through, and it finds author and date. Pages it
cannot read (e.g. nested deeper than lxml allows) fall back to the selectolax reader (html.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from index.corpus.formats.html_flat import LXML_MAX_DEPTH, nesting_depth

log = logging.getLogger(__name__)

# trafilatura's XML elements that hold a paragraph of their own; the rest (hi, code, ref) flow inside.
_BLOCKS = frozenset({"p", "head", "list", "item", "quote", "table", "row", "cell", "div", "body"})


@dataclass(frozen=True)
class Extracted:
    text: str  # paragraphs separated by blank lines
    title: str | None = None
    author: str | None = None
    date: str | None = None  # YYYY-MM-DD
    url: str | None = None  # the canonical url the page names, if any


def extract_html(html: str, url: str | None = None) -> Extracted | None:
    """trafilatura's main text and metadata, or None when it finds no main text or cannot read the
    whole page (nested deeper than lxml builds: its text would be cut without a word)."""
    import trafilatura  # imported on use: it loads lxml, dateparser and their data

    if nesting_depth(html) > LXML_MAX_DEPTH:
        return None

    try:
        doc: Any = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            favor_precision=True,
            # Only dates the page states; no guessing from copyright lines and the like.
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception:  # a parser failure on one page must not stop the rest
        log.warning("trafilatura could not read the page %s", url or "", exc_info=True)
        return None
    if doc is None or not (doc.text or "").strip():
        return None
    body = getattr(doc, "body", None)
    text = body_paragraphs(body) if body is not None else "\n\n".join(doc.text.splitlines())
    if not text.strip():
        return None
    return Extracted(
        text=text,
        title=_clean(doc.title),
        author=_clean(doc.author),
        date=_clean(doc.date),
        url=_clean(getattr(doc, "url", None)),
    )


def body_paragraphs(body: Any) -> str:
    """The paragraphs of trafilatura's XML body, separated by blank lines, whitespace collapsed.

    Structure decides the paragraphs, never the line breaks inside the page's source.
    """
    from lxml import etree

    out: list[str] = []
    current: list[str] = []

    def flush() -> None:
        text = " ".join("".join(current).split())
        if text:
            out.append(text)
        current.clear()

    for event, element in etree.iterwalk(body, events=("start", "end")):
        block = element.tag in _BLOCKS
        if event == "start":
            if block:
                flush()
            current.append(" " if element.tag == "lb" else element.text or "")
        else:
            if block:
                flush()
            current.append(element.tail or "")
    flush()
    return "\n\n".join(out)


def _clean(value: object) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None
