"""The page-bomb PDF of issue 19, cause 1, for timing by hand (docs/RELIABILITY.md):

    python -m tests.hostile.page_bomb OUT.pdf [--pages 2000] [--operators 1800000] [--evasive]

``pages`` page entries in the page tree all name one page object, whose one Flate-compressed
content stream inflates to ``operators`` text-showing operators (``(x) Tj``; 1.8 M is about 12.6
MB inflated, under pypdf's 75 MB per-stream limit). ``--evasive``: every page is its own object
whose /Contents is a direct array naming the shared stream, so no two pages share a /Contents
object (what an attacker who knows of the reader's once-per-stream cache would write).
"""

from __future__ import annotations

import argparse
import zlib
from pathlib import Path

FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def page_bomb(pages: int = 2000, operators: int = 1_800_000, *, evasive: bool = False) -> bytes:
    content = b"BT /F1 12 Tf 72 720 Td " + b"(x) Tj " * operators + b"ET"
    stream = zlib.compress(content, 9)
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, below
        FONT,
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
        b" /Resources << /Font << /F1 3 0 R >> >> /Contents %s >>"
    )
    if evasive:
        first = len(objects) + 1
        objects += [page % b"[4 0 R]" for _ in range(pages)]
        kids = [first + i for i in range(pages)]
    else:
        objects.append(page % b"4 0 R")
        kids = [len(objects)] * pages
    refs = b" ".join(b"%d 0 R" % k for k in kids)
    objects[1] = b"<< /Type /Pages /Kids [" + refs + b"] /Count %d >>" % pages
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--operators", type=int, default=1_800_000)
    parser.add_argument("--evasive", action="store_true")
    args = parser.parse_args()
    data = page_bomb(args.pages, args.operators, evasive=args.evasive)
    args.out.write_bytes(data)
    print(f"{args.out}: {len(data):,} bytes, {args.pages} pages")


if __name__ == "__main__":
    main()
