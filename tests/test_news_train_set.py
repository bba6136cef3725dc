"""The news training set (tests/data/news-train): written for the project to train the reader on news,
every answer verbatim in its article, and nothing shared with the news development set it is measured on."""

from __future__ import annotations

import json
from pathlib import Path

from index.corpus.folder import iter_corpus_files, read_article
from tests.test_news_set import assert_answers_verbatim

ROOT = Path(__file__).parent / "data"
TRAIN = ROOT / "news-train"


def _questions() -> list[dict[str, object]]:
    out = []
    for path in sorted(TRAIN.glob("questions-*.jsonl")):
        lines = path.read_text(encoding="utf-8").splitlines()
        out += [json.loads(line) for line in lines if line.strip()]
    return out


def _texts(folder: Path) -> dict[str, str]:
    return {(a := read_article(folder, path)).id: a.text for path in iter_corpus_files(folder)}


def test_every_answer_is_verbatim_in_its_article() -> None:
    texts = _texts(TRAIN / "corpus")
    questions = _questions()
    assert len(texts) >= 40 and len(questions) >= 400
    assert len({q["id"] for q in questions}) == len(questions)
    by_id = {q["id"]: q for q in questions}
    assert_answers_verbatim(questions, texts)
    for q in questions:
        assert q["split"] == "train", q["id"]
        if q["style"] == "chat":
            original = by_id[q["variant_of"]]  # type: ignore[index]
            assert original["answers"] == q["answers"] and original["article"] == q["article"]


def test_it_shares_no_story_with_the_development_set() -> None:
    """Training on a story the news set measures would leak its facts into the figures."""
    train = _texts(TRAIN / "corpus")
    dev = _texts(ROOT / "news" / "corpus")
    assert not set(train) & set(dev)
    dev_lines = {line for text in dev.values() for line in text.splitlines() if len(line) > 40}
    assert not any(line in dev_lines for text in train.values() for line in text.splitlines())
