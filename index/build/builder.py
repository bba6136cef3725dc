"""Corpus folder -> a new published index generation, embedding only what changed."""

from __future__ import annotations

import contextlib
import errno
import logging
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.build import sentence_vectors
from index.build.checks import check_shrink
from index.build.lock import Notify, build_lock
from index.build.merge import merge_when_due, plan_optimize
from index.build.reuse import (
    Base,
    Plan,
    live_keys,
    plan_update,
    serving_base,
    write_stamps,
)
from index.config import Settings
from index.corpus.batch import recover
from index.corpus.folder import read_article, scan_corpus
from index.embedding.embedder import Embedder, shortest_first
from index.embedding.vector_cache import VectorCache, stacked, text_key
from index.errors import ArticleError, CannotWrite, DiskFull, IndexUnavailable, write_problem
from index.generations.generation import bm25_text, read_article_hashes
from index.generations.store import (
    SCHEMA_VERSION,
    Manifest,
    current_generation,
    link_files,
    new_generation_name,
    publish,
    staging_folder,
)
from index.segments.bm25 import Postings
from index.segments.segment import KEY_BYTES, SegmentData, Tables, segment_entry, write_segment
from index.segments.term_rows import StoredTerms
from index.text.analysis import terms
from index.text.chunking import ChunkSpan, Sentence, chunk_sentences, fit_sentences, sentences
from index.types import Article, BuildReport

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
EMBED_BATCH = 64
PREVIOUS_SERVES = "nothing was published; the previous index still serves"


@dataclass(frozen=True)
class ArticleSplit:
    article: Article
    sentences: list[Sentence]
    chunks: list[ChunkSpan]


def embed_text_for_chunk(title: str, chunk: str) -> str:
    """What the model sees for a chunk: the title gives context the chunk may lack."""
    return f"{title}\n{chunk}"


def split_article(article: Article, embedder: Embedder, max_tokens: int) -> ArticleSplit:
    title_tokens = embedder.count_tokens([article.title])[0]
    budget = max(32, min(max_tokens, embedder.max_tokens - title_tokens - 1))
    sents = fit_sentences(article.text, sentences(article.text), budget, embedder.count_tokens)
    chunks = chunk_sentences(article.text, sents, budget, embedder.count_tokens)
    return ArticleSplit(article, sents, chunks)


def build_index(
    settings: Settings,
    embedder: Embedder,
    *,
    full: bool = False,
    progress: Progress | None = None,
    wait: float = 0.0,
    on_wait: Notify | None = None,
    allow_shrink: bool = False,
    optimize: bool = False,
) -> BuildReport:
    """Scan the corpus, index what changed into a new segment, publish a new generation.

    Another build holding the lock is waited for up to ``wait`` seconds (``on_wait`` hears about it
    once), then BuildInProgress. ``full`` re-indexes everything into one segment and starts a fresh
    vector cache; ``optimize`` merges every segment into one. Nothing is published when nothing
    changed (unless ``full`` or ``optimize`` has work to do); ShrinkRefused when the corpus lost
    every article or more than half of them, unless ``allow_shrink``.
    """
    with build_lock(settings.index_dir, wait=wait, on_wait=on_wait):
        return build_holding_lock(
            settings,
            embedder,
            full=full,
            progress=progress,
            allow_shrink=allow_shrink,
            optimize=optimize,
        )


