"""YAML front matter of a Markdown article, read with bounds: a few kilobytes, no anchors or aliases.

A 334-byte "billion laughs" (nested aliases) took the bot from 258 MB to 3.2 GB in 10 seconds with
``yaml.safe_load``. Here an alias or anchor is refused as the parser reaches it, nesting is capped,
and the block itself has a byte limit, so what is built is never much larger than what was read.
"""

from __future__ import annotations

import yaml
from yaml.nodes import Node

from index.errors import ArticleError

MAX_FRONT_MATTER_BYTES = 16 * 1024  # title, url, date and author need a few hundred bytes
MAX_DEPTH = 16

_FIRST_LINE = 2  # the block starts on the file's second line (after the opening ---)


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases and caps how deeply blocks nest."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        event = self.peek_event()
        line = event.start_mark.line + _FIRST_LINE if event.start_mark else "?"
        if isinstance(event, yaml.AliasEvent):
            raise ArticleError(
                f"front matter uses an alias (*{event.anchor}) on line {line}; "
                "anchors and aliases are not allowed"
            )
        if getattr(event, "anchor", None) is not None:
            raise ArticleError(
                f"front matter defines an anchor (&{event.anchor}) on line {line}; "
                "anchors and aliases are not allowed"
            )
        if self._depth >= MAX_DEPTH:
            raise ArticleError(f"front matter nests deeper than {MAX_DEPTH} levels on line {line}")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_front_matter(block: str) -> object:
    """The YAML value of a front matter block (between the two ``---`` lines).

    Raises ArticleError (one line) for a block over the byte limit, an anchor or alias, or nesting
    deeper than MAX_DEPTH; invalid YAML raises yaml.YAMLError as ``yaml.safe_load`` does.
    """
    size = len(block.encode("utf-8", "surrogatepass"))
    if size > MAX_FRONT_MATTER_BYTES:
        raise ArticleError(
            f"front matter is {size:,} bytes, over the {MAX_FRONT_MATTER_BYTES:,}-byte limit"
        )
    loader = _BoundedLoader(block)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
