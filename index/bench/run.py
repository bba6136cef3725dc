"""`articlebot bench`: model load, index build (full and incremental) and question latency, with memory.

Figures go to docs/PERFORMANCE.md by hand, with the machine and the date; tests never time anything.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from index.config import Settings
from index.errors import UsageError

if TYPE_CHECKING:
    from index.engine import Engine


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--questions-file",
        type=Path,
        help="JSON lines with 'question' (default: made from the corpus)",
    )
    parser.add_argument(
        "-n", "--questions", type=int, help="questions to time (default 200; 1000 with --scale)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--scale",
        type=int,
        metavar="N",
        help="instead: a synthetic corpus of about N chunks built with a hash embedder (build, "
        "one-article update, cold open, RSS, question latency with the real encoder's cost)",
    )
    parser.add_argument(
        "--servers",
        type=int,
        metavar="N",
        help="instead: N server libraries of 20 synthetic articles beside an operator library of "
        "--operator-articles (question latency single vs per server, cold open, memory)",
    )
    parser.add_argument(
        "--operator-articles",
        type=int,
        default=10_000,
        help="with --servers: the operator library's synthetic articles (default 10000)",
    )
    parser.add_argument(
        "--no-encoder",
        action="store_true",
        help="with --scale: leave the real question encoder's cost out",
    )
    parser.add_argument(
        "--build",
        action="store_true",
        help="instead: a full build against the runtime's fixed-shape throughput and against a "
        "plain sentence-transformers + FAISS pipeline over the same articles (needs [dev])",
    )
    parser.add_argument(
        "--workdir", type=Path, help="with --scale: build here and keep it (default: a temp folder)"
    )


def run_bench_command(args: argparse.Namespace, settings: Settings) -> int:
    from index.build.builder import build_index
    from index.embedding.embedder import describe, load_embedder
    from index.engine import Engine

    figures: dict[str, object] = {"machine": machine(), "date": time.strftime("%Y-%m-%d")}
    if args.servers is not None:
        from index.bench.servers import run_servers_bench

        if args.servers < 1:
            raise UsageError(f"--servers must be a positive number, got {args.servers}")
        figures |= run_servers_bench(
            settings,
            args.servers,
            args.questions or 300,
            operator_articles=args.operator_articles,
            workdir=args.workdir,
        )
        print_figures(figures, as_json=args.json)
        return 0
    if args.scale is not None:
        from index.bench.scale import run_scale_bench

        if args.scale < 1:
            raise UsageError(f"--scale must be a positive number of chunks, got {args.scale}")
        n = args.questions or 1000
        figures |= run_scale_bench(settings, args.scale, n, not args.no_encoder, args.workdir)
        print_figures(figures, as_json=args.json)
        return 0
    started = time.perf_counter()
    embedder = load_embedder(settings.embed_model, settings.embed_backend)
    figures["model_load_s"] = round(time.perf_counter() - started, 2)
    figures["embedder"] = describe(embedder)
    if args.build:
        from index.bench.build_speed import build_figures

        figures |= build_figures(settings, embedder, plain=True)
        print_figures(figures, as_json=args.json)
        return 0
    with tempfile.TemporaryDirectory(prefix="articlebot-bench-") as tmp:
        fresh = settings.with_(index_dir=Path(tmp))
        full = build_index(fresh, embedder)
        figures["build_full_s"] = round(full.seconds, 2)
        figures["articles"] = full.added
        figures["chunks"] = full.chunks
        figures["texts_embedded"] = full.embedded
        figures["texts_per_s"] = round(full.embedded / full.seconds, 1) if full.seconds else None
        again = build_index(fresh, embedder)
        figures["build_unchanged_s"] = round(again.seconds, 2)
        engine = Engine.open(fresh, embedder)
        questions = load_questions(args.questions_file, engine, args.questions or 200)
        engine.ask(questions[0])  # warm-up
        latencies = []
        for question in questions:
            t = time.perf_counter()
            engine.ask(question)
            latencies.append((time.perf_counter() - t) * 1000)
    figures["questions"] = len(latencies)
    figures["ask_ms_p50"] = round(statistics.median(latencies), 1)
    figures["ask_ms_p95"] = round(percentile(latencies, 95), 1)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0)
    print_figures(figures, as_json=args.json)
    return 0


def print_figures(figures: dict[str, object], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:>22}: {value}")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered)) - 1))
    return ordered[rank]


def load_questions(path: Path | None, engine: Engine, n: int) -> list[str]:
    """Questions from a JSON-lines file, or the opening words of random corpus sentences."""
    if path is not None:
        with path.open(encoding="utf-8") as handle:
            rows = [json.loads(line)["question"] for line in handle if line.strip()]
        return rows[:n]
    rng = random.Random(0)
    texts = [found[1] for a in engine.articles() if (found := engine.article(a.id))]
    words = [w for t in texts for w in t.split()]
    return [" ".join(words[i : i + 8]) for i in rng.sample(range(max(1, len(words) - 8)), n)]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {cpu}, {mem:.0f} GiB, Python {platform.python_version()}"
