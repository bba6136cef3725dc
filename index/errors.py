"""The one family of errors the engine reports to a person (CLI and bot import them from here).

Each error's ``str()`` is the one line a user sees (it names the file, folder, setting or limit, and
what to do); ``exit_code`` is what `articlebot` exits with. Everything else is a bug and keeps its
traceback. This module imports nothing from the project, so any module may import it.
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
from collections.abc import Iterator
from pathlib import Path

# Exit codes (sysexits.h where one fits): 2 = the input, a setting or the index needs a person;
# 74 = the disk failed us (full); 75 = try again later (a build holds the lock).
EXIT_USAGE = 2
EXIT_IO = 74
EXIT_TEMPFAIL = 75

REPAIR_HINT = "`articlebot index --full` repairs it"


class ArticlebotError(Exception):
    """Base of every expected failure: ``str(exc)`` is the user's line, ``exit_code`` the CLI's."""

    exit_code = EXIT_USAGE

    def user_line(self) -> str:
        """The message on one line (a user never sees a multi-line dump)."""
        return " ".join(str(self).split())


class UsageError(ArticlebotError, ValueError):
    """A command-line argument or input file is wrong; the message says which."""


class QuestionTooLong(UsageError):
    """A question or query is longer than MAX_QUESTION_CHARS (one limit for every entry point)."""


class SettingsError(ArticlebotError, ValueError):
    """A setting (environment or .env) is invalid; the message names it and the allowed values."""


class CorpusError(ArticlebotError, ValueError):
    """The corpus folder or one of its files cannot be used as asked; the message names it."""


class ArticleError(CorpusError):
    """This file cannot be read as an article; the message says why."""


class ShrinkRefused(CorpusError):
    """A build would drop every article or more than half of them; ``--allow-shrink`` permits it."""


class EmbedderError(ArticlebotError, RuntimeError):
    """The embedding model or backend cannot be loaded; the message names the setting."""


class ReaderError(ArticlebotError, RuntimeError):
    """The reader model (index/data/reader.onnx) is missing or damaged; the message says how to restore it."""


class IndexUnavailable(ArticlebotError, RuntimeError):
    """The index is missing, incomplete, corrupt or was built for another model."""


class NoIndexError(IndexUnavailable):
    """No generation was ever published in this index folder."""


class IncompatibleIndex(IndexUnavailable):
    """The index was built with another schema or model."""


class CorruptIndex(IndexUnavailable):
    """A file of the index is damaged (checksum, truncation, unreadable); ``path`` names it."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"index file {self.path} is damaged ({problem}); {REPAIR_HINT}")


class IndexDirProblem(ArticlebotError, OSError):
    """INDEX_DIR cannot hold an index as it is (a link to nowhere, a file, CURRENT a folder)."""


class BuildInProgress(ArticlebotError, RuntimeError):
    """Another build holds this index's lock; try again when it finishes."""

    exit_code = EXIT_TEMPFAIL


class ReindexInProgress(BuildInProgress):
    """A reindex is already running in this process."""


class DiskFull(ArticlebotError):
    """Writing to ``folder`` failed for lack of space; nothing half-written was left behind."""

    exit_code = EXIT_IO

    def __init__(self, folder: Path | str, needed_bytes: int | None = None) -> None:
        self.folder = Path(folder)
        self.needed_bytes = needed_bytes
        need = f" (about {_mib(needed_bytes)} needed)" if needed_bytes else ""
        super().__init__(
            f"the disk holding {self.folder} is full{need}; free some space and run the command "
            "again (nothing was published; the previous index still serves)"
        )


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


class CannotWrite(ArticlebotError):
    """A file or folder could not be changed: its file system is read-only or full, or refuses
    us. ``path`` names it, ``problem`` is the system's reason, ``kept`` says what was left intact."""

    exit_code = EXIT_IO

    def __init__(self, path: Path | str, problem: str, kept: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"cannot write to {self.path}: {problem}; {kept}")


# errno values that mean "this disk will not take the change" (not a bug of ours).
_WRITE_ERRNOS = {
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}
_SQLITE_WRITE = ("readonly database", "disk is full", "disk i/o error", "unable to open database")


def write_problem(exc: BaseException) -> str | None:
    """The reason a write failed, in a few words, when it is the disk's doing (read-only, full,
    refused); None for anything else (a bug keeps its traceback)."""
    if isinstance(exc, ArticlebotError):
        return None
    if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
        return _WRITE_ERRNOS[exc.errno]
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        if any(words in text for words in _SQLITE_WRITE):
            return text.removeprefix("attempt to write a ")
    return None


@contextlib.contextmanager
def writing(path: Path | str, kept: str) -> Iterator[None]:
    """Inside: a write the disk refuses becomes CannotWrite naming ``exc.filename`` or ``path``."""
    try:
        yield
    except (OSError, sqlite3.OperationalError) as exc:
        problem = write_problem(exc)
        if problem is None:
            raise
        named = getattr(exc, "filename", None) or path
        raise CannotWrite(named, problem, kept) from None
