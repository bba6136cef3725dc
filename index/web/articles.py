"""A fetched page as a Markdown article in the corpus: front matter (url, title, author, date,
fetched_at), then the page's main text, so the corpus stays plain files and quotes carry the url.

Each page lives at ``web/<host>/<slug>-<hash of its canonical url>.md``: the same canonical url
always maps to the same file, and a page whose text is already in the corpus is not added twice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import yaml

from index.corpus.batch import write_batch
from index.corpus.files import CorpusFileError, check_article
from index.corpus.folder import iter_corpus_files, parse_markdown
from index.web.errors import WebError
from index.web.extract import decode, read_page, title_from_url
from index.web.fetch import FetchPolicy, fetch

WEB_FOLDER = "web"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
Outcome = Literal["added", "updated", "unchanged", "duplicate"]


@dataclass(frozen=True)
class WebArticle:
    url: str  # the canonical url: where quotes point
    title: str
    author: str | None
    date: str | None
    fetched_at: str  # ISO 8601, UTC
    text: str  # paragraphs separated by blank lines

    @property
    def sha256(self) -> str:
        """Of the text only: the same page fetched twice has the same hash."""
        return text_hash(self.text)

    def markdown(self) -> str:
        meta = {
            "url": self.url,
            "title": self.title,
            "author": self.author,
            "date": self.date,
            "fetched_at": self.fetched_at,
        }
        front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=10_000)
        return f"---\n{front}---\n{self.text}\n"

    def relative_path(self) -> str:
        """``web/<host>/<slug>-<10 hex of the url's hash>.md``, a safe name for every url."""
        parts = urlsplit(self.url)
        host = re.sub(r"[^a-z0-9.-]+", "_", (parts.hostname or "site").lower()).strip(".") or "site"
        last = parts.path.rstrip("/").rsplit("/", 1)[-1]
        slug = re.sub(r"[^a-z0-9]+", "-", re.sub(r"\.[a-z0-9]{1,5}$", "", last.lower()))
        slug = slug.strip("-")[:60].strip("-") or "page"
        digest = hashlib.sha256(self.url.encode()).hexdigest()[:10]
        return f"{WEB_FOLDER}/{host}/{slug}-{digest}.md"


@dataclass(frozen=True)
class Saved:
    article: WebArticle
    path: str  # relative to the corpus folder
    outcome: Outcome
    same_as: str | None = None  # for a duplicate: the article that already holds this text


def text_hash(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


def fetch_article(url: str, policy: FetchPolicy, *, now: datetime | None = None) -> WebArticle:
    """Fetch ``url`` and extract its article (blocking); WebError names the url and the reason."""
    response = fetch(url, policy)
    if response.content_type not in HTML_TYPES:
        sent = response.content_type or "no content type"
        raise WebError(url, f"not an HTML page (the server sent {sent})")
    page = read_page(decode(response.body, response.charset), response.final_url)
    canonical = canonical_url(page.url, response.final_url)
    return WebArticle(
        url=canonical,
        title=page.title or title_from_url(canonical),
        author=page.author,
        date=page.date,
        fetched_at=(now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        text=page.text,
    )


def canonical_url(named: str | None, final_url: str) -> str:
    """The page's own canonical url when it is http(s) on the same site; else where we ended up.

    A page may not claim another site's url: quotes would point there, and dedup would merge pages.
    """
    final = urlsplit(final_url)
    if named:
        claimed = urlsplit(named.strip())
        if claimed.scheme in ("http", "https") and _site(claimed.hostname) == _site(final.hostname):
            final = claimed
    return urlunsplit((final.scheme, final.netloc, final.path or "/", final.query, ""))


def _site(host: str | None) -> str:
    return (host or "").lower().removeprefix("www.")


def web_texts(corpus_dir: Path) -> dict[str, str]:
    """The text hash of every web article in the corpus -> its path (for content dedup)."""
    folder = corpus_dir / WEB_FOLDER
    hashes: dict[str, str] = {}
    if not folder.is_dir():
        return hashes
    for path in iter_corpus_files(folder):
        if path.suffix != ".md":
            continue
        try:
            body = parse_markdown(path.read_text(encoding="utf-8")).text
        except (OSError, UnicodeDecodeError, ValueError):
            continue  # the index reports unreadable files; dedup just skips them
        hashes.setdefault(text_hash(body), path.relative_to(corpus_dir).as_posix())
    return hashes


def plan(corpus_dir: Path, article: WebArticle, texts: dict[str, str], *, replace: bool) -> Saved:
    """What saving ``article`` would do, checked first: nothing is written here.

    ``replace`` lets a changed page overwrite its earlier copy (feeds' updated entries, --replace).
    """
    rel = article.relative_path()
    same = texts.get(article.sha256)
    if same == rel:
        return Saved(article, rel, "unchanged")
    if same is not None:
        return Saved(article, rel, "duplicate", same_as=same)
    name = rel.rsplit("/", 1)[1]
    try:
        check_article(name, article.markdown().encode())  # what the index would skip is refused
    except CorpusFileError as exc:
        raise WebError(article.url, str(exc)) from None
    if (corpus_dir / rel).exists():
        if not replace:
            raise WebError(article.url, f"already in the corpus as {rel}; replace it to update it")
        return Saved(article, rel, "updated")
    return Saved(article, rel, "added")


def save(corpus_dir: Path, planned: Iterable[Saved]) -> None:
    """Write every added or updated article: all of them or, if the process dies midway, none
    (the corpus's journaled batch, as `articlebot add` of files), after all were planned."""
    files = [
        (item.path, item.article.markdown().encode())
        for item in planned
        if item.outcome in ("added", "updated")
    ]
    for path, _ in files:
        (corpus_dir / path).parent.mkdir(parents=True, exist_ok=True)
    if files:
        write_batch(corpus_dir, files)
