"""How often articles that disagree on a figure are shown side by side (issue 20), and how often an
answer sets figures side by side where it should not.

    python scripts/measure_differing.py [--index-dir DIR]

Indexes tests/data/news/corpus (four stories and their updates among 44), asks the questions of
tests/data/news/updates.jsonl (each names a figure an update changed: right when the answer shows
the update's figure first and the earlier story's second) and every question of dev.jsonl (counting
those whose answer sets figures side by side). Prints one line per update question and the totals.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.bench.evaluate import contains_answer, read_questions  # noqa: E402
from index.build.builder import build_index  # noqa: E402
from index.config import Settings  # noqa: E402
from index.embedding.embedder import load_embedder  # noqa: E402
from index.engine import Engine  # noqa: E402

NEWS = ROOT / "tests/data/news"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index-dir", type=Path, help="default: a temporary folder")
    args = ap.parse_args(argv)
    index_dir = args.index_dir or Path(tempfile.mkdtemp(prefix="differing-"))
    settings = Settings.from_env({}, corpus_dir=NEWS / "corpus", index_dir=index_dir)
    embedder = load_embedder(settings.embed_model, settings.embed_backend)
    build_index(settings, embedder)
    engine = Engine.open(settings, embedder)
    right = shown = 0
    updates = [json.loads(line) for line in (NEWS / "updates.jsonl").open(encoding="utf-8")]
    for u in updates:
        d = engine.ask(u["question"]).differing
        ok = (
            len(d) == 2
            and d[0].article == u["newer"]["article"]
            and contains_answer(d[0].text, u["newer"]["answers"])
            and d[1].article == u["older"]["article"]
            and contains_answer(d[1].text, u["older"]["answers"])
        )
        shown += bool(d)
        right += ok
        side = "; ".join(f"{x.text} ({x.date})" for x in d) or "-"
        print(f"{u['id']} {'right' if ok else 'wrong' if d else 'not shown'}: {side}")
    questions = read_questions(NEWS / "dev.jsonl")
    flagged = [q.id for q in questions if engine.ask(q.question).differing]
    print(
        f"update questions shown side by side, newest first: {right} of {len(updates)} "
        f"(shown at all: {shown}); news set questions with figures side by side: "
        f"{len(flagged)} of {len(questions)} ({', '.join(flagged)})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
