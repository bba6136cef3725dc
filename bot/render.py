"""Pure rendering: engine values -> Discord embeds and text within every Discord limit.

Everything quoted from an article is escaped (markdown, mentions, masked links) and shortened at a
sentence or word boundary; nothing here does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote as urlquote
from urllib.parse import urlsplit

import discord

from index.answer.explain import Explanation
from index.library.scoped import is_server_article
from index.types import (
    Answer,
    ArticleInfo,
    ArticleSpan,
    BuildReport,
    Differing,
    IndexInfo,
    Passage,
    Quote,
)

if TYPE_CHECKING:
    from bot.stats import Period, Stats

MAX_CONTENT = 2000
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER = 2048
MAX_EMBED_TOTAL = 6000
MAX_BUTTON_LABEL = 80

ELLIPSIS = "…"
ZWSP = "\u200b"
ANSWER_COLOUR = discord.Colour(0x2E8B57)
ABSTAIN_COLOUR = discord.Colour(0x808080)
INFO_COLOUR = discord.Colour(0x4169E1)

PRIMARY_QUOTE_CHARS = 1500
SUPPORT_CHARS = 400
PASSAGE_CHARS = 700
PASSAGES_PER_PAGE = 5

_STOPWORD_TEXT = (
    "the a an and or of to in on at for by with from as is are was were be been being it its this "
    "that these those what which who whom whose when where why how did does do done has have had "
    "not no can could would should will shall may might must about into than then there their they "
    "them he she his her you your we our i me my"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split(" "))
_ESCAPE_ANYWHERE = re.compile(r"([\\*_~`|\[\]()<>])")
# [ \t]*, not \s*: \s* crossed line ends, so every line of a run of blank lines rescanned the rest.
_LINE_START_MARKUP = re.compile(r"^([ \t]*+)([#>\-+]|\d+\.)", re.MULTILINE)
_MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s")
_WORD = re.compile(r"(\w+)")


def neutralize_mentions(text: str) -> str:
    """Break @everyone/@here so they neither ping nor render as a mention."""
    return _MASS_MENTION.sub(lambda m: f"@{ZWSP}{m.group(1)}", text)


def escape(text: str) -> str:
    """Text shown literally: markdown, masked links, user/role/channel mentions all neutralized."""
    text = _ESCAPE_ANYWHERE.sub(r"\\\1", text)
    text = _LINE_START_MARKUP.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    return neutralize_mentions(text)


_LINE_BREAKS = re.compile(r"[\r\n\v\f\x85\u2028\u2029]+")
# What renders as a link or a mention even where markdown does not: masked links, <@id>, <@&id>,
# <#id>, </command:id>, <t:...>, and @everyone/@here.
_PLAIN_LINK = re.compile(r"\]\(")
_PLAIN_MENTION = re.compile(r"<(?=[@#/:at])")


def escape_inline(text: str) -> str:
    """A title or field name from a user or an article, on one line and shown literally: inline
    markdown, masked links and mentions neutralized as ``escape`` does for quotes (titles and field
    names render no block markup, so a leading "1." or "#" stays as it is)."""
    text = _ESCAPE_ANYWHERE.sub(r"\\\1", _LINE_BREAKS.sub(" ", text))
    return neutralize_mentions(text)


def plain_text(text: str) -> str:
    """Text for places Discord shows without markdown (footers, autocomplete choices): no
    backslashes to show, but no masked link, mention or line break either (zero-width breaks)."""
    text = _LINE_BREAKS.sub(" ", text)
    text = _PLAIN_LINK.sub(f"]{ZWSP}(", text)
    text = _PLAIN_MENTION.sub(f"<{ZWSP}", text)
    return neutralize_mentions(text)


def shorten(text: str, limit: int) -> str:
    """``text`` if it fits, else cut at a sentence (or else word) boundary and end with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    cut = text[: limit - len(ELLIPSIS)]
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, len(cut) + 1)]
    if sentence_ends and sentence_ends[-1] >= len(cut) // 2:
        return text[: sentence_ends[-1]].rstrip() + " " + ELLIPSIS
    # The character after the cut tells whether the cut already ends at a word boundary.
    if text[len(cut)].isspace():
        return cut.rstrip() + ELLIPSIS
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space > 0:
        return cut[:space].rstrip(" ,;:-\n") + ELLIPSIS
    return cut + ELLIPSIS  # one enormous token: no boundary to respect


