"""The engine facade the CLI and the bot call: ask, search, look up, reindex (hot swap)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.answer.further import STORY_MORE, looks_further, second_look_budget
from index.answer.quotes import (
    CANDIDATE_PASSAGES,
    CONFIDENCE_MODEL,
    Candidate,
    QuoteChooser,
    score_candidates,
)
from index.answer.retrieval import Hit, retrieve, retrieve_with_story
from index.answer.scorer_choice import ScorerChooser
from index.answer.scoring import model_threshold
from index.answer.spelling import correct
from index.answer.with_reader import READER_CANDIDATES, ReaderChooser
from index.build.builder import Progress, build_index
from index.config import Settings
from index.embedding.embedder import Embedder, load_embedder
from index.embedding.model_path import model_setting_for
from index.embedding.recent import RecentVectors
from index.errors import (
    CorruptIndex,
    EmbedderError,
    IncompatibleIndex,
    IndexUnavailable,
    QuestionTooLong,
    ReindexInProgress,
)
from index.generations.generation import Generation, load_generation, load_serving
from index.generations.store import current_generation, current_manifest, published_generations
from index.ops import metrics
from index.process import gc_policy
from index.reader.model import Reader, load_reader
from index.text.question import Asked, Query
from index.text.shorthand import expand
from index.types import Answer, ArticleInfo, BuildReport, IndexInfo, Passage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """A question ready for its quote to be chosen (Engine.prepare, then Engine.finish)."""

    question: str
    k: int
    gen: Generation
    asked: Asked
    hits: list[Hit]
    candidates: list[Candidate]
    started: float
    stages: dict[str, float]  # seconds: prepare, embed, retrieve, score (finish adds choose)
    qvec: np.ndarray  # the question's vector, to score a second look's sentences
    further: tuple[Hit, ...]  # the leading story's next chunks (index/answer/further.py)

    def candidate_scores(self) -> list[float]:
        """The sentence scorer's scores of the candidates, best first."""
        return [c.score for c in self.candidates]


