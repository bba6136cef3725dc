"""How the reader sees one (question, candidate sentence) pair: token layout shared by training and answering.

Layout: ``[CLS] question [SEP] sentence [SEP] title context [SEP]``. The candidate sentence comes first so it
is never cut for the sake of its context; the context is the article's title and the *end* of the previous
sentence (the words nearest the candidate, which pronouns such as "it" or "he" usually point back to).
Token type 0 marks the question, 1 the rest. The answer span is searched only among the sentence's tokens,
and token offsets map it back to characters of the sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MAX_LENGTH = 128  # tokens in all, special tokens included
MAX_QUESTION_TOKENS = 40
MAX_TITLE_TOKENS = 12
MAX_CONTEXT_TOKENS = 40  # title + previous sentence
MAX_ANSWER_TOKENS = 30


@dataclass(frozen=True)
class Pair:
    """One question with one candidate sentence; ``previous`` and ``title`` are its context.

    ``answer_from``: no answer span starts before this character of the sentence (a news story's
    dateline, index/text/dateline.py, is read but never answers)."""

    question: str
    sentence: str
    previous: str = ""
    title: str = ""
    answer_from: int = 0


@dataclass(frozen=True)
class Batch:
    """Padded model inputs for a list of pairs, and where each sentence's tokens lie."""

    input_ids: np.ndarray  # int64 [B, T]
    attention_mask: np.ndarray  # int64 [B, T]
    token_type_ids: np.ndarray  # int64 [B, T]
    sentence_from: np.ndarray  # int64 [B]: position of the sentence's first token
    sentence_tokens: np.ndarray  # int64 [B]: how many of the sentence's tokens were kept
    offsets: tuple[tuple[tuple[int, int], ...], ...]  # per pair: character span of each kept token


class Encoder:
    """Turns pairs into model inputs with a `tokenizers.Tokenizer` (the model's own tokenizer.json)."""

    def __init__(self, tokenizer: object) -> None:
        tok = (
            tokenizer  # a tokenizers.Tokenizer; typed loosely so this module needs no import of it
        )
        tok.no_truncation()  # type: ignore[attr-defined]
        tok.no_padding()  # type: ignore[attr-defined]
        self._tok = tok
        self.cls_id = int(tok.token_to_id("[CLS]"))  # type: ignore[attr-defined]
        self.sep_id = int(tok.token_to_id("[SEP]"))  # type: ignore[attr-defined]
        self.pad_id = int(tok.token_to_id("[PAD]") or 0)  # type: ignore[attr-defined]

    def _encode(self, texts: list[str]) -> list[object]:
        return self._tok.encode_batch(texts, add_special_tokens=False)  # type: ignore[attr-defined, no-any-return]

    def encode(
        self, pairs: Sequence[Pair], max_length: int = MAX_LENGTH, multiple: int = 1
    ) -> Batch:
        """Inputs for ``pairs``, padded to the longest of them (dynamic padding), rounded up to a
        ``multiple`` of tokens (at most ``max_length``): fewer distinct shapes for a runtime that
        compiles kernels per input shape."""
        unique = sorted({p.question for p in pairs} | {p.title for p in pairs})
        cache = dict(zip(unique, self._encode(unique), strict=True))
        sents = self._encode([p.sentence for p in pairs])
        prevs = self._encode([p.previous for p in pairs])
        rows: list[list[int]] = []
        types: list[list[int]] = []
        starts: list[int] = []
        kept: list[int] = []
        offsets: list[tuple[tuple[int, int], ...]] = []
        for pair, s_enc, p_enc in zip(pairs, sents, prevs, strict=True):
            q = list(cache[pair.question].ids[:MAX_QUESTION_TOKENS])  # type: ignore[attr-defined]
            room = max_length - 4 - len(q)
            s = list(s_enc.ids[:room])  # type: ignore[attr-defined]
            c_room = min(MAX_CONTEXT_TOKENS, room - len(s))
            title = list(cache[pair.title].ids[: min(MAX_TITLE_TOKENS, max(0, c_room))])  # type: ignore[attr-defined]
            prev_room = c_room - len(title)
            prev = list(p_enc.ids[-prev_room:]) if prev_room > 0 else []  # type: ignore[attr-defined]
            context = title + prev
            ids = [self.cls_id, *q, self.sep_id, *s, self.sep_id]
            if context:
                ids += [*context, self.sep_id]
            rows.append(ids)
            types.append([0] * (len(q) + 2) + [1] * (len(ids) - len(q) - 2))
            starts.append(len(q) + 2)
            kept.append(len(s))
            offsets.append(tuple(tuple(o) for o in s_enc.offsets[: len(s)]))  # type: ignore[attr-defined]
        longest = max(len(r) for r in rows)
        width = max(longest, min(-(-longest // multiple) * multiple, max_length))
        ids_arr = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        type_arr = np.zeros((len(rows), width), dtype=np.int64)
        for i, (r, t) in enumerate(zip(rows, types, strict=True)):
            ids_arr[i, : len(r)] = r
            mask[i, : len(r)] = 1
            type_arr[i, : len(t)] = t
        return Batch(
            ids_arr,
            mask,
            type_arr,
            np.asarray(starts, dtype=np.int64),
            np.asarray(kept, dtype=np.int64),
            tuple(offsets),  # type: ignore[arg-type]
        )


def best_span(
    start_logits: np.ndarray, end_logits: np.ndarray, first: int, count: int
) -> tuple[int, int, float]:
    """The best (start, end) token positions inside ``first .. first+count-1`` and their score."""
    if count <= 0:
        return first, first, float("-inf")
    s = start_logits[first : first + count].astype(np.float64)
    e = end_logits[first : first + count].astype(np.float64)
    grid = s[:, None] + e[None, :]
    i, j = np.indices(grid.shape)
    grid[(j < i) | (j - i >= MAX_ANSWER_TOKENS)] = -np.inf
    flat = int(np.argmax(grid))
    a, b = divmod(flat, count)
    return first + a, first + b, float(grid[a, b])


def answerable_from(offsets: tuple[tuple[int, int], ...], answer_from: int) -> int:
    """How many of the sentence's first tokens lie before character ``answer_from``."""
    return next((k for k, (start, _) in enumerate(offsets) if start >= answer_from), len(offsets))


def token_span_to_chars(
    offsets: tuple[tuple[int, int], ...], first: int, a: int, b: int
) -> tuple[int, int]:
    """Character span (in the sentence) covered by sentence tokens ``a..b`` (absolute positions)."""
    return offsets[a - first][0], offsets[b - first][1]
