"""Pure text splitting: paragraphs, sentences, and chunks that fit the model's token window.

Every span keeps character offsets into the article text: ``text[span.start:span.end] == span.text``.
Nothing is dropped or truncated: a sentence longer than the window is split at word boundaries.

Every scan is linear in the text (no pattern here can backtrack over a run it has already read), and a
chunk is bounded in characters as well as tokens: a tokenizer counts one enormous "word" as a single
unknown token, so a 5 MB line without spaces would otherwise be one chunk.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

TokenCounter = Callable[[Sequence[str]], list[int]]


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Sentence(Span):
    paragraph: int  # index of the paragraph that holds it


@dataclass(frozen=True)
class ChunkSpan(Span):
    first_sentence: int  # index into the article's sentence list
    last_sentence: int  # inclusive


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "ft",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "cf",
        "al",
        "fig",
        "no",
        "nos",
        "vol",
        "pp",
        "ed",
        "eds",
        "approx",
        "est",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "inc",
        "ltd",
        "co",
        "corp",
        "dept",
        "gen",
        "col",
        "lt",
        "sgt",
        "capt",
        "gov",
        "sen",
        "rep",
        "rev",
        "hon",
        "u.s",
        "u.k",
        "u.n",
        "a.d",
        "b.c",
        "c",
        "ca",
        "op",
    ]
)
# A sentence ends at . ! ? (or …), optionally followed by closing quotes/brackets and reference
# markers as pasted from Wikipedia ("[12]", ":162–164"), then white space.
# Possessive quantifiers and the look-behind keep it linear: a match starts only at the first mark of
# a run and never gives characters back, so a run of 100,000 dots is read once (it was quadratic).
_END = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’)\]]*+(?:\[\d++\]|:\d++(?:[–-]\d++)?)*+(?=\s)")
_LIST_ITEM = re.compile(r"\n(?=[ \t]*+(?:[-*+•]|\d{1,3}[.)])[ \t]++\S)")
# A token is rarely more than 6 characters of real text (squad1 and the sample corpus: under 5.7);
# above this many characters per token a span is split whatever its token count.
CHARS_PER_TOKEN = 10


def max_chunk_chars(max_tokens: int) -> int:
    """The most characters a sentence or chunk of a ``max_tokens`` window may hold."""
    return CHARS_PER_TOKEN * max_tokens


def paragraphs(text: str) -> list[Span]:
    """Blocks separated by blank lines; markdown headings are their own paragraph."""
    spans: list[Span] = []
    pos = 0
    for match in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = match.start() if match else len(text)
        spans.extend(_split_headings(text, pos, end))
        pos = match.end() if match else len(text)
    return spans


def _split_headings(text: str, start: int, end: int) -> list[Span]:
    out: list[Span] = []
    pos = start
    for line in re.finditer(r"[^\n]*(?:\n|$)", text[start:end]):
        if line.group().lstrip().startswith("#") and line.start() > 0:
            out.extend(_trimmed(text, pos, start + line.start()))
            pos = start + line.start()
        elif line.group().lstrip().startswith("#"):
            out.extend(_trimmed(text, pos, start + line.end()))
            pos = start + line.end()
    out.extend(_trimmed(text, pos, end))
    return out


def _trimmed(text: str, start: int, end: int) -> list[Span]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [Span(start, end, text[start:end])] if end > start else []


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentences of ``text[start:end]``, with offsets into ``text``."""
    end = len(text) if end is None else end
    cuts = [start]
    for item in _LIST_ITEM.finditer(text, start, end):
        cuts.append(item.start() + 1)
    for match in _END.finditer(text, start, end):
        if _is_boundary(text, match.start(), match.end(), end) and not _in_brackets(
            text, start, match.start()
        ):
            cuts.append(match.end())
    cuts.append(end)
    spans: list[Span] = []
    for a, b in zip(sorted(set(cuts)), sorted(set(cuts))[1:], strict=False):
        spans.extend(_trimmed(text, a, b))
    return spans


def _in_brackets(text: str, start: int, pos: int) -> bool:
    """True inside an unclosed ( or [ that opened in this sentence run ("[O.S. 28 June]")."""
    window = text[max(start, pos - 200) : pos]
    return window.count("(") > window.count(")") or window.count("[") > window.count("]")


def _is_boundary(text: str, dot: int, after: int, limit: int) -> bool:
    nxt = after
    while nxt < limit and text[nxt].isspace():
        nxt += 1
    if nxt >= limit:
        return False
    following = text[nxt]
    if not (following.isupper() or following.isdigit() or following in "\"'“‘([*#-"):
        return False
    if text[dot] != ".":
        return True
    word = re.search(r"([\w.]+)$", text[max(0, dot - 20) : dot])
    if word is None:
        return True
    token = word.group(1).lower().rstrip(".")
    if token in _ABBREVIATIONS:
        return False
    # Initials ("J. R. R. Tolkien", "U.S.") are not sentence ends.
    return not (len(token) == 1 and token.isalpha() and text[dot - 1].isupper())


