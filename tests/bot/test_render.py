"""render: escaping, shortening at boundaries, and every Discord limit."""

from __future__ import annotations

import re

import discord
from hypothesis import given
from hypothesis import strategies as st

from bot import render
from index.types import Answer, ArticleInfo, BuildReport, IndexInfo, Passage, Quote, SkippedFile


def quote(text: str, title: str = "Title", url: str | None = "https://example.org/a") -> Quote:
    return Quote("a", title, url, text, 0, len(text))


def passage(text: str, i: int = 0, title: str = "Other") -> Passage:
    return Passage(f"p{i}", title, None, text, 0, len(text), 0.5)


def answer(text: str, *, passages: tuple[Passage, ...] = (), answered: bool = True) -> Answer:
    quotes = (quote(text),) if answered else ()
    return Answer("Which fields?", answered, 0.8, quotes, passages, generation="g7")


def test_escape_neutralizes_markdown_mentions_and_masked_links() -> None:
    text = "**bold** _it_ `code` ||spoiler|| [click](https://evil) <@1> <@&2> <#3> @everyone @here"
    out = render.escape(text)
    assert "@everyone" not in out and "@here" not in out
    assert "\\[click\\]\\(https://evil\\)" in out
    assert "\\<@1\\>" in out and "\\<@&2\\>" in out and "\\<#3\\>" in out
    assert "\\*\\*bold\\*\\*" in out and "\\|\\|spoiler\\|\\|" in out


def test_escape_line_start_markup() -> None:
    assert render.escape("# Heading\n> quote\n- item\n1. first") == (
        "\\# Heading\n\\> quote\n\\- item\n\\1. first"
    )


def test_shorten_prefers_a_sentence_boundary() -> None:
    text = "First sentence is here. Second sentence is a good deal longer than the first."
    assert render.shorten(text, 40) == "First sentence is here. …"


def test_shorten_falls_back_to_a_word_boundary() -> None:
    out = render.shorten("alpha beta gamma delta epsilon", 20)
    assert out == "alpha beta gamma…"


def test_shorten_leaves_short_text_alone() -> None:
    assert render.shorten("  short  ", 10) == "short"


@given(st.text(min_size=0, max_size=3000), st.integers(min_value=5, max_value=1500))
def test_fit_always_fits_and_never_cuts_inside_a_word(text: str, limit: int) -> None:
    out = render.fit(text, limit)
    assert len(out) <= limit
    if len(text.strip()) > limit and out.endswith("…"):
        kept = out[:-1].rstrip(" ")
        raw_words = set(re.findall(r"\w+", text))
        last = re.findall(r"\w+", kept.replace("\\", ""))
        # A cut inside a word is allowed only when no word boundary fits before the limit.
        if last and " " in text.strip()[: limit - 1]:
            assert last[-1] in raw_words


def test_emphasize_bolds_runs_of_answering_words() -> None:
    out = render.emphasize("India and Japan agreed to cooperate in space.", "Did Japan cooperate?")
    assert out == "India and **Japan** agreed to **cooperate** in space."
    both = render.emphasize("space and cyber security", "cyber security?")
    assert both == "space and **cyber security**"


def test_emphasize_escapes_what_it_does_not_bold() -> None:
    out = render.emphasize("x *yes* @everyone", "yes")
    assert out == "x \\***yes**\\* @\u200beveryone"


def test_answer_embed_quotes_links_and_tells_the_generation() -> None:
    embed = render.render_answer(answer("Space and cyber.", passages=(passage("More text."),)))
    assert embed.description is not None and embed.description.startswith("> ")
    assert "[Title](<https://example.org/a>)" in embed.description
    assert embed.url == "https://example.org/a"
    assert embed.footer.text is not None and "g7" in embed.footer.text
    assert embed.footer.text.startswith("Answered from index")
    assert [f.name for f in embed.fields] == ["Also: Other"]


def test_supporting_passages_skip_the_one_holding_the_quote() -> None:
    holder = Passage("a", "Title", None, "Space and cyber. More.", 0, 30, 0.9)
    others = tuple(passage("x", i) for i in range(4))
    ans = answer("Space and cyber.", passages=(holder, *others))
    assert [p.article for p in render.supporting_passages(ans)] == ["p0", "p1"]


