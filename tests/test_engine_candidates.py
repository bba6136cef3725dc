"""scripts/engine_candidates.py: the engine's own candidates, as the reader reads them, minus answers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from index.embedding.embedder import HashEmbedder
from tests.conftest import SMALL_CORPUS, write_corpus

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import engine_candidates


def test_candidates_hold_no_answer_and_carry_their_context(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", SMALL_CORPUS)
    questions = tmp_path / "q.jsonl"
    rows = [
        {"id": "t1", "question": "Where did tea originate?", "answers": ["southwest China"],
         "article": "tea"},
        {"id": "t2", "question": "Who designed Etna?", "answers": [], "article": "volcano",
         "is_impossible": True},
    ]  # fmt: skip
    questions.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "cands.jsonl"
    n = engine_candidates.collect(
        out,
        corpus,
        engine_candidates.answerable([questions]),
        tmp_path / "index",
        read=10,
        embedder=HashEmbedder(),
    )
    assert n == 1  # the unanswerable question is left out
    [row] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert row["id"] == "t1" and row["negatives"]
    sentences = [s for s, _, _ in row["negatives"]]
    assert not any("southwest China" in s for s in sentences)
    texts = SMALL_CORPUS
    for sentence, previous, title in row["negatives"]:
        assert title in {"Tea", "Volcano", "Bicycle"}
        assert any(sentence in body for body in texts.values())  # verbatim from an article
        if previous:
            assert any(previous + " " + sentence in body for body in texts.values())
    assert not out.with_suffix(".tmp").exists()
    kept = tmp_path / "kept.jsonl"
    engine_candidates.collect(
        kept,
        corpus,
        engine_candidates.answerable([questions]),
        tmp_path / "index",
        read=10,
        keep=1,
        embedder=HashEmbedder(),
    )
    [short] = [json.loads(line) for line in kept.read_text(encoding="utf-8").splitlines()]
    assert short["negatives"] == row["negatives"][:1]  # the engine's first, nothing reordered


def test_a_sentence_naming_the_answers_last_word_is_no_negative() -> None:
    heads = engine_candidates.answer_heads(["Tariq N. Bellamy", "the 1931 flood", "12"])
    assert heads is not None
    assert heads.search("A recount on Thursday confirmed that Bellamy won.")
    assert heads.search("The FLOOD came.")
    assert not heads.search("Bellamyville voted late.")  # whole words only
    assert engine_candidates.answer_heads(["12", "May"]) is None  # short or numeric: no guard
