"""Fit the weights of the reader's choice (index/answer/with_reader.py: SPAN_WEIGHT, SCORER_WEIGHT,
PASSAGE_RANK_WEIGHT, LEDE_PENALTY) on the questions of fitting sets, and measure them on others.

    # 1. collect each set's candidates as the engine reads them (the reader's 6, as when answering)
    .venv/bin/python scripts/fit_choice.py collect news-fit tests/data/news/dev.jsonl \\
        tests/data/news/corpus --index-dir var/choice/idx-news --split fit
    # 2. fit on some sets, measure on all
    .venv/bin/python scripts/fit_choice.py fit --on news-fit squad1-fit \\
        --measure news-measure squad1 [--fix lede=3.5]
    # 3. what the first quote holds, and its length, as READER_PAIR_MARGIN varies
    .venv/bin/python scripts/fit_choice.py margins news-fit news-measure --margins 0 2 3 4

The model is a conditional logit: for each question, a softmax over its candidates of
``logit + a*span + b*scorer - c*rank - d*lede``, the reader's logit's weight fixed at 1 so that the
choice's margins (READER_PAIR_MARGIN, differing.DIFFER_MARGIN) keep their scale; a question whose
candidates all or none hold the answer teaches nothing and is left out. Measured: the share of
questions whose best candidate holds a gold answer (no abstention). Collected rows are written to
var/choice/NAME.json; nothing here changes the shipped files (copy the weights by hand, with the
figures, into with_reader.py and docs/EVALUATION.md).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.answer import with_reader as wr  # noqa: E402
from index.answer.further import LOOK_FURTHER_BELOW  # noqa: E402
from index.answer.quotes import (  # noqa: E402
    CANDIDATE_PASSAGES,
    MAX_QUOTE_CHARS,
    Candidate,
    quote_for,
    score_candidates,
)
from index.bench import evaluate as ev  # noqa: E402
from index.build.builder import build_index  # noqa: E402
from index.config import Settings  # noqa: E402
from index.embedding.embedder import load_embedder  # noqa: E402
from index.engine import Engine, Prepared  # noqa: E402

OUT = ROOT / "var" / "choice"
NAMES = ("span", "scorer", "rank", "lede")  # the weights fit, after the logit's (fixed at 1)


def candidate_rows(
    engine: Engine,
    p: Prepared,
    answers: list[str],
    read: int,
    candidates: list[Candidate] | None = None,
) -> list[list[float]]:
    """[logit, span, scorer, rank, lede, gold, *quotes] for each candidate the reader reads (the first
    ``read`` of ``candidates``, by default the prepared question's); ``quotes`` (pair_columns) says what
    the quote of the sentence alone and of the pairs with its neighbours would hold, for weighing the
    neighbour margin (``margins``)."""
    assert engine.reader is not None, "READER=off: nothing to fit"
    top = (p.candidates if candidates is None else candidates)[:read]
    readings = engine.reader.read(wr.pairs_for(p.gen, p.asked.text, top))
    ledes = not wr.asks_definition(p.asked.question)
    rows = []
    for c, r in zip(top, readings, strict=True):
        span = r.span_score if math.isfinite(r.span_score) else wr.NO_SPAN
        lede = float(ledes and wr.is_lede(p.gen, c.sentence))
        gold = ev.contains_answer(p.gen.sentence_text(c.sentence), answers)
        rows.append(
            [
                r.logit,
                span,
                c.score,
                float(c.passage_rank),
                lede,
                float(gold),
                *pair_columns(p, c.sentence, answers),
            ]
        )
    return rows


def pair_columns(p: Prepared, s: int, answers: list[str]) -> list[float]:
    """[sentence, gold, chars] of the quote of sentence ``s`` alone, then of its pair with the previous
    and with the next sentence (gold -1 where primary_span_quote would not pair them)."""
    gen = p.gen
    alone = quote_for(gen, s)
    out = [float(s), float(ev.contains_answer(alone.text, answers)), float(len(alone.text))]
    for n in (s - 1, s + 1):
        first, last = min(s, n), max(s, n)
        if (
            0 <= n < len(gen.sentence_article)
            and gen.sentence_article[n] == gen.sentence_article[s]
            and gen.sentence_paragraph[n] == gen.sentence_paragraph[s]
            and int(gen.sentence_end[last]) - int(gen.sentence_start[first]) <= MAX_QUOTE_CHARS
        ):
            q = quote_for(gen, first, last)
            out += [float(ev.contains_answer(q.text, answers)), float(len(q.text))]
        else:
            out += [-1.0, 0.0]
    return out


def collect(args: argparse.Namespace) -> None:
    settings = Settings(min_confidence=0.0, reader_model=args.reader_model or "").with_(
        corpus_dir=args.corpus, index_dir=args.index_dir
    )
    if args.embed_model:
        settings = settings.with_(embed_model=args.embed_model)
    embedder = load_embedder(settings.embed_model, settings.embed_backend)
    build_index(settings, embedder)
    engine = Engine.open(settings, embedder=embedder)
    questions = [q for q in ev.read_questions(args.questions) if q.answers and not q.is_impossible]
    if args.split:
        questions = [q for q in questions if q.split == args.split]
    if args.articles:
        keep = set(args.articles.read_text(encoding="utf-8").split())
        questions = [q for q in questions if q.article in keep]
    out = []
    for q in questions[:: args.stride]:
        prepared = engine.prepare(q.question)
        if isinstance(prepared, Prepared) and prepared.candidates:
            row = {"id": q.id, "rows": candidate_rows(engine, prepared, list(q.answers), args.read)}
            if prepared.further:
                row["rows2"] = candidate_rows(
                    engine, prepared, list(q.answers), args.read, second_look(prepared)
                )
            out.append(row)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{args.name}.json").write_text(json.dumps(out), encoding="utf-8")
    print(f"{args.name}: {len(out)} questions -> {OUT / (args.name + '.json')}")


def second_look(p: Prepared) -> list[Candidate]:
    """The candidates of the engine's second look (Engine.finish): the first passages and the leading
    story's further chunks, scored together."""
    hits = [*p.hits[:CANDIDATE_PASSAGES], *p.further]
    return score_candidates(p.gen, p.qvec, p.asked.scoring, hits, passages=len(hits))


def signed(m: np.ndarray) -> np.ndarray:
    """The choice's features of collected rows, signed so that every weight is positive when it helps:
    + span, + scorer, - rank, - lede."""
    return np.column_stack([m[:, 0], m[:, 1], m[:, 2], -m[:, 3], -m[:, 4]])


def load(name: str, read: int = wr.READER_CANDIDATES) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each question's first candidates (signed) and which hold a gold answer."""
    return [(x, g) for x, g, _, _ in load_looked(name, read, 0)]


def accuracy(sets: list[tuple[np.ndarray, np.ndarray]], w: np.ndarray) -> float:
    return float(np.mean([g[int(np.argmax(x @ w))] for x, g in sets])) if sets else float("nan")


Looked = tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]


