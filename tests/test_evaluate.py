"""The evaluation harness: each metric on hand-made cases, the whole command on a small corpus of our own,
and a floor test on 3 articles of ../shared/eval/squad1 (skipped when ../shared is absent)."""

from __future__ import annotations

import argparse
import io
import json
import shutil
from pathlib import Path

import pytest

from index.bench import breakdown as ev_bins
from index.bench import evaluate as ev
from index.bench.evaluate import (
    ANSWERABLE,
    IMPOSSIBLE,
    OFF_CORPUS,
    EvalInputError,
    EvalQuestion,
    QuestionResult,
    compute_metrics,
    contains_answer,
    gold_rank,
    holdout_articles,
    normalize,
    read_questions,
    score_answer,
)
from index.config import Settings
from index.types import Answer, Passage, Quote
from tests.conftest import REPO, SMALL_CORPUS, EvalSlice, write_corpus

# Questions on tests.conftest.SMALL_CORPUS, in the format of ../shared/eval/*/questions.jsonl.
SMALL_QUESTIONS = [
    ("tea", "Where did tea originate?", ["southwest China"]),
    ("tea", "What is the most widely consumed drink after water?", ["tea"]),
    ("volcano", "What escapes from a magma chamber?", ["volcanic ash and gases"]),
    ("volcano", "Which volcano in Sicily is one of the most active in Europe?", ["Mount Etna"]),
    ("notes/bicycle", "When were bicycles introduced in Europe?", ["19th century"]),
    ("notes/bicycle", "What propels a bicycle?", ["pedals"]),
]


def passage(article: str, text: str) -> Passage:
    return Passage(article, article.title(), None, text, 0, len(text), 0.5)


def quote(article: str, text: str) -> Quote:
    return Quote(article, article.title(), None, text, 0, len(text))


def answer(passages: list[Passage], quotes: list[Quote], answered: bool = True) -> Answer:
    return Answer("q?", answered, 0.7 if answered else 0.1, tuple(quotes), tuple(passages))


def question(answers: tuple[str, ...] = ("Denmark",), article: str = "normans") -> EvalQuestion:
    return EvalQuestion("id1", "Where from?", answers, article)


def result(kind: str = ANSWERABLE, **kw: object) -> QuestionResult:
    base: dict[str, object] = dict(
        id="x", kind=kind, answered=True, confidence=0.5, gold_rank=1, quote_hit=True, seconds=0.01
    )
    base.update(kw)
    return QuestionResult(**base)  # type: ignore[arg-type]


def test_normalize_folds_case_and_white_space() -> None:
    assert normalize("  The\n  Normans\tCame ") == "the normans came"


def test_contains_answer_ignores_case_and_line_breaks() -> None:
    assert contains_answer("from DENMARK,\nIceland  and Norway", ["denmark, iceland and norway"])
    assert not contains_answer("from Sweden", ["Denmark", "Norway"])
    assert not contains_answer("anything", [""])  # an empty answer string never matches


def test_gold_rank_needs_the_gold_article_and_the_answer() -> None:
    q = question()
    ans = answer(
        [
            passage("vikings", "Raiders from Denmark."),  # answer, wrong article
            passage("normans", "They settled in France."),  # right article, no answer
            passage("normans", "Raiders from Denmark and Norway."),
        ],
        [],
    )
    assert gold_rank(ans, q) == 3
    assert gold_rank(answer([passage("normans", "nothing")], []), q) is None


def test_score_answer_quote_hit_uses_the_primary_quote_only() -> None:
    q = question()
    hit = answer([], [quote("normans", "They came from Denmark."), quote("normans", "x")])
    miss = answer([], [quote("normans", "x"), quote("normans", "They came from Denmark.")])
    assert score_answer(hit, q, ANSWERABLE, 0.0).quote_hit
    assert not score_answer(miss, q, ANSWERABLE, 0.0).quote_hit


def test_an_abstention_is_a_quote_miss_and_off_corpus_is_never_graded() -> None:
    q = question()
    abstained = answer([passage("normans", "Denmark")], [], answered=False)
    graded = score_answer(abstained, q, ANSWERABLE, 0.0)
    assert not graded.quote_hit and not graded.answered and graded.gold_rank == 1
    off = score_answer(answer([passage("normans", "Denmark")], []), q, OFF_CORPUS, 0.0)
    assert off.gold_rank is None and not off.quote_hit