def build_holding_lock(
    settings: Settings,
    embedder: Embedder,
    *,
    full: bool = False,
    progress: Progress | None = None,
    allow_shrink: bool = False,
    optimize: bool = False,
) -> BuildReport:
    """``build_index`` for a caller that already holds ``build_lock`` (e.g. around a corpus change)."""
    started = time.perf_counter()
    report = progress or (lambda stage, done, total: None)
    if settings.corpus_dir.is_dir():
        _recover(settings.corpus_dir)
    params = _params(settings, embedder)
    base = None if full else serving_base(settings.index_dir, embedder.name, embedder.dim, params)
    scan = scan_corpus(
        settings.corpus_dir, settings.max_article_bytes, base.known_files() if base else None
    )
    previous = base.hashes() if base else _previous_hashes(settings.index_dir)
    plan = plan_update(base, scan.articles) if base else Plan(fresh=list(scan.articles))
    if base is not None and not (
        plan.fresh or plan.deletions or _can_optimize(base, optimize, settings.segment_max_chunks)
    ):
        return BuildReport(  # nothing changed: the serving generation stays, nothing is published
            base.manifest.generation, 0, 0, 0, len(scan.articles), base.manifest.chunks, 0,
            time.perf_counter() - started, scan.skipped, published=False,
        )  # fmt: skip
    check_shrink(
        list(previous), [a.id for a in scan.articles], settings.corpus_dir, allow=allow_shrink
    )
    name = new_generation_name()
    root = settings.index_dir / "generations"
    with disk_full_as_error(root, _estimate_bytes(plan.fresh, embedder.dim)):
        staging = staging_folder(settings.index_dir, name)
        try:
            published, embedded = _write_and_publish(
                settings, embedder, base, plan, scan.stamps, staging, name,
                full=full, optimize=optimize, report=report,
            )  # fmt: skip
        finally:  # published: renamed away; failed: nothing half-written stays to fill the disk
            shutil.rmtree(staging, ignore_errors=True)
    current = {a.id: a.sha256 for a in scan.articles}
    return BuildReport(
        generation=name,
        added=sum(1 for k in current if k not in previous),
        changed=sum(1 for k, h in current.items() if k in previous and previous[k] != h),
        removed=sum(1 for k in previous if k not in current),
        unchanged=sum(1 for k, h in current.items() if previous.get(k) == h),
        chunks=published.chunks,
        embedded=embedded,
        seconds=time.perf_counter() - started,
        skipped=scan.skipped,
    )


def _can_optimize(base: Base, optimize: bool, cap: int) -> bool:
    segments = base.manifest.segments
    live = [int(e["live"][1]) for e in segments]
    return optimize and bool(plan_optimize(live, [bool(e["deleted"]) for e in segments], cap))


def _write_and_publish(
    settings: Settings,
    embedder: Embedder,
    base: Base | None,
    plan: Plan,
    stamps: Mapping[str, str],
    staging: Path,
    name: str,
    *,
    full: bool,
    optimize: bool,
    report: Progress,
) -> tuple[Manifest, int]:
    """Link the kept segments, write the new one, merge when due, publish: (manifest, embedded)."""
    entries: list[dict[str, Any]] = []
    known: dict[str, str] = {}
    for entry in plan.kept:
        assert base is not None  # kept segments come from a base
        link_files(base.segment_dir(entry), staging / "segments" / entry["name"])
        entries.append(entry)
        known |= base.checksums(entry)
    embedded = 0
    cache = None
    try:
        if plan.fresh or not entries:
            cache = _open_cache(settings, embedder, full)
            fresh = [a for a in (_with_text(settings, a) for a in plan.fresh) if a is not None]
            groups = split_groups(settings, embedder, fresh, report)
            for k, splits in enumerate(groups):  # one group in memory at a time
                data, count = fresh_segment(embedder, cache, splits, full, report)
                part = f"{name}-n" if k == 0 else f"{name}-n{k}"
                write_segment(staging / "segments" / part, data)
                entries.append(segment_entry(part, data.counts))
                embedded += count
                del data  # before the next group is split and embedded
        write_stamps(staging, stamps)
        entries = merge_when_due(
            staging, entries, embedder.dim, name, optimize=optimize,
            cap=settings.segment_max_chunks,
        )  # fmt: skip
        manifest = _manifest(settings, embedder, name, entries)
        final = publish(settings.index_dir, staging, manifest, settings.keep_generations, known)
        if cache is not None:
            prune_cache(cache, final, entries, embedded)
    finally:
        if cache is not None:
            cache.close()
    return manifest, embedded


def _params(settings: Settings, embedder: Embedder) -> dict[str, object]:
    """What a segment's contents depend on besides the model: a change means a full rebuild."""
    return {
        "chunk_max_tokens": settings.chunk_max_tokens,
        "sentence_vectors": sentence_vectors.kind(embedder),
    }