def fit(text: str, limit: int, transform: Callable[[str], str] = escape) -> str:
    """Shorten the raw ``text`` until ``transform`` of it fits ``limit`` (escaping adds characters)."""
    budget = limit
    while True:
        out = transform(shorten(text, budget))
        if len(out) <= limit or budget <= 1:
            return out[:limit] if len(out) > limit else out
        budget -= max(1, len(out) - limit)


def question_terms(question: str) -> frozenset[str]:
    words = (w.lower() for w in _WORD.findall(question))
    return frozenset(w for w in words if len(w) >= 3 and w not in _STOPWORDS)


def _matches(word: str, terms: frozenset[str]) -> bool:
    w = word.lower()
    if w in _STOPWORDS or len(w) < 3:
        return False
    return any(w == t or (len(w) >= 5 and len(t) >= 5 and w[:5] == t[:5]) for t in terms)


def emphasize(text: str, question: str) -> str:
    """Escape ``text`` and bold the runs of words that answer ``question``."""
    terms = question_terms(question)
    pieces = _WORD.split(neutralize_mentions(text))  # even indexes: separators, odd: words
    out: list[str] = []
    in_run = False
    for i, piece in enumerate(pieces):
        if i % 2 == 1:
            hit = _matches(piece, terms)
            if hit and not in_run:
                out.append("**")
                in_run = True
            elif not hit and in_run:
                out.append("**")
                in_run = False
            out.append(escape(piece))
            continue
        if in_run and not (piece.strip() == "" and piece and _next_word_hits(pieces, i, terms)):
            out.append("**")
            in_run = False
        out.append(escape(piece))
    if in_run:
        out.append("**")
    return "".join(out)


def emphasize_span(text: str, start: int, end: int) -> str:
    """Escape ``text`` and bold ``text[start:end]`` (the reader's answer), white space kept outside."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if not 0 <= start < end <= len(text):
        return escape(text)
    return f"{escape(text[:start])}**{escape(text[start:end])}**{escape(text[end:])}"


def _quote_markup(answer: Answer, quote: Quote) -> Callable[[str], str]:
    """How the primary quote is marked up: the answer span in bold when the reader gave one and it
    survives shortening, else the question's words."""
    span = answer.answer
    if span is not None and quote.start <= span.start and span.end <= quote.end:
        a, b = span.start - quote.start, span.end - quote.start
        kept = quote.text[:b]

        def mark(s: str) -> str:
            if s.startswith(kept):
                return block_quote(emphasize_span(s, a, b))
            return block_quote(emphasize(s, answer.question))

        return mark
    return lambda s: block_quote(emphasize(s, answer.question))


def _next_word_hits(pieces: Sequence[str], i: int, terms: frozenset[str]) -> bool:
    return i + 1 < len(pieces) and _matches(pieces[i + 1], terms)


def block_quote(markdown: str) -> str:
    """Prefix every line with '> ' (blank lines too, so the quote does not end early)."""
    return "\n".join("> " + line for line in markdown.splitlines() or [""])


def safe_url(url: str | None) -> str | None:
    """An http(s) URL safe inside a masked link, or None."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlquote(url.strip(), safe=":/?#@!$&'*+,;=%~.-_")


def source_link(title: str, url: str | None, limit: int = 300) -> str:
    """'Title' linked to its url (angle brackets suppress the preview), escaped."""
    name = fit(title or "untitled", min(limit, 200))
    link = safe_url(url)
    if link is None or len(name) + len(link) + 4 > limit:
        return f"*{name}*"
    return f"[{name}](<{link}>)"


def _cite(item: Quote | Passage) -> str:
    page = f", p. {item.page}" if item.page else ""
    quote = item if isinstance(item, Quote) else None  # quotes carry a date and a deep link
    dated = f" ({fit(quote.date, 40)})" if quote and quote.date else ""
    url = (quote.link if quote else None) or item.url
    return source_link(item.title, url) + page + dated + library_label(item.article)


def library_label(article_id: str) -> str:
    """Where a server's own article is cited: said, so members tell it from the shared library."""
    return " · *this server's library*" if is_server_article(article_id) else ""


