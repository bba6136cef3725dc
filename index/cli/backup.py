"""`articlebot backup DIR` and `articlebot restore DIR [--force]` (index/ops/backup.py does the work)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from index.config import Settings
from index.library.servers import servers_dir
from index.ops.backup import Places, backup, restore
from index.web.feedstore import db_path

REBUILD = (
    "The index is not in the backup: `articlebot index` (or `articlebot run`, which builds first) "
    "rebuilds it from the restored corpus; each server's library is rebuilt when first asked."
)


def add_backup_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """`backup DIR` and `restore DIR [--force]` on the CLI's subcommands ``sub``."""
    p = sub.add_parser(
        "backup", parents=[common], help="copy the databases and corpora (safe while running)"
    )
    p.add_argument("dir", type=Path, metavar="DIR", help="a new or empty folder")
    p = sub.add_parser(
        "restore", parents=[common], help="put a backup back (empty places, or --force)"
    )
    p.add_argument("dir", type=Path, metavar="DIR", help="a folder `articlebot backup` wrote")
    p.add_argument(
        "--force", action="store_true", help="replace the databases and folders that exist"
    )


def places(settings: Settings) -> Places:
    return Places(db=db_path(), corpus=settings.corpus_dir, servers=servers_dir())


def run_backup(args: argparse.Namespace, settings: Settings, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    items = backup(places(settings), args.dir)
    for item in items:
        print(item.line("copied", args.dir / item.name), file=out)
    if not items:
        print("Nothing to back up: no database, corpus or server library yet.", file=out)
    print(f"Backup written to {args.dir}. {REBUILD}", file=out)
    return 0


def run_restore(args: argparse.Namespace, settings: Settings, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    done = restore(places(settings), args.dir, force=args.force)
    for item, target in done:
        print(item.line("restored", target), file=out)
    print(f"Restored {len(done)} items from {args.dir}. {REBUILD}", file=out)
    return 0
