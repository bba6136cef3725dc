"""Every Prometheus metric Articlebot exports, in one place (docs/OPERATIONS.md lists them).

The code that does the work calls the small functions here (a counter moved, a duration observed);
state that is cheaper to read than to track (the index generation, gateway latency) is read when
Prometheus scrapes, by ``StateCollector``. All metrics live in prometheus_client's default registry,
beside its process collector (resident memory, CPU, open files) and the Python GC collector.
"""

from __future__ import annotations

import calendar
import contextlib
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

OUTCOMES = ("answered", "declined", "refused", "error")
# Seconds: a question takes ~40 ms on 2 cores; a queue behind a build or a burst can take seconds.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
BUILD_BUCKETS = (0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)

QUESTIONS = Counter(
    "articlebot_questions",
    "Questions by outcome (answered, declined, refused, error) and surface",
    ["outcome", "surface"],
)
COOLDOWN_DROPS = Counter(
    "articlebot_cooldown_drops",
    "Questions refused because the user was over BOT_COOLDOWN_QUESTIONS",
    ["surface"],
)
QUESTION_SECONDS = Histogram(
    "articlebot_question_seconds",
    "From a question's arrival to its answer sent on Discord",
    ["surface"],
    buckets=LATENCY_BUCKETS,
)
STAGE_SECONDS = Histogram(
    "articlebot_engine_stage_seconds",
    "The engine's stages of one question: embed, retrieve, score, choose (the reader or scorer)",
    ["stage"],
    buckets=STAGE_BUCKETS,
)
READER_SECONDS = Histogram(
    "articlebot_reader_seconds",
    "The reader model's time on one question (READER=on)",
    buckets=STAGE_BUCKETS,
)
BUILD_SECONDS = Histogram(
    "articlebot_build_seconds", "Index builds (reindex, add, feed polls)", buckets=BUILD_BUCKETS
)
BUILD_FAILURES = Counter("articlebot_build_failures", "Index builds that raised an error")
FEED_POLL_SECONDS = Histogram(
    "articlebot_feed_poll_seconds",
    "One library's feed poll, its build included",
    buckets=BUILD_BUCKETS,
)
FEED_POLL_FAILURES = Counter(
    "articlebot_feed_poll_failures", "Feeds whose poll failed, and polls that raised an error"
)


def question(outcome: str, surface: str) -> None:
    QUESTIONS.labels(outcome, surface).inc()


def cooldown_drop(surface: str) -> None:
    COOLDOWN_DROPS.labels(surface).inc()
    question("refused", surface)


def replied(surface: str, seconds: float) -> None:
    QUESTION_SECONDS.labels(surface).observe(seconds)


def stages(seconds: Mapping[str, float], *, reader: bool) -> None:
    """One question's stages (Engine.prepare and finish time them)."""
    for stage, value in seconds.items():
        STAGE_SECONDS.labels(stage).observe(value)
    if reader and "choose" in seconds:
        READER_SECONDS.observe(seconds["choose"])


@contextlib.contextmanager
def timed(histogram: Histogram, failures: Counter) -> Iterator[None]:
    """Observe the block's duration; count it as a failure if it raises."""
    started = time.perf_counter()
    try:
        yield
    except BaseException:
        failures.inc()
        raise
    finally:
        histogram.observe(time.perf_counter() - started)


def build_timer() -> contextlib.AbstractContextManager[None]:
    return timed(BUILD_SECONDS, BUILD_FAILURES)


def feed_poll_timer() -> contextlib.AbstractContextManager[None]:
    return timed(FEED_POLL_SECONDS, FEED_POLL_FAILURES)


def feeds_failed(count: int) -> None:
    """Feeds of a poll that could not be fetched or read."""
    FEED_POLL_FAILURES.inc(count)


@dataclass(frozen=True)
class Generation:
    """One library's serving index generation, as a scrape reports it."""

    library: str  # "operator" (the server libraries are counted, not listed)
    name: str
    built_at: str  # ISO 8601 UTC, as the manifest stores it
    articles: int
    chunks: int


@dataclass(frozen=True)
class State:
    """What a scrape reads from the running bot."""

    generations: tuple[Generation, ...] = ()
    gateway_latency: Mapping[int, float] = field(default_factory=dict)  # shard id -> seconds
    open_libraries: int = 0


class StateCollector(Collector):
    """Reads the bot's state at each scrape (from the HTTP thread: plain reads, no locks)."""

    def __init__(self, read: Callable[[], State]) -> None:
        self._read = read

    def describe(self) -> list[GaugeMetricFamily]:
        """Nothing up front: registering then does not read a bot still starting."""
        return []

    def collect(self) -> Iterable[GaugeMetricFamily | InfoMetricFamily]:
        state = self._read()
        info = InfoMetricFamily(
            "articlebot_index_generation", "The serving index generation", labels=["library"]
        )
        age = GaugeMetricFamily(
            "articlebot_index_age_seconds",
            "Since the serving generation was built",
            labels=["library"],
        )
        articles = GaugeMetricFamily(
            "articlebot_index_articles", "Articles in the serving generation", labels=["library"]
        )
        chunks = GaugeMetricFamily(
            "articlebot_index_chunks", "Chunks in the serving generation", labels=["library"]
        )
        for gen in state.generations:
            info.add_metric([gen.library], {"generation": gen.name})
            built = _epoch(gen.built_at)
            if built is not None:
                age.add_metric([gen.library], max(0.0, time.time() - built))
            articles.add_metric([gen.library], gen.articles)
            chunks.add_metric([gen.library], gen.chunks)
        latency = GaugeMetricFamily(
            "articlebot_gateway_latency_seconds",
            "Discord gateway heartbeat latency per shard",
            labels=["shard"],
        )
        for shard, seconds in sorted(state.gateway_latency.items()):
            if math.isfinite(seconds):
                latency.add_metric([str(shard)], seconds)
        libraries = GaugeMetricFamily(
            "articlebot_server_libraries_open", "Server libraries open now"
        )
        libraries.add_metric([], state.open_libraries)
        yield from (info, age, articles, chunks, latency, libraries)


def _epoch(iso: str) -> float | None:
    try:
        return float(calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        return None


def watch(read: Callable[[], State]) -> Callable[[], None]:
    """Register a collector of the bot's state; returns the function that unregisters it."""
    collector = StateCollector(read)
    REGISTRY.register(collector)

    def unwatch() -> None:
        with contextlib.suppress(KeyError):  # already unregistered
            REGISTRY.unregister(collector)

    return unwatch
