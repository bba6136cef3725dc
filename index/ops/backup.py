"""`articlebot backup DIR` and `articlebot restore DIR`: what cannot be rebuilt, copied consistently.

In a backup (docs/OPERATIONS.md):

    backup.json             what it holds (format, time, each item with its files and bytes);
                            written last, so a backup without it is incomplete and never restored
    bot.sqlite3             BOT_DB_PATH: statistics, feedback, the operator's feeds
    corpus/                 CORPUS_DIR: the operator's articles
    servers/<id>/...        SERVERS_DIR: each server's articles, feed database and `left` marker

SQLite files are copied with SQLite's online backup API (``sqlite3.Connection.backup``): a
consistent snapshot while the bot keeps writing. The index is not copied: it is rebuilt from the
corpus (`articlebot index`; a server's library is rebuilt when first opened), which costs one full
embedding of the corpus and guarantees an index that matches the restored articles.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from index.errors import ArticlebotError

MANIFEST = "backup.json"
FORMAT = 1
DATABASE_SUFFIXES = (".sqlite3", ".sqlite", ".db")
SKIPPED_IN_SERVERS = ("index",)  # rebuilt from the server's corpus when first opened


class BackupError(ArticlebotError):
    """A backup or restore cannot be done as asked; the message names the file or folder."""


@dataclass(frozen=True)
class Places:
    """Where the bot keeps what a backup holds (from the settings in force)."""

    db: Path  # BOT_DB_PATH
    corpus: Path  # CORPUS_DIR
    servers: Path  # SERVERS_DIR

    def target(self, name: str) -> Path:
        """Where the backup's item ``name`` belongs."""
        first, _, rest = name.partition("/")
        if name == "bot.sqlite3":
            return self.db
        if first == "corpus" and not rest:
            return self.corpus
        if first == "servers" and rest and ".." not in Path(rest).parts:
            return self.servers / rest
        raise BackupError(f"{MANIFEST} names an unknown item {name!r}")


@dataclass(frozen=True)
class Item:
    kind: str  # "database", "folder" or "file"
    name: str  # its path inside the backup
    files: int
    bytes: int

    def line(self, verb: str, where: Path) -> str:
        size = f"{self.bytes / 1e6:.1f} MB" if self.bytes >= 100_000 else f"{self.bytes:,} bytes"
        what = f"{self.files} files, " if self.kind == "folder" else ""
        return f"{verb} {self.kind} {self.name} ({what}{size}) {where}"


def sources(places: Places) -> Iterator[tuple[str, str, Path]]:
    """(kind, name in the backup, source) of everything there is to back up."""
    if places.db.is_file():
        yield "database", "bot.sqlite3", places.db
    if places.corpus.is_dir():
        yield "folder", "corpus", places.corpus
    if not places.servers.is_dir():
        return
    for server in sorted(p for p in places.servers.iterdir() if p.is_dir()):
        for path in sorted(server.iterdir()):
            name = f"servers/{server.name}/{path.name}"
            if path.is_symlink() or path.name in SKIPPED_IN_SERVERS:
                continue
            if path.is_dir():
                yield "folder", name, path
            elif path.suffix in DATABASE_SUFFIXES:
                yield "database", name, path
            elif path.is_file():
                yield "file", name, path


def backup(places: Places, dest: Path) -> list[Item]:
    """Copy everything into ``dest`` (absent or empty); the manifest last."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"backup folder {dest} is not empty: give a new or empty folder")
    dest.mkdir(parents=True, exist_ok=True)
    items = []
    for kind, name, source in sources(places):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        items.append(_copy(kind, name, source, target))
    manifest = {
        "format": FORMAT,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "items": [asdict(i) for i in items],
    }
    _write_json(dest / MANIFEST, manifest)
    return items


def read_manifest(source: Path) -> list[Item]:
    path = source / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(
            f"{path} not found: {source} is not a backup, or its backup did not finish"
        ) from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path} is unreadable: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: backup format {manifest.get('format')!r}, expected {FORMAT}")
    return [Item(**entry) for entry in manifest["items"]]


def conflicts(places: Places, items: list[Item]) -> list[Path]:
    """The places a restore would overwrite: files that exist, folders that are not empty."""
    targets = [places.target(item.name) for item in items]
    return [t for t in targets if (any(t.iterdir()) if t.is_dir() else t.exists())]


def restore(places: Places, source: Path, *, force: bool = False) -> list[tuple[Item, Path]]:
    """Put the backup in ``source`` back; without ``force`` only into empty places."""
    items = read_manifest(source)
    taken = conflicts(places, items)
    if taken and not force:
        more = f" and {len(taken) - 1} more" if len(taken) > 1 else ""
        raise BackupError(
            f"restore would overwrite {taken[0]}{more}: pass --force to replace them, or restore "
            "into empty places (stop the bot first either way)"
        )
    for item in items:
        if not (source / item.name).exists():
            raise BackupError(f"{source / item.name} is missing from the backup")
    done = []
    for item in items:
        target = places.target(item.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        if item.kind == "folder":
            _replace_folder(source / item.name, target)
        else:
            _copy(item.kind, item.name, source / item.name, target)
        done.append((item, target))
    return done


def _copy(kind: str, name: str, source: Path, target: Path) -> Item:
    if kind == "database":
        return Item(kind, name, 1, _copy_database(source, target))
    if kind == "folder":
        files, size = _copy_folder(source, target)
        return Item(kind, name, files, size)
    shutil.copy2(source, target)
    return Item(kind, name, 1, target.stat().st_size)


def _copy_database(source: Path, target: Path) -> int:
    """SQLite's online backup: a consistent copy while other connections write ``source``."""
    try:
        src = sqlite3.connect(str(source), timeout=30)
        try:
            dst = sqlite3.connect(str(target))
            try:
                src.backup(dst)
                (check,) = dst.execute("PRAGMA quick_check").fetchone()
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy the database {source} to {target}: {exc}") from None
    if check != "ok":
        raise BackupError(f"the copy of {source} in {target} fails SQLite's check: {check}")
    return target.stat().st_size


def _copy_folder(source: Path, target: Path) -> tuple[int, int]:
    """Regular files and folders only (links and devices are skipped, as the indexer skips them)."""
    files = size = 0
    for root, dirs, names in os.walk(source):
        here = Path(root)
        dirs[:] = [d for d in dirs if not (here / d).is_symlink()]
        (target / here.relative_to(source)).mkdir(parents=True, exist_ok=True)
        for name in names:
            path = here / name
            if path.is_symlink() or not path.is_file():
                continue
            shutil.copy2(path, target / path.relative_to(source))
            files, size = files + 1, size + path.stat().st_size
    return files, size


def _replace_folder(source: Path, target: Path) -> None:
    """Copy beside ``target``, then swap it in: a failed copy leaves ``target`` as it was."""
    staging = target.with_name(f".{target.name}.restoring")
    shutil.rmtree(staging, ignore_errors=True)
    _copy_folder(source, staging)
    old = target.with_name(f".{target.name}.replaced")
    if target.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
