"""Bringing the index up to date from the command line (index, chat, run, add, feed poll): the
build with a progress bar, the report, and the wait for a build running elsewhere."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

from index.build.lock import DEFAULT_WAIT_SECONDS
from index.cli.display import terminal_safe
from index.config import Settings
from index.errors import BuildInProgress, CannotWrite, ShrinkRefused
from index.ops import metrics
from index.types import BuildReport

if TYPE_CHECKING:
    from index.embedding.embedder import Embedder
    from index.engine import Engine

# How long `index`, `add` and `remove` wait for a build running elsewhere (then one line, exit 75).
LOCK_WAIT_SECONDS = DEFAULT_WAIT_SECONDS
PROGRESS_EVERY_S = 5.0  # plain progress lines when stderr is not a terminal


def print_report(report: BuildReport, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    print(report.summary(), file=out)
    for skipped in report.skipped:
        print(terminal_safe(f"skipped {skipped.path}: {skipped.reason}"), file=out)


class ProgressBar:
    """A tqdm bar per stage on a terminal; elsewhere (a log, a pipe) a plain line every few seconds."""

    def __init__(self, stream: TextIO | None = None, every_s: float = PROGRESS_EVERY_S) -> None:
        self._stream = stream or sys.stderr
        self._bar = None
        self._stage = ""
        self._tty = self._stream.isatty()
        self._every_s = every_s
        self._last = 0.0

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self._tty:
            self._line(stage, done, total)
            return
        from tqdm import tqdm

        if stage != self._stage:
            if self._bar is not None:
                self._bar.close()
            self._bar, self._stage = tqdm(total=total, desc=stage, unit="item", leave=False), stage
        assert self._bar is not None
        self._bar.n = done
        self._bar.refresh()

    def _line(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == self._stage and done < total and now - self._last < self._every_s:
            return
        self._stage, self._last = stage, now
        percent = f" ({100 * done // total}%)" if total else ""
        print(f"{stage}: {done}/{total}{percent}", file=self._stream, flush=True)


def open_engine(settings: Settings, *, build: bool = True) -> Engine:
    """The engine over the current index, updating the index first when asked (incremental)."""
    from index.embedding.embedder import load_embedder
    from index.engine import Engine

    embedder = load_embedder(settings.embed_model, settings.embed_backend)
    if build:
        update_index(settings, embedder, serving=True)
    return Engine.open(settings, embedder)


def update_index(
    settings: Settings,
    embedder: Embedder,
    out: TextIO | None = None,
    *,
    allow_shrink: bool = False,
    serving: bool = False,
) -> None:
    """Bring the index up to date; the report goes to ``out`` (default stderr: stdout may be data).

    ``serving`` (chat, run): a refused shrink is a warning and the current generation serves on.
    """
    from index.build.builder import build_index
    from index.generations.store import published_generations

    # Serving with an index on disk, a build running elsewhere is not waited for: the bot and the
    # chat start on the current generation and pick the new one up when it is published.
    busy_ok = serving and bool(published_generations(settings.index_dir))
    try:
        with ProgressBar() as bar, metrics.build_timer():
            report = build_index(
                settings,
                embedder,
                progress=bar,
                allow_shrink=allow_shrink,
                wait=0.0 if busy_ok else LOCK_WAIT_SECONDS,
                on_wait=say,
            )
    except ShrinkRefused as exc:
        if not serving:
            raise
        print(f"articlebot: warning: {exc.user_line()}", file=sys.stderr)
        return
    except BuildInProgress:
        if not busy_ok:
            raise
        say(f"another build of {settings.index_dir} is running; starting on the current index")
        return
    except CannotWrite as exc:  # a read-only INDEX_DIR (a replica's copy): serve what it holds
        if not busy_ok:
            raise
        print(f"articlebot: warning: {exc.user_line()}", file=sys.stderr)
        return
    print_report(report, out or sys.stderr)


def say(line: str) -> None:
    """A status line on stderr (stdout may be data)."""
    print(f"articlebot: {line}", file=sys.stderr, flush=True)