def load_looked(name: str, read: int, read2: int) -> list[Looked]:
    """Each question's first candidates and, where the engine would take a second look, those of the
    second look (``rows2``, collected since session 16; None for older collections)."""
    data = json.loads((OUT / f"{name}.json").read_text(encoding="utf-8"))
    out: list[Looked] = []
    for q in data:
        m = np.asarray(q["rows"][:read], dtype=np.float64)
        m2 = np.asarray(q["rows2"][:read2], dtype=np.float64) if q.get("rows2") and read2 else None
        out.append(
            (
                signed(m),
                m[:, 5] > 0,
                None if m2 is None else signed(m2),
                None if m2 is None else m2[:, 5] > 0,
            )
        )
    return out


def as_engine(q: Looked, w: np.ndarray, below: float) -> tuple[np.ndarray, np.ndarray]:
    """The candidates the engine's final choice is made over with weights ``w``: the second look's when
    the first choice's reader logit is under ``below`` (further.looks_further)."""
    x, g, x2, g2 = q
    if x2 is not None and g2 is not None and x[int(np.argmax(x @ w)), 0] < below:
        return x2, g2
    return x, g


def accuracy_looked(sets: list[Looked], w: np.ndarray, below: float) -> float:
    return accuracy([as_engine(q, w, below) for q in sets], w)


