"""Reading articles: formats, metadata, verbatim text, and bad files reported by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.corpus.folder import read_article, scan_corpus
from tests.conftest import DATA, write_corpus


def test_markdown_front_matter_and_verbatim_text(corpus_dir: Path) -> None:
    article = read_article(corpus_dir, corpus_dir / "tea.md")
    raw = (corpus_dir / "tea.md").read_text(encoding="utf-8")
    assert article.id == "tea"
    assert article.title == "Tea"
    assert article.url == "https://example.org/tea"
    assert raw[article.source_offset :] == article.text
    assert not article.text.startswith("---")


def test_markdown_title_from_heading(corpus_dir: Path) -> None:
    article = read_article(corpus_dir, corpus_dir / "volcano.md")
    assert article.title == "Volcano"
    assert article.url is None


def test_nested_slug_keeps_folder(corpus_dir: Path) -> None:
    article = read_article(corpus_dir, corpus_dir / "notes" / "bicycle.txt")
    assert article.id == "notes/bicycle"
    assert article.title == "Bicycle"


def test_plain_text_skips_site_breadcrumb(tmp_path: Path) -> None:
    shutil.copy(DATA / "india-japan-defence-cooperation.txt", tmp_path / "seed.txt")
    article = read_article(tmp_path, tmp_path / "seed.txt")
    raw = (tmp_path / "seed.txt").read_text(encoding="utf-8")
    assert article.title == (
        "India and Japan Consent to Broaden Defence Cooperation in New, Developing Fields"
    )
    assert not article.text.startswith("Home World")
    assert raw[article.source_offset :] == article.text


def test_html_main_text_title_and_canonical(tmp_path: Path) -> None:
    html = """<html><head><title>Glaciers | Site</title>
    <link rel="canonical" href="https://example.org/glaciers"></head>
    <body><nav>Home | About</nav><article><h1>Glaciers</h1>
    <p>A glacier is a persistent body of dense ice.</p><p>Glaciers move slowly.</p></article>
    <script>var x = 1;</script><footer>Copyright</footer></body></html>"""
    (tmp_path / "glaciers.html").write_text(html, encoding="utf-8")
    article = read_article(tmp_path, tmp_path / "glaciers.html")
    assert article.title == "Glaciers"  # trafilatura drops the site name from <title>
    assert article.url == "https://example.org/glaciers"
    assert "persistent body of dense ice" in article.text
    assert "Home | About" not in article.text
    assert "var x" not in article.text
    assert "Copyright" not in article.text


def make_pdf(path: Path, pages: list[str]) -> None:
    """A minimal text PDF written by hand (no extra dependency)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>")
    font_id = 3 + 2 * len(pages)
    for i, text in enumerate(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>"
        )
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET"
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    path.write_bytes(out)


def test_pdf_pages_are_kept_for_citations(tmp_path: Path) -> None:
    make_pdf(tmp_path / "report.pdf", ["Rivers carry sediment.", "Deltas form at river mouths."])
    article = read_article(tmp_path, tmp_path / "report.pdf")
    assert "Rivers carry sediment." in article.text
    second = article.text.index("Deltas form")
    assert article.page_at(0) == 1
    assert article.page_at(second) == 2


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.md", b"", "empty file"),
        ("latin1.txt", "caf\xe9 au lait".encode("latin-1"), "not valid UTF-8"),
        ("junk.md", bytes(range(256)) * 4, "binary content"),
        ("image.png", b"\x89PNG\r\n", "unsupported file type .png"),
        ("broken.pdf", b"%PDF-1.4 this is not a pdf", "PDF"),
        ("bad-front.md", b"---\ntitle: [unclosed\n---\nBody text here.", "front matter"),
    ],
)
def test_bad_files_are_skipped_by_name_with_a_reason(
    corpus_dir: Path, name: str, content: bytes, reason: str
) -> None:
    (corpus_dir / name).write_bytes(content)
    scan = scan_corpus(corpus_dir)
    assert [s.path for s in scan.skipped] == [name]
    assert reason in scan.skipped[0].reason
    assert {a.id for a in scan.articles} == {"tea", "volcano", "notes/bicycle"}


def test_hidden_files_are_ignored(corpus_dir: Path) -> None:
    write_corpus(corpus_dir, {".gitkeep": "", ".drafts/secret.md": "# Secret\n\nHidden."})
    scan = scan_corpus(corpus_dir)
    assert scan.skipped == ()
    assert len(scan.articles) == 3


def test_missing_corpus_folder_names_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere"):
        scan_corpus(tmp_path / "nowhere")


def test_html_keeps_text_outside_paragraph_tags_once(tmp_path: Path) -> None:
    html = (
        "<html><head><title>Mixed</title></head><body><main>"
        "<div>Intro text <b>in bold</b> sits directly in a div.<p>A real paragraph.</p>Tail text.</div>"
        "<ul><li><p>Item in a paragraph.</p></li><li>Bare item.</li></ul>"
        "</main></body></html>"
    )
    (tmp_path / "mixed.html").write_text(html, encoding="utf-8")
    article = read_article(tmp_path, tmp_path / "mixed.html")
    assert article.text.split("\n\n") == [
        "Intro text in bold sits directly in a div.",
        "A real paragraph.",
        "Tail text.",
        "Item in a paragraph.",
        "Bare item.",
    ]


def test_deeply_nested_html_is_read(tmp_path: Path) -> None:
    html = "<html><body>" + "<div>" * 5000 + "Deep text." + "</div>" * 5000 + "</body></html>"
    (tmp_path / "deep.html").write_text(html, encoding="utf-8")
    assert "Deep text." in read_article(tmp_path, tmp_path / "deep.html").text


def test_unexpected_reader_error_skips_only_that_file(
    corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import index.corpus.formats.html

    def broken(html: str) -> None:
        raise RuntimeError("parser bug")

    monkeypatch.setattr(index.corpus.formats.html, "parse_html", broken)
    (corpus_dir / "page.html").write_text("<p>x</p>", encoding="utf-8")
    scan = scan_corpus(corpus_dir)
    assert [s.path for s in scan.skipped] == ["page.html"]
    assert "RuntimeError: parser bug" in scan.skipped[0].reason
    assert len(scan.articles) == 3
