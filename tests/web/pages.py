"""Article pages and feeds for the web tests, built from a few sentences."""

from __future__ import annotations

from xml.sax.saxutils import escape

FILLER = (
    "The council published the full report on its website, and local groups have been invited to "
    "comment on the findings before the end of the month."
)


def article(title: str, sentence: str, date: str = "2024-05-01") -> str:
    """A news page around ``sentence``: navigation, an ad and comments around the article."""
    return f"""<html><head><title>{escape(title)} | Valley News</title>
<meta property="article:published_time" content="{date}">
<meta name="author" content="Sam Reporter"></head>
<body><nav><a href="/">Home</a> <a href="/sport">Sport</a></nav>
<div class="ad">Advertisement: buy a boat today.</div>
<article><h1>{escape(title)}</h1><p>{escape(sentence)}</p><p>{FILLER}</p></article>
<section id="comments"><p>First! Great article.</p></section>
<footer>Copyright Valley News</footer></body></html>"""


def rss(title: str, items: list[tuple[str, str, str]]) -> str:
    """RSS 2.0 with (guid, link, pubDate) items."""
    body = "".join(
        f"<item><title>{escape(guid)}</title><guid>{escape(guid)}</guid>"
        f"<link>{escape(link)}</link><pubDate>{date}</pubDate></item>"
        for guid, link, date in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>http://example.org/</link>{body}</channel></rss>"
    )


def atom(title: str, entries: list[tuple[str, str, str]]) -> str:
    """Atom 1.0 with (id, link, updated) entries."""
    body = "".join(
        f'<entry><id>{escape(eid)}</id><title>{escape(eid)}</title><link href="{escape(link)}"/>'
        f"<updated>{updated}</updated></entry>"
        for eid, link, updated in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:test</id><updated>2024-05-01T00:00:00Z</updated>"
        f"{body}</feed>"
    )