def _footer(answer: Answer) -> str:
    conf = f"confidence {answer.confidence:.0%}"
    gen = f"index generation {answer.generation}" if answer.generation else "index"
    verb = "Answered from" if answer.answered else "Searched"
    return fit(f"{verb} {gen} · {conf}", MAX_FOOTER, transform=str)


def supporting_passages(answer: Answer, limit: int = 2) -> list[Passage]:
    """Passages that add something beyond the primary quote, best first."""
    primary = answer.quotes[0] if answer.quotes else None
    out: list[Passage] = []
    for p in answer.passages:
        if primary and p.article == primary.article and p.start <= primary.start < p.end:
            continue
        out.append(p)
        if len(out) == limit:
            break
    return out


def shown_quotes(answer: Answer) -> tuple[ArticleSpan, ...]:
    """What an answer's reply quotes, in its order: the primary quote, then the supporting
    passages (what per-quote feedback refers to by position); nothing for an abstention."""
    if not answer.answered or not answer.quotes:
        return ()
    return (answer.quotes[0], *supporting_passages(answer))


def render_answer(answer: Answer) -> discord.Embed:
    """The reply to a question: the quote, its source, supporting passages; or 'closest I found'."""
    if not answer.answered or not answer.quotes:
        return render_abstention(answer)
    quote = answer.quotes[0]
    body = fit(quote.text, PRIMARY_QUOTE_CHARS, _quote_markup(answer, quote))
    embed = discord.Embed(
        title=fit(quote.title or "Answer", MAX_TITLE, transform=escape_inline),
        url=safe_url(quote.link or quote.url),  # opens the page at the quoted words
        description=f"{body}\n— {_cite(quote)}",
        colour=ANSWER_COLOUR,
    )
    if answer.differing:
        embed.add_field(
            name="The articles differ (newest first)",
            value=differing_value(answer.differing),
            inline=False,
        )
    for p in supporting_passages(answer):
        embed.add_field(
            name=fit(f"Also: {p.title}", MAX_FIELD_NAME, transform=escape_inline),
            value=_passage_value(p, SUPPORT_CHARS, answer.question),
            inline=False,
        )
    embed.set_footer(text=_footer(answer))
    return embed


def differing_value(items: Sequence[Differing]) -> str:
    """One line per article that answers with its own figure: the figure in bold, the article, its date."""
    room = MAX_FIELD_VALUE // max(1, len(items)) - 1
    lines = []
    for d in items:
        dated = f" ({fit(d.date, 40)})" if d.date else " (undated)"
        figure = fit(d.text, 120, transform=escape_inline)
        cite = source_link(d.title, d.url, limit=max(20, room - len(figure) - len(dated) - 8))
        lines.append(f"**{figure}** — {cite}{dated}")
    return "\n".join(lines)


def render_abstention(answer: Answer) -> discord.Embed:
    embed = discord.Embed(
        title="The articles don't answer that",
        description="I found no passage that answers this question. **Closest I found:**",
        colour=ABSTAIN_COLOUR,
    )
    for p in answer.passages[:3]:
        embed.add_field(
            name=fit(f"Closest: {p.title}", MAX_FIELD_NAME, transform=escape_inline),
            value=_passage_value(p, SUPPORT_CHARS, answer.question),
            inline=False,
        )
    if not answer.passages:
        embed.description = "I found nothing in the articles about this question."
    embed.set_footer(text=_footer(answer))
    return embed


