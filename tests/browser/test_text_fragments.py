"""A real browser highlights exactly the quote (issue 20): article pages served on 127.0.0.1 are
added with `articlebot add URL`, questions are asked with `articlebot ask --json`, and the link of
each answer's quote is opened in headless Chromium, which must highlight the quote and nothing else.

How the highlight is read, and why a negative case cannot pass by waiting too little: chromium.py.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote as percent

import pytest

import index.embedding.embedder
from index.answer.deep_link import quote_link, text_fragment
from index.answer.quotes import quote_for
from index.cli.main import main
from index.generations.generation import Generation, load_generation
from index.generations.store import current_generation
from tests.browser.chromium import Chromium, Highlight
from tests.browser.pages import OTTERS, ZURICH, corpus_article, news_page
from tests.conftest import HashEmbedder
from tests.web.server import LoopbackWeb

PAGES = {
    "/world/india-japan-defence": news_page(*corpus_article("india-japan-defence-cooperation")),
    "/nature/otters": OTTERS,
    "/food/zurich-cafe": news_page(*ZURICH, date="2024-05-04"),
}


@dataclass
class Library:
    """The pages, served, added to a corpus by URL and indexed as `articlebot add` does."""

    web: LoopbackWeb
    folder: Path
    embedder: HashEmbedder

    def cli(self, *args: str) -> str:
        out = io.StringIO()
        stdout, sys.stdout = sys.stdout, out
        try:
            code = main(
                [*args, "--corpus", str(self.folder / "corpus"), "--index-dir", self.index_dir]
            )
        finally:
            sys.stdout = stdout
        assert code == 0, out.getvalue()
        return out.getvalue()

    @property
    def index_dir(self) -> str:
        return str(self.folder / "index")

    def ask(self, question: str) -> dict[str, Any]:
        return dict(json.loads(self.cli("ask", "--json", question)))

    def generation(self) -> Generation:
        folder = current_generation(Path(self.index_dir))
        return load_generation(folder, self.embedder.name, self.embedder.dim)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    embedder = HashEmbedder()  # the link depends on the quote's offsets, not on the vectors
    with pytest.MonkeyPatch.context() as patch, LoopbackWeb().running() as web:
        patch.setenv("FETCH_ALLOW_PRIVATE", "1")  # the pages are on 127.0.0.1
        patch.setattr(index.embedding.embedder, "load_embedder", lambda *args: embedder)
        for path, html in PAGES.items():
            web.page(path, html)
        folder = tmp_path_factory.mktemp("browser")
        (folder / "corpus").mkdir()
        lib = Library(web, folder, embedder)
        out = lib.cli("add", *(web.url(path) for path in PAGES))
        assert out.count("added web/127.0.0.1/") == len(PAGES), out
        yield lib


def check(chromium: Chromium, link: str, quote: str) -> Highlight:
    seen = chromium.highlight(link)
    assert seen.covers(quote), f"{link}\n  quote:       {quote!r}\n  highlighted: {seen.text!r}"
    return seen


@pytest.mark.parametrize(
    ("path", "question", "quoted", "prefixed"),
    [
        (
            "/world/india-japan-defence",
            "Which new fields did India and Japan agree to cooperate in?",
            "space and cyber",
            False,
        ),
        # Curly quotes and a name in them.
        (
            "/world/india-japan-defence",
            "Which fighter exercise was conducted in Japan in January?",
            "“Veer Guardian”",
            False,
        ),
        # "The defence ministry said that" opens an earlier sentence too (text fragments match
        # regardless of case): the link needs the words before the quote as a prefix.
        (
            "/world/india-japan-defence",
            "What did Oka recapitulate in the meeting with Singh?",
            "the meeting with Singh, Oka recapitulated",
            True,
        ),
        (
            "/nature/otters",
            "Why did otters disappear from England?",
            "organochlorine pesticides",
            False,
        ),
        ("/food/zurich-cafe", "What did Anaïs Müller say about the façade?", "façade &", False),
        ("/food/zurich-cafe", "How much does a cappuccino cost now?", "12 % on average;", False),
        # Its last words, "opens at 7 a.m.", come earlier in it too.
        (
            "/food/zurich-cafe",
            "When does the bar open in summer?",
            "the bar opens at 7 a.m.",
            False,
        ),
    ],
)
def test_the_answer_link_highlights_exactly_the_quote(
    chromium: Chromium, library: Library, path: str, question: str, quoted: str, prefixed: bool
) -> None:
    answer = library.ask(question)
    quote = answer["quotes"][0]
    assert quoted in quote["text"], quote  # the case this question is here for
    assert quote["url"] == library.web.url(path)
    link = quote["link"]
    assert link.startswith(library.web.url(path) + "#:~:text=")
    assert ("-," in link) == prefixed
    check(chromium, link, quote["text"])


def test_every_sentence_of_every_page_links_to_itself(chromium: Chromium, library: Library) -> None:
    """Each sentence quoted alone, as the engine builds a quote: all the repeats a page has."""
    gen = library.generation()
    checked = 0
    for sentence in range(len(gen.sentence_article)):
        quote = quote_for(gen, sentence)
        assert quote.link is not None and quote.url is not None
        check(chromium, quote.link, quote.text)
        checked += 1
    assert checked >= 30


def test_text_not_on_the_page_highlights_nothing(chromium: Chromium, library: Library) -> None:
    """The first directive's words are not on the page; the second's are, so once they are painted
    the first was tried (directives are matched in order) and must have painted nothing."""
    url = library.web.url("/nature/otters")
    control = "twelve sites between Llanidloes"
    missing = percent("otters were seen in the Thames", safe="")
    seen = chromium.highlight(f"{url}#:~:text={missing}&text={percent(control, safe='')}")
    assert seen.text == control
    # Words of the page in an order the page does not have.
    wrong = percent("Shrewsbury and Llanidloes", safe="")
    seen = chromium.highlight(f"{url}#:~:text={wrong}&text={percent(control, safe='')}")
    assert seen.text == control


def test_without_its_prefix_a_repeated_start_highlights_too_much(
    chromium: Chromium, library: Library
) -> None:
    """What the prefix is for, and proof that the check sees a wrong highlight: the same quote's
    start and end words alone match from the earlier sentence that starts the same way."""
    gen = library.generation()
    [row] = [i for i, a in enumerate(gen.articles) if "india" in a.id]
    article = gen.articles[row]
    start = article.text.index("The defence ministry said that the meeting")
    end = article.text.index("technology sectors.", start) + len("technology sectors.")
    link = quote_link(article.url, article.text, start, end)
    fragment = text_fragment(article.text, start, end)
    assert link is not None and fragment is not None and fragment.count(",") == 2
    check(chromium, link, article.text[start:end])
    bare = link.split("#")[0] + "#:~:text=" + fragment.split("-,", 1)[1]
    seen = chromium.highlight(bare)
    assert not seen.covers(article.text[start:end])
    assert seen.text.startswith("The Defence Ministry said that a wide range")
