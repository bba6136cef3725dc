"""Every text scan of ingestion on one adversarial text, run in a child process by
tests/test_linear_scans.py (a C-level regex cannot be interrupted in-process; the child can be killed).

Each function builds its text from a short unit repeated to ``size`` characters, so only a few bytes
cross the process boundary, and returns what the test asserts on.
"""

from __future__ import annotations

from index.errors import ArticleError
from index.text.chunking import (
    chunk_sentences,
    fit_sentences,
    max_chunk_chars,
    paragraphs,
    sentences,
    word_count_tokens,
)

MAX_TOKENS = 128


def repeat(unit: str, size: int) -> str:
    return (unit * (size // max(1, len(unit)) + 1))[:size]


def scan_all(unit: str, size: int, prefix: str = "") -> dict[str, int]:
    """Sentences, chunks, word terms, scoring signals, and the Markdown, text and HTML readers."""
    from index.answer.scoring import signals
    from index.corpus.folder import parse_markdown, parse_plain
    from index.corpus.formats.html import parse_html_selectolax
    from index.text.analysis import terms

    text = prefix + repeat(unit, size)
    paras = paragraphs(text)
    sents = fit_sentences(text, sentences(text), MAX_TOKENS, word_count_tokens)
    chunks = chunk_sentences(text, sents, MAX_TOKENS, word_count_tokens)
    for c in chunks:
        assert text[c.start : c.end] == c.text
    terms(text)
    signals(text)
    parse_plain(text)
    parse_html_selectolax(f"<html><body><p>{text}</p></body></html>")
    try:
        parse_markdown(text)
        parse_markdown(f"---\ntitle: {text}\n---\nbody")
    except ArticleError:
        pass  # refused with a reason (e.g. front matter over its limit) is a fine outcome
    return {
        "paragraphs": len(paras),
        "sentences": len(sents),
        "chunks": len(chunks),
        "longest_chunk": max((len(c.text) for c in chunks), default=0),
        "chunk_char_limit": max_chunk_chars(MAX_TOKENS),
        "most_tokens": max(word_count_tokens([c.text for c in chunks]), default=0),
    }


def html_article(unit: str, size: int) -> int:
    """The default HTML reader (trafilatura, selectolax fallback) on one adversarial page."""
    from index.corpus.formats.html import parse_html

    try:
        return len(parse_html(repeat(unit, size)).text)
    except ArticleError:
        return -1


def escaped(unit: str, size: int) -> int:
    """The bot's escaping of article text (quotes, titles, queries) on one adversarial text."""
    from bot.render import escape, escape_inline, fit

    text = repeat(unit, size)
    fit(text, 1024)
    return len(escape(text)) + len(escape_inline(text))
