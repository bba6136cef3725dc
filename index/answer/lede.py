"""An article's lede: its first sentence, or its second when the first is a heading.

A question asked from a story's headline restates its lede, so the lede looks like the answer to
every such question while the detail asked for lies further down (issue 22). Two stages know it:
the passage ranker (``dateline_lede_chunks``: the chunk that opens a wire story) and the reader's
choice (``is_lede``, index/answer/with_reader.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from index.generations.generation import Generation
from index.text.dateline import dateline_end

_SENTENCE_END = (".", "!", "?")


def is_lede(gen: Generation, sentence: int) -> bool:
    """The article's first sentence, or its second when the first is a heading (it does not end
    like a sentence: "Duluth council rejects port levy in 5-4 vote")."""
    article = gen.sentence_article[sentence]
    if sentence == 0 or gen.sentence_article[sentence - 1] != article:
        return True
    first = sentence - 1
    if first > 0 and gen.sentence_article[first - 1] == article:
        return False
    return not _ends_like_sentence(gen.sentence_text(first))


def _ends_like_sentence(text: str) -> bool:
    return text.rstrip().rstrip("\"'”’)]*_").endswith(_SENTENCE_END)


def dateline_lede_chunks(gen: Generation, rows: Sequence[int]) -> np.ndarray:
    """1.0 for each chunk row that opens its article when the article's lede opens with a dateline
    ("OSLO, Norway, May 2 (Agency) — ", "(CNN) -- "): a wire story's first passage. 0.0 otherwise,
    so a corpus without datelines (Wikipedia, manuals) is never touched.

    Whether an article opens with a dateline is read once per generation and article (its first
    two sentences), then kept in the generation's memo."""
    memo = gen.memo.setdefault("dateline_lede", {})
    out = np.zeros(len(rows))
    for i, row in enumerate(rows):
        article = int(gen.chunk_article[row])
        if row > 0 and int(gen.chunk_article[row - 1]) == article:
            continue  # not the article's first chunk
        if article not in memo:
            memo[article] = _opens_with_dateline(gen, int(gen.chunk_first_sentence[row]))
        out[i] = float(memo[article])
    return out


def _opens_with_dateline(gen: Generation, first: int) -> bool:
    """The article's lede (``is_lede``: its first sentence, or its second after a heading) opens
    with a dateline."""
    if dateline_end(gen.sentence_text(first)) > 0:
        return True
    second = first + 1
    return (
        second < len(gen.sentence_article)
        and gen.sentence_article[second] == gen.sentence_article[first]
        and is_lede(gen, second)
        and dateline_end(gen.sentence_text(second)) > 0
    )
