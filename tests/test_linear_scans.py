"""Ingestion's text scans are linear: adversarial texts of up to 1 MB, each in a child process.

The sentence-end pattern took 2.1 s on 10,000 dots and 283 s on 100,000 (quadratic backtracking), and
a regex stall inside C cannot be interrupted in-process. So every case runs in a child process with
a generous timeout: a hang detector (a quadratic scan of 1 MB takes hours), not a performance target.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from multiprocessing.pool import Pool
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import adversarial

MB = 1_000_000
HANG_SECONDS = 90  # a linear pass over 1 MB takes a few seconds on a busy 2-core machine

# Runs that made a backtracking pattern restart inside them, and the shapes each reader looks for.
ADVERSARIAL_UNITS = {
    "dots": ".",
    "dots then a letter": "." * 999 + "a",
    "end marks": "!?.…",
    "dot and quote": '."',
    "closing quotes": '"',
    "reference markers": ".[1]",
    "reference marker, no dot": "[1]",
    "page markers": ".:1–2",
    "abbreviations": "e.g. ",
    "initials": "A. ",
    "one letter sentences": ". A",
    "heading hashes": "# ",
    "hash runs": "#",
    "blank lines": "\n",
    "blank lines with spaces": "\n \t",
    "list markers": "\n- ",
    "numbered markers": "\n1. ",
    "spaces": " ",
    "one endless word": "x",
    "words without an end": "word ",
    "open brackets": "(",
    "digits": "1",
    "digit groups": "1,0",
    "capitals": "Aa ",
    "front matter lines": "---\n",
    "html-ish": "<p>a</p>",
    "unclosed tags": "<a ",
    "entities": "&amp;",
    "mentions and links": "@everyone [x](https://e.x/t) <@&1> ",
    "escapes": "\\*_~`|>",
}


def _pool() -> Pool:
    return multiprocessing.get_context("spawn").Pool(1)


class Child:
    """One worker process; a case that exceeds the hang timeout fails and the worker is replaced."""

    def __init__(self) -> None:
        self.pool = _pool()

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        result = self.pool.apply_async(fn, args)
        try:
            return result.get(timeout=HANG_SECONDS)
        except multiprocessing.TimeoutError:
            self.pool.terminate()
            self.pool = _pool()
            name = getattr(fn, "__name__", "scan")
            pytest.fail(f"{name}{args[:2]!r} still running after {HANG_SECONDS} s: not linear")


@pytest.fixture(scope="module")
def child() -> Iterator[Child]:
    worker = Child()
    yield worker
    worker.pool.terminate()


# 200 KB detects a quadratic scan as surely as 1 MB (200,000 dots: about 20 minutes before the fix)
# at a fifth of the cost; the shapes that broke are also run at the full megabyte.
SIZE = 200_000
AT_ONE_MEGABYTE = ("dots", "reference markers", "heading hashes", "words without an end")


@pytest.mark.parametrize("unit", ADVERSARIAL_UNITS.values(), ids=ADVERSARIAL_UNITS.keys())
def test_adversarial_text_is_scanned_and_chunked(child: Child, unit: str) -> None:
    got = child.run(adversarial.scan_all, unit, SIZE)
    assert got["longest_chunk"] <= got["chunk_char_limit"]
    assert got["most_tokens"] <= adversarial.MAX_TOKENS
    if unit.strip():
        assert got["chunks"] >= SIZE // got["chunk_char_limit"]  # nothing dropped


@pytest.mark.parametrize("name", AT_ONE_MEGABYTE)
def test_adversarial_megabyte_is_scanned_and_chunked(child: Child, name: str) -> None:
    got = child.run(adversarial.scan_all, ADVERSARIAL_UNITS[name], MB)
    assert got["longest_chunk"] <= got["chunk_char_limit"]
    assert got["chunks"] >= MB // got["chunk_char_limit"]


def test_five_megabyte_line_is_many_bounded_chunks(child: Child) -> None:
    """It was one 5,000,023-character chunk."""
    got = child.run(adversarial.scan_all, "x", 5 * MB, "# Title\n\n")
    assert got["longest_chunk"] <= got["chunk_char_limit"]
    assert got["chunks"] >= 5 * MB // got["chunk_char_limit"]


@pytest.mark.parametrize(
    "unit", ["<div>", "<p>.", "<a href='#'>", "<li>", "<b><i>", "<!--", "&#", "<meta charset="]
)
def test_adversarial_html_page_is_read(child: Child, unit: str) -> None:
    """The default HTML reader (trafilatura, then selectolax) on hostile markup."""
    assert child.run(adversarial.html_article, unit, SIZE) >= -1


def test_a_megabyte_of_unclosed_divs_is_read(child: Child) -> None:
    """200,000 nested <div>: the HTML5 tree builder is quadratic in depth (minutes for 1 MB)."""
    assert child.run(adversarial.html_article, "<div>", MB) >= -1


@pytest.mark.parametrize("unit", ["\n", "\n>", "[", "@everyone ", "<@&1>", "](", "\\"])
def test_escaping_a_megabyte_is_linear(child: Child, unit: str) -> None:
    assert child.run(adversarial.escaped, unit, MB) >= MB


# Units mixing adversarial punctuation with any Unicode character; repeated to 10 KB - 1 MB.
PUNCTUATION = list(".!?…\"'”’)]([:0123456789–-#*+•\n\t \r<>&;/\\`|~_@aZ")
UNITS = st.text(
    alphabet=st.one_of(st.sampled_from(PUNCTUATION), st.characters()), min_size=1, max_size=12
)


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(unit=UNITS, size=st.sampled_from([10_000, 100_000, MB]))
def test_fuzzed_repetitions_are_scanned_and_chunked(child: Child, unit: str, size: int) -> None:
    got = child.run(adversarial.scan_all, unit, size)
    assert got["longest_chunk"] <= got["chunk_char_limit"]
    assert got["most_tokens"] <= adversarial.MAX_TOKENS
