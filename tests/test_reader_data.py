"""The reader's training examples (scripts/reader_data.py): edits that make a question unanswerable."""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import reader_data

PARAGRAPH = [
    "The bridge was opened in 1932 by Mayor Anna Holt after the 7th flood of the river.",
    "Its engineer, Pavel Brenner, later designed the harbour crane and the lighthouse.",
]
ARTICLE = reader_data.Article("bridge", "Bridge", [PARAGRAPH])


def edits(question: str, level: int, seed: int = 0) -> list[str]:
    return reader_data.edited_questions(
        question, PARAGRAPH[0], ARTICLE, random.Random(seed), PARAGRAPH, level
    )


def test_first_edit_set_is_unchanged_by_the_second() -> None:
    question = "Who opened the bridge in 1932?"
    first = edits(question, 1)
    second = edits(question, 2)
    assert second[: len(first)] == first
    assert all(q != question for q in second)


def test_second_set_takes_a_name_of_the_same_paragraph_that_the_sentence_lacks() -> None:
    variants = edits("When did Mayor Anna Holt open the bridge?", 2)
    swapped = [v for v in variants if "Pavel Brenner" in v]
    assert swapped, variants
    assert "Anna Holt" not in swapped[0]


def test_second_set_shifts_ordinals() -> None:
    variants = edits("The bridge opened after which 7th event?", 2)
    shifted = [
        v for v in variants if "7th" not in v and any(o in v for o in ("5th", "6th", "8th", "9th"))
    ]
    assert shifted, variants


def test_second_set_swaps_an_on_topic_word_the_sentence_lacks() -> None:
    variants = edits("Who opened the bridge?", 2)
    topic = {"engineer", "later", "designed", "harbour", "crane", "lighthouse"}
    assert any(set(v.lower().rstrip("?").split()) & topic for v in variants), variants


def test_first_set_knows_only_the_original_opposites() -> None:
    assert not edits("Who bought the bridge?", 1)
    assert any("sold" in v for v in edits("Who bought the bridge?", 2))