def fit_weights(
    sets: list[tuple[np.ndarray, np.ndarray]], fixed: dict[str, float], l2: float = 0.1
) -> np.ndarray:
    from scipy.optimize import minimize

    useful = [(x, g) for x, g in sets if g.any() and not g.all()]
    free = [i for i, n in enumerate(NAMES) if n not in fixed]

    def full(v: np.ndarray) -> np.ndarray:
        w = np.ones(1 + len(NAMES))
        for i, n in enumerate(NAMES):
            w[1 + i] = fixed[n] if n in fixed else v[free.index(i)]
        return w

    def loss(v: np.ndarray) -> tuple[float, np.ndarray]:
        w = full(v)
        total, grad = l2 * float(v @ v), 2 * l2 * v
        for x, g in useful:
            z = x @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            pg = float(p[g].sum())
            total -= math.log(pg + 1e-12)
            dz = p - (p * g) / (pg + 1e-12)  # d(-log pg)/dz
            grad = grad + (dz @ x)[[1 + i for i in free]]
        return total, grad

    start = np.array([[0.5, 0.2, 0.0, 2.5][i] for i in free])
    return full(minimize(loss, start, jac=True, method="L-BFGS-B").x)


def fit(args: argparse.Namespace) -> None:
    fixed = dict((k, float(v)) for k, v in (f.split("=") for f in args.fix))
    shipped = np.array(
        [
            1.0,
            wr.SPAN_WEIGHT,
            wr.SCORER_WEIGHT,
            wr.PASSAGE_RANK_WEIGHT,
            wr.LEDE_PENALTY,
        ]
    )
    if args.second_look:
        fit_looked(args, fixed, shipped)
        return
    on = [q for name in args.on for q in load(name, args.read)]
    w = fit_weights(on, fixed)
    print(
        "weights (logit 1): " + ", ".join(f"{n} {v:.3f}" for n, v in zip(NAMES, w[1:], strict=True))
    )
    for name in [*args.on, *args.measure]:
        sets = load(name, args.read)
        role = "fit on" if name in args.on else "measured"
        print(
            f"{name} ({role}, {len(sets)}): shipped weights {accuracy(sets, shipped):.1%}, "
            f"fit {accuracy(sets, w):.1%}"
        )


def fit_looked(args: argparse.Namespace, fixed: dict[str, float], shipped: np.ndarray) -> None:
    """Fit with the second look as the engine takes it: each question's softmax is over the candidates
    the shipped weights would end on (first or second look), then every set is measured with the
    second look emulated for each weighting and each threshold of ``--below``."""
    on = [
        as_engine(q, shipped, LOOK_FURTHER_BELOW)
        for name in args.on
        for q in load_looked(name, args.read, args.read2)
    ]
    w = fit_weights(on, fixed)
    print(
        "weights (logit 1): " + ", ".join(f"{n} {v:.3f}" for n, v in zip(NAMES, w[1:], strict=True))
    )
    for name in [*args.on, *args.measure]:
        sets = load_looked(name, args.read, args.read2)
        role = "fit on" if name in args.on else "measured"
        cells = [
            f"below {b:g}: shipped {round(accuracy_looked(sets, shipped, b) * len(sets))}, "
            f"fit {round(accuracy_looked(sets, w, b) * len(sets))}"
            for b in args.below
        ]
        print(f"{name} ({role}, {len(sets)}): " + " | ".join(cells))


