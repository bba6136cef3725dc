"""User and article text echoed in titles, field names and autocomplete is neutralized (issue 9)."""

from __future__ import annotations

import re

from bot import render
from bot.listing import matching_articles
from index.types import Answer, ArticleInfo, Passage, Quote

HOSTILE = "@everyone [click me](https://evil.example/t) <@&111> **bold** # h\n> quote"


def neutral_markdown(text: str) -> bool:
    """Where Discord renders markdown: no live masked link, mention, emphasis or line break."""
    return (
        "@everyone" not in text
        and re.search(r"(?<!\\)[\[\]()<>*]", text) is None
        and "\n" not in text
    )


def neutral_plain(text: str) -> bool:
    """Where Discord shows plain text: nothing that links or mentions, and no stray backslash."""
    return not any(s in text for s in ("@everyone", "](", "<@", "\n", "\\"))


def test_escape_inline_and_plain_text_neutralize_the_hostile_string() -> None:
    assert neutral_markdown(render.escape_inline(HOSTILE))
    assert neutral_plain(render.plain_text(HOSTILE))
    # What remains readable: the words themselves.
    assert "click me" in render.plain_text(HOSTILE)
    assert render.plain_text("A plain title") == render.escape_inline("A plain title")


def test_search_title_and_passage_names_are_escaped() -> None:
    passages = [Passage("p", HOSTILE, None, "text", 0, 4, 0.5)]
    embed = render.render_passages(passages, title=f"Search: {HOSTILE}", page=0, question=HOSTILE)
    assert neutral_markdown(embed.title or "")
    assert embed.title.startswith("Search: ")
    assert all(neutral_markdown(f.name or "") for f in embed.fields)
    assert embed.fields[0].name.startswith("1. ")


def test_answer_and_abstention_titles_and_field_names_are_escaped() -> None:
    quote = Quote("a", HOSTILE, "https://example.org/a", "The quote.", 0, 10)
    other = Passage("b", HOSTILE, None, "Other text.", 0, 11, 0.4)
    asked = Answer(HOSTILE, True, 0.9, (quote,), (other,), generation="g1")
    embed = render.render_answer(asked)
    assert neutral_markdown(embed.title or "")
    assert [neutral_markdown(f.name or "") for f in embed.fields] == [True]
    closest = render.render_abstention(Answer(HOSTILE, False, 0.1, (), (other,), generation="g1"))
    assert [neutral_markdown(f.name or "") for f in closest.fields] == [True]


def test_article_and_paragraph_titles_are_escaped() -> None:
    info = ArticleInfo("hostile", HOSTILE, None, HOSTILE, HOSTILE, "hostile.md", 1, 10)
    assert neutral_markdown(render.render_article(info, "Body.").title or "")
    assert neutral_markdown(render.render_paragraph(HOSTILE, None, "Body.").title or "")


def test_autocomplete_names_are_plain_and_neutral() -> None:
    info = ArticleInfo("hostile", HOSTILE, None, None, None, "hostile.md", 1, 10)
    [choice] = matching_articles([info], "click")
    assert neutral_plain(choice.name) and len(choice.name) <= 100
    assert choice.value == "hostile"


def test_long_hostile_titles_still_fit_their_limits() -> None:
    long = HOSTILE * 40
    embed = render.render_passages(
        [Passage("p", long, None, "t", 0, 1, 0.5)], title=long, page=0, question=long
    )
    assert len(embed.title or "") <= render.MAX_TITLE and neutral_markdown(embed.title or "")
    assert render.message_fits(None, [embed])
