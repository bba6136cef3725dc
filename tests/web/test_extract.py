"""Main text and metadata of HTML pages (trafilatura, with the selectolax reader as fallback)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from index.corpus.folder import read_article
from index.web.errors import WebError
from index.web.extract import decode, read_page, title_from_url
from tests.conftest import DATA

PAGES = DATA / "web"
EXPECTED = json.loads((PAGES / "expected.json").read_text(encoding="utf-8"))


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("name", [n for n, e in EXPECTED.items() if not e.get("no_text")])
def test_local_html_keeps_the_article_and_drops_the_boilerplate(name: str, tmp_path: Path) -> None:
    shutil.copy(PAGES / name, tmp_path / name)
    article = read_article(tmp_path, tmp_path / name)
    expected = EXPECTED[name]
    for sentence in expected["must"]:
        assert sentence in flat(article.text)
    for junk in expected["must_not"]:
        assert junk.casefold() not in article.text.casefold()
    for field in ("author", "date", "url"):
        if field in expected:
            assert getattr(article, field) == expected[field]
    if expected.get("title"):
        assert article.title == expected["title"]


def test_paragraphs_follow_the_page_structure_not_its_line_breaks(tmp_path: Path) -> None:
    html = (
        "<html><head><title>Wrapped</title></head><body><article>"
        "<p>One paragraph whose source\nis wrapped over\nthree lines.</p>"
        "<p>A second <code>one</code> with<br>a break.</p></article></body></html>"
    )
    (tmp_path / "wrapped.html").write_text(html, encoding="utf-8")
    text = read_article(tmp_path, tmp_path / "wrapped.html").text
    assert text.split("\n\n") == [
        "One paragraph whose source is wrapped over three lines.",
        "A second one with a break.",
    ]


def test_a_paywall_page_has_no_article_text() -> None:
    html = (PAGES / "paywall.html").read_text(encoding="utf-8")
    with pytest.raises(WebError, match=r"https://x\.example/leak: no article text found"):
        read_page(html, "https://x.example/leak")


def test_title_from_url() -> None:
    assert title_from_url("https://example.org/news/point-reyes_lighthouse.html") == (
        "Point reyes lighthouse"
    )
    assert title_from_url("https://example.org/") == "example.org"


def test_decode_uses_the_server_charset_then_the_page_meta() -> None:
    assert decode("café".encode("latin-1"), "iso-8859-1") == "café"
    page = '<meta charset="windows-1252"><p>café</p>'.encode("cp1252")
    assert "café" in decode(page, None)
    assert decode("café".encode(), None) == "café"
