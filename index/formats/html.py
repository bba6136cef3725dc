"""Main text, title and canonical url of an HTML page (selectolax)."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from index.corpus import ArticleError, Parsed

_DROP = "script, style, noscript, nav, header, footer, aside, form, iframe, svg, template"
_BLOCKS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "th",
    "dt", "dd", "figcaption", "caption",
}  # fmt: skip


def parse_html(html: str) -> Parsed:
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
    paragraphs = [p for p in (_clean(_text(n)) for n in _blocks(root)) if p]
    if not paragraphs:
        paragraphs = [p for p in (_clean(s) for s in root.text(separator="\n").split("\n")) if p]
    h1 = _text(root.css_first("h1"))
    return Parsed(text="\n\n".join(paragraphs), title=(title or h1 or None), url=url)


def _blocks(root: Node) -> list[Node]:
    """Innermost block elements in document order (a <li> holding a <p> yields the <p>)."""
    found = []
    for node in root.traverse(include_text=False):
        if node.tag in _BLOCKS and not any(
            c.tag in _BLOCKS for c in node.traverse() if c is not node
        ):
            found.append(node)
    return found


def _text(node: Node | None) -> str:
    return node.text(separator=" ") if node is not None else ""


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _first_attr(tree: HTMLParser, selector: str, attr: str) -> str | None:
    node = tree.css_first(selector)
    value = node.attributes.get(attr) if node is not None else None
    return value.strip() if value else None
