"""The engine facade the CLI and the bot call: ask, search, look up, reindex (hot swap)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import numpy as np

from index.answer import CANDIDATE_PASSAGES, choose_quotes
from index.build import Progress, build_index
from index.config import Settings
from index.embedding import Embedder, load_embedder
from index.generation import Generation, load_generation
from index.search import Hit, retrieve
from index.store import current_generation
from index.types import Answer, ArticleInfo, BuildReport, IndexInfo, Passage

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000


class ReindexInProgress(RuntimeError):
    """A reindex is already running in this process."""


class Engine:
    """Thread-safe: questions read one immutable Generation; reindex builds a new one and swaps it."""

    def __init__(self, settings: Settings, embedder: Embedder, generation: Generation) -> None:
        self.settings = settings
        self.embedder = embedder
        self._generation = generation
        self._reindex_lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> Engine:
        """Load the model and the current generation (blocking: call from a worker thread)."""
        embedder = embedder or load_embedder(settings.embed_model, settings.embed_backend)
        folder = current_generation(settings.index_dir)
        return cls(settings, embedder, load_generation(folder, embedder.name, embedder.dim))

    @property
    def generation(self) -> str:
        return self._generation.name

    @property
    def corpus_dir(self) -> Path:
        return self.settings.corpus_dir

    def _encode_query(self, text: str) -> np.ndarray:
        return self.embedder.encode([text[:MAX_QUESTION_CHARS]])[0]

    def _hits(self, gen: Generation, query: str, k: int) -> tuple[np.ndarray, list[Hit]]:
        qvec = self._encode_query(query)
        hits = retrieve(gen, qvec, query, k=k, per_article_cap=self.settings.per_article_cap)
        return qvec, hits

    def ask(self, question: str, *, k: int = 5, context: str | None = None) -> Answer:
        """The quoted answer; ``context`` (an earlier question in a thread) helps follow-ups."""
        started = time.perf_counter()
        gen = self._generation
        if not question.strip():  # nothing to look for: an abstention, without a search
            return Answer(question, False, 0.0, (), (), generation=gen.name)
        query = f"{context}\n{question}" if context else question
        qvec, hits = self._hits(gen, query, max(k, CANDIDATE_PASSAGES))
        quotes, conf = choose_quotes(gen, qvec, question, hits)
        answered = bool(quotes) and conf >= self.settings.min_confidence
        return Answer(
            question=question,
            answered=answered,
            confidence=conf,
            quotes=tuple(quotes) if answered else (),
            passages=tuple(self._passage(gen, h) for h in hits[:k]),
            generation=gen.name,
            seconds=time.perf_counter() - started,
        )

    def search(self, query: str, *, k: int = 10) -> list[Passage]:
        gen = self._generation
        _, hits = self._hits(gen, query, k)
        return [self._passage(gen, h) for h in hits]

    @staticmethod
    def _passage(gen: Generation, hit: Hit) -> Passage:
        article = gen.articles[int(gen.chunk_article[hit.row])]
        start, end = int(gen.chunk_start[hit.row]), int(gen.chunk_end[hit.row])
        return Passage(
            article=article.id,
            title=article.title,
            url=article.url,
            text=article.text[start:end],
            start=start,
            end=end,
            score=hit.score,
            chunk_id=hit.row,
            page=article.page_at(start),
        )

    def info(self) -> IndexInfo:
        m = self._generation.manifest
        return IndexInfo(
            generation=m.generation,
            built_at=m.created_at,
            model=m.model,
            dim=m.dim,
            articles=m.articles,
            chunks=m.chunks,
            sentences=m.sentences,
            index_dir=str(self.settings.index_dir),
            corpus_dir=str(self.settings.corpus_dir),
        )

    def articles(self) -> list[ArticleInfo]:
        gen = self._generation
        counts = np.bincount(gen.chunk_article, minlength=len(gen.articles))
        return [
            ArticleInfo(a.id, a.title, a.url, a.date, a.author, a.path, int(n), len(a.text))
            for a, n in zip(gen.articles, counts.tolist(), strict=True)
        ]

    def article(self, slug: str) -> tuple[ArticleInfo, str] | None:
        gen = self._generation
        for info, article in zip(self.articles(), gen.articles, strict=True):
            if article.id == slug:
                return info, article.text
        return None

    def refresh(self) -> bool:
        """Serve the newest published generation if another process published one.

        `articlebot index` run beside a live bot publishes a new generation; this picks it up without
        a restart. Returns True when the generation changed. A reindex in progress here wins.
        """
        if not self._reindex_lock.acquire(blocking=False):
            return False
        try:
            folder = current_generation(self.settings.index_dir)
            if folder.name == self._generation.name:
                return False
            self._generation = load_generation(folder, self.embedder.name, self.embedder.dim)
            log.info("now serving generation %s, published by another process", folder.name)
            return True
        finally:
            self._reindex_lock.release()

    def reindex(self, *, full: bool = False, progress: Progress | None = None) -> BuildReport:
        """Build a new generation from the corpus and swap it in; the old one serves meanwhile."""
        if not self._reindex_lock.acquire(blocking=False):
            raise ReindexInProgress("a reindex is already running")
        try:
            report = build_index(self.settings, self.embedder, full=full, progress=progress)
            folder = current_generation(self.settings.index_dir)
            fresh = load_generation(folder, self.embedder.name, self.embedder.dim)
            self._generation = fresh  # one reference assignment: readers see old or new, whole
            log.info("reindex: %s", report.summary())
            return report
        finally:
            self._reindex_lock.release()
