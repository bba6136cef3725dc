"""Write the sample corpus's PDF article, corpus/answer-quality.pdf, from the text below.

    .venv/bin/python scripts/make_sample_pdf.py [--out corpus/answer-quality.pdf]

A small PDF writer in pure Python (Helvetica, one text stream per page, no compression), so the file is
reproducible byte for byte: no dates, no random document id. Re-run it after editing the text; the
Articlebot reader (index/corpus/formats/pdf.py, pypdf) reads it back page by page.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

TITLE = "How Good Are Articlebot's Answers?"
AUTHOR = "The Articlebot team"
PAGES: tuple[tuple[str, ...], ...] = (
    (
        TITLE,
        "Articlebot is measured with its own command, articlebot eval, on question sets in the format "
        "of SQuAD, the Stanford Question Answering Dataset. Each question comes with the article that "
        "answers it and the answer's exact words. The command indexes the articles, asks every "
        "question the way the Discord bot would, and grades the reply.",
        "Four figures matter most. Retrieval at 1 is the share of questions for which the first "
        "passage shown holds the answer. Retrieval at 5 counts the first five passages. The quote hit "
        "rate is the share of questions whose primary quote contains the answer; an abstention counts "
        "as a miss. The answered rate is the share of answerable questions that get an answer at all.",
        "On the SQuAD 1.1 development set, with 5,565 questions over 25 Wikipedia articles, a passage "
        "holding the answer is ranked first for 88.2% of the questions and is among the first five for "
        "97.5%. Since the reader chooses the quote, it contains the answer for 88.2% of the questions "
        "the bot chose to answer, and for 83.8% of all of them. It answers 95.0% of them. The answer "
        "words it marks in bold match the expected answer exactly for 67.8% of the answered questions.",
        "The plain pipelines that a newcomer would build first do clearly worse on the same questions. "
        "Keyword search with BM25 alone ranks the right passage first for 76.9% of the questions, and "
        "search by meaning alone for 62.5%. Their quote hit rates stay between 57.0% and 67.2%.",
    ),
    (
        "Saying I don't know",
        "A good bot also knows when its articles do not answer. To test this, the articles of some "
        "questions are left out of the index and their questions asked anyway. Articlebot abstained on "
        "95.6% of such questions, while still answering 95.0% of the questions about indexed articles.",
        "SQuAD 2.0 adds questions written to look answerable from a paragraph that does not answer "
        "them, for example by changing a date or a name. Articlebot abstains on 29.6% of those "
        "questions, up from 10.7% before the reader, because the reader was trained on questions edited "
        "in the same ways. It remains the hardest case.",
        "The reader never saw these articles in training: it learned from SQuAD 1.1's training set, "
        "whose articles are all different. Its confidence model was measured on half of the articles "
        "after being fit on the other half.",
        "Speed is part of quality too. A question takes about 45 milliseconds on a 2-core CPU. The "
        "full tables, dates and commands are in docs/EVALUATION.md and docs/PERFORMANCE.md.",
    ),
)

FONT_SIZE, LEADING, LEFT, TOP, WIDTH_CHARS = 11, 15, 72, 740, 88


def escape(text: str) -> str:
    """A PDF literal string in WinAnsi (Latin-1 here) with ( ) and backslash escaped."""
    text.encode("latin-1")  # fails loudly on a character the standard font cannot show
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def page_stream(paragraphs: tuple[str, ...]) -> str:
    """Each paragraph wrapped into lines; a blank line between paragraphs."""
    ops = [f"BT /F1 {FONT_SIZE} Tf {LEADING} TL {LEFT} {TOP} Td"]
    for number, paragraph in enumerate(paragraphs):
        if number:
            ops.append("( ) Tj T*")  # a line holding a space: pypdf then gives a blank line
        for line in textwrap.wrap(paragraph, WIDTH_CHARS):
            ops.append(f"({escape(line)}) Tj T*")
    ops.append("ET")
    return "\n".join(ops)


def build_pdf(pages: tuple[tuple[str, ...], ...], title: str, author: str) -> bytes:
    n = len(pages)
    font_id, info_id = 3 + 2 * n, 4 + 2 * n
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n))
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {n} >>"]
    for i, paragraphs in enumerate(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>"
        )
        stream = page_stream(paragraphs).encode("latin-1")
        objects.append(
            f"<< /Length {len(stream)} >>\nstream\n{stream.decode('latin-1')}\nendstream"
        )
    objects.append(
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    objects.append(f"<< /Title ({escape(title)}) /Author ({escape(author)}) >>")
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    trailer = f"<< /Size {len(objects) + 1} /Root 1 0 R /Info {info_id} 0 R >>"
    out += f"trailer\n{trailer}\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parent.parent / "corpus" / "answer-quality.pdf"
    parser.add_argument("--out", type=Path, default=default, help="where to write the PDF")
    args = parser.parse_args()
    args.out.write_bytes(build_pdf(PAGES, TITLE, AUTHOR))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
