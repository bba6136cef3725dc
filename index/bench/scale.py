"""`articlebot bench --scale N`: build, update, open and question figures for a corpus of N chunks.

The corpus is synthetic: real sentences of the corpus folder (the sample corpus by default)
recombined into articles of about ``CHUNKS_PER_ARTICLE`` chunks, with natural word statistics. It is
built with the project's own build code and a fast hash embedder of the model's dimension
(index/bench/hash_embedder.py); each question's latency is the engine's own time (retrieval and the
sentence scorer's quote choice, READER=off) plus the real question encoder's time for the same
question, measured in the same process. Opening and questions run in a fresh child process, so its
RSS is what a serving process holds.
"""

from __future__ import annotations

import gc
import multiprocessing
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.bench.hash_embedder import BenchHashEmbedder
from index.config import Settings
from index.corpus.folder import scan_corpus
from index.process import gc_policy
from index.text.chunking import sentences, word_count_tokens

CHUNKS_PER_ARTICLE = 10
ARTICLES_PER_FOLDER = 1000
QUESTION_WORDS = 8
WARM_UP = 20
RECALL_QUESTIONS = 200


@dataclass(frozen=True)
class SynthCorpus:
    folder: Path
    files: list[Path]
    questions: list[str]


def real_sentences(corpus_dir: Path) -> list[str]:
    """Sentences of 6 to 80 words from the articles in ``corpus_dir`` (no headings or list stubs);
    without a corpus folder (a bench run outside the repository), sentences made up from a fixed
    vocabulary, so that a synthetic corpus needs no files (issue 21)."""
    if not corpus_dir.is_dir():
        return made_up_sentences()
    pool = []
    for article in scan_corpus(corpus_dir).articles:
        for s in sentences(article.text):
            text = " ".join(s.text.split())
            if 6 <= len(text.split()) <= 80 and not text.startswith(("#", "|", "-", "`")):
                pool.append(text)
    if not pool:
        raise ValueError(f"no sentences of 6 to 80 words in {corpus_dir} to build a bench corpus")
    return pool


_WORDS = [
    "the",
    "harbour",
    "council",
    "river",
    "bridge",
    "market",
    "museum",
    "town",
    "wall",
    "storm",
    "granite",
    "ferry",
    "station",
    "festival",
    "school",
    "library",
    "court",
    "judge",
    "mayor",
    "budget",
    "vote",
    "election",
    "minister",
    "summit",
    "treaty",
    "trade",
    "defence",
    "cooperation",
    "space",
    "cyber",
    "volcano",
    "eruption",
    "ash",
    "village",
    "farmers",
    "harvest",
    "rain",
    "flood",
    "road",
    "rail",
    "airport",
    "pilot",
    "crew",
    "engine",
    "repair",
    "engineers",
    "report",
    "study",
    "scientists",
    "data",
    "health",
    "hospital",
    "nurses",
    "patients",
    "vaccine",
    "team",
    "season",
    "match",
    "goal",
    "coach",
    "players",
    "stadium",
    "fans",
]


