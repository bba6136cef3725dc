"""What an update reuses of the serving generation: its segments, minus the articles that changed.

An article is unchanged when its file's sha256 and its metadata (title, url, date, author, path,
source offset, pages) are what the serving generation recorded, and that generation was built with
the same model and parameters: it then stays in its segment, untouched (not read, split or embedded
again). Changed and removed articles are marked deleted in their segment; changed and added ones go
into the build's one new segment. A segment whose files no longer match their checksums is not
reused: its articles are indexed again (their vectors usually still in the cache).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import IndexUnavailable
from index.generations.generation import live_articles
from index.generations.store import SCHEMA_VERSION, Manifest, current_generation, verify_files
from index.segments.segment import read_keys, read_tables
from index.types import Article

log = logging.getLogger(__name__)
# Each article's file stamp (index/corpus/file_stamp.py) when a build last read or checked it: rewritten by
# every build, so a stamp first taken too soon after a change is renewed once the file is older.
STAMPS = "stamps.json"


@dataclass(frozen=True)
class Base:
    """The serving generation, as far as a build can reuse it."""

    folder: Path
    manifest: Manifest
    located: dict[str, tuple[int, int, Article]]  # id -> (segment, row, article without text)
    stamps: dict[str, str]  # id -> its file's stamp when it was read

    def hashes(self) -> dict[str, str]:
        return {article_id: a.sha256 for article_id, (_, _, a) in self.located.items()}

    def known_files(self) -> dict[str, tuple[Article, str]]:
        """What ``scan_corpus`` may take instead of reading a file whose stamp still holds."""
        return {
            a.path: (a, self.stamps[i]) for i, (_, _, a) in self.located.items() if i in self.stamps
        }

    def segment_dir(self, entry: Mapping[str, Any]) -> Path:
        return self.folder / "segments" / str(entry["name"])

    def checksums(self, entry: Mapping[str, Any]) -> dict[str, str]:
        prefix = f"segments/{entry['name']}/"
        return {k: v for k, v in self.manifest.checksums.items() if k.startswith(prefix)}


@dataclass
class Plan:
    """Segments kept (their manifest entries, deleted rows updated) and the articles to index anew."""

    kept: list[dict[str, Any]] = field(default_factory=list)
    fresh: list[Article] = field(default_factory=list)
    deletions: int = 0  # articles newly marked deleted


def serving_base(
    index_dir: Path, model: str, dim: int, params: Mapping[str, object]
) -> Base | None:
    """The serving generation when it was built the same way and can be read; else None."""
    try:
        folder = current_generation(index_dir)
        manifest = Manifest.read(folder)
        if (manifest.schema_version, manifest.model, manifest.dim) != (SCHEMA_VERSION, model, dim):
            return None
        if any(manifest.params.get(k) != v for k, v in params.items()):
            return None
        located = {a.id: (s, row, a) for s, row, a in live_articles(folder, manifest)}
    except (IndexUnavailable, OSError, ValueError) as exc:
        log.info("no generation to update: %s", exc)
        return None
    return Base(folder, manifest, located, read_stamps(folder))


def read_stamps(folder: Path) -> dict[str, str]:
    """Article id -> its file's stamp, as the generation in ``folder`` recorded them (none when
    the file cannot be read: every file is then read again)."""
    try:
        stamps = json.loads((folder / STAMPS).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.info("no file stamps in %s (%s): every file is read", folder, exc)
        return {}
    if not isinstance(stamps, dict):
        return {}
    return {str(k): v for k, v in stamps.items() if isinstance(v, str)}


def write_stamps(folder: Path, stamps: Mapping[str, str]) -> None:
    (folder / STAMPS).write_text(json.dumps(stamps, sort_keys=True), encoding="utf-8")


def same_article(new: Article, stored: Article) -> bool:
    """Equal but for the text, which the stored side was read without (it follows from the file)."""
    return replace(new, text="") == stored


def plan_update(base: Base, articles: Sequence[Article]) -> Plan:
    scanned = {a.id: a for a in articles}
    deleted = [set(e["deleted"]) for e in base.manifest.segments]
    plan = Plan()
    for article in articles:
        found = base.located.get(article.id)
        # The scan hands back the stored article itself for a file it did not read.
        if found is None or not (found[2] is article or same_article(article, found[2])):
            plan.fresh.append(article)
    fresh = {a.id for a in plan.fresh}
    for article_id, (s, row, _) in base.located.items():
        if article_id not in scanned or article_id in fresh:
            deleted[s].add(row)
            plan.deletions += 1
    for s, entry in enumerate(base.manifest.segments):
        if len(deleted[s]) >= entry["rows"][0]:
            continue  # nothing left to serve in it
        if not verify_files(base.folder, base.checksums(entry)):
            log.warning("segment %s is damaged; indexing its articles again", entry["name"])
            plan.fresh.extend(_survivors(base, s, deleted[s], scanned))
            continue
        plan.kept.append(_with_deleted(base.segment_dir(entry), entry, deleted[s]))
    return plan


def _survivors(
    base: Base, segment: int, deleted: set[int], scanned: Mapping[str, Article]
) -> list[Article]:
    return [
        scanned[article_id]
        for article_id, (s, row, _) in base.located.items()
        if s == segment and row not in deleted
    ]


def _with_deleted(folder: Path, entry: Mapping[str, Any], deleted: set[int]) -> dict[str, Any]:
    """``entry`` with ``deleted`` rows and the live counts that follow from them."""
    if deleted == set(entry["deleted"]):
        return dict(entry)
    dead = np.zeros(int(entry["rows"][0]), dtype=bool)
    dead[sorted(deleted)] = True
    chunks = np.load(folder / "chunks.npy", allow_pickle=False)
    sents = np.load(folder / "sentence_rows.npy", allow_pickle=False)
    live = [
        int((~dead).sum()),
        int((~dead[chunks[:, 0]]).sum()),
        int((~dead[sents[:, 0]]).sum()),
    ]
    return dict(entry) | {"deleted": sorted(deleted), "live": live}


def live_keys(folder: Path, entries: Sequence[Mapping[str, Any]]) -> list[bytes]:
    """The text keys (vector cache) of every live chunk and sentence of a published generation."""
    out: list[bytes] = []
    for entry in entries:
        seg = folder / "segments" / str(entry["name"])
        keys = read_keys(seg)
        n_chunks = int(entry["rows"][1])
        live = np.ones(len(keys), dtype=bool)
        if entry["deleted"]:
            dead = np.zeros(int(entry["rows"][0]), dtype=bool)
            dead[entry["deleted"]] = True
            tables = read_tables(seg, text=False)
            live[:n_chunks] = ~dead[tables.chunks[:, 0]]
            live[n_chunks:] = ~dead[tables.sentences[:, 0]]
        out.extend(row.tobytes() for row in keys[live])
    return out
