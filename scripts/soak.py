"""`make soak`: the load replayed through the real discord.py client against the loopback Discord.

Usage: python scripts/soak.py [--seconds 600] [--per-minute 500] [--users 50] [--json FILE]
                              [--corpus DIR]

Copies the corpus (default: the shipped sample corpus) to a temporary folder, indexes it with the
real model, serves it with the reader (the defaults of `articlebot run`), and runs tests/e2e/soak.py's
plan: questions at a fixed rate, a `/reindex` a third of the way in and an `/add-article` two thirds
in. Prints one table (and writes the JSON report with --json); exits 1 if anything went wrong
(an error reply, a question without a reply, a logged error, a failed admin command).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests.e2e is not an installed package

from index.build.builder import build_index  # noqa: E402
from index.config import DEFAULT_MODEL, Settings  # noqa: E402
from index.embedding.embedder import load_embedder  # noqa: E402
from index.engine import Engine  # noqa: E402
from tests.e2e.soak import SoakPlan, format_table, run_soak  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--per-minute", type=float, default=500.0)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    plan = SoakPlan(seconds=args.seconds, per_minute=args.per_minute, users=args.users)

    with tempfile.TemporaryDirectory(prefix="articlebot-soak-") as tmp:
        root = Path(tmp)
        corpus = shutil.copytree(args.corpus, root / "corpus")
        settings = Settings.from_env({}, corpus_dir=corpus, index_dir=root / "index")
        embedder = load_embedder(DEFAULT_MODEL, "onnx")
        built = time.perf_counter()
        build_index(settings, embedder)
        print(f"indexed {args.corpus} in {time.perf_counter() - built:.1f} s", file=sys.stderr)
        engine = Engine.open(settings, embedder)
        print(
            f"soak: {plan.questions} questions from {plan.users} users over {plan.seconds:g} s",
            file=sys.stderr,
        )
        report = asyncio.run(run_soak(plan, settings, engine, root / "bot.sqlite3"))

    print(format_table(report))
    data = report.as_json() | {
        "machine": f"{platform.node()}, {platform.machine()}, Python {platform.python_version()}",
        "reader": settings.reader,
        "corpus": str(args.corpus),
    }
    if args.json:
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    for line in report.logged_errors[:10] + report.problems[:10]:
        print(f"  {line}", file=sys.stderr)
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
