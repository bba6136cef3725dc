"""Each server's own library: one folder per server (its corpus and its index generations), opened
on demand, a bounded number open at once, kept for a while after the bot leaves the server.

    <SERVERS_DIR>/<server id>/corpus/      the articles the server's admins added
    <SERVERS_DIR>/<server id>/index/       its generations (the same machinery as the operator's)
    <SERVERS_DIR>/<server id>/left         written when the bot leaves the server (the time)

A server that never added anything has no folder and costs nothing. Thread-safe: questions open
libraries on the query thread while an admin's build runs on the build thread.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import shutil
import threading
import time
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from index.config import Settings, under_home
from index.errors import ArticlebotError
from index.library.scoped import ReadsLibrary
from index.types import BuildReport

log = logging.getLogger(__name__)

LEFT_MARKER = "left"
DEFAULT_MAX_OPEN = 64
DEFAULT_DIR = Path("var/servers")


def servers_dir(env: Mapping[str, str] | None = None) -> Path:
    """SERVERS_DIR, as the bot reads it (relative paths under ARTICLEBOT_HOME)."""
    env = os.environ if env is None else env
    return under_home(env.get("SERVERS_DIR") or DEFAULT_DIR, env)


class ServesLibrary(ReadsLibrary, Protocol):
    """A library that can be rebuilt (index.engine.Engine)."""

    @property
    def corpus_dir(self) -> Path: ...

    def reindex(
        self,
        *,
        full: bool = False,
        progress: Callable[[str, int, int], None] | None = None,
        allow_shrink: bool = False,
    ) -> BuildReport: ...


Opener = Callable[[Settings], ServesLibrary]


class NoSuchLibrary(ArticlebotError):
    """The server has no library (nothing was ever added there)."""


@dataclass(frozen=True)
class ServerSummary:
    server_id: int
    articles: int
    bytes: int
    last_change: float  # the newest file's modification time (seconds since the epoch)
    left_at: float | None  # when the bot left the server; None while it is a member


class ServerLibraries:
    """The registry of server libraries under ``root``; ``opener`` opens (and, for a new folder,
    builds) one library's engine from its settings, sharing the operator engine's models."""

    def __init__(
        self, root: Path, base: Settings, opener: Opener, *, max_open: int = DEFAULT_MAX_OPEN
    ) -> None:
        self.root, self._base, self._opener = root, base, opener
        self.max_open = max(1, max_open)
        self._open: OrderedDict[int, tuple[ServesLibrary, float]] = OrderedDict()
        self._lock = threading.RLock()
        self.opened = 0  # how many cold opens so far (for the benchmark and the log)

    def folder(self, server_id: int) -> Path:
        if server_id <= 0:
            raise ValueError(f"not a server id: {server_id}")
        return self.root / str(int(server_id))

    def settings_for(self, server_id: int) -> Settings:
        folder = self.folder(server_id)
        return dataclasses.replace(
            self._base, corpus_dir=folder / "corpus", index_dir=folder / "index"
        )

    def has_library(self, server_id: int) -> bool:
        return (self.folder(server_id) / "corpus").is_dir()

    def get(self, server_id: int | None) -> ServesLibrary | None:
        """The server's library, opened if needed; None for DMs and servers without one."""
        if server_id is None or server_id <= 0:
            return None
        with self._lock:
            held = self._open.get(server_id)
            if held is not None:
                self._open[server_id] = (held[0], time.monotonic())
                self._open.move_to_end(server_id)
                return held[0]
            if not self.has_library(server_id):
                return None
            return self._load(server_id)

    def ensure(self, server_id: int) -> ServesLibrary:
        """The server's library, created empty first if it has none (an admin is adding to it)."""
        with self._lock:
            found = self.get(server_id)
            if found is not None:
                return found
            (self.folder(server_id) / "corpus").mkdir(parents=True, exist_ok=True)
            self.rejoined(server_id)
            return self._load(server_id)

    def _load(self, server_id: int) -> ServesLibrary:
        engine = self._opener(self.settings_for(server_id))
        self.opened += 1
        self._open[server_id] = (engine, time.monotonic())
        while len(self._open) > self.max_open:
            closed, _ = self._open.popitem(last=False)
            log.debug("closed the library of server %d (least recently used)", closed)
        return engine

    def close(self, server_id: int) -> None:
        """Forget the open library (the next question opens it from disk again)."""
        with self._lock:
            self._open.pop(server_id, None)

    def close_idle(self, idle_seconds: float, now: float | None = None) -> int:
        """Close the libraries no question read for ``idle_seconds``; how many were closed."""
        now = time.monotonic() if now is None else now
        with self._lock:
            idle = [s for s, (_, used) in self._open.items() if now - used >= idle_seconds]
            for server_id in idle:
                del self._open[server_id]
        return len(idle)

    @property
    def open_count(self) -> int:
        return len(self._open)

    def server_ids(self) -> list[int]:
        if not self.root.is_dir():
            return []
        return sorted(int(p.name) for p in self.root.iterdir() if p.name.isdigit() and p.is_dir())

    # --- lifecycle -------------------------------------------------------------------------

    def left(self, server_id: int, now: float | None = None) -> None:
        """The bot was removed from the server: keep its library, and note when (for purging)."""
        folder = self.folder(server_id)
        if folder.is_dir():
            marker = folder / LEFT_MARKER
            if not marker.exists():
                marker.write_text(f"{time.time() if now is None else now:.3f}\n", "utf-8")
        self.close(server_id)

    def rejoined(self, server_id: int) -> None:
        (self.folder(server_id) / LEFT_MARKER).unlink(missing_ok=True)

    def left_at(self, server_id: int) -> float | None:
        try:
            return float((self.folder(server_id) / LEFT_MARKER).read_text("utf-8").strip())
        except (OSError, ValueError):
            return None

    def purge_left(self, keep_days: float, now: float | None = None) -> list[int]:
        """Delete the libraries of servers the bot left more than ``keep_days`` ago."""
        now = time.time() if now is None else now
        gone = []
        for server_id in self.server_ids():
            at = self.left_at(server_id)
            if at is not None and now - at >= keep_days * 86_400:
                self.delete(server_id)
                gone.append(server_id)
        return gone

    def delete(self, server_id: int) -> bool:
        """Delete everything of the server's library; False if it had none."""
        with self._lock:
            self._open.pop(server_id, None)
            folder = self.folder(server_id)
            if not folder.exists():
                return False
            shutil.rmtree(folder)
            log.info("deleted the library of server %d", server_id)
            return True

    def export(self, server_id: int, max_bytes: int) -> bytes:
        """The server's articles as one zip (paths relative to its corpus folder)."""
        corpus = self.folder(server_id) / "corpus"
        if not corpus.is_dir():
            raise NoSuchLibrary(f"server {server_id} has no library: nothing to export")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in _files(corpus):
                archive.write(path, path.relative_to(corpus).as_posix())
                if buffer.tell() > max_bytes:
                    raise NoSuchLibrary(
                        f"the library of server {server_id} is larger than {max_bytes:,} bytes "
                        "zipped: too large for one attachment (the operator can copy "
                        f"{corpus} instead)"
                    )
        return buffer.getvalue()

    def summary(self, server_id: int) -> ServerSummary:
        folder = self.folder(server_id)
        files = list(_files(folder / "corpus"))
        everything = list(_files(folder))
        stats = [p.stat() for p in everything]
        return ServerSummary(
            server_id=server_id,
            articles=len(files),
            bytes=sum(s.st_size for s in stats),
            last_change=max((s.st_mtime for s in stats), default=0.0),
            left_at=self.left_at(server_id),
        )


def _files(folder: Path) -> Iterator[Path]:
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path
