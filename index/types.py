"""Value types shared by the engine, the CLI and the bot: plain frozen dataclasses, no behaviour."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Article:
    """One article read from the corpus. ``text`` is what offsets refer to.

    For Markdown and plain text, ``text`` is a verbatim slice of the file starting at ``source_offset``
    (front matter and site breadcrumbs are left out), so every quote also appears in the file.
    """

    id: str  # slug: path relative to the corpus folder, without extension, '/'-separated
    title: str
    url: str | None
    text: str
    sha256: str  # of the file's bytes
    path: str  # path relative to the corpus folder, with extension
    date: str | None = None
    author: str | None = None
    source_offset: int = 0
    # For PDFs: (character offset in text, page number) where each page starts.
    pages: tuple[tuple[int, int], ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The PDF page number that holds character ``offset``, or None for non-paged articles."""
        page = None
        for start, number in self.pages:
            if start > offset:
                break
            page = number
        return page


@dataclass(frozen=True)
class Chunk:
    """A retrievable span of an article: ``article.text[start:end] == text``."""

    article_id: str
    ordinal: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass(frozen=True)
class ArticleSpan:
    """A verbatim span of an article: its ``text`` is the article's text[start:end]."""

    article: str  # the article's slug
    title: str
    url: str | None
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Quote(ArticleSpan):
    page: int | None = None
    date: str | None = None  # the article's date (front matter, page metadata), shown in replies
    # The article's url pointed at the quoted words (a text fragment; #page=N for a PDF), when the
    # article has a web address (index/answer/deep_link.py).
    link: str | None = None


@dataclass(frozen=True)
class AnswerText:
    """The words that answer the question, inside the primary quote: ``article.text[start:end] == text``."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Differing(ArticleSpan):
    """One article's answer where articles disagree on a figure (index/answer/differing.py): the
    reader's answer words in that article (``text`` is article.text[start:end]) and its date."""

    date: str | None = None


@dataclass(frozen=True)
class Passage(ArticleSpan):
    score: float
    chunk_id: int = -1
    page: int | None = None


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    confidence: float
    quotes: tuple[Quote, ...]
    passages: tuple[Passage, ...]
    generation: str = ""
    id: Any = None
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    answer: AnswerText | None = (
        None  # the reader's answer span (None when abstaining or READER=off)
    )
    # Articles that disagree on the figure asked for: each one's answer, newest first (empty when
    # they agree, or when only one article answers).
    differing: tuple[Differing, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The JSON shape documented in the README (``articlebot ask --json``)."""
        return {
            "id": self.id,
            "question": self.question,
            "answered": self.answered,
            "confidence": round(self.confidence, 4),
            "answer": asdict(self.answer) if self.answer and self.answered else None,
            "quotes": [asdict(q) for q in self.quotes],
            "passages": [asdict(p) | {"score": round(p.score, 6)} for p in self.passages],
            "differing": [asdict(d) for d in self.differing],
            "generation": self.generation,
            "seconds": round(self.seconds, 4),
        }


@dataclass(frozen=True)
class BuildReport:
    """What one ``index`` run did."""

    generation: str
    added: int
    changed: int
    removed: int
    unchanged: int
    chunks: int
    embedded: int  # chunk/sentence texts that had to be embedded (cache misses)
    seconds: float
    skipped: tuple[SkippedFile, ...] = ()
    published: bool = True  # False: nothing changed, the serving generation stays

    def summary(self) -> str:
        kept = "" if self.published else " (nothing changed: kept)"
        return (
            f"{self.added} added, {self.changed} changed, {self.removed} removed, "
            f"{self.unchanged} unchanged articles; {self.chunks} chunks "
            f"({self.embedded} embedded); {self.seconds:.1f} s; generation {self.generation}{kept}"
        )


@dataclass(frozen=True)
class ArticleInfo:
    id: str
    title: str
    url: str | None
    date: str | None
    author: str | None
    path: str
    chunks: int
    chars: int


@dataclass(frozen=True)
class IndexInfo:
    generation: str
    built_at: str
    model: str
    dim: int
    articles: int
    chunks: int
    sentences: int
    index_dir: str
    corpus_dir: str


@dataclass(frozen=True)
class Parsed:
    """What a format reader (Markdown, HTML, PDF...) found in one file, before it becomes an Article."""

    text: str
    title: str | None = None
    url: str | None = None
    date: str | None = None
    author: str | None = None
    offset: int = 0
    pages: tuple[tuple[int, int], ...] = ()
