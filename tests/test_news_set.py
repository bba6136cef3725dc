"""The news development set (tests/data/news): every answer verbatim in its article, splits by story."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from index.corpus.folder import iter_corpus_files, read_article

NEWS = Path(__file__).parent / "data" / "news"


def _questions() -> list[dict[str, object]]:
    lines = (NEWS / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_every_answer_is_verbatim_in_its_article() -> None:
    corpus = NEWS / "corpus"
    texts = {}
    for path in iter_corpus_files(corpus):
        article = read_article(corpus, path)
        assert article.date and article.url, path.name  # dated, with a web address
        texts[article.id] = article.text
    assert len(texts) >= 40
    assert_answers_verbatim(_questions(), texts)


def assert_answers_verbatim(questions: list[dict[str, object]], texts: dict[str, str]) -> None:
    """Each question's article is known; an unanswerable one has no answers, an answerable one has
    answers that are exact substrings of its article (shared with tests/test_news_train_set.py)."""
    for q in questions:
        assert q["article"] in texts, q["id"]
        if q["is_impossible"]:
            assert q["answers"] == [], q["id"]
        else:
            assert q["answers"], q["id"]
            for answer in q["answers"]:  # type: ignore[attr-defined]
                assert answer in texts[q["article"]], (q["id"], answer)  # type: ignore[index]


def test_the_set_has_the_declared_shape() -> None:
    questions = _questions()
    assert len(questions) >= 400
    assert len({q["id"] for q in questions}) == len(questions)
    kinds = Counter(bool(q["is_impossible"]) for q in questions)
    assert 0.08 <= kinds[True] / len(questions) <= 0.15
    by_id = {q["id"]: q for q in questions}
    for q in questions:
        if q["style"] == "chat":
            original = by_id[q["variant_of"]]  # type: ignore[index]
            assert original["article"] == q["article"] and original["answers"] == q["answers"]


def test_a_story_and_its_update_share_a_split() -> None:
    """Fitting on one article of a pair and measuring on the other would leak its facts."""
    split_of: dict[str, set[object]] = {}
    for q in _questions():
        story = str(q["article"]).removesuffix("-update")
        split_of.setdefault(story, set()).add(q["split"])
    assert all(len(s) == 1 for s in split_of.values())
    assert {next(iter(s)) for s in split_of.values()} == {"fit", "measure"}


def test_the_update_pairs_questions_name_a_figure_of_each_article() -> None:
    """tests/data/news/updates.jsonl: questions whose answer an update changed (issue 20)."""
    corpus = NEWS / "corpus"
    texts = {p.stem: read_article(corpus, p).text for p in iter_corpus_files(corpus)}
    lines = (NEWS / "updates.jsonl").read_text(encoding="utf-8").splitlines()
    updates = [json.loads(line) for line in lines if line.strip()]
    assert len(updates) >= 12
    for u in updates:
        older, newer = u["older"], u["newer"]
        assert newer["article"] == older["article"] + "-update", u["id"]
        for side in (older, newer):
            assert all(a in texts[side["article"]] for a in side["answers"]), (u["id"], side)


def test_the_lede_check_asks_only_what_the_lede_answers() -> None:
    """tests/data/news/lede.jsonl: questions whose answer is in the story's first body paragraph, to
    measure what the lede penalty of the reader's choice costs (docs/EVALUATION.md)."""
    lines = (NEWS / "lede.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line) for line in lines if line.strip()]
    assert len(questions) >= 80 and len({q["id"] for q in questions}) == len(questions)
    corpus = NEWS / "corpus"
    for q in questions:
        text = read_article(corpus, corpus / f"{q['article']}.md").text
        paragraphs = [p for p in text.split("\n\n") if p.strip()]
        lede = paragraphs[1]  # the headline first, then the lede
        assert q["split"] == "lede" and not q["is_impossible"], q["id"]
        assert q["answers"] and all(a in lede for a in q["answers"]), q["id"]