def sentences(text: str) -> list[Sentence]:
    """All sentences of an article, paragraph by paragraph."""
    out: list[Sentence] = []
    for p_index, para in enumerate(paragraphs(text)):
        for s in split_sentences(text, para.start, para.end):
            out.append(Sentence(s.start, s.end, s.text, p_index))
    return out


def fit_sentences(
    text: str,
    sents: list[Sentence],
    max_tokens: int,
    count: TokenCounter,
    *,
    max_chars: int | None = None,
) -> list[Sentence]:
    """Sentences too long for ``max_tokens`` (or ``max_chars``) split at word boundaries into pieces
    that fit."""
    chars = max_chunk_chars(max_tokens) if max_chars is None else max_chars
    lengths = count([s.text for s in sents])
    out: list[Sentence] = []
    for sent, n in zip(sents, lengths, strict=True):
        if n <= max_tokens and len(sent.text) <= chars:
            out.append(sent)
        else:
            out.extend(_split_long(text, sent, max_tokens, chars, count))
    return out


def _split_long(
    text: str, sent: Sentence, max_tokens: int, max_chars: int, count: TokenCounter
) -> list[Sentence]:
    """Greedy pieces of whole words. Every word is at least one token, so a piece never holds more
    than ``max_tokens`` words or ``max_chars`` characters: only such windows are ever measured,
    which keeps a one-line megabyte linear."""
    words = [m.span() for m in re.finditer(r"\S+", text[sent.start : sent.end])]
    ends = [e for _, e in words]
    pieces: list[Sentence] = []
    i = 0
    while i < len(words):
        # The most words that can fit: a window of max_tokens words, max_chars characters.
        reach = bisect.bisect_right(ends, words[i][0] + max_chars, lo=i, hi=len(words))
        lo, hi = i + 1, min(len(words), i + max_tokens, max(reach, i + 1))
        while lo < hi:  # binary search for the most words that fit
            mid = (lo + hi + 1) // 2
            a, b = sent.start + words[i][0], sent.start + words[mid - 1][1]
            if count([text[a:b]])[0] <= max_tokens:
                lo = mid
            else:
                hi = mid - 1
        a, b = sent.start + words[i][0], sent.start + words[lo - 1][1]
        if lo == i + 1 and (b - a > max_chars or count([text[a:b]])[0] > max_tokens):
            pieces.extend(_split_chars(text, a, b, max_tokens, max_chars, count, sent.paragraph))
        else:
            pieces.append(Sentence(a, b, text[a:b], sent.paragraph))
        i = lo
    return pieces


def _split_chars(
    text: str,
    start: int,
    end: int,
    max_tokens: int,
    max_chars: int,
    count: TokenCounter,
    paragraph: int,
) -> list[Sentence]:
    """A single 'word' too long for the window (a URL, a formula) cut into pieces that fit."""
    pieces: list[Sentence] = []
    while start < end:
        lo, hi = start + 1, min(end, start + max_chars)
        if count([text[start:hi]])[0] <= max_tokens:
            lo = hi  # the whole window fits (a run the tokenizer reads as one unknown token)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if count([text[start:mid]])[0] <= max_tokens:
                lo = mid
            else:
                hi = mid - 1
        pieces.append(Sentence(start, lo, text[start:lo], paragraph))
        start = lo
    return pieces


def chunk_sentences(
    text: str,
    sents: list[Sentence],
    max_tokens: int,
    count: TokenCounter,
    *,
    min_tokens: int = 48,
    overlap: int = 1,
    max_chars: int | None = None,
) -> list[ChunkSpan]:
    """Pack consecutive sentences into chunks of at most ``max_tokens`` tokens and ``max_chars``
    characters (default ``max_chunk_chars(max_tokens)``).

    A chunk stays inside one paragraph unless the paragraph is short (under ``min_tokens``), then it
    joins the next; a paragraph longer than the window is cut into windows that share ``overlap``
    sentences. Every sentence must already fit (see ``fit_sentences``).
    """
    if not sents:
        return []
    chars = max_chunk_chars(max_tokens) if max_chars is None else max_chars
    lengths = count([s.text for s in sents])
    chunks: list[ChunkSpan] = []
    first = 0
    while first < len(sents):
        last, total = first, lengths[first]
        while last + 1 < len(sents):
            nxt = last + 1
            same_para = sents[nxt].paragraph == sents[last].paragraph
            if not same_para and total >= min_tokens:
                break
            # +1 approximates the separator between sentences.
            if total + lengths[nxt] + 1 > max_tokens or sents[nxt].end - sents[first].start > chars:
                break
            last, total = nxt, total + lengths[nxt] + 1
        start, end = sents[first].start, sents[last].end
        chunks.append(ChunkSpan(start, end, text[start:end], first, last))
        if last + 1 >= len(sents):
            break
        continues_para = sents[last + 1].paragraph == sents[last].paragraph
        step_back = overlap if continues_para and last - first + 1 > overlap else 0
        first = last + 1 - step_back
    return chunks


def word_count_tokens(texts: Sequence[str]) -> list[int]:
    """A tokenizer-free estimate (words and punctuation), for tests and fake embedders."""
    return [len(re.findall(r"\w+|[^\w\s]", t)) for t in texts]
