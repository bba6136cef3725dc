"""Links to the quoted words (issue 20): text fragments per the WICG spec, pages for PDFs."""

from __future__ import annotations

from urllib.parse import unquote

from index.answer.deep_link import quote_link, text_fragment

STORY = (
    "The harbour wall will be rebuilt. The council voted on Monday. "
    "The harbour wall will be rebuilt with granite from Penryn, the engineers said, "
    "at a cost of 4.2 million pounds - a record for the town."
)


def span(words: str) -> tuple[int, int]:
    start = STORY.rindex(words)
    return start, start + len(words)


def test_a_short_quote_goes_whole() -> None:
    start, end = span("The council voted on Monday.")
    assert text_fragment(STORY, start, end) == "The%20council%20voted%20on%20Monday."


def test_a_long_quote_goes_as_its_first_and_last_words_with_a_prefix_when_they_repeat() -> None:
    quote = "The harbour wall will be rebuilt with granite from Penryn, the engineers said,"
    start, end = span(quote)
    fragment = text_fragment(STORY, start, end)
    assert fragment is not None
    prefix, first, last = fragment.split(",")
    # "The harbour wall will" first occurs in the opening sentence: the prefix makes it unique.
    assert unquote(prefix) == "voted on Monday.-"
    assert unquote(first) == "The harbour wall will"
    assert unquote(last) == "Penryn, the engineers said,"  # the comma itself is encoded
    assert "," not in last and "%2C" in last


def test_dashes_commas_and_ampersands_are_encoded() -> None:
    text = "Fish & chips - the town's dish, yes."  # eight words: one directive
    fragment = text_fragment(text, 0, len(text))
    assert fragment is not None
    assert "-" not in fragment and "&" not in fragment and "," not in fragment
    assert unquote(fragment) == text


def test_links_only_for_web_addresses_and_pages_for_pdfs() -> None:
    start, end = span("The council voted on Monday.")
    link = quote_link("https://example.org/story#top", STORY, start, end)
    assert link == "https://example.org/story#:~:text=The%20council%20voted%20on%20Monday."
    assert quote_link("https://example.org/r.pdf", STORY, start, end, page=3) == (
        "https://example.org/r.pdf#page=3"
    )
    assert quote_link(None, STORY, start, end) is None
    assert quote_link("file:///etc/passwd", STORY, start, end) is None
    assert text_fragment(STORY, 5, 5) is None


def test_end_words_that_occur_earlier_in_the_quote_grow_until_the_match_ends_at_the_quote() -> None:
    text = "Opening hours. In summer the terrace opens at 7 a.m., the bakery opens at 7 a.m., and the bar opens at 7 a.m."
    start = text.index("In summer")
    fragment = text_fragment(text, start, len(text))
    assert fragment is not None
    first, last = (unquote(part) for part in fragment.split(","))
    assert first == "In summer the terrace"
    # "opens at 7 a.m." would end the match after "the terrace"; "bar opens at 7 a.m." cannot.
    assert last == "bar opens at 7 a.m."


def test_a_prefix_grows_until_it_and_the_start_words_occur_nowhere_earlier() -> None:
    text = (
        "Monday: we all said so. The plan was approved. "
        "Tuesday: they all said so. The plan was approved."
    )
    start = text.rindex("The plan was approved.")
    fragment = text_fragment(text, start, len(text))
    assert fragment is not None
    prefix, first = fragment.split(",")
    assert unquote(first) == "The plan was approved."
    # "all said so." comes before the first "The plan was approved." too: one word more.
    assert unquote(prefix) == "they all said so.-"