def made_up_sentences(n: int = 4000, seed: int = 7) -> list[str]:
    """Sentences of 8 to 30 words over a fixed vocabulary, with a Zipf-like word distribution."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(_WORDS))]
    out = []
    for _ in range(n):
        words = rng.choices(_WORDS, weights, k=rng.randint(8, 30))
        out.append(" ".join(words).capitalize() + ".")
    return out


def write_synthetic_corpus(
    folder: Path, pool: list[str], n_chunks: int, chunk_tokens: int, n_questions: int, seed: int = 0
) -> SynthCorpus:
    """Articles of recombined sentences totalling about ``n_chunks`` chunks, and questions made of
    the opening words of sentences they contain."""
    rng = random.Random(seed)
    lengths = word_count_tokens(pool)
    n_articles = max(1, round(n_chunks / CHUNKS_PER_ARTICLE))
    files = []
    for a in range(n_articles):
        # A paragraph a little under the chunk budget: about one chunk each, as in edited prose.
        paras = [
            _pick_sentences(rng, lengths, int(chunk_tokens * 0.7))
            for _ in range(CHUNKS_PER_ARTICLE)
        ]
        text = "\n\n".join(" ".join(pool[i] for i in p) for p in paras)
        title = " ".join(pool[paras[0][0]].split()[:6]).strip(".,;:")
        path = folder / f"part{a // ARTICLES_PER_FOLDER:04d}" / f"article-{a:07d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {a}: {title}\n\n{text}\n", encoding="utf-8")
        files.append(path)
    questions = [
        " ".join(pool[rng.randrange(len(pool))].split()[:QUESTION_WORDS])
        for _ in range(n_questions + WARM_UP)
    ]
    return SynthCorpus(folder, files, questions)


def _pick_sentences(rng: random.Random, lengths: list[int], tokens: int) -> list[int]:
    picks: list[int] = []
    total = 0
    while total < tokens - 10:
        i = rng.randrange(len(lengths))
        picks.append(i)
        total += lengths[i]
    return picks


def change_one_article(corpus: SynthCorpus, pool: list[str]) -> None:
    """Append one paragraph to the article in the middle of the corpus."""
    path = corpus.files[len(corpus.files) // 2]
    extra = " ".join(pool[(len(pool) // 2 + k) % len(pool)] for k in range(3))
    path.write_text(path.read_text(encoding="utf-8") + "\n" + extra + "\n", encoding="utf-8")


def run_scale_bench(
    settings: Settings, n_chunks: int, n_questions: int, encoder: bool, workdir: Path | None
) -> dict[str, object]:
    """Every figure of the scale bench, as a dict (the JSON keys the issue names, and a few more)."""
    from index.build.builder import build_index

    embedder = BenchHashEmbedder()
    figures: dict[str, object] = {}
    pool = real_sentences(settings.corpus_dir)
    with _folder(workdir) as root:
        started = time.perf_counter()
        corpus = write_synthetic_corpus(
            root / "corpus", pool, n_chunks, settings.chunk_max_tokens, n_questions
        )
        figures["corpus_write_s"] = round(time.perf_counter() - started, 2)
        bench = settings.with_(corpus_dir=root / "corpus", index_dir=root / "index", reader="off")
        full = build_index(bench, embedder, allow_shrink=True)
        figures |= {
            "articles": full.added,
            "chunks": full.chunks,
            "build_s": round(full.seconds, 2),
        }
        change_one_article(corpus, pool)
        started = time.perf_counter()
        update = build_index(bench, embedder)
        figures["update_one_s"] = round(time.perf_counter() - started, 2)
        figures["update_embedded"] = update.embedded
        child = multiprocessing.get_context("spawn").Pool(1)
        try:
            figures |= child.apply(serve_figures, (bench, corpus.questions, encoder))
        finally:
            child.close()
            child.join()
    return figures


@contextmanager
def _folder(workdir: Path | None) -> Iterator[Path]:
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        yield workdir
        return
    with tempfile.TemporaryDirectory(prefix="articlebot-scale-") as tmp:
        yield Path(tmp)


def serve_figures(settings: Settings, questions: list[str], encoder: bool) -> dict[str, object]:
    """In a fresh process: load the real encoder, open the index, time the questions."""
    from index.embedding.embedder import describe, load_embedder
    from index.engine import Engine
    from index.generations.generation import load_serving
    from index.segments.dense_index import kind

    gc_policy.serve_long_lived()  # as the bot and the CLI serve
    real = load_embedder(settings.embed_model, settings.embed_backend) if encoder else None
    embedder = BenchHashEmbedder()
    started = time.perf_counter()
    gen = load_serving(settings.index_dir, embedder.name, embedder.dim)
    engine = Engine(settings, embedder, gen, reader=None)  # its one collection and freeze included
    figures: dict[str, object] = {"open_s": round(time.perf_counter() - started, 3)}
    figures["rss_mb"] = rss_mb()
    figures["rss_anon_mb"] = rss_mb("RssAnon")  # the process's own memory; the rest maps files
    figures["dense_index"] = kind(gen.dense)
    for q in questions[:WARM_UP]:
        engine.ask(q)
    timed = questions[WARM_UP:]
    with gc_pauses() as pauses:
        ask_ms = [_ms(engine.ask, q) for q in timed]
    encode_ms = [_ms(real.encode, [q]) for q in timed] if real is not None else [0.0] * len(timed)
    total = [a + e for a, e in zip(ask_ms, encode_ms, strict=True)]
    figures |= {
        "encoder": describe(real) if real is not None else None,
        "questions": len(timed),
        "p50_ms": round(percentile(total, 50), 2),
        "p95_ms": round(percentile(total, 95), 2),
        "p99_ms": round(percentile(total, 99), 2),
        "max_gc_pause_ms": round(max(pauses, default=0.0), 2),
        "engine_p50_ms": round(statistics.median(ask_ms), 2),
        "encoder_p50_ms": round(statistics.median(encode_ms), 2) if real else None,
        "rss_after_questions_mb": rss_mb(),
        "rss_anon_after_questions_mb": rss_mb("RssAnon"),
    }
    figures["recall_at_10"] = dense_recall(gen, embedder, timed[:RECALL_QUESTIONS])
    return figures


def dense_recall(gen: object, embedder: BenchHashEmbedder, questions: list[str]) -> float | None:
    """Share of the exact top 10 that the serving dense index returns (None when it is exact)."""
    from index.segments.dense_index import kind

    dense = gen.dense  # type: ignore[attr-defined]
    if kind(dense) == "exact" or not questions:
        return None
    q = embedder.encode(questions)
    _, exact = dense.exact_search(q, 10)
    _, approx = dense.search(q, 10)
    hits = sum(len(set(e) & set(a)) for e, a in zip(exact.tolist(), approx.tolist(), strict=True))
    return round(hits / exact.size, 4)


def _ms(fn: object, arg: object) -> float:
    started = time.perf_counter()
    fn(arg)  # type: ignore[operator]
    return (time.perf_counter() - started) * 1000


@contextmanager
def gc_pauses() -> Iterator[list[float]]:
    """Milliseconds of every garbage collection that ran inside the block."""
    pauses: list[float] = []
    began = [0.0]

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            pauses.append((time.perf_counter() - began[0]) * 1000)

    gc.callbacks.append(watch)
    try:
        yield pauses
    finally:
        gc.callbacks.remove(watch)


def rss_mb(field: str = "VmRSS") -> float:
    """The process's resident memory now (Linux /proc), in MB: all of it (VmRSS), or the part that
    is its own (RssAnon) rather than pages of files it maps (RssFile: the page cache, shared with
    other processes mapping the same files, given back by the kernel under memory pressure)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def percentile(values: list[float], pct: float) -> float:
    return float(np.percentile(np.asarray(values), pct)) if values else float("nan")
