"""Compare trafilatura with the selectolax reader on the project's own HTML test pages.

For each page in tests/data/web/expected.json: how many of the article's sentences the main text
keeps (must), how many boilerplate strings (navigation, ads, comments, footers) leak into it
(must_not), and whether title, author and date are found. Run: .venv/bin/python scripts/compare_html_extractors.py
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

PAGES = Path(__file__).resolve().parent.parent / "tests" / "data" / "web"

Extracted = dict[str, str | None]


def selectolax_reader(html: str) -> Extracted:
    from index.corpus.formats.html import parse_html_selectolax
    from index.errors import ArticleError

    try:
        parsed = parse_html_selectolax(html)
    except ArticleError:
        return {"text": "", "title": None, "author": None, "date": None}
    return {
        "text": parsed.text,
        "title": parsed.title,
        "author": parsed.author,
        "date": parsed.date,
    }


def trafilatura_reader(html: str) -> Extracted:
    from index.corpus.formats.html_main import extract_html

    page = extract_html(html)
    if page is None:
        return {"text": "", "title": None, "author": None, "date": None}
    return {"text": page.text, "title": page.title, "author": page.author, "date": page.date}


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def score(page: dict, got: Extracted) -> dict[str, object]:
    text = flat(got["text"] or "")
    kept = sum(1 for s in page["must"] if s in text)
    leaked = [s for s in page["must_not"] if s.casefold() in text.casefold()]
    row: dict[str, object] = {"kept": f"{kept}/{len(page['must'])}", "leaked": leaked}
    if page.get("no_text"):
        row["kept"] = "empty" if not text.strip() else f"{len(text)} chars"
    for field in ("title", "author", "date"):
        if field in page:
            row[field] = (got[field] or None) == page[field]
    return row


def main() -> int:
    expected = json.loads((PAGES / "expected.json").read_text(encoding="utf-8"))
    readers: dict[str, Callable[[str], Extracted]] = {
        "selectolax": selectolax_reader,
        "trafilatura": trafilatura_reader,
    }
    pages = {name: (PAGES / name).read_text(encoding="utf-8") for name in expected}
    deep = "<html><body>" + "<div>" * 5000 + "Deep text." + "</div>" * 5000 + "</body></html>"
    for reader_name, reader in readers.items():
        totals = [0, 0, 0]
        print(f"## {reader_name}")
        for name, html in pages.items():
            row = score(expected[name], reader(html))
            print(f"  {name}: {row}")
            if isinstance(row["kept"], str) and "/" in row["kept"]:
                k, n = row["kept"].split("/")
                totals[0] += int(k)
                totals[1] += int(n)
            totals[2] += len(row["leaked"])  # type: ignore[arg-type]
        deep_ok = "Deep text." in (reader(deep)["text"] or "")
        print(f"  deep.html (5000 nested divs): text kept={deep_ok}")
        started = time.perf_counter()
        for html in list(pages.values()) * 20:
            reader(html)
        per_page = (time.perf_counter() - started) / (20 * len(pages)) * 1000
        print(f"  time: {per_page:.1f} ms per page (mean of {20 * len(pages)} reads)")
        print(f"  total: sentences kept {totals[0]}/{totals[1]}, boilerplate leaked {totals[2]}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