def test_compute_metrics_on_hand_made_results() -> None:
    results = [
        result(gold_rank=1, quote_hit=True, seconds=0.010),
        result(gold_rank=3, quote_hit=False, seconds=0.020),
        result(gold_rank=12, quote_hit=True, seconds=0.030),
        result(gold_rank=None, quote_hit=False, answered=False, seconds=0.040),
        result(IMPOSSIBLE, answered=False, gold_rank=None, quote_hit=False, seconds=0.050),
        result(IMPOSSIBLE, answered=True, gold_rank=None, quote_hit=False, seconds=0.060),
        result(OFF_CORPUS, answered=False, gold_rank=None, quote_hit=False, seconds=0.070),
    ]
    m = compute_metrics(results)
    assert (m["answerable"], m["impossible"], m["off_corpus"]) == (4, 2, 1)
    assert m["retrieval@1"] == 0.25
    assert m["retrieval@5"] == 0.5
    assert m["retrieval@20"] == 0.75
    assert m["quote_hit"] == 0.5
    assert m["quote_hit_answered"] == round(2 / 3, 4)
    assert m["answered_rate"] == 0.75
    assert m["abstain_rate_impossible"] == 0.5
    assert m["abstain_rate_off_corpus"] == 1.0
    assert m["latency_ms_median"] == 40.0
    assert m["latency_ms_p95"] == 70.0


def test_compute_metrics_without_a_kind_reports_none() -> None:
    m = compute_metrics([result()])
    assert m["abstain_rate_impossible"] is None and m["abstain_rate_off_corpus"] is None


def test_holdout_is_deterministic_and_leaves_something_to_index() -> None:
    qs = [EvalQuestion(str(i), "q", ("a",), f"art{i % 5}") for i in range(20)]
    first = holdout_articles(qs, 2)
    assert first == holdout_articles(list(reversed(qs)), 2)
    assert len(first) == 2 and set(first) <= {f"art{i}" for i in range(5)}
    with pytest.raises(EvalInputError):
        holdout_articles(qs, 5)


def test_read_questions_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"id": 1, "question": "Q?", "answers": ["a"], "article": "x"}\n\n{"id": 2}\n',
        encoding="utf-8",
    )
    with pytest.raises(EvalInputError, match="line 3"):
        read_questions(path)


def test_read_questions_squad2_fields(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"id": "a", "question": "Q?", "answers": [], "article": "x", "is_impossible": true}\n',
        encoding="utf-8",
    )
    (q,) = read_questions(path)
    assert q.is_impossible and q.answers == ()


def test_holdout_corpus_copies_all_but_the_left_out(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    for name in ("a.md", "b.md", "sub/c.md"):
        (src / name).write_text(f"# {name}\n\ntext\n", encoding="utf-8")
    ev.holdout_corpus(src, {"b"}, tmp_path / "out")
    linked = sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.md")
    )
    assert linked == ["a.md", "sub/c.md"]
    assert not any(p.is_symlink() for p in (tmp_path / "out").rglob("*"))  # links are not read


