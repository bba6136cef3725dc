"""Pathologically nested HTML: a linear estimate of the nesting depth, and a linear reader for pages
too deep for an HTML5 tree builder.

An HTML5 parser checks the stack of open elements at every block tag ("is a <p> open in button
scope?"), so a page of 200,000 unclosed ``<div>`` costs depth x tags: 1 MB of them kept lexbor busy
for minutes. Pages nested deeper than MAX_HTML_DEPTH are read here instead, by one pass over the tags.
"""

from __future__ import annotations

import html as html_lib
import re

LXML_MAX_DEPTH = 255  # lxml (under trafilatura) builds no deeper than 256 levels, silently
MAX_HTML_DEPTH = 1000  # lxml refuses beyond 256 by default; real pages stay well under 100

# A tag: "<", optional "/", a name, then anything but another "<" (possessive: never rescanned).
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*+)[^<>]*+(>?)")
_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "keygen",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
# Elements a sibling closes implicitly (<p>a<p>b): they do not deepen the tree.
_IMPLIED_END = frozenset(
    [
        "p",
        "li",
        "dt",
        "dd",
        "tr",
        "td",
        "th",
        "option",
        "optgroup",
        "thead",
        "tbody",
        "tfoot",
        "colgroup",
        "caption",
        "rb",
        "rt",
        "rp",
    ]
)
_RAW_TEXT = ("script", "style", "template", "textarea", "title", "noscript")


def nesting_depth(html: str) -> int:
    """The deepest nesting of elements that need an end tag (an estimate, linear in the page)."""
    depth = deepest = 0
    for tag in _TAG.finditer(html):
        name = tag.group(2).lower()
        if name in _VOID or name in _IMPLIED_END:
            continue
        if tag.group(1):
            depth = max(0, depth - 1)
        elif not tag.group(0).endswith("/>"):
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def flat_paragraphs(html: str, blocks: frozenset[str]) -> list[str]:
    """The page's text in document order, a new paragraph at each block tag; script, style and
    similar raw-text elements dropped. One pass: every character is looked at a bounded number of
    times."""
    lower = html.lower()
    paragraphs: list[str] = []
    current: list[str] = []
    pos = 0
    for tag in _TAG.finditer(html):
        if tag.start() < pos:  # inside a raw-text element skipped below
            continue
        current.append(html[pos : tag.start()])
        pos = tag.end()
        name = tag.group(2).lower()
        if name in _RAW_TEXT and not tag.group(1):
            end = lower.find(f"</{name}", pos)
            pos = len(html) if end < 0 else end
        elif name in blocks:
            _flush(paragraphs, current)
    current.append(html[pos:])
    _flush(paragraphs, current)
    return paragraphs


def _flush(paragraphs: list[str], current: list[str]) -> None:
    text = " ".join(html_lib.unescape("".join(current)).split())
    if text:
        paragraphs.append(text)
    current.clear()
