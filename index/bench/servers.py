"""`articlebot bench --servers N`: many small server libraries beside one large operator library.

Builds, in a work folder, an operator library of ``operator_articles`` synthetic articles and N
server libraries of ``server_articles`` each (index/bench/scale.py's corpus: real sentences of the
corpus folder recombined; built with the hash embedder of the model's dimension). Then, in a fresh
process that serves them as the bot does (the shipped reader on, SERVER_LIBRARIES_OPEN libraries
held open at most), it times:

- a question to the operator library alone (what a single-library bot answers);
- a question from a server whose library is open (both libraries read, the answer merged);
- a question from a server picked at random among N (most of them cold: opened from disk first);
- the cold open of a server library alone;

each with the real question encoder's measured time for that question added once (the question is
embedded once for both libraries), and the process's memory after.
"""

from __future__ import annotations

import multiprocessing
import random
import time
from pathlib import Path

from index.bench.hash_embedder import BenchHashEmbedder
from index.bench.scale import (
    CHUNKS_PER_ARTICLE,
    WARM_UP,
    _folder,
    percentile,
    real_sentences,
    rss_mb,
    write_synthetic_corpus,
)
from index.config import Settings
from index.process import gc_policy

SERVER_ARTICLES = 20
OPERATOR_ARTICLES = 10_000
MAX_OPEN = 64
SEED = 11


def run_servers_bench(
    settings: Settings,
    servers: int,
    n_questions: int,
    *,
    operator_articles: int = OPERATOR_ARTICLES,
    server_articles: int = SERVER_ARTICLES,
    workdir: Path | None = None,
) -> dict[str, object]:
    from index.build.builder import build_index

    embedder = BenchHashEmbedder()
    pool = real_sentences(settings.corpus_dir)
    figures: dict[str, object] = {
        "servers": servers,
        "server_articles": server_articles,
        "operator_articles": operator_articles,
        "max_open": MAX_OPEN,
    }
    with _folder(workdir) as root:
        operator = settings.with_(corpus_dir=root / "operator" / "corpus")
        operator = operator.with_(index_dir=root / "operator" / "index")
        corpus = write_synthetic_corpus(
            operator.corpus_dir,
            pool,
            operator_articles * CHUNKS_PER_ARTICLE,
            settings.chunk_max_tokens,
            n_questions,
            seed=SEED,
        )
        started = time.perf_counter()
        report = build_index(operator, embedder)
        figures["operator_chunks"] = report.chunks
        figures["operator_build_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        for server_id in range(1, servers + 1):
            folder = root / "servers" / str(server_id)
            write_synthetic_corpus(
                folder / "corpus",
                pool,
                server_articles * CHUNKS_PER_ARTICLE,
                settings.chunk_max_tokens,
                0,
                seed=SEED + server_id,
            )
            mine = settings.with_(corpus_dir=folder / "corpus", index_dir=folder / "index")
            build_index(mine, embedder)
        figures["server_builds_s"] = round(time.perf_counter() - started, 1)
        figures["disk_mb"] = round(
            sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6, 1
        )
        child = multiprocessing.get_context("spawn").Pool(1)
        try:
            figures |= child.apply(_serve, (operator, root / "servers", servers, corpus.questions))
        finally:
            child.close()
            child.join()
    return figures


def _serve(
    operator: Settings, servers_root: Path, servers: int, questions: list[str]
) -> dict[str, object]:
    """In a fresh process: the operator engine with the real reader, server libraries on demand."""
    from index.embedding.embedder import load_embedder
    from index.engine import Engine
    from index.generations.generation import load_serving
    from index.library.scoped import ScopedLibrary
    from index.library.servers import ServerLibraries
    from index.reader.model import load_reader

    gc_policy.serve_long_lived()
    real = load_embedder(operator.embed_model, operator.embed_backend)
    embedder = BenchHashEmbedder()
    reader = load_reader() if operator.reader == "on" else None
    gen = load_serving(operator.index_dir, embedder.name, embedder.dim)
    engine = Engine(operator, embedder, gen, reader)
    libraries = ServerLibraries(servers_root, operator, engine.sibling, max_open=MAX_OPEN)
    rng = random.Random(SEED)
    for q in questions[:WARM_UP]:
        engine.ask(q)
    timed = questions[WARM_UP:]
    encode = {q: _ms(lambda q=q: real.encode([q])) for q in timed}
    figures: dict[str, object] = {"rss_before_mb": rss_mb()}

    def scoped_ms(server_id: int, question: str) -> float:
        view = ScopedLibrary(engine, lambda: libraries.get(server_id))
        return _ms(lambda: view.ask(question)) + encode[question]

    single = [_ms(lambda q=q: engine.ask(q)) + encode[q] for q in timed]
    hot = list(range(1, min(MAX_OPEN, servers) + 1))
    for server_id in hot:
        libraries.get(server_id)
    warm = [scoped_ms(rng.choice(hot), q) for q in timed]
    anywhere = [scoped_ms(rng.randint(1, servers), q) for q in timed]
    opens = []
    for _ in range(min(200, servers)):
        server_id = rng.randint(1, servers)
        libraries.close(server_id)  # cold: opened from disk next
        opens.append(_ms(lambda s=server_id: libraries.get(s)))
    for name, values in (
        ("single_library", single),
        ("server_open", warm),
        ("server_any", anywhere),
        ("cold_open", opens),
    ):
        figures[f"{name}_p50_ms"] = round(percentile(values, 50), 1)
        figures[f"{name}_p95_ms"] = round(percentile(values, 95), 1)
    figures["questions"] = len(timed)
    figures["opened"] = libraries.opened
    figures["rss_after_mb"] = rss_mb()
    figures["rss_anon_after_mb"] = rss_mb("RssAnon")
    return figures


def _ms(fn: object) -> float:
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return (time.perf_counter() - started) * 1000