def _passage_value(p: Passage, chars: int, question: str = "") -> str:
    cite = _cite(p)
    budget = min(chars, MAX_FIELD_VALUE - len(cite) - 6)
    text = fit(p.text, budget, lambda s: block_quote(emphasize(s, question)))
    return f"{text}\n— {cite}"


def render_passages(
    passages: Sequence[Passage], *, title: str, page: int, question: str = ""
) -> discord.Embed:
    """One page of ranked passages with scores (search results, 'More passages')."""
    pages = page_count(len(passages))
    page = max(0, min(page, pages - 1))
    first = page * PASSAGES_PER_PAGE
    embed = discord.Embed(title=fit(title, MAX_TITLE, transform=escape_inline), colour=INFO_COLOUR)
    for rank, p in enumerate(passages[first : first + PASSAGES_PER_PAGE], start=first + 1):
        embed.add_field(
            name=fit(
                f"{rank}. {p.title} · score {p.score:.3f}", MAX_FIELD_NAME, transform=escape_inline
            ),
            value=_passage_value(p, PASSAGE_CHARS, question),
            inline=False,
        )
    if not passages:
        embed.description = "No passages found."
    embed.set_footer(text=f"Page {page + 1} of {pages} · {len(passages)} passages")
    return embed


def page_count(items: int, per_page: int = PASSAGES_PER_PAGE) -> int:
    return max(1, -(-items // per_page))


def render_paragraph(title: str, url: str | None, text: str) -> discord.Embed:
    """The full paragraph around a quote (shortened only if it exceeds an embed description)."""
    return discord.Embed(
        title=fit(title or "Paragraph", MAX_TITLE, transform=escape_inline),
        url=safe_url(url),
        description=fit(text, MAX_DESCRIPTION - 200, lambda s: block_quote(escape(s))),
        colour=INFO_COLOUR,
    )


def render_article(info: ArticleInfo, text: str) -> discord.Embed:
    embed = discord.Embed(
        title=fit(info.title or info.id, MAX_TITLE, transform=escape_inline),
        url=safe_url(info.url),
        description=fit(text, 600, lambda s: block_quote(escape(s))),
        colour=INFO_COLOUR,
    )
    for name, value in (
        ("Date", info.date),
        ("Author", info.author),
        ("File", info.path),
        ("Chunks", str(info.chunks)),
        ("Length", f"{info.chars:,} characters"),
    ):
        if value:
            embed.add_field(name=name, value=fit(value, MAX_FIELD_VALUE), inline=True)
    return embed


SOURCES_PER_PAGE = 15


def render_sources(articles: Sequence[ArticleInfo], info: IndexInfo, page: int) -> discord.Embed:
    pages = page_count(len(articles), SOURCES_PER_PAGE)
    page = max(0, min(page, pages - 1))
    first = page * SOURCES_PER_PAGE
    lines = [
        f"• {source_link(a.title or a.id, a.url, 200)} · `{fit(a.id, 80, _code)}` · {a.chunks} chunks"
        + library_label(a.id)
        for a in articles[first : first + SOURCES_PER_PAGE]
    ]
    embed = discord.Embed(
        title=f"Sources: {info.articles} articles, {info.chunks} chunks",
        description="\n".join(lines) or "The corpus is empty.",
        colour=INFO_COLOUR,
    )
    embed.set_footer(
        text=fit(
            f"Page {page + 1} of {pages} · generation {info.generation} · built {info.built_at}",
            MAX_FOOTER,
            transform=str,
        )
    )
    return embed


def _code(text: str) -> str:
    return text.replace("`", "'")


def render_report(report: BuildReport, who: str = "") -> str:
    """The final reindex message: the summary, then skipped files with their reasons."""
    head = f"Reindex finished: {escape(report.summary())}"
    if who:
        head += f" (started by {escape(who)})"
    lines = [head]
    for skipped in report.skipped:
        lines.append(f"• skipped `{_code(skipped.path)}`: {escape(skipped.reason)}")
    text = "\n".join(lines)
    if len(text) <= MAX_CONTENT:
        return text
    kept: list[str] = []
    for line in lines:
        if sum(len(k) + 1 for k in kept) + len(line) > MAX_CONTENT - 60:
            break
        kept.append(line)
    return "\n".join(kept) + f"\n… and {len(lines) - len(kept)} more skipped files (see the log)"


def render_progress(stage: str, done: int, total: int) -> str:
    if total <= 0:
        return f"Reindexing: {escape(stage)}…"
    return f"Reindexing: {escape(stage)} {done}/{total} ({done / total:.0%})"


def message_fits(content: str | None, embeds: Sequence[discord.Embed]) -> bool:
    """Whether a message respects Discord's content and embed limits (used by tests and guards)."""
    if content and len(content) > MAX_CONTENT:
        return False
    total = 0
    for e in embeds:
        if len(e.fields) > MAX_FIELDS or len(e.description or "") > MAX_DESCRIPTION:
            return False
        if len(e.title or "") > MAX_TITLE or len(e.footer.text or "") > MAX_FOOTER:
            return False
        if any(len(f.name or "") > MAX_FIELD_NAME for f in e.fields):
            return False
        if any(len(f.value or "") > MAX_FIELD_VALUE for f in e.fields):
            return False
        total += len(e)
    return total <= MAX_EMBED_TOTAL


def paragraph_around(text: str, quote: str, start: int, end: int, limit: int = 3800) -> str | None:
    """The paragraph of ``text`` holding the quote (found again if the article has changed)."""
    if text[start:end] != quote:
        start = text.find(quote)
        if start < 0:
            return None
        end = start + len(quote)
    left = text.rfind("\n\n", 0, start)
    right = text.find("\n\n", end)
    left = 0 if left < 0 else left + 2
    right = len(text) if right < 0 else right
    if right - left > limit:  # an enormous 'paragraph': keep a window centred on the quote
        pad = max(0, (limit - (end - start)) // 2)
        left, right = max(left, start - pad), min(right, end + pad)
    return text[left:right].strip()


def _period(p: Period) -> str:
    total = p.answered + p.abstained
    latency = f"{p.median_latency_ms:.0f} ms" if p.median_latency_ms is not None else "n/a"
    return f"{total} questions: {p.answered} answered, {p.abstained} abstained · median {latency}"


def render_stats(stats: Stats, info: IndexInfo) -> discord.Embed:
    embed = discord.Embed(title="Articlebot statistics", colour=INFO_COLOUR)
    embed.add_field(
        name="Index",
        value=fit(
            f"{info.articles} articles, {info.chunks} chunks · generation {info.generation} · "
            f"built {info.built_at} · model {info.model}",
            MAX_FIELD_VALUE,
        ),
        inline=False,
    )
    embed.add_field(name="Last 24 hours", value=_period(stats.day), inline=False)
    embed.add_field(name="Last 7 days", value=_period(stats.week), inline=False)
    embed.add_field(
        name="Feedback", value=f"👍 {stats.thumbs_up} · 👎 {stats.thumbs_down}", inline=False
    )
    gaps = "\n".join(f"• {fit(q, 150)} (×{n})" for q, n in stats.gaps)
    embed.add_field(
        name="Most frequent unanswered questions (7 days)",
        value=gaps or "None: every question found an answer.",
        inline=False,
    )
    wrong = "\n".join(
        f"• {fit(v.title or v.article, 120)} · `{fit(v.article, 80, _code)}`: "
        f"{v.wrong} wrong, {v.helpful} helpful"
        for v in stats.wrong_quotes
    )
    embed.add_field(
        name="Articles whose quotes are most often marked wrong",
        value=wrong or "None: no quote has been marked wrong.",
        inline=False,
    )
    return embed


def render_explanation(why: Explanation, question: str) -> discord.Embed:
    """The private "why this quote" view: words found, passage rank, confidence and threshold."""
    lines = [escape(line) for line in why.lines()]
    return discord.Embed(
        title=fit(f"Why: {question}", MAX_TITLE, transform=escape_inline),
        description=fit("\n".join(lines), 4000, str),
        colour=INFO_COLOUR,
    )
