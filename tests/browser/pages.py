"""Article pages for the browser tests: each one's text is an article of the corpus or the test data."""

from __future__ import annotations

from html import escape

from tests.conftest import DATA, REPO

# A news page with a cookie banner, navigation, ads, comments and related links around the article.
OTTERS = (DATA / "web" / "news-article.html").read_text(encoding="utf-8")

# Punctuation the fragment has to encode or match: curly quotes, "&", "-", "—", ",", ";", "%",
# parentheses, accented letters.
ZURICH = (
    "Zürich’s lake café reopens",
    [
        "The Café am See in Zürich reopened on 3 May after a two-year renovation that cost "
        "CHF 4.5 million.",
        "Its owner, Anaïs Müller, said: “We kept the old façade & the terrace — everything else "
        "is new.”",
        "Prices rose by 12 % on average; a cappuccino now costs CHF 5.90 (it was CHF 5.20).",
        "Critics called the menu “over-designed”, but the queue on opening day stretched 200 m "
        "along the quay.",
        # The quote's last words also come earlier in it: the end must not stop at the first "a.m.".
        "In summer the terrace opens at 7 a.m., the bakery opens at 7 a.m., and the bar opens "
        "at 7 a.m.",
        "The city’s heritage office approved the plans in 2022, after a 14-month review.",
    ],
)


def corpus_article(slug: str) -> tuple[str, list[str]]:
    """An article of the sample corpus (corpus/SLUG.md): its title line and its paragraphs."""
    text = (REPO / "corpus" / f"{slug}.md").read_text(encoding="utf-8")
    body = text.split("\n---\n", 1)[1] if text.startswith("---\n") else text
    title, *paragraphs = [p.strip() for p in body.split("\n\n") if p.strip()]
    return title, paragraphs


def news_page(title: str, paragraphs: list[str], date: str = "2023-03-09") -> str:
    """A news site's page around an article: header, navigation, an ad, the article, a footer."""
    body = "\n".join(f"  <p>{escape(p, quote=False)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(title)} | The Daily Ledger</title>
<meta property="article:published_time" content="{date}">
<meta name="author" content="Priya Raman">
</head><body>
<header><a href="/">The Daily Ledger</a>
<nav><a href="/world">World</a> <a href="/business">Business</a> <a href="/sport">Sport</a></nav>
</header>
<div class="ad">Advertisement: subscribe for one pound a week.</div>
<main><article>
  <h1>{escape(title)}</h1>
  <p class="byline">By Priya Raman, <time datetime="{date}">{date}</time></p>
{body}
</article></main>
<footer><p>Copyright 2023 The Daily Ledger.</p><a href="/privacy">Privacy</a></footer>
</body></html>"""