class Engine:
    """Thread-safe: questions read one immutable Generation; reindex builds a new one and swaps it."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        generation: Generation,
        reader: Reader | None = None,
        query_vectors: RecentVectors | None = None,
        *,
        index_embedder: Embedder | None = None,
        old_models: dict[str, Embedder] | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder  # EMBED_MODEL: what builds embed with
        self.reader = reader
        # Shared with sibling engines: a question read by two libraries is embedded once.
        self._query_vectors = query_vectors or RecentVectors()
        self._chooser: QuoteChooser = ReaderChooser(reader) if reader else ScorerChooser()
        self._reindex_lock = threading.Lock()
        self._damaged: str | None = None  # a published generation that failed to load
        self._rebuilding: threading.Thread | None = None
        # Models of indexes built with another model, loaded once and shared with sibling engines.
        self._old_models = old_models if old_models is not None else {}
        self._serve(generation, index_embedder or embedder)

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> Engine:
        """Load the model and the current generation (blocking: call from a worker thread)."""
        embedder = embedder or load_embedder(settings.embed_model, settings.embed_backend)
        old_models: dict[str, Embedder] = {}
        generation, index_embedder = _open_serving(settings, embedder, old_models)
        reader = None
        if settings.reader == "on":
            reader = (
                load_reader(Path(settings.reader_model), settings.reader_backend)
                if settings.reader_model
                else load_reader(backend=settings.reader_backend)
            )
        return cls(
            settings,
            embedder,
            generation,
            reader,
            index_embedder=index_embedder,
            old_models=old_models,
        )

    def sibling(self, settings: Settings) -> Engine:
        """An engine on other folders (a server's library) that shares this engine's models; a
        folder without an index gets one first (an empty corpus makes an empty generation)."""
        if not published_generations(settings.index_dir):
            build_index(settings, self.embedder)
        generation, index_embedder = _open_serving(settings, self.embedder, self._old_models)
        return Engine(
            settings,
            self.embedder,
            generation,
            self.reader,
            self._query_vectors,
            index_embedder=index_embedder,
            old_models=self._old_models,
        )

    @property
    def min_confidence(self) -> float:
        """MIN_CONFIDENCE, or the threshold calibrated with the confidence model in use."""
        if self.settings.min_confidence is not None:
            return self.settings.min_confidence
        # Stored with each confidence model by the script that fit it (docs/READER.md, EVALUATION.md).
        if self.reader is not None:
            return model_threshold(self.reader.confidence_model, 0.5)
        return model_threshold(CONFIDENCE_MODEL, 0.21)

    @property
    def generation(self) -> str:
        return self._generation.name

    @property
    def _generation(self) -> Generation:
        return self._serving[0]

    @property
    def _index_embedder(self) -> Embedder:
        """The model the serving generation was built with: EMBED_MODEL's, except while an index
        built with another model serves until its rebuild (``stale_model``)."""
        return self._serving[1]

    @property
    def stale_model(self) -> bool:
        """The serving generation was built with another model than EMBED_MODEL (the setting
        changed, or an upgrade changed the default): it serves, read with its own model, until a
        full rebuild (``rebuild_if_stale``) replaces it."""
        return self._index_embedder is not self.embedder

    def _serve(self, generation: Generation, embedder: Embedder) -> None:
        """Serve ``generation``, read with ``embedder``, from now on: one reference assignment of
        the pair (a question in flight sees the old pair or the new one, whole), then the
        collector settles (index/process/gc_policy.py)."""
        self._serving = (generation, embedder)
        gc_policy.settle_after_load()

    @property
    def corpus_dir(self) -> Path:
        return self.settings.corpus_dir

    def check_question(self, text: str) -> None:
        """QuestionTooLong over MAX_QUESTION_CHARS: the one limit for the CLI, the chat and the bot."""
        limit = self.settings.max_question_chars
        if len(text) > limit:
            raise QuestionTooLong(
                f"the question is {len(text)} characters; the limit is {limit} (MAX_QUESTION_CHARS)"
            )

    def _hits(
        self, gen: Generation, embedder: Embedder, text: str, query: Query, k: int
    ) -> tuple[np.ndarray, list[Hit]]:
        qvec = self._query_vectors.encode(embedder, text)
        hits = retrieve(gen, qvec, query, k=k, per_article_cap=self.settings.per_article_cap)
        return qvec, hits

    def ask(self, question: str, *, k: int = 5, context: str | None = None) -> Answer:
        """The quoted answer; ``context`` (an earlier question in a thread) helps follow-ups."""
        prepared = self.prepare(question, k=k, context=context)
        return prepared if isinstance(prepared, Answer) else self.finish(prepared)

    def prepare(
        self, question: str, *, k: int = 5, context: str | None = None
    ) -> Prepared | Answer:
        """Everything before the quote is chosen: the question prepared, the passages retrieved,
        their sentences scored. An Answer already when there is nothing to look for."""
        started = time.perf_counter()
        gen, embedder = self._serving
        self.check_question(question)
        if not question.strip():  # nothing to look for: an abstention, without a search
            return Answer(question, False, 0.0, (), (), generation=gen.name)
        typed = question
        if self.settings.spelling == "on":
            typed = correct(expand(question), gen.vocabulary, gen.doc_freq)
        asked = Asked.make(gen, typed, context)  # the one preparation of the question
        marks = [started, time.perf_counter()]
        qvec = self._query_vectors.encode(embedder, asked.text)
        marks.append(time.perf_counter())
        hits, further = retrieve_with_story(
            gen,
            qvec,
            asked.retrieval,
            k=max(k, CANDIDATE_PASSAGES),
            per_article_cap=self.settings.per_article_cap,
            read=CANDIDATE_PASSAGES,
            more=STORY_MORE if self.reader is not None else 0,
        )
        marks.append(time.perf_counter())
        candidates = score_candidates(gen, qvec, asked.scoring, hits)
        marks.append(time.perf_counter())
        names = ("prepare", "embed", "retrieve", "score")
        stages = {n: b - a for n, a, b in zip(names, marks[:-1], marks[1:], strict=True)}
        return Prepared(
            question, k, gen, asked, hits, candidates, started, stages, qvec, tuple(further)
        )

    def finish(self, prepared: Prepared, *, read: int | None = None) -> Answer:
        """The quote chosen for a prepared question; ``read``: the reader's budget of candidates
        (None: the default; two libraries answering one question share one budget)."""
        p = prepared
        choosing = time.perf_counter()
        choice = self._chooser.choose(p.gen, p.asked, p.hits, p.candidates, read=read)
        if p.further and looks_further(choice):
            hits = [*p.hits[:CANDIDATE_PASSAGES], *p.further]
            again = score_candidates(p.gen, p.qvec, p.asked.scoring, hits, passages=len(hits))
            budget = second_look_budget(READER_CANDIDATES if read is None else read)
            choice = self._chooser.choose(p.gen, p.asked, hits, again, read=budget)
        stages = p.stages | {"choose": time.perf_counter() - choosing}
        metrics.stages(stages, reader=self.reader is not None)
        answered = bool(choice.quotes) and choice.confidence >= self.min_confidence
        return Answer(
            question=p.question,
            answered=answered,
            confidence=choice.confidence,
            quotes=tuple(choice.quotes) if answered else (),
            answer=choice.answer if answered else None,
            differing=choice.differing if answered else (),
            extra={"features": choice.features, "stages": stages},
            passages=tuple(self._passage(p.gen, h) for h in p.hits[: p.k]),
            generation=p.gen.name,
            seconds=time.perf_counter() - p.started,
        )

    def search(self, query: str, *, k: int = 10) -> list[Passage]:
        self.check_question(query)
        gen, embedder = self._serving
        _, hits = self._hits(gen, embedder, query, Query.make(gen, query), k)
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
        return list(self._generation.catalog.infos.values())

    def article(self, slug: str) -> tuple[ArticleInfo, str] | None:
        gen = self._generation
        info = gen.catalog.infos.get(slug)
        if info is None:
            return None
        return info, gen.articles[gen.catalog.rows[slug]].text

    def refresh(self) -> bool:
        """Serve the newest published generation if another process published one.

        `articlebot index` run beside a live bot publishes a new generation; this picks it up without
        a restart. Returns True when the generation changed. A reindex in progress here wins.
        """
        if not self._reindex_lock.acquire(blocking=False):
            return False
        try:
            try:
                newest = current_generation(self.settings.index_dir)
            except IndexUnavailable:  # CURRENT damaged: keep serving; the next build rewrites it
                return False
            if newest.name in (self._generation.name, self._damaged):
                return False
            try:
                loaded = load_generation(newest, self.embedder.name, self.embedder.dim)
            except (CorruptIndex, IncompatibleIndex) as exc:
                self._damaged = newest.name
                log.warning("%s; still serving generation %s", exc, self.generation)
                return False
            self._serve(loaded, self.embedder)
            log.info("now serving generation %s, published by another process", self.generation)
            return True
        finally:
            self._reindex_lock.release()

    def rebuild_if_stale(self) -> threading.Thread | None:
        """When ``stale_model``, rebuild the whole index with EMBED_MODEL in a background thread
        (the old generation, read with its own model, serves meanwhile; a reindex asked for during
        it is refused as running); the thread, or None when the index is current."""
        if not self.stale_model or (self._rebuilding and self._rebuilding.is_alive()):
            return None

        def rebuild() -> None:
            try:
                self.reindex()  # the build reuses nothing of another model's generation
            except ReindexInProgress:
                log.info("a reindex is running: it rebuilds %s with the new model", self.corpus_dir)
            except Exception:
                log.exception(
                    "rebuilding %s with EMBED_MODEL failed; the old index still serves",
                    self.settings.index_dir,
                )

        self._rebuilding = threading.Thread(target=rebuild, name="model-rebuild", daemon=True)
        self._rebuilding.start()
        return self._rebuilding

    def reindex(
        self, *, full: bool = False, progress: Progress | None = None, allow_shrink: bool = False
    ) -> BuildReport:
        """Build a new generation from the corpus and swap it in; the old one serves meanwhile.
        ``allow_shrink``: an admin removed articles on purpose (a small library may lose half)."""
        if not self._reindex_lock.acquire(blocking=False):
            raise ReindexInProgress("a reindex is already running")
        try:
            with metrics.build_timer():
                report = build_index(
                    self.settings,
                    self.embedder,
                    full=full,
                    progress=progress,
                    allow_shrink=allow_shrink,
                )
            if report.generation != self._generation.name:  # else: nothing changed, kept
                self._serve(_load_current(self.settings, self.embedder), self.embedder)
            log.info("reindex: %s", report.summary())
            return report
        finally:
            self._reindex_lock.release()


def _load_current(settings: Settings, embedder: Embedder) -> Generation:
    """The current generation or, if it is damaged, the newest intact one (with a warning)."""
    return load_serving(settings.index_dir, embedder.name, embedder.dim)


def _open_serving(
    settings: Settings, embedder: Embedder, known: dict[str, Embedder]
) -> tuple[Generation, Embedder]:
    """The generation to serve and the model that reads it: ``embedder`` (EMBED_MODEL), or, when
    the index was built with another model this machine can still load (EMBED_MODEL changed, or an
    upgrade changed the default), that model until a full rebuild replaces the index (loaded once
    into ``known``, which sibling engines share). IncompatibleIndex when neither can read it."""
    try:
        return _load_current(settings, embedder), embedder
    except IncompatibleIndex as refused:
        recorded = current_manifest(settings.index_dir).model
        setting = model_setting_for(recorded)
        if recorded == embedder.name or setting is None:
            raise
        try:
            old = known.get(recorded) or load_embedder(setting, settings.embed_backend)
            generation = _load_current(settings, old)
            known[recorded] = old
        except (EmbedderError, IncompatibleIndex):
            raise refused from None
    log.warning(
        "the index in %s was built with model %s, not EMBED_MODEL's %s: served with it until it "
        "is rebuilt (the bot rebuilds it now; from the command line: `articlebot index`)",
        settings.index_dir,
        recorded,
        embedder.name,
    )
    return generation, old
