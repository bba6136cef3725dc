"""Hostile corpora and uploads: links out of the corpus, FIFOs, YAML bombs (issue 9, Security)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.admin_logic import save_article as bot_save_article
from bot.errors import UserFacingError
from index.cli.corpus import CorpusCommandError, add_files
from index.config import Settings
from index.corpus.files import CorpusFileError, check_article
from index.corpus.folder import iter_corpus_files, parse_markdown, read_article, scan_corpus
from index.corpus.front_matter import MAX_DEPTH, MAX_FRONT_MATTER_BYTES
from index.errors import ArticleError

SECRET = "root:x:0:0:root:/root:/bin/bash the secret outside the corpus"

# The 334-byte bomb shape: nine levels of nine aliases, the title pointing at the top.
BOMB = (
    "---\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{b}: &{b} [{','.join(['*' + a] * 9)}]\n"
        for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "title: *i\n---\n# Bomb\n\nThe body of the bomb.\n"
)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "passwd.md").write_text(SECRET, encoding="utf-8")
    (folder / "notes.txt").write_text(f"Notes\n\n{SECRET}", encoding="utf-8")
    return folder


def _texts(corpus: Path) -> str:
    return "\n".join(a.text for a in scan_corpus(corpus).articles)


def test_link_to_a_file_outside_is_skipped_by_name(corpus_dir: Path, outside: Path) -> None:
    (corpus_dir / "passwd.md").symlink_to(outside / "passwd.md")
    scan = scan_corpus(corpus_dir)
    assert SECRET not in _texts(corpus_dir)
    reasons = {s.path: s.reason for s in scan.skipped}
    assert "outside the corpus folder" in reasons["passwd.md"]
    assert {a.id for a in scan.articles} == {"tea", "volcano", "notes/bicycle"}
    assert corpus_dir / "passwd.md" not in list(iter_corpus_files(corpus_dir))


def test_link_to_a_folder_outside_is_skipped_by_name(corpus_dir: Path, outside: Path) -> None:
    (corpus_dir / "more").symlink_to(outside, target_is_directory=True)
    scan = scan_corpus(corpus_dir)
    assert SECRET not in _texts(corpus_dir)
    assert "outside the corpus folder" in {s.path: s.reason for s in scan.skipped}["more"]


def test_link_through_a_relative_path_outside_is_skipped(corpus_dir: Path, outside: Path) -> None:
    (corpus_dir / "notes" / "up.txt").symlink_to(Path("..") / ".." / "outside" / "notes.txt")
    scan = scan_corpus(corpus_dir)
    assert SECRET not in _texts(corpus_dir)
    assert "outside" in {s.path: s.reason for s in scan.skipped}["notes/up.txt"]


def test_reading_a_link_outside_directly_is_refused(corpus_dir: Path, outside: Path) -> None:
    """The read checks again (a path swapped for a link after the walk is refused too)."""
    (corpus_dir / "late.md").symlink_to(outside / "passwd.md")
    with pytest.raises(ArticleError, match="outside the corpus folder"):
        read_article(corpus_dir, corpus_dir / "late.md")


def test_link_inside_the_corpus_is_read_and_broken_links_are_named(corpus_dir: Path) -> None:
    (corpus_dir / "tea-again.md").symlink_to("tea.md")
    (corpus_dir / "gone.md").symlink_to("nowhere.md")
    (corpus_dir / "loop.md").symlink_to("loop.md")
    (corpus_dir / "notes-link").symlink_to("notes", target_is_directory=True)
    scan = scan_corpus(corpus_dir)
    assert "tea-again" in {a.id for a in scan.articles}
    reasons = {s.path: s.reason for s in scan.skipped}
    assert "broken" in reasons["gone.md"]
    assert "broken or a loop" in reasons["loop.md"]
    assert "folder; not followed" in reasons["notes-link"]


def test_fifo_is_skipped_without_blocking(corpus_dir: Path, tmp_path: Path) -> None:
    os.mkfifo(corpus_dir / "pipe.md")
    (corpus_dir / "pipe-link.md").symlink_to("pipe.md")
    scan = scan_corpus(corpus_dir)  # opening a FIFO for reading would wait for a writer forever
    reasons = {s.path: s.reason for s in scan.skipped}
    assert "a FIFO" in reasons["pipe.md"]
    assert "a FIFO" in reasons["pipe-link.md"]
    with pytest.raises(ArticleError, match="a FIFO"):
        read_article(corpus_dir, corpus_dir / "pipe.md")


def test_device_linked_into_the_corpus_is_not_read(corpus_dir: Path) -> None:
    (corpus_dir / "zero.txt").symlink_to("/dev/zero")
    reasons = {s.path: s.reason for s in scan_corpus(corpus_dir).skipped}
    assert "outside the corpus folder" in reasons["zero.txt"]


def test_yaml_bomb_is_refused_naming_the_anchor_or_alias() -> None:
    with pytest.raises(ArticleError, match=r"anchor \(&a\) on line 2; anchors and aliases are not"):
        parse_markdown(BOMB)
    # Tags can't sneak an alias in either ("<<: *base" merges need one too).
    with pytest.raises(ArticleError, match=r"uses an alias \(\*x\) on line 3"):
        parse_markdown("---\ntitle: T\nurl: *x\n---\nBody.\n")


def test_yaml_bomb_stays_within_time_and_memory_budgets(tmp_path: Path) -> None:
    """The real bomb in a child with 1.5 GB of address space: it took 3.2 GB in 10 s before.
    The timeout is a hang detector, not a performance target."""
    (tmp_path / "bomb.md").write_text(BOMB, encoding="utf-8")
    script = textwrap.dedent(
        """
        import resource, sys
        from pathlib import Path
        resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))
        from index.corpus.folder import scan_corpus
        scan = scan_corpus(Path(sys.argv[1]))
        print(len(scan.articles), "|".join(f"{s.path}: {s.reason}" for s in scan.skipped))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().startswith(
        "0 bomb.md: front matter defines an anchor (&a) on line 2"
    )