def _manifest(
    settings: Settings, embedder: Embedder, name: str, entries: list[dict[str, Any]]
) -> Manifest:
    return Manifest(
        schema_version=SCHEMA_VERSION,
        generation=name,
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        model=embedder.name,
        dim=embedder.dim,
        articles=sum(e["live"][0] for e in entries),
        chunks=sum(e["live"][1] for e in entries),
        sentences=sum(e["live"][2] for e in entries),
        corpus_dir=str(settings.corpus_dir),
        checksums={},
        params=_params(settings, embedder),
        segments=entries,
    )


def split_groups(
    settings: Settings, embedder: Embedder, articles: list[Article], report: Progress
) -> Iterator[list[ArticleSplit]]:
    """``articles`` split into chunks, in groups of at most SEGMENT_MAX_CHUNKS chunks (an article
    larger than that is a group of its own): each group becomes one segment, so a build holds one
    group's texts and vectors at a time, whatever the corpus size. Always at least one group."""
    group: list[ArticleSplit] = []
    chunks = 0
    for i, article in enumerate(articles):
        split = split_article(article, embedder, settings.chunk_max_tokens)
        if group and chunks + len(split.chunks) > settings.segment_max_chunks:
            yield group
            group, chunks = [], 0
        group.append(split)
        chunks += len(split.chunks)
        report("chunking", i + 1, len(articles))
    yield group


def fresh_segment(
    embedder: Embedder,
    cache: VectorCache,
    splits: list[ArticleSplit],
    full: bool,
    report: Progress,
) -> tuple[SegmentData, int]:
    """A new segment of split articles: embedded (what the cache lacks), BM25 term counts, each
    sentence's and title's terms."""
    articles = [s.article for s in splits]
    chunk_texts = [embed_text_for_chunk(s.article.title, c.text) for s in splits for c in s.chunks]
    sentence_texts = [x.text for s in splits for x in s.sentences]
    with disk_full_as_error(cache.path.parent, 0):
        if sentence_vectors.kind(embedder) == sentence_vectors.POOLED:
            vectors, embedded, keys = sentence_vectors.embed_pooled(
                embedder,  # type: ignore[arg-type]  # kind() checked encode_pooled
                cache, chunk_texts, _places(splits),
                full=full, batch=EMBED_BATCH, report=report,
            )  # fmt: skip
        else:
            vectors, embedded, keys = _embed_cached(
                embedder, cache, chunk_texts + sentence_texts, full, report
            )
    chunk_rows, sentence_rows = _rows(splits)
    n = len(chunk_texts)
    tokens = [bm25_text(s.article.title, c.text) for s in splits for c in s.chunks]
    data = SegmentData(
        tables=Tables(
            articles,
            np.array(chunk_rows, dtype=np.int64).reshape(-1, 5),
            np.array(sentence_rows, dtype=np.int64).reshape(-1, 4),
        ),
        chunk_vectors=vectors[:n],
        sentence_vectors=vectors[n:].astype(np.float16),
        keys=np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(-1, KEY_BYTES),
        postings=Postings.from_tokens(tokens),
        terms=StoredTerms.of(
            [terms(s.article.text[x.start : x.end]) for s in splits for x in s.sentences],
            [terms(a.title) for a in articles],
        ),
    )
    return data, embedded


def _with_text(settings: Settings, article: Article) -> Article | None:
    """``article`` with its text: a file whose stamp held was not read by the scan (it is read
    here when a damaged segment's articles must be indexed again)."""
    if article.text:
        return article
    try:
        path = settings.corpus_dir / article.path
        return read_article(settings.corpus_dir, path, settings.max_article_bytes)
    except ArticleError as exc:
        log.warning("cannot index %s again: %s", article.path, exc)
        return None


def _open_cache(settings: Settings, embedder: Embedder, full: bool) -> VectorCache:
    path = settings.index_dir / "cache" / "embeddings.sqlite"
    with disk_full_as_error(path.parent, 0):
        return VectorCache(path, embedder.name, embedder.dim, fresh=full)


def _estimate_bytes(articles: list[Article], dim: int) -> int:
    """About what the new segment takes on disk: vectors (some 3 sentences and a chunk per 100
    words), texts (metadata and terms), row tables."""
    text = sum(len(a.text.encode("utf-8")) for a in articles)
    rows = text // 120 + 1
    return rows * dim * 6 + 3 * text + 64 * rows