def test_eval_command_end_to_end_with_the_fake_embedder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole harness path (holdout, build, ask, table and JSON) without the real model."""
    from index.embedding.embedder import HashEmbedder

    monkeypatch.setattr("index.embedding.embedder.load_embedder", lambda *a, **k: HashEmbedder())
    corpus = write_corpus(tmp_path / "corpus", SMALL_CORPUS)
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "question": q, "answers": a, "article": art}) + "\n"
            for i, (art, q, a) in enumerate(SMALL_QUESTIONS)
        ),
        encoding="utf-8",
    )
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    args = argparse.Namespace(
        questions=questions,
        json=True,
        limit=None,
        holdout_articles=1,
        articles=None,
        dump=tmp_path / "dump.jsonl",
        breakdown=False,
        split=None,
        off_topic=None,
        off_topic_limit=200,
    )
    out = io.StringIO()
    assert ev.run_eval_command(args, settings, out) == 0
    m = json.loads(out.getvalue())
    [left_out] = m["holdout_articles"]
    assert left_out in {"tea", "volcano", "notes/bicycle"}
    assert (m["answerable"], m["off_corpus"], m["articles_indexed"]) == (4, 2, 2)
    assert len((tmp_path / "dump.jsonl").read_text().splitlines()) == m["questions"] == 6
    args.json = False
    out = io.StringIO()
    ev.run_eval_command(args, settings, out)
    assert "retrieval@5" in out.getvalue() and "abstain_rate (off-corpus)" in out.getvalue()


@pytest.mark.integration
def test_quality_floors_on_a_squad1_slice(squad1_ci_slice: EvalSlice, tmp_path: Path) -> None:
    """Real model, two of the 3 CI articles indexed, one held out. Floors sit well below the targets."""
    settings = Settings(corpus_dir=squad1_ci_slice.corpus, index_dir=tmp_path / "index")
    report = ev.run_eval(settings, read_questions(squad1_ci_slice.questions), holdout=1)
    m = report.metrics
    assert m["holdout_articles"] == ["sky-united-kingdom"]
    assert m["answerable"] > 150 and m["off_corpus"] > 50
    assert m["retrieval@1"] >= 0.75
    assert m["retrieval@5"] >= 0.90
    # With the reader (measured 2026-11-26: quote_hit 81.6%, 94.0% of answered, answered 86.8%, span
    # exact 71.7%, off-corpus abstained 100%): floors a few points below.
    assert m["reader"] == "on"
    assert m["quote_hit"] >= 0.72
    assert m["quote_hit_answered"] >= 0.85
    assert m["answered_rate"] >= 0.78
    assert m["answer_exact_answered"] >= 0.55
    assert m["abstain_rate_off_corpus"] >= 0.85


@pytest.mark.integration
def test_quality_floors_on_our_news_questions(tmp_path: Path) -> None:
    """Real model and reader over the sample corpus, with the 34 questions we wrote about its two
    news-style articles (tests/data/news). Measured 2026-11-26: 21 of 22 answerable quoted with the
    answer, none wrong; 6 of 12 unanswerable abstained (READER=off: 20 of 22, 2 of 12). 2026-12-07,
    cpu-news9 (session 14): 19 of 22 (news-10 quotes the Defence Secretary's sentence for "Who is
    India's Defence Minister?", news-09 is declined), 7 of 12 abstained; cpu-news8 read alone: 21 of 22."""
    corpus = shutil.copytree(REPO / "corpus", tmp_path / "corpus")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    questions = read_questions(REPO / "tests/data/news/questions.jsonl")
    m = ev.run_eval(settings, questions, holdout=0).metrics
    assert (m["answerable"], m["impossible"]) == (22, 12)
    assert m["quote_hit"] >= 18 / 22
    assert m["quote_hit_answered"] >= 0.85
    assert m["abstain_rate_impossible"] >= 4 / 12


def test_eval_split_off_topic_and_breakdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--split keeps one declared part, --off-topic adds questions to decline, --breakdown puts
    every question in exactly one bin."""
    from index.embedding.embedder import HashEmbedder

    monkeypatch.setattr("index.embedding.embedder.load_embedder", lambda *a, **k: HashEmbedder())
    corpus = write_corpus(tmp_path / "corpus", SMALL_CORPUS)
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        "".join(
            json.dumps(
                {"id": f"q{i}", "question": q, "answers": a, "article": art,
                 "split": "fit" if i % 2 else "measure", "style": "plain"}
            ) + "\n"
            for i, (art, q, a) in enumerate(SMALL_QUESTIONS)
        ),
        encoding="utf-8",
    )  # fmt: skip
    other = tmp_path / "other.jsonl"
    other.write_text(
        "".join(
            json.dumps({"id": f"o{i}", "question": f"Who painted picture {i}?", "answers": ["X"],
                        "article": "paintings"}) + "\n"
            for i in range(5)
        ),
        encoding="utf-8",
    )  # fmt: skip
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    args = argparse.Namespace(
        questions=questions, json=True, limit=None, holdout_articles=0, articles=None, dump=None,
        breakdown=True, split="measure", off_topic=other, off_topic_limit=3,
    )  # fmt: skip
    out = io.StringIO()
    assert ev.run_eval_command(args, settings, out) == 0
    m = json.loads(out.getvalue())
    measured = sum(1 for i in range(len(SMALL_QUESTIONS)) if i % 2 == 0)
    assert (m["answerable"], m["off_corpus"]) == (measured, 3)
    bins = m["breakdown"]
    assert sum(bins[b]["n"] for b in ev_bins.ANSWERABLE_BINS) == measured
    assert sum(bins[b]["n"] for b in ev_bins.UNANSWERABLE_BINS) == 3
    assert "quote_hit_plain" in m
    args.json = False
    out = io.StringIO()
    ev.run_eval_command(args, settings, out)
    assert "where the" in out.getvalue() and "declined (right)" in out.getvalue()


@pytest.mark.integration
def test_quality_floors_on_the_news_set(tmp_path: Path) -> None:
    """Real model and reader over the news development set's measuring part (tests/data/news,
    issue 22). Measured 2026-12-07, session 13 (cpu-news8 reading 8): quote 64.3% (61.0% in session
    11, 52.4% in session 9, 33.3% before the news work), 71.1% of the answered, 55.2% of the
    unanswerable declined (16 of 29; 11 in session 11). Floors a few points below. Session 15's
    reader in bfloat16 declines 12 of the 29 (41.4%; int8: 48.3%), the floor for that is 0.37."""
    settings = Settings(corpus_dir=REPO / "tests/data/news/corpus", index_dir=tmp_path / "index")
    questions = [
        q for q in read_questions(REPO / "tests/data/news/dev.jsonl") if q.split == "measure"
    ]
    m = ev.run_eval(settings, questions, holdout=0).metrics
    assert (m["answerable"], m["impossible"]) == (210, 29)
    assert m["quote_hit"] >= 0.60
    assert m["quote_hit_answered"] >= 0.66
    assert m["abstain_rate_impossible"] >= 0.37
    assert sum(m["breakdown"][b]["n"] for b in ev_bins.ANSWERABLE_BINS) == 210
