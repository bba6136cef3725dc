"""A read-only or full disk under one folder, injected in-process (issue 19).

CI runs as root, where ``chmod`` cannot make a folder read-only, so the calls that would change a
file below the folder fail the way the kernel makes them fail: with a read-only file system
(EROFS) every open for writing, create, rename, delete, link and ``utime`` raises; with a full disk
(ENOSPC) what creates a file or folder or writes new content raises (opening an existing file to
append does not: its first write would), while deletes and renames still work, as on a real full
disk. SQLite databases below the folder are opened read-only for EROFS, so their writes fail with
SQLite's own "attempt to write a readonly database". Everything else (reads, other folders) is
untouched.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
STRERROR = {errno.EROFS: "Read-only file system", errno.ENOSPC: "No space left on device"}


class DiskFault:
    """What was refused, for assertions (a test that injected nothing proves nothing)."""

    def __init__(self, folder: Path, code: int) -> None:
        self.folder = os.path.realpath(folder)
        self.code = code
        self.refused: list[str] = []
        self.active = True

    def lift(self) -> None:
        """The disk works again (the admin freed space or remounted it read-write)."""
        self.active = False

    def below(self, path: Any, dir_fd: int | None = None) -> bool:
        if not self.active or isinstance(path, int):  # an fd: os.open never gets one
            return False
        name = os.fsdecode(os.fspath(path))
        if dir_fd is not None and not os.path.isabs(name):
            name = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), name)
        full = os.path.realpath(os.path.dirname(os.path.abspath(name)))
        full = os.path.join(full, os.path.basename(name))
        return full == self.folder or full.startswith(self.folder + os.sep)

    def refuse(self, path: Any) -> None:
        self.refused.append(os.fsdecode(os.fspath(path)))
        raise OSError(self.code, STRERROR[self.code], os.fsdecode(os.fspath(path)))


def break_disk(monkeypatch: pytest.MonkeyPatch, folder: Path, code: int) -> DiskFault:
    """From now on (until the test ends) ``folder`` sits on a read-only (EROFS) or full (ENOSPC)
    file system."""
    fault = DiskFault(folder, code)
    read_only = code == errno.EROFS
    real_open, real_os_open, real_connect = builtins.open, os.open, sqlite3.connect

    def opener(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        writes = not isinstance(file, int) and any(c in mode for c in "wax+")
        creates = writes and (read_only or any(c in mode for c in "wx") or not os.path.exists(file))
        if creates and fault.below(file):
            fault.refuse(file)
        return real_open(file, mode, *args, **kwargs)

    def os_open(path: Any, flags: int, *args: Any, dir_fd: int | None = None, **kw: Any) -> int:
        creates = read_only or bool(flags & os.O_TRUNC)
        if flags & os.O_CREAT and not creates:
            full = path if dir_fd is None else os.path.join(f"/proc/self/fd/{dir_fd}", path)
            creates = not os.path.exists(full)
        if flags & _WRITE_FLAGS and creates and fault.below(path, dir_fd):
            fault.refuse(path)
        return real_os_open(path, flags, *args, dir_fd=dir_fd, **kw)

    def guard(name: str, *, on_full: bool) -> None:
        real = getattr(os, name)
        if not (read_only or on_full):
            return

        def call(*args: Any, **kwargs: Any) -> Any:
            dir_fd = kwargs.get("dir_fd") or kwargs.get("src_dir_fd")
            if any(isinstance(a, str | bytes | os.PathLike) and fault.below(a, dir_fd)
                   for a in args[:2]):  # fmt: skip
                fault.refuse(args[0])
            return real(*args, **kwargs)

        monkeypatch.setattr(os, name, call)

    def connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        if read_only and not kwargs.get("uri") and fault.below(database):
            fault.refused.append(os.fsdecode(os.fspath(database)))
            kwargs["uri"] = True
            database = f"file:{os.fsdecode(os.fspath(database))}?mode=ro"
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", opener)
    monkeypatch.setattr(io, "open", opener)
    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(sqlite3, "connect", connect)
    guard("mkdir", on_full=True)
    guard("link", on_full=True)
    guard("symlink", on_full=True)
    for name in ("rename", "replace", "unlink", "remove", "rmdir", "utime", "chmod", "truncate"):
        guard(name, on_full=False)
    return fault