def _recover(corpus_dir: Path) -> None:
    """Finish or drop a batch cut short by a kill (all of it, or none); on a corpus disk that
    refuses writes, say so and build from the corpus as it is (its files are still read)."""
    try:
        recover(corpus_dir)
    except OSError as exc:
        problem = write_problem(exc)
        if problem is None:
            raise
        log.warning(
            "cannot tidy the corpus folder %s (%s: %s); building from it as it is",
            corpus_dir, problem, exc.filename or corpus_dir,
        )  # fmt: skip


@contextlib.contextmanager
def disk_full_as_error(folder: Path, needed: int) -> Iterator[None]:
    """A write that failed for lack of space becomes one DiskFull naming ``folder``; one the disk
    refuses otherwise (read-only, permissions) one CannotWrite naming the file or ``folder``."""
    try:
        yield
    except (OSError, sqlite3.OperationalError, RuntimeError) as exc:
        if _is_disk_full(exc, folder):
            raise DiskFull(folder, needed or None) from None
        problem = write_problem(exc)
        if problem is None:
            raise
        named = getattr(exc, "filename", None) or folder
        raise CannotWrite(named, problem, PREVIOUS_SERVES) from None


def _is_disk_full(exc: BaseException, folder: Path) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    if "disk is full" in text or "no space left" in text:  # SQLite, and C++ libraries
        return True
    # FAISS reports a short write without errno: check the disk itself.
    if isinstance(exc, RuntimeError) and "write" in text:
        with contextlib.suppress(OSError):
            return shutil.disk_usage(_existing(folder)).free < 1 << 20
    return False


def _existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def prune_cache(
    cache: VectorCache, folder: Path, entries: list[dict[str, Any]], added: int
) -> None:
    """Drop cached vectors no live text of the generation in ``folder`` uses, once worth a pass."""
    live = sum(int(e["live"][1]) + int(e["live"][2]) for e in entries)
    if cache.note_added(live, added):
        cache.keep_only(live_keys(folder, entries), added)


def _previous_hashes(index_dir: Path) -> dict[str, str]:
    try:
        return read_article_hashes(current_generation(index_dir))
    except (IndexUnavailable, OSError) as exc:
        log.info("no previous generation to compare with: %s", exc)
        return {}


def _embed_cached(
    embedder: Embedder,
    cache: VectorCache,
    texts: list[str],
    full: bool,
    report: Progress,
) -> tuple[np.ndarray, int, list[bytes]]:
    keys = [text_key(t) for t in texts]
    known = {} if full else cache.get_many(keys)
    missing = shortest_first(
        embedder, texts, {k: i for i, k in enumerate(keys) if k not in known}.values()
    )
    for done in range(0, len(missing), EMBED_BATCH):
        batch = missing[done : done + EMBED_BATCH]
        vecs = embedder.encode([texts[i] for i in batch])
        fresh = [(keys[i], v) for i, v in zip(batch, vecs, strict=True)]
        cache.put_many(fresh)
        known.update(fresh)
        report("embedding", min(done + EMBED_BATCH, len(missing)), len(missing))
    cache.commit()  # one transaction for the whole step
    return stacked(known, keys, embedder.dim), len(missing), keys


def _places(splits: list[ArticleSplit]) -> list[sentence_vectors.SentencePlace]:
    places: list[sentence_vectors.SentencePlace] = []
    row = 0
    for split in splits:
        places += sentence_vectors.places_of_article(
            split.article.title,
            [(c.start, c.first_sentence, c.last_sentence) for c in split.chunks],
            [(x.start, x.end) for x in split.sentences],
            row,
        )
        row += len(split.chunks)
    return places


def _rows(
    splits: list[ArticleSplit],
) -> tuple[list[tuple[int, int, int, int, int]], list[tuple[int, int, int, int]]]:
    chunk_rows: list[tuple[int, int, int, int, int]] = []
    sentence_rows: list[tuple[int, int, int, int]] = []
    for a, split in enumerate(splits):
        base = len(sentence_rows)
        sentence_rows.extend((a, s.start, s.end, s.paragraph) for s in split.sentences)
        chunk_rows.extend(
            (a, c.start, c.end, base + c.first_sentence, base + c.last_sentence)
            for c in split.chunks
        )
    return chunk_rows, sentence_rows
