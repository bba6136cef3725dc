"""Several article files written into the corpus all or not at all, even across `kill -9`.

Each file is first written and fsynced as a hidden `.upload-<pid>-*.part` beside its target; then a
journal naming every (part, target) pair is written atomically; then the parts are renamed into
place and the journal removed. ``recover`` (run before every build and every add) finishes a batch
whose journal exists and deletes parts that no journal names and no living process is writing, and
a journal a killed process was still writing (``.articlebot-batch.json.<pid>.tmp``: its batch was
never committed), so a kill leaves either the whole batch or none of it, and no stray files.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from index.corpus.files import file_mode
from index.generations.store import fsync_dir

log = logging.getLogger(__name__)

JOURNAL = ".articlebot-batch.json"
PART_PREFIX = ".upload-"
# A part without a process id in its name (older versions) is stale after this long.
ANONYMOUS_PART_SECONDS = 3600
_PID = re.compile(r"^\.upload-(\d+)-")
_JOURNAL_TMP = re.compile(rf"^{re.escape(JOURNAL)}\.(\d+)\.tmp$")


def part_prefix() -> str:
    """The name prefix of this process's part files (the pid tells a stale part from a live one)."""
    return f"{PART_PREFIX}{os.getpid()}-"


def write_batch(corpus_dir: Path, files: Sequence[tuple[str, bytes]]) -> list[Path]:
    """Write ``(name, data)`` pairs to ``corpus_dir/name``, all of them or (after a crash) none."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    recover(corpus_dir)  # an earlier batch's journal first: this one's must not replace it
    moves: list[tuple[Path, Path]] = []
    try:
        for name, data in files:
            moves.append((_write_part(corpus_dir, data), corpus_dir / name))
        _write_journal(corpus_dir, moves)
    except BaseException:
        for part, _ in moves:
            part.unlink(missing_ok=True)
        raise
    _finish(corpus_dir, moves)
    return [target for _, target in moves]


def recover(corpus_dir: Path) -> None:
    """Finish a journaled batch, then delete stale parts and unfinished journals (see above)."""
    journal = corpus_dir / JOURNAL
    try:
        entries = json.loads(journal.read_text(encoding="utf-8"))
        moves = [(corpus_dir / part, corpus_dir / target) for part, target in entries]
    except FileNotFoundError:
        moves = []
    except (ValueError, TypeError, OSError):  # a journal is complete or absent; never half
        log.warning("ignoring an unreadable %s", journal)
        journal.unlink(missing_ok=True)
        moves = []
    if moves:
        log.warning("finishing an interrupted batch of %d file(s) in %s", len(moves), corpus_dir)
        _finish(corpus_dir, [(p, t) for p, t in moves if p.exists()])
    for part in corpus_dir.rglob(f"{PART_PREFIX}*.part"):
        if _stale(part):
            log.warning("removing the stale upload %s", part)
            part.unlink(missing_ok=True)
    for tmp in corpus_dir.glob(f"{JOURNAL}.*.tmp"):
        match = _JOURNAL_TMP.match(tmp.name)
        if match is not None and _gone(int(match[1])):
            log.warning("removing the unfinished batch journal %s", tmp)
            tmp.unlink(missing_ok=True)


def _write_part(corpus_dir: Path, data: bytes) -> Path:
    fd, tmp = tempfile.mkstemp(dir=corpus_dir, prefix=part_prefix(), suffix=".part")
    try:
        os.fchmod(fd, file_mode(corpus_dir))
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _write_journal(corpus_dir: Path, moves: list[tuple[Path, Path]]) -> None:
    entries = [[p.relative_to(corpus_dir).as_posix(), t.relative_to(corpus_dir).as_posix()]
               for p, t in moves]  # fmt: skip
    tmp = corpus_dir / f"{JOURNAL}.{os.getpid()}.tmp"
    try:
        with tmp.open("w", encoding="utf-8") as out:
            json.dump(entries, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, corpus_dir / JOURNAL)
    except BaseException:  # e.g. a full disk: nothing committed, nothing left
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(corpus_dir)


def _finish(corpus_dir: Path, moves: list[tuple[Path, Path]]) -> None:
    for part, target in moves:
        os.replace(part, target)
    fsync_dir(corpus_dir)
    (corpus_dir / JOURNAL).unlink(missing_ok=True)


def _stale(part: Path) -> bool:
    match = _PID.match(part.name)
    if match is None:
        with contextlib.suppress(OSError):
            return time.time() - part.stat().st_mtime > ANONYMOUS_PART_SECONDS
        return False
    return _gone(int(match[1]))


def _gone(pid: int) -> bool:
    """Whether no process ``pid`` runs (this process, or another user's, counts as alive)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False
