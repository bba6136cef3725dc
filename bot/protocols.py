"""The engine seam: what the bot calls on `index.engine.Engine` (tests pass a fake with the same shape)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

from index.types import Answer, ArticleInfo, BuildReport, IndexInfo, Passage
from index.web.feedstore import Feed

Progress = Callable[[str, int, int], None]


class EngineLike(Protocol):
    @property
    def generation(self) -> str: ...

    @property
    def corpus_dir(self) -> Path: ...

    def ask(self, question: str, *, k: int = 5, context: str | None = None) -> Answer: ...

    def search(self, query: str, *, k: int = 10) -> list[Passage]: ...

    def info(self) -> IndexInfo: ...

    def articles(self) -> list[ArticleInfo]: ...

    def article(self, slug: str) -> tuple[ArticleInfo, str] | None: ...

    def reindex(self, *, full: bool = False, progress: Progress | None = None) -> BuildReport: ...

    def refresh(self) -> bool: ...


@runtime_checkable
class ListsArticles(Protocol):
    """A cog that keeps the article list (the lookup cog): other cogs ask it, never import it."""

    async def articles(self) -> list[ArticleInfo]: ...


@runtime_checkable
class ListsFeeds(Protocol):
    """A cog that knows the feeds followed (the feeds cog)."""

    async def feeds(self) -> list[Feed]: ...
