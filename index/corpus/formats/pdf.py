"""Text of a PDF, page by page (pypdf); page numbers are kept for citations."""

from __future__ import annotations

import io
import logging
import time

from index.errors import ArticleError
from index.types import Parsed

log = logging.getLogger(__name__)

# A budget over one file's whole extraction (issue 19): a 21 KB PDF whose 2,000 pages all point at
# one stream that inflates to 1.8 M text operators parsed for ~20 s a page (11 hours in all), and a
# 540 KB one of 90,000 pages gave 15,000 chunks. Past either bound the file is skipped and named.
EXTRACT_SECONDS = 30.0
MAX_TEXT_CHARS = 4_000_000  # about a 2,000-page book


def parse_pdf(data: bytes) -> Parsed:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ArticleError("PDF is encrypted")
        raw_pages = _page_texts(reader)
        meta = reader.metadata
        title = str(meta.title).strip() if meta and meta.title else None
        author = str(meta.author).strip() if meta and meta.author else None
    except ArticleError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        # PyPdfError: also the reader's own limits (LimitReachedError: a stream of too many
        # tokens), which used to be logged with a traceback.
        raise ArticleError(f"cannot read PDF: {exc}") from None
    parts: list[str] = []
    pages: list[tuple[int, int]] = []
    offset = 0
    for number, page_text in enumerate(raw_pages, start=1):
        page_text = page_text.strip()
        if not page_text:
            continue
        if parts:
            parts.append("\n\n")
            offset += 2
        pages.append((offset, number))
        parts.append(page_text)
        offset += len(page_text)
    if not parts:
        raise ArticleError("PDF has no extractable text (scanned images need OCR first)")
    text = "".join(parts)
    if title is None:
        title = text.strip().splitlines()[0][:120]
    return Parsed(text=text, title=title, author=author, pages=tuple(pages))


def _page_texts(reader: object) -> list[str]:
    """Each page's text, within the extraction budget; pages that share one content stream (the
    same object) are read once."""
    deadline = time.monotonic() + EXTRACT_SECONDS
    pages = reader.pages  # type: ignore[attr-defined]
    texts: list[str] = []
    by_contents: dict[object, str] = {}
    total = 0
    for number, page in enumerate(pages, start=1):
        contents = page.get("/Contents")
        key = (contents.idnum, contents.generation) if hasattr(contents, "idnum") else None
        if key is not None and key in by_contents:
            text = by_contents[key]
        else:
            text = page.extract_text() or ""
            if key is not None:
                by_contents[key] = text
        total += len(text)
        if total > MAX_TEXT_CHARS:
            raise ArticleError(
                f"PDF text passes {MAX_TEXT_CHARS:,} characters at page {number} of "
                f"{len(pages):,}; skipped (split it, or keep the pages that matter)"
            )
        if time.monotonic() > deadline:
            raise ArticleError(
                f"PDF text extraction took over {EXTRACT_SECONDS:g} s (page {number} of "
                f"{len(pages):,}); skipped"
            )
        texts.append(text)
    return texts
