"""The engine's own candidates for training questions: the sentences the reader is shown, as negatives.

    .venv/bin/python scripts/engine_candidates.py OUT.jsonl CORPUS QUESTIONS.jsonl [...] \\
        --index-dir IDX [--read 10] [--keep N] [--embed-model MODEL]
    .venv/bin/python scripts/engine_candidates.py OUT.jsonl ../shared/train/squad1-train/corpus \\
        --stage OFFSET COUNT --index-dir IDX ...    # the SQuAD 1.1 questions a reader stage reads

The reader's training groups hold a question's own paragraph and a few sentences of its article; when
answering, it chooses among what retrieval, the passage ranker and the sentence scorer put before it,
often from other passages and stories (the largest loss on every set since session 18). This writes,
for each answerable question, the engine's first ``--read`` candidates that hold no answer string (nor an
answer's last word: such a sentence may answer in other words), as the reader would read them (index.answer.with_reader.pairs_for: the sentence, the one before it in its
paragraph, the article's title): one JSON line each, ``{"id", "question", "negatives": [[sentence,
previous, title], ...]}``, in the engine's order. scripts/reader_data.py adds them to the question's
group (``engine_negatives``). The corpus is indexed into IDX first (incrementally); READER=off, since
only the candidates are wanted. Answers are matched as the evaluation does (index.bench.evaluate).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import reader_data  # noqa: E402

from index.answer.with_reader import pairs_for  # noqa: E402
from index.bench import evaluate as ev  # noqa: E402
from index.build.builder import build_index  # noqa: E402
from index.config import Settings  # noqa: E402
from index.embedding.embedder import Embedder, load_embedder  # noqa: E402
from index.engine import Engine, Prepared  # noqa: E402


def answer_heads(answers: list[str]) -> re.Pattern[str] | None:
    """The last word of each answer (4 letters or more) as a whole-word pattern: a sentence naming
    "Bellamy" may well answer a question whose gold answer is "Tariq N. Bellamy", so it is no negative
    to train on (10.4% of the news training set's candidates were such, session 18)."""
    heads = {
        w for a in answers for w in re.findall(r"\w+", a)[-1:] if len(w) >= 4 and not w.isdigit()
    }
    if not heads:
        return None
    return re.compile(r"\b(" + "|".join(map(re.escape, sorted(heads))) + r")\b", re.IGNORECASE)


def candidates(
    engine: Engine, question: str, answers: list[str], read: int, keep: int | None = None
) -> list[list[str]]:
    """[sentence, previous, title] of the first ``read`` candidates that hold no answer string and do
    not name an answer's last word (answer_heads); at most ``keep`` of them, in the engine's order."""
    prepared = engine.prepare(question)
    if not isinstance(prepared, Prepared):
        return []
    pairs = pairs_for(prepared.gen, question, prepared.candidates[:read])
    heads = answer_heads(answers)
    found = [
        [p.sentence, p.previous, p.title]
        for p in pairs
        if not ev.contains_answer(p.sentence, answers) and not (heads and heads.search(p.sentence))
    ]
    return found[:keep] if keep is not None else found


def answerable(question_files: list[Path]) -> Iterator[tuple[str, str, list[str]]]:
    """(id, question, answers) of the files' answerable questions."""
    for path in question_files:
        for q in ev.read_questions(path):
            if not q.is_impossible and q.answers:
                yield q.id, q.question, list(q.answers)


def of_stage(
    folder: Path, offset: int, count: int, seed: int, holdout: int
) -> Iterator[tuple[str, str, list[str]]]:
    """(id, question, answers) of the SQuAD 1.1 questions a training stage reads (train_reader's
    ``question_offset`` and ``max_questions``; reader_data.stage_questions)."""
    for q in reader_data.stage_questions(
        folder, seed=seed, holdout=holdout, question_offset=offset, max_questions=count
    ):
        yield str(q["id"]), str(q["question"]), [str(a) for a in q["answers"]]  # type: ignore[attr-defined]


def collect(
    out: Path,
    corpus: Path,
    questions: Iterable[tuple[str, str, list[str]]],
    index_dir: Path,
    *,
    read: int = 10,
    keep: int | None = None,
    embedder: Embedder | None = None,
    embed_model: str = "",
) -> int:
    """Write ``out``; the number of questions written."""
    settings = Settings(reader="off", corpus_dir=corpus, index_dir=index_dir)
    if embed_model:
        settings = settings.with_(embed_model=embed_model)
    embedder = embedder or load_embedder(settings.embed_model, settings.embed_backend)
    build_index(settings, embedder)
    engine = Engine.open(settings, embedder)
    written = 0
    tmp = out.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for qid, question, answers in questions:
            negatives = candidates(engine, question, answers, read, keep)
            row = {"id": qid, "question": question, "negatives": negatives}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            written += 1
    tmp.replace(out)
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("out", type=Path)
    p.add_argument("corpus", type=Path)
    p.add_argument("questions", type=Path, nargs="*", help="JSON-lines question files")
    p.add_argument(
        "--stage",
        type=int,
        nargs=2,
        metavar=("OFFSET", "COUNT"),
        help="instead of files: the SQuAD 1.1 questions a reader stage reads (its question_offset "
        "and max_questions), from questions.jsonl beside CORPUS",
    )
    p.add_argument("--seed", type=int, default=13, help="with --stage: train_reader's --seed")
    p.add_argument("--holdout", type=int, default=20, help="with --stage: train_reader's --holdout")
    p.add_argument("--index-dir", type=Path, required=True)
    p.add_argument("--read", type=int, default=10, help="the engine's candidates looked at")
    p.add_argument(
        "--keep",
        type=int,
        default=None,
        help="at most this many negatives a question, the engine's first (default: all)",
    )
    p.add_argument("--embed-model", default="", help="default: the shipped retriever")
    args = p.parse_args(argv)
    if bool(args.stage) == bool(args.questions):
        p.error("give question files or --stage OFFSET COUNT (one of the two)")
    questions = (
        of_stage(args.corpus.parent, *args.stage, args.seed, args.holdout)
        if args.stage
        else answerable(args.questions)
    )
    n = collect(
        args.out,
        args.corpus,
        questions,
        args.index_dir,
        read=args.read,
        keep=args.keep,
        embed_model=args.embed_model,
    )
    print(f"{args.out}: {n} questions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
