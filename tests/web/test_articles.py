"""A fetched page stored as a Markdown article: front matter, the text verbatim, dedup."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.corpus.folder import read_article
from index.web.articles import canonical_url, fetch_article, plan, save, web_texts
from index.web.errors import WebError
from index.web.fetch import FetchPolicy
from tests.conftest import DATA
from tests.web.pages import article
from tests.web.server import LoopbackWeb

OTTERS = (DATA / "web" / "news-article.html").read_text(encoding="utf-8")


def test_a_fetched_page_becomes_a_markdown_article(
    web: LoopbackWeb, policy: FetchPolicy, tmp_path: Path
) -> None:
    web.page("/nature/otters", OTTERS)
    page = fetch_article(web.url("/nature/otters"), policy)
    assert (page.title, page.author, page.date) == (
        "River otters return to the Severn",
        "Maria Lindqvist",
        "2024-03-05",
    )
    # The page names https://news.example.org/... as canonical: another site, so not trusted.
    assert page.url == web.url("/nature/otters")
    item = plan(tmp_path, page, {}, replace=False)
    save(tmp_path, [item])
    assert item.outcome == "added" and item.path.startswith("web/127.0.0.1/otters-")
    stored = read_article(tmp_path, tmp_path / item.path)
    assert (stored.url, stored.title, stored.date, stored.author) == (
        page.url,
        page.title,
        "2024-03-05",
        "Maria Lindqvist",
    )
    file_text = (tmp_path / item.path).read_text(encoding="utf-8")
    assert file_text[stored.source_offset :] == stored.text  # quotes are verbatim file text
    assert "fetched_at: '" in file_text and "trollface99" not in file_text


def test_same_url_is_unchanged_same_text_elsewhere_is_a_duplicate(
    web: LoopbackWeb, policy: FetchPolicy, tmp_path: Path
) -> None:
    html = article("Bridge reopens", "The old stone bridge reopened to traffic on Monday morning.")
    web.page("/bridge", html)
    web.page("/copy-of-bridge", html)
    save(tmp_path, [plan(tmp_path, fetch_article(web.url("/bridge"), policy), {}, replace=False)])
    texts = web_texts(tmp_path)
    again = plan(tmp_path, fetch_article(web.url("/bridge"), policy), texts, replace=False)
    copy = plan(tmp_path, fetch_article(web.url("/copy-of-bridge"), policy), texts, replace=False)
    assert again.outcome == "unchanged"
    assert copy.outcome == "duplicate" and copy.same_as == again.path


def test_a_changed_page_needs_replace(
    web: LoopbackWeb, policy: FetchPolicy, tmp_path: Path
) -> None:
    web.page("/p", article("Budget", "The budget was approved by nine votes to four."))
    save(tmp_path, [plan(tmp_path, fetch_article(web.url("/p"), policy), {}, replace=False)])
    web.page("/p", article("Budget", "The budget was rejected by nine votes to four."))
    changed = fetch_article(web.url("/p"), policy)
    with pytest.raises(WebError, match=r"already in the corpus as web/127\.0\.0\.1/p-"):
        plan(tmp_path, changed, web_texts(tmp_path), replace=False)
    assert plan(tmp_path, changed, web_texts(tmp_path), replace=True).outcome == "updated"


def test_a_page_without_title_is_named_after_its_url(web: LoopbackWeb, policy: FetchPolicy) -> None:
    lighthouse = (DATA / "web" / "no-title.html").read_text(encoding="utf-8")
    web.page("/blog/point-reyes-lighthouse.html", lighthouse)
    page = fetch_article(web.url("/blog/point-reyes-lighthouse.html"), policy)
    assert page.title == "Point reyes lighthouse"
    assert "Blogroll" not in page.text and "Fresnel lens" in page.text


def test_a_non_html_response_is_refused(web: LoopbackWeb, policy: FetchPolicy) -> None:
    web.route("/report.pdf", b"%PDF-1.4", Content_Type="application/pdf")
    with pytest.raises(WebError) as caught:
        fetch_article(web.url("/report.pdf"), policy)
    assert caught.value.user_line() == (
        f"{web.url('/report.pdf')}: not an HTML page (the server sent application/pdf)"
    )


def test_a_paywall_page_is_refused(web: LoopbackWeb, policy: FetchPolicy) -> None:
    web.page("/leak", (DATA / "web" / "paywall.html").read_text(encoding="utf-8"))
    with pytest.raises(WebError, match="no article text found"):
        fetch_article(web.url("/leak"), policy)


def test_canonical_url_only_on_the_same_site() -> None:
    final = "https://www.example.org/a?utm=1#top"
    assert canonical_url("https://example.org/story", final) == "https://example.org/story"
    assert canonical_url("https://evil.example/x", final) == "https://www.example.org/a?utm=1"
    assert canonical_url("javascript:alert(1)", final) == "https://www.example.org/a?utm=1"
    assert canonical_url(None, final) == "https://www.example.org/a?utm=1"
