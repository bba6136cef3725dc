"""Chunking: exact offsets, order, every chunk within the token window, determinism."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from index.text.chunking import (
    Span,
    chunk_sentences,
    fit_sentences,
    max_chunk_chars,
    paragraphs,
    sentences,
    split_sentences,
    word_count_tokens,
)

WORDS = st.sampled_from(
    [
        "the",
        "river",
        "Dr.",
        "Smith",
        "U.S.",
        "flows",
        "1856",
        "north,",
        "(see",
        "[O.S.",
        "28",
        "June])",
        "into",
        "sea!",
        "why?",
        "-",
        "item",
        "2.",
        "#",
        "Heading",
        "e.g.",
        "café",
        "—",
        "ünïcode",
    ]
)
SEPARATORS = st.sampled_from([" ", " ", " ", ". ", ".\n\n", "\n", "? ", "\n\n\n", ".  "])
TEXTS = st.lists(st.tuples(WORDS, SEPARATORS), min_size=0, max_size=300).map(
    lambda parts: "".join(w + s for w, s in parts)
)


def chunk(text: str, max_tokens: int) -> list:
    sents = fit_sentences(text, sentences(text), max_tokens, word_count_tokens)
    return chunk_sentences(text, sents, max_tokens, word_count_tokens)


@settings(max_examples=200, deadline=None)
@given(TEXTS, st.integers(min_value=4, max_value=120))
def test_chunks_have_exact_offsets_keep_order_and_fit(text: str, max_tokens: int) -> None:
    chunks = chunk(text, max_tokens)
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert word_count_tokens([c.text])[0] <= max_tokens
        assert len(c.text) <= max_chunk_chars(max_tokens)
    starts = [c.start for c in chunks]
    assert starts == sorted(starts)
    assert all(a.end <= b.end for a, b in itertools.pairwise(chunks))


@settings(max_examples=200, deadline=None)
@given(TEXTS, st.integers(min_value=4, max_value=120))
def test_no_text_is_lost(text: str, max_tokens: int) -> None:
    """Every non-space character of the article lies in some chunk: nothing is truncated."""
    covered = [False] * len(text)
    for c in chunk(text, max_tokens):
        covered[c.start : c.end] = [True] * (c.end - c.start)
    lost = [ch for ch, ok in zip(text, covered, strict=True) if not ok and not ch.isspace()]
    assert lost == []


@settings(max_examples=50, deadline=None)
@given(TEXTS)
def test_deterministic(text: str) -> None:
    assert chunk(text, 40) == chunk(text, 40)


def test_sentences_respect_abbreviations_initials_and_brackets() -> None:
    text = (
        "Dr. Smith lived in the U.S. for years. Tesla was born on 10 July [O.S. 28 June] 1856. "
        "J. R. R. Tolkien wrote books. It rained! Did it?"
    )
    got = [s.text for s in split_sentences(text)]
    assert got == [
        "Dr. Smith lived in the U.S. for years.",
        "Tesla was born on 10 July [O.S. 28 June] 1856.",
        "J. R. R. Tolkien wrote books.",
        "It rained!",
        "Did it?",
    ]


def test_headings_and_list_items_are_separate() -> None:
    text = "# Title\nIntro line.\n\n- first item\n- second item\n\nLast paragraph here."
    paras = [p.text for p in paragraphs(text)]
    assert paras[0] == "# Title"
    assert [s.text for s in sentences(text)][2:4] == ["- first item", "- second item"]


def test_long_paragraph_splits_with_one_sentence_overlap() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(30))
    chunks = chunk(text, 30)
    assert len(chunks) > 3
    for a, b in itertools.pairwise(chunks):
        assert a.last_sentence == b.first_sentence  # the overlap


def test_short_paragraphs_join_the_next_one() -> None:
    text = "# Heading\n\nShort.\n\n" + "A much longer paragraph that has real content. " * 10
    chunks = chunk(text, 200)
    assert len(chunks) == 1
    assert chunks[0].text.startswith("# Heading")


def test_overlong_sentence_is_split_at_words_not_dropped() -> None:
    text = "word " * 500
    chunks = chunk(text.strip(), 50)
    assert sum(len(c.text.split()) for c in chunks) == 500
    assert all(word_count_tokens([c.text])[0] <= 50 for c in chunks)


def test_reference_markers_end_with_their_sentence() -> None:
    text = "He left Paris.[12] Later he wrote books.:162–164 In 1912 he returned.[3][4] The end."
    assert [s.text for s in split_sentences(text)] == [
        "He left Paris.[12]",
        "Later he wrote books.:162–164",
        "In 1912 he returned.[3][4]",
        "The end.",
    ]


def test_runs_of_end_marks_end_one_sentence() -> None:
    """The linear sentence-end pattern (tests/test_linear_scans.py) keeps the old boundaries."""
    assert [s.text for s in split_sentences('Run.... Then! Again?" Done.[2] Ok.:3-4 X')] == [
        "Run....",
        "Then!",
        'Again?"',
        "Done.[2]",
        "Ok.:3-4",
        "X",
    ]
    assert split_sentences("a" + "." * 5_000 + "b") == [Span(0, 5_002, "a" + "." * 5_000 + "b")]


def test_a_long_one_word_line_is_cut_into_bounded_chunks() -> None:
    """A 5 MB one-line file became one 5,000,023-character chunk (one 'word' counts as one token)."""
    text = "# T\n\n" + "x" * 500_000
    chunks = chunk(text, 200)
    limit = max_chunk_chars(200)
    assert limit < 5_000
    assert all(len(c.text) <= limit for c in chunks)
    assert sum(len(c.text) for c in chunks) == 500_003
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_a_single_line_of_words_counts_tokens_of_bounded_spans_only() -> None:
    """Splitting one enormous sentence measures windows, not the whole rest of the line each time."""
    text = "word " * 20_000
    measured: list[int] = []

    def counting(texts: Sequence[str]) -> list[int]:
        measured.extend(len(t) for t in texts)
        return word_count_tokens(texts)

    sents = fit_sentences(text, sentences(text), 100, counting)
    measured_once = measured[0]  # the whole sentence is measured once to see it is too long
    assert measured_once == len(text.strip())
    # After that, work is linear in the text: every measured span is at most a chunk window.
    assert max(measured[1:]) <= 100 * len("word ")
    assert sum(measured[1:]) < 20 * len(text)
    assert sum(len(s.text.split()) for s in sents) == 20_000
