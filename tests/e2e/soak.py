"""A soak run: users asking through the real discord.py client against the loopback Discord.

Questions arrive at a fixed rate (open loop: a slow bot makes them queue, it does not slow the users
down) from ``users`` members; a third of the way in an admin drops an article into the corpus and
runs `/reindex`, two thirds in another uploads one with `/add-article`. Measured: what each question
got back (an answer, an abstention, an error or nothing), the time from the question reaching the
bot to its reply reaching Discord, the gaps between gateway heartbeats, how late the event loop
woke a sleeper, and the process's resident memory after a warm-up and at the end.

The bot, its engine and the loopback Discord share one process and one event loop, as in the other
e2e tests; the loopback forgets each question and its reply once the reply has arrived, so the
memory it keeps does not grow with the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import os
import re
import statistics
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import discord
import yarl

from bot.client import ArticleBot
from bot.config import BotSettings
from index.config import Settings
from index.engine import Engine
from tests.e2e.conftest import FAST, TOKEN, running
from tests.e2e.loopback import LoopbackDiscord

Json = dict[str, Any]

# Questions about the shipped sample corpus (corpus/), some it does not answer, and one each about
# the two articles added during the run (abstained before, answered after).
QUESTIONS = (
    "Which new fields did India and Japan agree to cooperate in?",
    "Who co-chaired the Defence Policy Dialogue?",
    "What is the default minimum confidence before the bot abstains?",
    "How many generations of the index are kept on disk?",
    "How large an attachment does /add-article accept?",
    "How much memory did the process use with ONNX Runtime?",
    "For what share of questions is the passage with the answer ranked first?",
    "How many passages of one article can be shown for a question?",
    "How often does the bot check for a new index generation?",
    "On what share of SQuAD 2.0 unanswerable questions does the bot abstain?",
    "What is the best recipe for chocolate chip cookies?",
    "Who won the football world cup in 2018?",
    "What is a glacier?",
    "What does a lighthouse keeper do?",
)
DROPPED = (
    "glaciers.md",
    "# Glaciers\n\nA glacier is a persistent body of dense ice that is constantly moving under "
    "its own weight. Glaciers form where snow accumulates faster than it melts.\n",
)
UPLOADED = (
    "lighthouses.md",
    "# Lighthouses\n\nA lighthouse is a tower that emits light to guide ships at sea. The "
    "lighthouse keeper tended the lamp, wound the clockwork and kept the lens clean.\n",
)
_FOOTER = re.compile(r"^(Answered from|Searched) index generation (\S+)")


@dataclass(frozen=True)
class SoakPlan:
    seconds: float = 600.0
    per_minute: float = 500.0
    users: int = 50
    warmup_questions: int = 10
    drain_seconds: float = 120.0  # how long the last replies may take after the last question
    admin_timeout: float = 300.0  # for each of /reindex and /add-article to report
    heartbeat_ms: int = 250  # the loopback's gateway heartbeat interval

    @property
    def questions(self) -> int:
        return round(self.seconds * self.per_minute / 60)


@dataclass
class AdminStep:
    command: str
    at_s: float  # seconds into the run when it was sent
    took_s: float | None  # until its final message; None if it never came
    final: str


@dataclass
class SoakReport:
    plan: SoakPlan
    asked: int = 0
    answered: int = 0
    abstained: int = 0
    error_replies: int = 0  # "something went wrong"
    refused: int = 0  # a reply without an answer (e.g. a cooldown)
    missing: int = 0  # no reply by the end of the drain
    logged_errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the loopback referee's findings
    wall_s: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)
    heartbeat: dict[str, float] = field(default_factory=dict)
    heartbeat_warnings: int = 0
    loop_lag_max_ms: float = 0.0
    send_slip_max_ms: float = 0.0  # how late the harness sent a question against its schedule
    rss_mb: dict[str, float] = field(default_factory=dict)
    rss_timeline: list[tuple[float, float]] = field(default_factory=list)  # (s into the run, MB)
    generations: list[str] = field(default_factory=list)  # in the order replies named them
    admin: list[AdminStep] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return (
            self.error_replies
            + self.refused
            + self.missing
            + len(self.logged_errors)
            + len(self.problems)
            + sum(
                step.took_s is None or "Reindex finished" not in step.final for step in self.admin
            )
        )

    def as_json(self) -> Json:
        return asdict(self) | {"errors": self.errors}


class SoakLoopback(LoopbackDiscord):
    """The loopback Discord, noting when each question's reply arrives and then forgetting both."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # question id -> (when its reply arrived, what it was, the generation its footer names)
        self.replied: dict[str, tuple[float, str, str | None]] = {}

    def message_payload(self, channel: str, author: Json, content: str, **kwargs: Any) -> Json:
        message = super().message_payload(channel, author, content, **kwargs)
        reference = message.get("message_reference")
        if author.get("bot") and reference is not None:
            asked = reference["message_id"]
            self.replied.setdefault(asked, (time.monotonic(), *_outcome(message)))
            self.messages.pop(asked, None)
            self.messages.pop(message["id"], None)
        return message


