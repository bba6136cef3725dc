"""`articlebot eval`: answer quality on a question set in SQuAD form, through the same path as `ask`.

Every question goes through ``Engine.ask`` (as the bot and the CLI do). Metrics, over answerable
questions unless said otherwise:

- ``retrieval@k``: a passage of the gold article containing an answer string is in the top k.
- ``quote_hit``: the primary quote contains an answer string (case and white space normalized);
  an abstention counts as a miss. ``quote_hit_answered`` is the same over answered questions.
- ``answered_rate`` on answerable questions; ``abstain_rate`` on ``is_impossible`` questions and on
  off-corpus questions (``--holdout-articles N``: N articles are left out of the index, their
  questions are still asked, and the right answer is to abstain).
- latency per question (median, p95) and the index build time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from index.bench.breakdown import (
    answerable_bin,
    format_breakdown,
    same_article,
    tally,
    unanswerable_bin,
)
from index.config import Settings
from index.errors import UsageError
from index.types import Answer

ASK_K = 20
RETRIEVAL_KS = (1, 5, 20)
ANSWERABLE, IMPOSSIBLE, OFF_CORPUS = "answerable", "impossible", "off_corpus"
_SPACE = re.compile(r"\s+")


class EvalInputError(UsageError):
    """The questions file or an option is unusable; the message names the file and line."""


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    article: str
    is_impossible: bool = False
    split: str = ""  # "fit" or "measure" where the set declares it (tests/data/news/dev.jsonl)
    style: str = ""  # "plain" or "chat" where the set says


@dataclass(frozen=True)
class QuestionResult:
    """What one question scored. ``gold_rank`` is 1-based, None when no gold passage came back."""

    id: str
    kind: str  # ANSWERABLE, IMPOSSIBLE or OFF_CORPUS
    answered: bool
    confidence: float
    gold_rank: int | None
    quote_hit: bool
    seconds: float
    quote: str = ""
    answer: str | None = None  # the answer span, when one is given
    answer_exact: bool = False  # the span equals a gold answer (SQuAD normalisation)
    answer_f1: float = 0.0  # best token F1 of the span against the gold answers
    features: tuple[float, ...] = ()  # the confidence model's inputs (for calibration)
    bin: str = ""  # where the question was won or lost (index/bench/breakdown.py)
    same_article: bool = False  # the primary quote is from the answer's own article
    style: str = ""


@dataclass
class EvalReport:
    metrics: dict[str, Any]
    results: list[QuestionResult] = field(default_factory=list)


def normalize(text: str) -> str:
    """Lower case, runs of white space as one space, trimmed: the form answers are compared in."""
    return _SPACE.sub(" ", text).strip().lower()


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    hay = normalize(text)
    return any((needle := normalize(a)) and needle in hay for a in answers)


def read_questions(path: Path) -> list[EvalQuestion]:
    """Questions in the format of ../shared/eval/*/questions.jsonl."""
    out: list[EvalQuestion] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalInputError(f"cannot read {path}: {exc.strerror}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            out.append(
                EvalQuestion(
                    id=str(item["id"]),
                    question=str(item["question"]),
                    answers=tuple(str(a) for a in item.get("answers") or ()),
                    article=str(item["article"]),
                    is_impossible=bool(item.get("is_impossible", False)),
                    split=str(item.get("split") or ""),
                    style=str(item.get("style") or ""),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise EvalInputError(
                f"{path}, line {number}: expected an object with id, question, answers, "
                f"article: {exc}"
            ) from None
    return out


def holdout_articles(questions: Sequence[EvalQuestion], n: int) -> list[str]:
    """``n`` article slugs chosen deterministically (by hash of the slug, not by position)."""
    slugs = sorted({q.article for q in questions})
    if n >= len(slugs):
        raise EvalInputError(
            f"--holdout-articles {n} would leave no article to index ({len(slugs)} in the set)"
        )
    return sorted(slugs, key=lambda s: hashlib.sha256(s.encode()).hexdigest())[:n]


def gold_ranks(answer: Answer, q: EvalQuestion) -> list[int]:
    """1-based ranks of the returned passages of the right article that hold an answer string."""
    return [
        rank
        for rank, p in enumerate(answer.passages, start=1)
        if p.article == q.article and contains_answer(p.text, q.answers)
    ]


def gold_rank(answer: Answer, q: EvalQuestion) -> int | None:
    ranks = gold_ranks(answer, q)
    return ranks[0] if ranks else None


def squad_tokens(text: str) -> list[str]:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, split on white space."""
    text = "".join(ch for ch in text.lower() if ch.isalnum() or ch.isspace())
    return [w for w in text.split() if w not in ("a", "an", "the")]


def span_scores(span: str | None, answers: Sequence[str]) -> tuple[bool, float]:
    """(exact match, best token F1) of an answer span against the gold answers."""
    if not span or not answers:
        return False, 0.0
    got = squad_tokens(span)
    exact, best = False, 0.0
    for gold in answers:
        want = squad_tokens(gold)
        exact = exact or got == want
        common = sum((Counter(got) & Counter(want)).values())
        if common:
            p, r = common / len(got), common / len(want)
            best = max(best, 2 * p * r / (p + r))
    return exact, best


def score_answer(answer: Answer, q: EvalQuestion, kind: str, seconds: float) -> QuestionResult:
    quote = answer.quotes[0].text if answer.quotes else ""
    gradable = kind == ANSWERABLE
    span = answer.answer.text if answer.answer is not None else None
    exact, f1 = span_scores(span, q.answers) if gradable else (False, 0.0)
    ranks = gold_ranks(answer, q) if gradable else []
    hit = gradable and answer.answered and contains_answer(quote, q.answers)
    return QuestionResult(
        id=q.id,
        kind=kind,
        answered=answer.answered,
        confidence=answer.confidence,
        gold_rank=ranks[0] if ranks else None,
        quote_hit=hit,
        seconds=seconds,
        quote=quote,
        answer=span,
        answer_exact=exact,
        answer_f1=round(f1, 4),
        features=tuple(round(float(v), 5) for v in answer.extra.get("features", {}).values()),
        bin=answerable_bin(answer, ranks, hit) if gradable else unanswerable_bin(answer),
        same_article=gradable and same_article(answer, q.article),
        style=q.style,
    )


def _rate(flags: Sequence[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def compute_metrics(results: Sequence[QuestionResult]) -> dict[str, Any]:
    """The figures of one run; rates are fractions (0..1), None when there is nothing to rate."""
    ans = [r for r in results if r.kind == ANSWERABLE]
    imp = [r for r in results if r.kind == IMPOSSIBLE]
    off = [r for r in results if r.kind == OFF_CORPUS]
    answered = [r for r in ans if r.answered]
    metrics: dict[str, Any] = {
        "questions": len(results),
        "answerable": len(ans),
        "impossible": len(imp),
        "off_corpus": len(off),
    }
    for k in RETRIEVAL_KS:
        metrics[f"retrieval@{k}"] = _rate(
            [r.gold_rank is not None and r.gold_rank <= k for r in ans]
        )
    metrics["quote_hit"] = _rate([r.quote_hit for r in ans])
    metrics["quote_hit_answered"] = _rate([r.quote_hit for r in answered])
    metrics["answered_rate"] = _rate([r.answered for r in ans])
    spans = [r for r in answered if r.answer is not None]
    metrics["answer_exact_answered"] = _rate([r.answer_exact for r in spans])
    metrics["answer_f1_answered"] = (
        round(sum(r.answer_f1 for r in spans) / len(spans), 4) if spans else None
    )
    metrics["abstain_rate_impossible"] = _rate([not r.answered for r in imp])
    metrics["abstain_rate_off_corpus"] = _rate([not r.answered for r in off])
    metrics["breakdown"] = tally(r.bin for r in results)
    metrics["other_passage_same_article"] = sum(
        1 for r in results if r.bin == "other_passage" and r.same_article
    )
    for style in sorted({r.style for r in ans} - {""}):
        mine = [r for r in ans if r.style == style]
        metrics[f"quote_hit_{style}"] = _rate([r.quote_hit for r in mine])
        metrics[f"answered_rate_{style}"] = _rate([r.answered for r in mine])
    seconds = [r.seconds for r in results]
    metrics["latency_ms_median"] = round(1000 * statistics.median(seconds), 2) if seconds else None
    metrics["latency_ms_p95"] = round(1000 * _percentile(seconds, 0.95), 2) if seconds else None
    return metrics


def ask_all(engine: Any, questions: Sequence[tuple[EvalQuestion, str]]) -> list[QuestionResult]:
    """Ask each (question, kind) through ``engine.ask`` with k=ASK_K and grade it."""
    results = []
    for q, kind in questions:
        started = time.perf_counter()
        answer = engine.ask(q.question, k=ASK_K)
        results.append(score_answer(answer, q, kind, time.perf_counter() - started))
    return results


def classify(
    questions: Sequence[EvalQuestion], indexed: set[str]
) -> list[tuple[EvalQuestion, str]]:
    out = []
    for q in questions:
        if q.article not in indexed:
            out.append((q, OFF_CORPUS))
        elif q.is_impossible or not q.answers:
            out.append((q, IMPOSSIBLE))
        else:
            out.append((q, ANSWERABLE))
    return out


def _corpus_files(corpus: Path) -> dict[str, Path]:
    """Article slug -> file, for the top level and sub-folders of a corpus folder."""
    files = {}
    for path in sorted(corpus.rglob("*")):
        rel = path.relative_to(corpus)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            files[rel.with_suffix("").as_posix()] = path
    return files


def holdout_corpus(corpus: Path, left_out: set[str], into: Path) -> None:
    """Copies of every article of ``corpus`` except ``left_out``, under ``into``.

    Copies, not symlinks: the corpus reader skips links that resolve outside the corpus folder.
    """
    for slug, path in _corpus_files(corpus).items():
        if slug in left_out:
            continue
        target = into / path.relative_to(corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def seed_cache(source_index: Path, index_dir: Path) -> None:
    """Start a hold-out index's vector cache from the full index's, so nothing is re-embedded."""
    src = source_index / "cache" / "embeddings.sqlite"
    dst = index_dir / "cache" / "embeddings.sqlite"
    if src.is_file() and not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)


def run_eval(
    settings: Settings,
    questions: Sequence[EvalQuestion],
    *,
    embedder: Any = None,
    holdout: int = 0,
    limit: int | None = None,
) -> EvalReport:
    """Index the corpus (incrementally; minus ``holdout`` articles), ask every question, grade."""
    from index.build.builder import build_index
    from index.embedding.embedder import load_embedder
    from index.engine import Engine

    embedder = embedder or load_embedder(settings.embed_model, settings.embed_backend)
    left_out = set(holdout_articles(questions, holdout)) if holdout else set()
    with tempfile.TemporaryDirectory(prefix="articlebot-eval-") as tmp:
        if left_out:
            corpus = Path(tmp) / "corpus"
            holdout_corpus(settings.corpus_dir, left_out, corpus)
            index_dir = settings.index_dir / f"holdout-{holdout}"
            seed_cache(settings.index_dir, index_dir)
            settings = settings.with_(corpus_dir=corpus, index_dir=index_dir)
        report = build_index(settings, embedder)
        engine = Engine.open(settings, embedder)
        indexed = {a.id for a in engine.articles()}
        asked = classify(questions, indexed)
        if limit is not None:
            asked = _limited(asked, limit)
        results = ask_all(engine, asked)
    metrics = compute_metrics(results)
    metrics |= {
        "index_build_seconds": round(report.seconds, 2),
        "index_embedded": report.embedded,
        "index_chunks": report.chunks,
        "articles_indexed": len(indexed),
        "holdout_articles": sorted(left_out),
        "min_confidence": engine.min_confidence,
        "reader": settings.reader,
    }
    return EvalReport(metrics, results)


def _limited(asked: list[tuple[EvalQuestion, str]], limit: int) -> list[tuple[EvalQuestion, str]]:
    """The first ``limit`` in-corpus questions plus, in proportion, off-corpus ones."""
    inside = [x for x in asked if x[1] != OFF_CORPUS][:limit]
    outside = [x for x in asked if x[1] == OFF_CORPUS]
    share = len(outside) / max(1, len(asked))
    return inside + outside[: round(limit * share)]


def format_table(metrics: dict[str, Any]) -> str:
    rows = [
        ("questions asked", metrics["questions"]),
        ("answerable / impossible / off-corpus",
         f"{metrics['answerable']} / {metrics['impossible']} / {metrics['off_corpus']}"),
        *[(f"retrieval@{k}", _pct(metrics[f"retrieval@{k}"])) for k in RETRIEVAL_KS],
        ("quote_hit", _pct(metrics["quote_hit"])),
        ("quote_hit (answered only)", _pct(metrics["quote_hit_answered"])),
        ("answer span exact / F1 (answered)",
         f"{_pct(metrics.get('answer_exact_answered'))} / {_pct(metrics.get('answer_f1_answered'))}"),
        ("answered_rate (answerable)", _pct(metrics["answered_rate"])),
        ("abstain_rate (is_impossible)", _pct(metrics["abstain_rate_impossible"])),
        ("abstain_rate (off-corpus)", _pct(metrics["abstain_rate_off_corpus"])),
        ("latency median / p95",
         f"{metrics['latency_ms_median']} / {metrics['latency_ms_p95']} ms"),
        ("index build", f"{metrics['index_build_seconds']} s "
         f"({metrics['index_embedded']} texts embedded, {metrics['index_chunks']} chunks)"),
        ("min_confidence", metrics["min_confidence"]),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "questions", type=Path, help="questions.jsonl (id, question, answers, article)"
    )
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument("--limit", type=int, help="ask only the first N in-corpus questions")
    parser.add_argument(
        "--holdout-articles",
        type=int,
        default=0,
        metavar="N",
        help="leave N articles (chosen by hash) out of the index; their questions should abstain",
    )
    parser.add_argument(
        "--articles",
        type=Path,
        metavar="FILE",
        help="ask only questions of these articles (JSON list or one slug a line)",
    )
    parser.add_argument(
        "--dump", type=Path, metavar="FILE", help="write one JSON line per question graded"
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also print where each question was won or lost (one bin each; always in --json)",
    )
    parser.add_argument(
        "--split",
        choices=("fit", "measure"),
        help="ask only the questions of this declared split (e.g. tests/data/news/dev.jsonl)",
    )
    parser.add_argument(
        "--off-topic",
        type=Path,
        metavar="FILE",
        help="also ask questions of another set (about articles not in the corpus): all should "
        "be declined",
    )
    parser.add_argument(
        "--off-topic-limit",
        type=int,
        default=200,
        metavar="N",
        help="how many --off-topic questions to ask, chosen by hash of their id (default 200)",
    )


def read_article_filter(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        return set(json.loads(text))
    return {line.strip() for line in text.splitlines() if line.strip()}


def run_eval_command(args: argparse.Namespace, settings: Settings, out: TextIO = sys.stdout) -> int:
    if args.limit is not None and args.limit < 1:
        raise EvalInputError("--limit must be at least 1")
    if args.holdout_articles < 0:
        raise EvalInputError("--holdout-articles must be 0 or more")
    questions = read_questions(args.questions)
    if args.articles is not None:
        keep = read_article_filter(args.articles)
        questions = [q for q in questions if q.article in keep]
    if args.split is not None:
        questions = [q for q in questions if q.split == args.split]
    if not questions:
        raise EvalInputError(f"{args.questions}: no questions to ask")
    if args.off_topic is not None:
        questions += off_topic_questions(
            read_questions(args.off_topic), args.off_topic_limit, {q.article for q in questions}
        )
    report = run_eval(settings, questions, holdout=args.holdout_articles, limit=args.limit)
    if args.dump is not None:
        with args.dump.open("w", encoding="utf-8") as handle:
            for r in report.results:
                handle.write(json.dumps(asdict(r), ensure_ascii=False) + "\n")
    if args.json:
        print(json.dumps(report.metrics, indent=2), file=out)
    else:
        print(format_table(report.metrics), file=out)
        if args.breakdown:
            print(
                format_breakdown(
                    report.metrics["breakdown"],
                    report.metrics,
                    report.metrics.get("other_passage_same_article"),
                ),
                file=out,
            )
    return 0


def off_topic_questions(
    questions: Sequence[EvalQuestion], limit: int, articles: set[str]
) -> list[EvalQuestion]:
    """``limit`` questions of another set, chosen by hash of their id, none about ``articles``;
    marked so that they stay off-corpus whatever their slug (their id and article get "off:")."""
    if limit < 1:
        raise EvalInputError("--off-topic-limit must be at least 1")
    chosen = sorted(
        (q for q in questions if q.article not in articles),
        key=lambda q: hashlib.sha256(q.id.encode()).hexdigest(),
    )[:limit]
    return [replace(q, id=f"off:{q.id}", article=f"off:{q.article}") for q in chosen]
