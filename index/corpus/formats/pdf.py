"""Text of a PDF, page by page (pypdf); page numbers are kept for citations."""

from __future__ import annotations

import io
import logging

from index.errors import ArticleError
from index.types import Parsed

log = logging.getLogger(__name__)


def parse_pdf(data: bytes) -> Parsed:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ArticleError("PDF is encrypted")
        raw_pages = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata
        title = str(meta.title).strip() if meta and meta.title else None
        author = str(meta.author).strip() if meta and meta.author else None
    except ArticleError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
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