def test_abstention_says_so_and_labels_the_closest_passages() -> None:
    embed = render.render_answer(answer("", passages=(passage("Near miss."),), answered=False))
    assert embed.title == "The articles don't answer that"
    assert embed.description is not None and "Closest I found" in embed.description
    assert embed.fields[0].name == "Closest: Other"
    assert embed.footer.text is not None and embed.footer.text.startswith("Searched index")


def test_huge_everything_stays_within_limits() -> None:
    huge = "word " * 2000
    long_title = "T" * 1000
    ps = tuple(passage(huge, i, title=long_title) for i in range(10))
    embed = render.render_answer(
        Answer("q " * 500, True, 1.0, (quote(huge, title=long_title),), ps, generation="g" * 3000)
    )
    assert render.message_fits(None, [embed])
    pages = render.render_passages(ps, title=long_title, page=1)
    assert render.message_fits(None, [pages]) and len(pages.fields) == 5


def test_masked_link_urls_are_sanitised() -> None:
    assert render.safe_url("javascript:alert(1)") is None
    assert render.safe_url("https://e.org/a b)c") == "https://e.org/a%20b%29c"
    assert render.source_link("A [b]", "ftp://x") == "*A \\[b\\]*"


def test_paragraph_around_finds_the_paragraph_even_after_edits() -> None:
    text = "First para.\n\nThe quote is here. And more.\n\nLast para."
    start = text.index("The quote")
    assert render.paragraph_around(text, "The quote is here.", start, start + 18) == (
        "The quote is here. And more."
    )
    moved = "New intro.\n\n" + text
    assert render.paragraph_around(moved, "The quote is here.", start, start + 18) == (
        "The quote is here. And more."
    )
    assert render.paragraph_around("other", "The quote is here.", 0, 18) is None


def test_report_lists_skipped_files_within_the_content_limit() -> None:
    skipped = tuple(SkippedFile(f"bad{i}.pdf", "not a PDF " * 5) for i in range(200))
    report = BuildReport("g2", 1, 0, 0, 3, 10, 4, 1.5, skipped)
    text = render.render_report(report, "admin")
    assert len(text) <= render.MAX_CONTENT and "more skipped files" in text
    assert text.startswith("Reindex finished: 1 added")


def test_sources_and_article_embeds_fit() -> None:
    infos = [
        ArticleInfo(f"a{i}", "Title " * 30, "https://e.org", "2024", "me", f"a{i}.md", 3, 99)
        for i in range(40)
    ]
    info = IndexInfo("g", "now", "m", 64, 40, 120, 300, "i", "c")
    embed = render.render_sources(infos, info, page=2)
    assert render.message_fits(None, [embed]) and embed.footer.text.startswith("Page 3 of 3")
    assert render.message_fits(None, [render.render_article(infos[0], "text " * 3000)])


def test_message_fits_detects_overflows() -> None:
    assert not render.message_fits("x" * 2001, [])
    assert not render.message_fits(None, [discord.Embed(description="x" * 4097)])


def test_the_answer_span_is_bold_inside_the_quote_and_escaped() -> None:
    from index.types import AnswerText

    text = "Both agreed to cooperate in *space* and cyber <@1> as a goal."
    start = text.index("*space*")
    end = text.index(" <@1>")
    a = Answer(
        "Which fields?",
        True,
        0.9,
        (quote(text),),
        (),
        generation="g7",
        answer=AnswerText(text[start:end], start, end),
    )
    body = render.render_answer(a).description or ""
    assert "**\\*space\\* and cyber**" in body  # the span, bold, its markup escaped
    assert "\\<@1\\>" in body  # the rest escaped too
    assert body.count("**") == 2  # no question-word emphasis besides the span


def test_without_a_span_the_question_words_are_emphasized() -> None:
    body = render.render_answer(answer("The fields are space and cyber.")).description or ""
    assert "**fields**" in body
