"""Main text and metadata of an HTML page: trafilatura first, this selectolax reader as the fallback.

Why trafilatura: measured on the project's test pages (docs/WEB.md), it drops the navigation, ads
and comments this reader lets through and finds author and date; this reader still serves the pages
trafilatura cannot read (nesting deeper than lxml allows, or no main text found).
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from index.corpus.formats.html_flat import MAX_HTML_DEPTH, flat_paragraphs, nesting_depth
from index.errors import ArticleError
from index.types import Parsed

_DROP = "script, style, noscript, nav, header, footer, aside, form, iframe, svg, template"
# Elements that start a new paragraph; everything else (a, b, span, ...) flows inside one.
_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
        "br",
    ]
)


def parse_html(html: str) -> Parsed:
    from index.corpus.formats.html_main import extract_html

    page = extract_html(html)  # None too when the page is nested deeper than lxml builds
    if page is None:
        return parse_html_selectolax(html)
    return Parsed(
        text=page.text, title=page.title, url=page.url, date=page.date, author=page.author
    )


def parse_html_selectolax(html: str) -> Parsed:
    if nesting_depth(html) > MAX_HTML_DEPTH:  # too deep for a tree builder in linear time
        return Parsed(text="\n\n".join(flat_paragraphs(html, _BLOCKS)))
    tree = HTMLParser(html)
    title = _first_attr(tree, 'meta[property="og:title"]', "content") or _text(
        tree.css_first("title")
    )
    url = _first_attr(tree, 'link[rel="canonical"]', "href") or _first_attr(
        tree, 'meta[property="og:url"]', "content"
    )
    for node in tree.css(_DROP):
        node.decompose()
    root = tree.css_first("article") or tree.css_first("main") or tree.body
    if root is None:
        raise ArticleError("HTML page has no body")
    paragraphs: list[str] = []
    current: list[str] = []
    _walk(root, paragraphs, current)
    _flush(paragraphs, current)
    h1 = _text(root.css_first("h1"))
    return Parsed(text="\n\n".join(paragraphs), title=(title or h1 or None), url=url)


def _walk(root: Node, paragraphs: list[str], current: list[str]) -> None:
    """Text in document order; block elements close the paragraph being gathered (none is lost).

    Iterative, so a deeply nested page cannot exhaust Python's recursion limit.
    """
    stack: list[Node | None] = list(reversed(list(root.iter(include_text=True))))
    while stack:
        node = stack.pop()
        if node is None:  # the end of a block element
            _flush(paragraphs, current)
        elif node.tag == "-text":
            current.append(node.text(deep=False) or "")
        else:
            if node.tag in _BLOCKS:
                _flush(paragraphs, current)
                stack.append(None)
            stack.extend(reversed(list(node.iter(include_text=True))))


def _flush(paragraphs: list[str], current: list[str]) -> None:
    text = _clean("".join(current))
    if text:
        paragraphs.append(text)
    current.clear()


def _text(node: Node | None) -> str:
    return node.text(separator=" ") if node is not None else ""


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _first_attr(tree: HTMLParser, selector: str, attr: str) -> str | None:
    node = tree.css_first(selector)
    value = node.attributes.get(attr) if node is not None else None
    return value.strip() if value else None
