"""Read a folder of articles (.md, .txt, .html, .pdf) into `Article` values.

One bad file is reported by name with a reason and skipped; it never stops the rest.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath

import yaml

from index.config import DEFAULT_MAX_ARTICLE_BYTES
from index.corpus import file_stamp
from index.corpus.front_matter import load_front_matter
from index.corpus.paths import read_inside, stat_inside, walk_corpus
from index.errors import ArticleError
from index.types import Article, Parsed, SkippedFile

log = logging.getLogger(__name__)

SUPPORTED = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
MAX_FILE_BYTES = DEFAULT_MAX_ARTICLE_BYTES  # MAX_ARTICLE_BYTES in the settings


@dataclass(frozen=True)
class CorpusScan:
    articles: tuple[Article, ...]
    skipped: tuple[SkippedFile, ...]
    # Article id -> the file's stamp when it was read (index/corpus/file_stamp.py).
    stamps: Mapping[str, str] = field(default_factory=dict)


def slug_for(corpus_dir: Path, path: Path) -> str:
    """The article's id: its path below the corpus without the suffix, composed to NFC, so that
    the NFC and NFD spellings of one name (Linux and macOS) are one article, not two."""
    return unicodedata.normalize("NFC", path.relative_to(corpus_dir).with_suffix("").as_posix())


def iter_corpus_files(corpus_dir: Path) -> Iterator[Path]:
    """Every non-hidden regular file below ``corpus_dir`` that resolves inside it, in path order."""
    for entry in walk_corpus(corpus_dir):
        if isinstance(entry, Path):
            yield entry


def scan_corpus(
    corpus_dir: Path,
    max_bytes: int = MAX_FILE_BYTES,
    known: Mapping[str, tuple[Article, str]] | None = None,
) -> CorpusScan:
    """Read every article below ``corpus_dir``; files that fail are returned in ``skipped``.

    ``known``: file path (relative) -> (article, stamp) as an earlier scan read it; a file whose
    stamp still holds is not read again, and its article comes back without its text.
    """
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    articles: list[Article] = []
    skipped: list[SkippedFile] = []
    stamps: dict[str, str] = {}
    seen: dict[str, str] = {}
    for path in walk_corpus(corpus_dir):
        if isinstance(path, SkippedFile):  # a link outside the corpus, a FIFO, a device...
            skipped.append(path)
            continue
        rel = path.relative_to(corpus_dir).as_posix()
        prior = known.get(rel) if known else None
        if prior is not None and file_stamp.unchanged(path, prior[1], max_bytes):
            article, stamp = prior
        else:
            stamp = file_stamp.take(path)
            try:
                article = read_article(corpus_dir, path, max_bytes)
            except ArticleError as exc:
                skipped.append(SkippedFile(rel, str(exc)))
                continue
            except Exception as exc:  # a parser bug or a pathological file must not stop the rest
                log.exception("unexpected error reading %s", rel)
                reason = f"could not be read ({type(exc).__name__}: {exc})"
                skipped.append(SkippedFile(rel, reason))
                continue
        if article.id in seen:
            skipped.append(SkippedFile(rel, f"same slug as {seen[article.id]}"))
            continue
        seen[article.id] = rel
        articles.append(article)
        stamps[article.id] = stamp
    for s in skipped:
        log.info("skipped %s: %s", s.path, s.reason)  # the build report shows each once
    return CorpusScan(tuple(articles), tuple(skipped), stamps)


def read_article(corpus_dir: Path, path: Path, max_bytes: int = MAX_FILE_BYTES) -> Article:
    """One article from one file; raises ArticleError with a reason a person can act on."""
    _check_suffix(path)
    size = stat_inside(corpus_dir, path).st_size  # inside the corpus, a regular file
    _check_size(size, max_bytes)  # before reading: a huge file is refused unread
    data = read_inside(corpus_dir, path, max_bytes)
    rel = path.relative_to(corpus_dir).as_posix()
    return article_from_bytes(data, rel, slug_for(corpus_dir, path), max_bytes)


def article_from_bytes(
    data: bytes, rel: str, slug: str, max_bytes: int = MAX_FILE_BYTES
) -> Article:
    """The article a file named ``rel`` holding ``data`` would give, read from memory (an upload
    is checked this way before it is saved: no copy of it is ever written anywhere)."""
    path = PurePosixPath(rel)
    suffix = _check_suffix(path)
    _check_size(len(data), max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    if suffix == ".pdf":
        from index.corpus.formats.pdf import parse_pdf

        parsed = parse_pdf(data)
    else:
        text = decode_text(data)
        if suffix in (".html", ".htm"):
            from index.corpus.formats.html import parse_html

            parsed = parse_html(text)
        elif suffix == ".txt":
            parsed = parse_plain(text)
        else:
            parsed = parse_markdown(text)
    if not parsed.text.strip():
        raise ArticleError("no text found")
    return Article(
        id=slug,
        title=bounded_title(parsed.title or path.stem.replace("-", " ").replace("_", " ")),
        url=parsed.url,
        text=parsed.text,
        sha256=digest,
        path=rel,
        date=parsed.date,
        author=parsed.author,
        source_offset=parsed.offset,
        pages=parsed.pages,
    )


def _check_suffix(path: PurePath) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise ArticleError(
            f"unsupported file type {suffix or '(none)'}; use {', '.join(SUPPORTED)}"
        )
    return suffix


def _check_size(size: int, max_bytes: int) -> None:
    if size == 0:
        raise ArticleError("empty file")
    if size > max_bytes:
        raise ArticleError(
            f"file is {size:,} bytes, over the {max_bytes:,}-byte limit (MAX_ARTICLE_BYTES)"
        )


MAX_TITLE_CHARS = 300


def bounded_title(title: str) -> str:
    """A title as stored: one line of at most MAX_TITLE_CHARS (cut at a word, with an ellipsis).
    A title is prepended to every chunk the model embeds and shown in every citation: a
    100,000-character heading once cost minutes and gigabytes per build (issue 19)."""
    if len(title) <= MAX_TITLE_CHARS:
        return title
    cut = " ".join(title[: MAX_TITLE_CHARS * 4].split())[: MAX_TITLE_CHARS - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > MAX_TITLE_CHARS // 2 else cut).rstrip() + "…"


# Control characters other than \t \n \f \r (a regex: a Python loop over 8 KB was 0.9 ms a file).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


def decode_text(data: bytes) -> str:
    if b"\x00" in data:  # anywhere: NULs past the first 8 KiB were once indexed and quoted
        raise ArticleError("binary content (NUL bytes) in a text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(f"not valid UTF-8 at byte {exc.start}; save the file as UTF-8") from None
    junk = len(_CONTROL.findall(text, 0, 8192))
    if junk > 16:
        raise ArticleError("binary content (control characters) in a text file")
    return text


_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
# The closing " ##" is stripped in Python: a lazy group before [ \t#]*$ was quadratic per line.
_HEADING = re.compile(r"^#[ \t]++([^\n]+)", re.MULTILINE)


def parse_markdown(text: str) -> Parsed:
    """Markdown with optional YAML front matter (title, url, date, author); else the first `#` heading."""
    meta: dict[str, object] = {}
    offset = 0
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = load_front_matter(match.group(1)) or {}  # bounded, no aliases
        except yaml.YAMLError as exc:
            raise ArticleError(f"front matter is not valid YAML: {_yaml_problem(exc)}") from None
        if not isinstance(loaded, dict):
            raise ArticleError("front matter must be a mapping of fields (title: ..., url: ...)")
        meta = loaded
        offset = match.end()
    body = text[offset:]
    title = _meta_str(meta, "title")
    if title is None:
        heading = _HEADING.search(body)
        title = _heading_title(heading.group(1)) if heading else None
    return Parsed(
        text=body,
        title=title,
        url=_meta_str(meta, "url") or _meta_str(meta, "source_url"),
        date=_meta_str(meta, "date"),
        author=_meta_str(meta, "author"),
        offset=offset,
    )


def parse_plain(text: str) -> Parsed:
    """Plain text: the title is the first line, after a site breadcrumb line if there is one.

    A breadcrumb is a first line that ends with the next non-empty line (e.g. "Home World <title>").
    """
    lines = [(m.start(), m.group()) for m in re.finditer(r"[^\r\n]+", text)]
    lines = [(pos, line) for pos, line in lines if line.strip()]
    if not lines:
        return Parsed(text=text)
    first_pos, first = lines[0]
    offset = first_pos
    title = first.strip()
    if len(lines) > 1:
        second_pos, second = lines[1]
        if first.strip().endswith(second.strip()) and len(first.strip()) > len(second.strip()):
            offset, title = second_pos, second.strip()
    return Parsed(text=text[offset:], title=title, offset=offset)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """The parser's complaint on one line, with the file's line numbers (not its 8-line dump)."""
    parts = []
    for text, mark in (
        (getattr(exc, "context", None), getattr(exc, "context_mark", None)),
        (getattr(exc, "problem", None), getattr(exc, "problem_mark", None)),
    ):
        if text:
            parts.append(f"{text} on line {mark.line + 2}" if mark is not None else text)
    return ": ".join(parts) or " ".join(str(exc).split())  # line + 2: 0-based, after the ---


def _heading_title(line: str) -> str:
    """A heading line's text without its closing hashes ("# Title ##" -> "Title")."""
    return (line.rstrip(" \t#\r") or line.lstrip(" \t")[:1]).strip()


def _meta_str(meta: dict[str, object], key: str) -> str | None:
    value = meta.get(key)
    if value is None or value == "":
        return None
    return str(value).strip()
