"""Corpus folder -> a new published index generation, embedding only what changed."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.chunking import ChunkSpan, Sentence, chunk_sentences, fit_sentences, sentences
from index.config import Settings
from index.corpus import scan_corpus
from index.embedding import Embedder
from index.errors import BuildInProgress, IndexUnavailable
from index.generation import read_articles, write_generation
from index.store import (
    SCHEMA_VERSION,
    Manifest,
    VectorCache,
    current_generation,
    new_generation_name,
    publish,
    staging_folder,
    text_key,
)
from index.types import Article, BuildReport

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
EMBED_BATCH = 64


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


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".build.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildInProgress(f"another build of {index_dir} is running") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_index(
    settings: Settings, embedder: Embedder, *, full: bool = False, progress: Progress | None = None
) -> BuildReport:
    """Scan the corpus, reuse cached vectors of unchanged text, publish a new generation."""
    started = time.perf_counter()
    report = progress or (lambda stage, done, total: None)
    with build_lock(settings.index_dir):
        scan = scan_corpus(settings.corpus_dir)
        previous = _previous_hashes(settings.index_dir)
        splits = []
        for i, article in enumerate(scan.articles):
            splits.append(split_article(article, embedder, settings.chunk_max_tokens))
            report("chunking", i + 1, len(scan.articles))
        chunk_texts = [
            embed_text_for_chunk(s.article.title, c.text) for s in splits for c in s.chunks
        ]
        sentence_texts = [x.text for s in splits for x in s.sentences]
        cache = VectorCache(
            settings.index_dir / "cache" / "embeddings.sqlite", embedder.name, embedder.dim
        )
        try:
            vectors, embedded = _embed_cached(
                embedder, cache, chunk_texts + sentence_texts, full, report
            )
            cache.keep_only(text_key(t) for t in chunk_texts + sentence_texts)
        finally:
            cache.close()
        name = new_generation_name()
        staging = staging_folder(settings.index_dir, name)
        chunk_rows, sentence_rows = _rows(splits)
        write_generation(
            staging,
            [s.article for s in splits],
            chunk_rows,
            vectors[: len(chunk_texts)],
            sentence_rows,
            vectors[len(chunk_texts) :],
        )
        manifest = Manifest(
            schema_version=SCHEMA_VERSION,
            generation=name,
            created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            model=embedder.name,
            dim=embedder.dim,
            articles=len(splits),
            chunks=len(chunk_rows),
            sentences=len(sentence_rows),
            corpus_dir=str(settings.corpus_dir),
            checksums={},
            params={"chunk_max_tokens": settings.chunk_max_tokens},
        )
        publish(settings.index_dir, staging, manifest, settings.keep_generations)
    current = {a.id: a.sha256 for a in scan.articles}
    return BuildReport(
        generation=name,
        added=sum(1 for k in current if k not in previous),
        changed=sum(1 for k, h in current.items() if k in previous and previous[k] != h),
        removed=sum(1 for k in previous if k not in current),
        unchanged=sum(1 for k, h in current.items() if previous.get(k) == h),
        chunks=len(chunk_rows),
        embedded=embedded,
        seconds=time.perf_counter() - started,
        skipped=scan.skipped,
    )


def _previous_hashes(index_dir: Path) -> dict[str, str]:
    try:
        return {a.id: a.sha256 for a in read_articles(current_generation(index_dir))}
    except (IndexUnavailable, OSError) as exc:
        log.info("no previous generation to compare with: %s", exc)
        return {}


def _embed_cached(
    embedder: Embedder,
    cache: VectorCache,
    texts: list[str],
    full: bool,
    report: Progress,
) -> tuple[np.ndarray, int]:
    keys = [text_key(t) for t in texts]
    known = {} if full else cache.get_many(keys)
    missing = sorted({k: i for i, k in enumerate(keys) if k not in known}.values())
    for done in range(0, len(missing), EMBED_BATCH):
        batch = missing[done : done + EMBED_BATCH]
        vecs = embedder.encode([texts[i] for i in batch])
        fresh = [(keys[i], v) for i, v in zip(batch, vecs, strict=True)]
        cache.put_many(fresh)
        known.update(fresh)
        report("embedding", min(done + EMBED_BATCH, len(missing)), len(missing))
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for i, key in enumerate(keys):
        out[i] = known[key]
    return out, len(missing)


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
