"""Asking a question, the same way for mentions, `/ask` and the context menu.

Limits (length, per-user cooldown) are checked here, the engine runs in a worker thread, and every
question is recorded for `/stats` and the feedback buttons.
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from bot.protocols import Answers
from bot.render import shown_quotes
from bot.stats import StatsStore
from bot.workers import Workers
from index.ops import metrics
from index.process.log_setup import log_fields
from index.types import Answer, ArticleSpan

log = logging.getLogger(__name__)

_MENTION = re.compile(r"<@!?(\d+)>")


@dataclass(frozen=True)
class Refusal:
    """A polite reason not to answer (shown to the user instead of silence)."""

    text: str


@dataclass(frozen=True)
class Asked:
    answer: Answer
    question_id: int
    latency_ms: float
    surface: str = "unknown"
    started: float = 0.0  # time.perf_counter() when the question arrived

    @property
    def shown(self) -> tuple[ArticleSpan, ...]:
        """The quotes the reply shows, as recorded (what per-quote feedback refers to)."""
        return shown_quotes(self.answer)

    def replied(self) -> None:
        """The answer is on Discord: observe the question-to-reply latency."""
        metrics.replied(self.surface, time.perf_counter() - self.started)


class Cooldown:
    """At most ``rate`` questions per ``per`` seconds per user (sliding window); keyed by (server,
    user) in the bot, so each server's cooldowns are its own."""

    def __init__(self, rate: int, per: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.per, self._clock = rate, per, clock
        self._hits: dict[Hashable, deque[float]] = {}

    def retry_after(self, user_id: Hashable) -> float:
        """0 if the user may ask now (and count it), else the seconds to wait."""
        if self.per <= 0:
            return 0.0
        now = self._clock()
        hits = self._hits.setdefault(user_id, deque())
        while hits and hits[0] <= now - self.per:
            hits.popleft()
        if len(hits) >= self.rate:
            return hits[0] + self.per - now
        hits.append(now)
        if len(self._hits) > 10_000:  # forget idle users so the map stays small
            self._hits = {u: h for u, h in self._hits.items() if h}
        return 0.0


class Memory:
    """Which question a bot message or thread answered, so follow-ups get it as context."""

    def __init__(self, size: int = 5000) -> None:
        self._size = size
        self._items: OrderedDict[int, str] = OrderedDict()

    def remember(self, key: int, question: str) -> None:
        self._items[key] = question
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def recall(self, key: int | None) -> str | None:
        return None if key is None else self._items.get(key)


def clean_question(content: str, bot_id: int | None) -> str:
    """The question in a message: the bot's own mention removed, other mentions kept as text."""
    if bot_id is not None:
        content = _MENTION.sub(lambda m: "" if int(m.group(1)) == bot_id else m.group(0), content)
    return " ".join(content.split())


def forum_question(title: str, body: str) -> tuple[str, str | None]:
    """A forum post's question and context: the body asks, read in the context of the title;
    or the title asks, when the body is empty, only repeats it, or asks nothing (no "?") while
    the title does (the body is then the context)."""
    title, body = " ".join(title.split()), " ".join(body.split())
    if not body:
        return title, None
    if not title or title.casefold() in body.casefold():
        return body, None
    if title.endswith("?") and "?" not in body:
        return title, join_context(body)
    return body, join_context(title)


def join_context(*parts: str | None) -> str | None:
    """Earlier questions of a conversation, oldest first, kept short."""
    text = " ".join(p for p in parts if p)
    return text[-1000:] or None


class AskService:
    def __init__(
        self,
        engine: Callable[[int | None], Answers],
        workers: Workers,
        store: StatsStore,
        *,
        max_chars: int,
        cooldown: Cooldown,
    ) -> None:
        self._engine, self._workers, self._store = engine, workers, store
        self.max_chars, self.cooldown = max_chars, cooldown

    def check(
        self, user_id: int, question: str, guild_id: int | None = None, surface: str = "unknown"
    ) -> Refusal | None:
        """Refuse empty or over-long questions and users over their cooldown (counted by
        ``surface``: mention, channel, follow-up, slash, menu)."""
        if not question.strip():
            metrics.question("refused", surface)
            return Refusal("Ask me a question about the articles, e.g. *What is …?*")
        if len(question) > self.max_chars:
            metrics.question("refused", surface)
            return Refusal(
                f"That question is {len(question):,} characters long; the limit is "
                f"{self.max_chars:,}. Please shorten it."
            )
        wait = self.cooldown.retry_after((guild_id, user_id))
        if wait > 0:
            metrics.cooldown_drop(surface)
            return Refusal(f"You're asking quickly: please try again in {wait:.0f} s.")
        return None

    async def ask(
        self, question: str, *, user_id: int, guild_id: int | None, context: str | None = None
    ) -> Asked | Refusal:
        """`check`, then `answer` (the cogs call the two themselves, with the surface)."""
        refusal = self.check(user_id, question, guild_id)
        if refusal is not None:
            return refusal
        return await self.answer(question, user_id=user_id, guild_id=guild_id, context=context)

    async def answer(
        self,
        question: str,
        *,
        user_id: int,
        guild_id: int | None,
        context: str | None = None,
        surface: str = "unknown",
    ) -> Asked:
        """Ask the engine without the checks (the caller ran `check` first) and record it."""
        with log_fields(guild=guild_id):
            return await self._answer(question, user_id, guild_id, context, surface)

    async def _answer(
        self, question: str, user_id: int, guild_id: int | None, context: str | None, surface: str
    ) -> Asked:
        started = time.perf_counter()
        try:
            answer = await self._workers.query(
                self._engine(guild_id).ask, question, context=context
            )
        except Exception:
            metrics.question("error", surface)
            raise
        metrics.question("answered" if answer.answered else "declined", surface)
        latency_ms = (time.perf_counter() - started) * 1000
        question_id = await self._workers.io(
            self._store.record_question,
            answer,
            user_id=user_id,
            guild_id=guild_id,
            latency_ms=latency_ms,
            context=context,
            shown=shown_quotes(answer),
        )
        log.info(
            "question %d answered=%s confidence=%.2f in %.0f ms",
            question_id,
            answer.answered,
            answer.confidence,
            latency_ms,
            extra={"question_id": question_id, "guild": guild_id, "generation": answer.generation},
        )
        return Asked(answer, question_id, latency_ms, surface, started)