def paired(rows: np.ndarray, w: np.ndarray, margin: float) -> tuple[bool, float]:
    """What the first quote holds and its length, as primary_span_quote pairs the best candidate with
    a read neighbour scoring within ``margin`` of it (rows of collect, pair_columns included)."""
    z = signed(rows) @ w
    b = int(np.argmax(z))  # the choice
    s = int(rows[b, 6])
    score = {int(r[6]): float(v) for r, v in zip(rows, z, strict=True)}
    mate, best_mate = None, -math.inf
    for n, col in ((s - 1, 9), (s + 1, 11)):
        if n in score and score[n] >= z[b] - margin and rows[b, col] >= 0 and score[n] > best_mate:
            mate, best_mate = col, score[n]
    if mate is None:
        return bool(rows[b, 7] > 0), float(rows[b, 8])
    return bool(rows[b, mate] > 0), float(rows[b, mate + 1])


def margins(args: argparse.Namespace) -> None:
    w = np.array([1.0, wr.SPAN_WEIGHT, wr.SCORER_WEIGHT, wr.PASSAGE_RANK_WEIGHT, wr.LEDE_PENALTY])
    for name in args.sets:
        data = json.loads((OUT / f"{name}.json").read_text(encoding="utf-8"))
        qs = [np.asarray(q["rows"][: args.read], dtype=np.float64) for q in data]
        if qs and qs[0].shape[1] < 13:
            print(f"{name}: collected without the quote columns; collect it again")
            continue
        cells = []
        for m in args.margins:
            got = [paired(r, w, m) for r in qs]
            hits = sum(g for g, _ in got)
            chars = float(np.mean([n for _, n in got]))
            cells.append(f"{m:g}: {hits} ({hits / len(qs):.1%}) {chars:.0f} ch")
        print(f"{name} ({len(qs)}): " + " | ".join(cells))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect", help="read each question's candidates through the engine")
    c.add_argument("name")
    c.add_argument("questions", type=Path)
    c.add_argument("corpus", type=Path)
    c.add_argument("--index-dir", type=Path, required=True)
    c.add_argument("--split")
    c.add_argument("--articles", type=Path, help="a file of article slugs to keep")
    c.add_argument("--stride", type=int, default=1, help="every Nth question")
    c.add_argument("--reader-model", type=Path, help="a candidate reader (default: the shipped)")
    c.add_argument("--read", type=int, default=wr.READER_CANDIDATES, help="candidates read")
    c.add_argument("--embed-model", default="", help="a candidate embedder (its own --index-dir)")
    f = sub.add_parser("fit", help="fit the weights on some sets, measure on all")
    f.add_argument("--on", nargs="+", required=True)
    f.add_argument("--measure", nargs="*", default=[])
    f.add_argument("--fix", nargs="*", default=[], help="name=value: a weight held fixed")
    f.add_argument("--read", type=int, default=wr.READER_CANDIDATES, help="candidates weighed")
    f.add_argument(
        "--second-look",
        action="store_true",
        help="emulate the engine's second look (collections with rows2, session 16)",
    )
    f.add_argument(
        "--read2", type=int, default=wr.READER_CANDIDATES, help="read on the second look"
    )
    f.add_argument(
        "--below",
        nargs="+",
        type=float,
        default=[LOOK_FURTHER_BELOW],
        help="second-look thresholds measured (the reader logit of the first choice)",
    )
    g = sub.add_parser("margins", help="what the first quote holds as the neighbour margin varies")
    g.add_argument("sets", nargs="+")
    g.add_argument("--margins", nargs="+", type=float, default=[0.0, 1.0, 2.0, 3.0, 4.0])
    g.add_argument("--read", type=int, default=wr.READER_CANDIDATES, help="candidates weighed")
    args = ap.parse_args(argv)
    {"collect": collect, "fit": fit, "margins": margins}[args.command](args)


if __name__ == "__main__":
    main()