class _Counter(logging.Handler):
    """Keeps warnings and errors logged while the soak runs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.errors: list[str] = []
        self.heartbeat_warnings = 0

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.name.startswith("discord.gateway") and (
            "heartbeat blocked" in text or "behind" in text
        ):
            self.heartbeat_warnings += 1
        if record.levelno >= logging.ERROR:
            self.errors.append(f"{record.name}: {text}"[:300])


@contextlib.contextmanager
def _pointed_at(server: LoopbackDiscord) -> Iterator[None]:
    """discord.py's REST base and gateway URL pointed at the loopback Discord, then restored."""
    route, ws = discord.http.Route, discord.gateway.DiscordWebSocket
    saved = route.BASE, ws.DEFAULT_GATEWAY
    route.BASE, ws.DEFAULT_GATEWAY = server.api_base, yarl.URL(server.gateway_url)
    try:
        yield
    finally:
        route.BASE, ws.DEFAULT_GATEWAY = saved


def rss_mb() -> float:
    """This process's resident memory in MB (Linux /proc; 0.0 where there is none)."""
    try:
        fields = Path("/proc/self/statm").read_text().split()
    except OSError:
        return 0.0
    return int(fields[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


async def run_soak(plan: SoakPlan, settings: Settings, engine: Engine, db_path: Path) -> SoakReport:
    """Run ``plan`` against a bot serving ``engine`` (its corpus gets the two new articles)."""
    server = SoakLoopback(token=TOKEN, heartbeat_ms=plan.heartbeat_ms)
    await server.start()
    counter = _Counter()
    logging.getLogger().addHandler(counter)
    bot_settings = BotSettings(
        token=TOKEN,
        dev_guild_id=int(server.guild_id),
        cooldown_questions=1_000_000,  # the soak measures answering, not the per-user limit
        db_path=db_path,
        operator_user_ids=frozenset({int(server.operator["id"])}),
        servers_dir=db_path.parent / "servers",
    )
    try:
        with _pointed_at(server):
            bot = ArticleBot(settings, bot_settings, engine_factory=lambda s: engine, **FAST)
            async with running(bot, server):
                report = await _Run(plan, server, settings).run()
    finally:
        logging.getLogger().removeHandler(counter)
        await server.close()
    report.logged_errors = counter.errors
    report.heartbeat_warnings = counter.heartbeat_warnings
    report.problems = list(server.problems)
    return report


class _Run:
    def __init__(self, plan: SoakPlan, server: SoakLoopback, settings: Settings) -> None:
        self.plan, self.server, self.settings = plan, server, settings
        self.report = SoakReport(plan)
        self.sent: dict[str, float] = {}
        self.users = [server.user(f"user{i}") for i in range(plan.users)]
        self.rss_peak = 0.0
        self.lags: list[float] = []

    async def run(self) -> SoakReport:
        plan, server = self.plan, self.server
        for i in range(plan.warmup_questions):  # load what the first questions load, then measure
            asked = await server.say(QUESTIONS[i % len(QUESTIONS)], mention_bot=True)
            await server.until(lambda a=asked: a["id"] in server.replied, 120, "a warm-up reply")
        server.replied.clear()
        gc.collect()
        self.report.rss_mb["start"] = rss_mb()
        started = time.monotonic()
        watchers = [
            asyncio.create_task(self._sample_memory(started)),
            asyncio.create_task(self._probe_loop()),
        ]
        admin = asyncio.create_task(self._admin(started))
        await self._ask_all(started)
        deadline = time.monotonic() + plan.drain_seconds
        while len(server.replied) < len(self.sent) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        self.report.wall_s = time.monotonic() - started
        await admin
        for task in watchers:
            task.cancel()
        gc.collect()
        self.report.rss_mb |= {"end": rss_mb(), "peak": max(self.rss_peak, rss_mb())}
        self.report.rss_mb["growth"] = self.report.rss_mb["end"] - self.report.rss_mb["start"]
        self._tally(started)
        return self.report

    async def _ask_all(self, started: float) -> None:
        interval = 60.0 / self.plan.per_minute
        slip = 0.0
        for i in range(self.plan.questions):
            due = started + i * interval
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            slip = max(slip, time.monotonic() - due)
            author = self.users[i % len(self.users)]
            sent_at = time.monotonic()
            asked = await self.server.say(
                QUESTIONS[i % len(QUESTIONS)], author=author, mention_bot=True
            )
            self.sent[asked["id"]] = sent_at
        self.report.send_slip_max_ms = slip * 1000

    async def _admin(self, started: float) -> None:
        """`/reindex` after dropping an article in, then `/add-article` of another."""
        await asyncio.sleep(max(0.0, started + self.plan.seconds / 3 - time.monotonic()))
        name, text = DROPPED
        await asyncio.to_thread((self.settings.corpus_dir / name).write_text, text, "utf-8")
        reindex = self.server.slash(
            "reindex", {"library": "operator"}, admin=True, user=self.server.operator
        )
        await self._admin_step("reindex", started, reindex)
        await asyncio.sleep(max(0.0, started + self.plan.seconds * 2 / 3 - time.monotonic()))
        name, text = UPLOADED
        upload = self.server.attach_and_run(
            "add-article",
            name,
            text.encode(),
            user=self.server.operator,
            extra={"library": "operator"},  # the shared library, as the /reindex before it
        )
        await self._admin_step("add-article", started, upload)

    async def _admin_step(self, command: str, started: float, sending: Any) -> None:
        at = time.monotonic()
        log = await sending

        def final() -> str | None:
            texts = [(m.get("content") or "") for m in [*log.edits, *log.followups]]
            done = [t for t in texts if t and "Reindexing" not in t]
            return done[-1] if done else None

        with contextlib.suppress(AssertionError):
            await self.server.until(final, self.plan.admin_timeout, command)
        text = final()
        took = time.monotonic() - at if text is not None else None
        self.report.admin.append(AdminStep(command, at - started, took, text or "(no reply)"))

    async def _sample_memory(self, started: float) -> None:
        """RSS every second (the peak), kept every tenth of the run (to tell a leak from a plateau)."""
        every = max(1.0, self.plan.seconds / 10)
        kept = 0.0
        while True:
            now, rss = time.monotonic() - started, rss_mb()
            self.rss_peak = max(self.rss_peak, rss)
            if now >= kept:
                self.report.rss_timeline.append((round(now, 1), round(rss, 1)))
                kept += every
            self.server.requests.clear()  # the loopback's log of REST calls: not the bot's memory
            await asyncio.sleep(1.0)

    async def _probe_loop(self, every: float = 0.05) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(every)
            self.lags.append(time.monotonic() - before - every)

    def _tally(self, started: float) -> None:
        report, replied = self.report, self.server.replied
        report.asked = len(self.sent)
        latencies = []
        for asked_id, sent_at in self.sent.items():
            if asked_id not in replied:
                report.missing += 1
                continue
            at, kind, generation = replied[asked_id]
            latencies.append((at - sent_at) * 1000)
            if kind == "answered":
                report.answered += 1
            elif kind == "abstained":
                report.abstained += 1
            elif kind == "error":
                report.error_replies += 1
            else:
                report.refused += 1
            if generation and generation not in report.generations:
                report.generations.append(generation)
        report.latency_ms = _percentiles(latencies)
        beats = [t for t in self.server.heartbeats if t >= started]
        gaps = [b - a for a, b in itertools.pairwise(beats)]
        interval = self.plan.heartbeat_ms / 1000
        report.heartbeat = {
            "interval_ms": self.plan.heartbeat_ms,
            "beats": len(beats),
            "max_gap_ms": max(gaps, default=0.0) * 1000,
            "max_late_ms": max(0.0, max(gaps, default=interval) - interval) * 1000,
        }
        report.loop_lag_max_ms = max(self.lags, default=0.0) * 1000


def _outcome(reply: Json) -> tuple[str, str | None]:
    """('answered' | 'abstained' | 'error' | 'refused', the generation the footer names)."""
    embeds = reply.get("embeds") or []
    if not embeds:
        return ("error" if "went wrong" in (reply.get("content") or "") else "refused"), None
    match = _FOOTER.match((embeds[0].get("footer") or {}).get("text") or "")
    if match is None:
        return "refused", None
    return ("answered" if match[1] == "Answered from" else "abstained"), match[2]


def _percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"p50": values[0], "p95": values[0], "max": values[0]} if values else {}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": max(values)}


def format_table(report: SoakReport) -> str:
    """The report as one Markdown table."""
    plan, lat, hb, rss = report.plan, report.latency_ms, report.heartbeat, report.rss_mb
    admin = "; ".join(
        f"/{s.command} at {s.at_s:.0f} s: "
        + (f"{s.took_s:.1f} s" if s.took_s is not None else "no reply")
        + ("" if "Reindex finished" in s.final else f" ({s.final[:80]})")
        for s in report.admin
    )
    rows = [
        ("plan", f"{plan.users} users, {plan.per_minute:g} questions/min for {plan.seconds:g} s"),
        ("asked", f"{report.asked} in {report.wall_s:.1f} s (schedule slip max {report.send_slip_max_ms:.0f} ms)"),
        ("answered / abstained", f"{report.answered} / {report.abstained}"),
        ("errors", f"{report.errors} (error replies {report.error_replies}, refused {report.refused}, "
                   f"no reply {report.missing}, logged {len(report.logged_errors)}, "
                   f"referee {len(report.problems)})"),
        ("question to reply p50 / p95 / p99 / max",
         " / ".join(f"{lat[k]:.0f}" for k in ("p50", "p95", "p99", "max") if k in lat) + " ms"),
        ("heartbeat", f"{hb.get('beats', 0)} beats every {hb.get('interval_ms', 0)} ms; longest gap "
                      f"{hb.get('max_gap_ms', 0):.0f} ms (late {hb.get('max_late_ms', 0):.0f} ms); "
                      f"{report.heartbeat_warnings} warnings"),
        ("event loop lag max", f"{report.loop_lag_max_ms:.0f} ms"),
        ("RSS start / end / peak", f"{rss.get('start', 0):.0f} / {rss.get('end', 0):.0f} / "
                                   f"{rss.get('peak', 0):.0f} MB (growth {rss.get('growth', 0):+.1f} MB)"),
        ("RSS every tenth of the run", " ".join(f"{mb:.0f}" for _, mb in report.rss_timeline) + " MB"),
        ("admin", admin or "none"),
        ("generations served", ", ".join(report.generations)),
    ]  # fmt: skip
    return "\n".join(["| measure | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])
