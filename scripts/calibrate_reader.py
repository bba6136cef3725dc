"""Fit the reader's confidence model (index/data/reader_confidence.json) and its abstention threshold.

    .venv/bin/python scripts/calibrate_reader.py            # collect (about 15 min on 2 cores), fit, report
    .venv/bin/python scripts/calibrate_reader.py --fit-only # refit from var/calibration/*.jsonl

Data: the SQuAD development sets in ../shared/eval (articles the reader never saw in training):
squad1 (answerable), squad2 (half of its questions are written to look answerable but are not), and
squad1 questions whose article is left out of the index (off-corpus); and the fitting part of our news
set (tests/data/news/dev.jsonl, `split: fit`), so that the confidence is not Wikipedia's alone. Of
squad2 only the articles of its declared training half are fit on (`squad2_half`: the first byte of the
slug's SHA-256 even; the other half is only measured, docs/READER.md). A question's label is 1 when the
primary quote holds a gold answer. The model is a logistic regression over with_reader.READER_FEATURES;
it is measured on articles it was not fit on (two halves by article, each fit on the other), then refit
on all. The threshold is the one that keeps TARGET_ANSWERED of squad1's questions answered.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.answer.scoring import DATA_DIR, LinearModel  # noqa: E402
from index.answer.with_reader import READER_FEATURES  # noqa: E402
from index.bench import evaluate as ev  # noqa: E402
from index.build.builder import build_index  # noqa: E402
from index.config import Settings  # noqa: E402
from index.embedding.embedder import load_embedder  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.reader.model import Reader, confidence_model_name  # noqa: E402

SHARED = ROOT.parent / "shared" / "eval"
OUT = ROOT / "var" / "calibration"
TARGET_ANSWERED = 0.95
OFF_FOLDS = 2
OFF_ARTICLES = 6  # per fold
OFF_QUESTIONS = 800  # per fold at most


def squad2_half(article: str) -> str:
    """The declared halves of ../shared/eval/squad2 by article: "train" may be fit on, "measure" not."""
    return "train" if hashlib.sha256(article.encode()).digest()[0] % 2 == 0 else "measure"


def _half(article: str) -> int:
    return int(hashlib.sha256(article.encode()).hexdigest(), 16) % 2


def collect(
    name: str,
    questions_file: Path,
    settings: Settings,
    embedder: object,
    out: Path,
    split: str | None = None,
) -> None:
    qs = ev.read_questions(questions_file)
    if split is not None:
        qs = [q for q in qs if q.split == split]
    build_index(settings, embedder)  # type: ignore[arg-type]
    engine = Engine.open(settings, embedder)  # type: ignore[arg-type]
    asked = ev.classify(qs, {a.id for a in engine.articles()})
    _write(out, name, asked, ev.ask_all(engine, asked))


def collect_off_corpus(
    questions_file: Path, base: Settings, index_root: Path, embedder: object, out: Path
) -> None:
    """``base``: the settings of every fold (its corpus_dir is the whole corpus)."""
    corpus = base.corpus_dir
    qs = ev.read_questions(questions_file)
    slugs = sorted({q.article for q in qs}, key=lambda s: hashlib.sha256(s.encode()).hexdigest())
    for fold in range(OFF_FOLDS):
        left = set(slugs[fold * OFF_ARTICLES : (fold + 1) * OFF_ARTICLES])
        with tempfile.TemporaryDirectory() as tmp:
            ev.holdout_corpus(corpus, left, Path(tmp) / "corpus")
            settings = base.with_(
                corpus_dir=Path(tmp) / "corpus", index_dir=index_root / f"off-{fold}"
            )
            build_index(settings, embedder)  # type: ignore[arg-type]
            engine = Engine.open(settings, embedder)  # type: ignore[arg-type]
            asked = [
                x
                for x in ev.classify(qs, {a.id for a in engine.articles()})
                if x[1] == ev.OFF_CORPUS
            ]
            asked = asked[:: max(1, len(asked) // OFF_QUESTIONS)][:OFF_QUESTIONS]
            _write(out, f"off-{fold}", asked, ev.ask_all(engine, asked))


def _write(out: Path, name: str, asked: list, results: list) -> None:  # type: ignore[type-arg]
    out.mkdir(parents=True, exist_ok=True)
    with (out / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
        for (q, _), r in zip(asked, results, strict=True):
            fh.write(json.dumps({"set": name, "article": q.article, **asdict(r)}) + "\n")
    print(
        f"{name}: {len(results)} questions, {json.dumps(ev.compute_metrics(results))}", flush=True
    )


def load_rows(out: Path = OUT) -> list[dict]:  # type: ignore[type-arg]
    rows = []
    for f in sorted(out.glob("*.jsonl")):
        rows += [json.loads(line) for line in f.open(encoding="utf-8")]
    return rows


def fit(x: np.ndarray, y: np.ndarray, c: float = 1.0) -> LinearModel:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    clf = LogisticRegression(C=c, max_iter=3000).fit((x - mean) / scale, y)
    return LinearModel(READER_FEATURES, clf.coef_[0], float(clf.intercept_[0]), mean, scale)


def report(rows: list[dict], conf: np.ndarray, threshold: float) -> dict[str, float]:  # type: ignore[type-arg]
    def rate(flags: list[bool]) -> float:
        return round(float(np.mean(flags)), 4) if flags else float("nan")

    s1 = [i for i, r in enumerate(rows) if r["set"] == "squad1" and r["kind"] == ev.ANSWERABLE]
    s2a = [i for i, r in enumerate(rows) if r["set"] == "squad2" and r["kind"] == ev.ANSWERABLE]
    s2i = [i for i, r in enumerate(rows) if r["set"] == "squad2" and r["kind"] == ev.IMPOSSIBLE]
    off = [i for i, r in enumerate(rows) if r["kind"] == ev.OFF_CORPUS]
    ans = conf >= threshold
    return {
        "threshold": round(threshold, 4),
        "squad1_answered": rate([bool(ans[i]) for i in s1]),
        "squad1_quote_hit": rate([bool(ans[i]) and rows[i]["quote_hit"] for i in s1]),
        "squad1_quote_hit_answered": rate([rows[i]["quote_hit"] for i in s1 if ans[i]]),
        "squad1_span_exact_answered": rate([rows[i]["answer_exact"] for i in s1 if ans[i]]),
        "squad1_span_f1_answered": rate([rows[i]["answer_f1"] for i in s1 if ans[i]]),
        "squad2_answered_answerable": rate([bool(ans[i]) for i in s2a]),
        "squad2_abstained_impossible": rate([not ans[i] for i in s2i]),
        "off_corpus_abstained": rate([not ans[i] for i in off]),
    }


def threshold_for(rows: list[dict], conf: np.ndarray, target: float) -> float:  # type: ignore[type-arg]
    s1 = np.sort(
        [conf[i] for i, r in enumerate(rows) if r["set"] == "squad1" and r["kind"] == ev.ANSWERABLE]
    )
    return float(s1[int((1 - target) * len(s1))])


def curve(rows: list[dict], conf: np.ndarray) -> list[dict[str, float]]:  # type: ignore[type-arg]
    return [
        report(rows, conf, threshold_for(rows, conf, t))
        for t in (0.99, 0.97, 0.95, 0.93, 0.90, 0.85, 0.80)
    ]


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--fit-only", action="store_true")
    ap.add_argument("--c", type=float, default=1.0)
    ap.add_argument(
        "--index-root", type=Path, help="reuse the indexes of an earlier run (a folder)"
    )
    ap.add_argument(
        "--reader-model", default="", help="a reader .onnx other than the shipped one (a candidate)"
    )
    ap.add_argument(
        "--embed-model",
        default="",
        help="a sentence-transformers folder other than the default embedder (a candidate retriever)",
    )
    ap.add_argument(
        "--data", type=Path, default=OUT, help="where the per-question lines go (and are read)"
    )
    ap.add_argument(
        "--news-held",
        type=Path,
        help="news training questions (over tests/data/news-train/corpus) the reader was NOT trained "
        "on, fit on too (set `news-held`): more news, unanswerable ones included",
    )
    ap.add_argument(
        "--backend",
        choices=("int8", "bf16"),
        default=None,
        help="the reader backend whose logits are calibrated (default: what READER_BACKEND, "
        "auto unless set, picks on this CPU); writes reader_confidence.json for int8, "
        "reader_confidence_bf16.json for bf16",
    )
    args = ap.parse_args()
    if args.backend is None:
        args.backend = Reader(backend=os.environ.get("READER_BACKEND") or "auto").backend
    if not args.fit_only:
        if not SHARED.is_dir():
            raise SystemExit(f"evaluation data not found at {SHARED}")
        # Abstention off, so every question's features are recorded; "" = the shipped reader.
        base = Settings(
            min_confidence=0.0, reader_model=args.reader_model, reader_backend=args.backend
        )
        if args.embed_model:
            base = base.with_(embed_model=args.embed_model)
        embedder = load_embedder(base.embed_model, base.embed_backend)
        root = args.index_root or Path(tempfile.mkdtemp(prefix="calibrate-"))
        for name in ("squad1", "squad2"):
            settings = base.with_(corpus_dir=SHARED / name / "corpus", index_dir=root / name)
            collect(name, SHARED / name / "questions.jsonl", settings, embedder, args.data)
        news = ROOT / "tests" / "data" / "news"
        settings = base.with_(corpus_dir=news / "corpus", index_dir=root / "news")
        collect("news", news / "dev.jsonl", settings, embedder, args.data, split="fit")
        if args.news_held is not None:
            corpus = ROOT / "tests" / "data" / "news-train" / "corpus"
            settings = base.with_(corpus_dir=corpus, index_dir=root / "news-held")
            collect("news-held", args.news_held, settings, embedder, args.data)
        collect_off_corpus(
            SHARED / "squad1/questions.jsonl",
            base.with_(corpus_dir=SHARED / "squad1/corpus"),
            root,
            embedder,
            args.data,
        )
    every = [r for r in load_rows(args.data) if r["features"]]
    measured_only = [
        r for r in every if r["set"] == "squad2" and squad2_half(r["article"]) == "measure"
    ]
    rows = [
        r for r in every if not (r["set"] == "squad2" and squad2_half(r["article"]) == "measure")
    ]
    x = np.array([r["features"] for r in rows], dtype=np.float64)
    y = np.array([1 if r["kind"] == ev.ANSWERABLE and r["quote_hit"] else 0 for r in rows])
    halves = np.array([_half(r["article"]) for r in rows])
    held = np.zeros(len(rows))
    for h in (0, 1):
        model = fit(x[halves != h], y[halves != h], args.c)
        held[halves == h] = model.prob(x[halves == h])
    raw = 1 / (1 + np.exp(-x[:, 0]))
    print("reader probability alone (uncalibrated):")
    for line in curve(rows, raw):
        print("  ", json.dumps(line))
    print("confidence model, measured on the half of the articles it was not fit on:")
    for line in curve(rows, held):
        print("  ", json.dumps(line))
    final = fit(x, y, args.c)
    conf = final.prob(x)
    threshold = threshold_for(rows, conf, TARGET_ANSWERED)
    chosen = report(rows, conf, threshold)
    print("final model on all data, threshold for 95% of squad1 answered:", json.dumps(chosen))
    if measured_only:
        xm = np.array([r["features"] for r in measured_only], dtype=np.float64)
        print(
            "squad2's measuring half (never fit on):",
            json.dumps(report(measured_only, final.prob(xm), threshold)),
        )
    for news_set in ("news", "news-held"):
        _news_report(news_set, rows, conf, threshold)
    fit_on = "squad1 dev, squad2 dev (training half), off-corpus folds, news set (fit)"
    if any(r["set"] == "news-held" for r in rows):
        fit_on += ", news training questions the reader was not trained on"
    data = final.to_json() | {"threshold": round(threshold, 4), "fit_on": fit_on}
    name = confidence_model_name(args.backend)
    (DATA_DIR / f"{name}.json").write_text(json.dumps(data, indent=1) + "\n")
    return 0


def _news_report(name: str, rows: list[dict], conf: np.ndarray, threshold: float) -> None:  # type: ignore[type-arg]
    news_rows = [i for i, r in enumerate(rows) if r["set"] == name]
    if news_rows:
        ans = conf >= threshold
        ok = [i for i in news_rows if rows[i]["kind"] == ev.ANSWERABLE]
        imp = [i for i in news_rows if rows[i]["kind"] == ev.IMPOSSIBLE]
        print(
            f"{name} (fit on):",
            json.dumps(
                {
                    "answered": round(float(np.mean([ans[i] for i in ok])), 4),
                    "quote_hit": round(
                        float(np.mean([bool(ans[i]) and rows[i]["quote_hit"] for i in ok])), 4
                    ),
                    "impossible_declined": round(float(np.mean([not ans[i] for i in imp])), 4)
                    if imp
                    else None,
                }
            ),
        )


if __name__ == "__main__":
    sys.exit(main())