def test_front_matter_over_the_byte_limit_is_refused() -> None:
    block = "title: T\nnotes: " + "x" * MAX_FRONT_MATTER_BYTES + "\n"
    with pytest.raises(ArticleError, match=r"front matter is 16,\d{3} bytes, over the 16,384-byte"):
        parse_markdown(f"---\n{block}---\nBody.\n")


def test_deeply_nested_front_matter_is_refused() -> None:
    deep = "title: T\nx: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    with pytest.raises(ArticleError, match=f"nests deeper than {MAX_DEPTH} levels"):
        parse_markdown(f"---\n{deep}---\nBody.\n")
    very_deep = "x: " + "[" * 5000 + "]" * 5000 + "\n"  # no RecursionError either
    with pytest.raises(ArticleError, match="nests deeper"):
        parse_markdown(f"---\n{very_deep}---\nBody.\n")


def test_ordinary_front_matter_still_reads() -> None:
    parsed = parse_markdown(
        "---\ntitle: 'Tea ## notes'\nurl: https://example.org/t\ndate: 2024-01-02\n"
        "tags: [a, b]\nnested: {k: [1, 2]}\n---\n# Tea\n\nBody.\n"
    )
    assert (parsed.title, parsed.url, parsed.date) == (
        "Tea ## notes",
        "https://example.org/t",
        "2024-01-02",
    )
    assert parse_markdown("# Heading ##  \n\nBody.").title == "Heading"
    assert parse_markdown("#    \n# Real\n\nBody.").title == "Real"


def test_upload_checks_refuse_the_bomb_before_saving(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with pytest.raises(
        CorpusFileError, match=r"Refused: bomb\.md is not a readable article: .*anchor"
    ):
        check_article("bomb.md", BOMB.encode())
    with pytest.raises(UserFacingError, match=r"bomb\.md .*anchors and aliases are not allowed"):
        bot_save_article(corpus, "bomb.md", BOMB.encode(), replace=False)
    src = tmp_path / "bomb.md"
    src.write_text(BOMB, encoding="utf-8")
    settings = Settings.from_env({}, corpus_dir=corpus, index_dir=tmp_path / "index")
    with pytest.raises(CorpusCommandError, match=r"bomb\.md.*anchor"):
        add_files(settings, [src], replace=False)
    assert list(corpus.iterdir()) == []


def test_html_nested_too_deep_for_a_tree_builder_is_read_linearly() -> None:
    """1 MB of unclosed <div> kept lexbor busy for minutes (tests/test_linear_scans.py runs it);
    such pages are read by one pass over the tags instead."""
    from index.corpus.formats.html import parse_html_selectolax
    from index.corpus.formats.html_flat import MAX_HTML_DEPTH, nesting_depth

    deep = "<html><body>" + "<div>" * (MAX_HTML_DEPTH + 1) + "<p>Deep &amp; text.<p>Next"
    deep += "<script>var s = '<div>';</script>" + "</div>" * 10
    assert nesting_depth(deep) > MAX_HTML_DEPTH
    assert parse_html_selectolax(deep).text == "Deep & text.\n\nNext"
    assert nesting_depth("<p>a<p>b<br><img src=x><div><b>c</b></div><hr/>") == 2
