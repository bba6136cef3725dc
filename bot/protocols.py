"""The engine seam: what the bot calls on `index.engine.Engine` (tests pass a fake with the same shape)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from index.config import Settings
from index.library.servers import ServesLibrary
from index.types import Answer, ArticleInfo
from index.web.feedstore import Feed


class Answers(Protocol):
    """What answering reads: one server's view of its libraries (index.library.scoped)."""

    def ask(self, question: str, *, k: int = 5, context: str | None = None) -> Answer: ...


class EngineLike(ServesLibrary, Protocol):
    """The operator's engine: a library (read and rebuilt) that also follows builds published by
    other processes and opens server libraries beside it."""

    def refresh(self) -> bool: ...

    def rebuild_if_stale(self) -> object:
        """Rebuild in the background an index built with another model than EMBED_MODEL (it
        serves, read with its own model, meanwhile)."""
        ...

    def sibling(self, settings: Settings) -> EngineLike:
        """An engine on another library's folders sharing this one's models (a server's library)."""
        ...


@runtime_checkable
class ListsArticles(Protocol):
    """A cog that keeps the article list (the lookup cog): other cogs ask it, never import it."""

    async def articles(self, guild_id: int | None) -> list[ArticleInfo]: ...


@runtime_checkable
class ListsFeeds(Protocol):
    """A cog that knows the feeds followed (the feeds cog)."""

    async def feeds(self, guild_id: int | None) -> list[Feed]: ...


@runtime_checkable
class KeepsServerData(Protocol):
    """A cog holding a server's data open (the feeds cog): told before the data is deleted."""

    def forget(self, guild_id: int) -> None: ...
