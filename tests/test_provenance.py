"""No tracked file holds text from the data sets in ../shared (SQuAD paragraphs and questions).

The data in ../shared/eval and ../shared/train is for measuring and training; none of it may be copied into
the repository. Every paragraph of 120+ characters and every question of 60+ characters is compared with
every tracked text file. Text is compared as lower-case letters and digits only, after decoding JSON
string escapes, so re-wrapping, re-quoting or JSON-encoding a copy does not hide it.
Paragraphs are cut into consecutive windows of WINDOW characters, so a copied part of a paragraph is
found too (any copied stretch of 2 * WINDOW characters holds a whole window).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED

MIN_PARAGRAPH, MIN_QUESTION = 120, 60  # characters of the original text
WINDOW = 96  # normalized characters per paragraph window (~120 characters of prose)
KEY = 32  # normalized characters looked up at each position of a tracked file

_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|[nrtbf\"\\/])")
_NOT_ALNUM = re.compile(r"[\W_]+")


def normalize(text: str) -> str:
    text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else " ", text)
    return _NOT_ALNUM.sub("", text.casefold())


def data_sets() -> list[Path]:
    """The folders of ../shared/eval/* and ../shared/train/* that hold a corpus or questions."""
    found = [p for p in sorted(SHARED.glob("eval/*")) + sorted(SHARED.glob("train/*"))]
    return [p for p in found if (p / "corpus").is_dir() or (p / "questions.jsonl").is_file()]


def paragraphs(folder: Path) -> Iterator[tuple[str, str]]:
    for path in sorted((folder / "corpus").glob("*.md")):
        blocks = path.read_text(encoding="utf-8").split("\n\n")
        for number, block in enumerate(blocks):
            block = block.strip()
            if len(block) >= MIN_PARAGRAPH and not block.startswith("# "):
                yield block, f"{path.relative_to(SHARED.parent)} block {number}"


def questions(folder: Path) -> Iterator[tuple[str, str]]:
    path = folder / "questions.jsonl"
    if not path.is_file():
        return
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                q = json.loads(line)
                if len(q["question"]) >= MIN_QUESTION:
                    yield q["question"], f"{path.relative_to(SHARED.parent)} id {q['id']}"


def needles(folders: list[Path]) -> dict[str, list[tuple[str, str]]]:
    """KEY-character prefix -> [(normalized needle, where it comes from)]."""
    table: dict[str, list[tuple[str, str]]] = {}

    def add(needle: str, source: str) -> None:
        if len(needle) >= KEY:
            table.setdefault(needle[:KEY], []).append((needle, source))

    for folder in folders:
        for text, source in paragraphs(folder):
            norm = normalize(text)
            if len(norm) <= WINDOW:
                add(norm, source)
            for start in range(0, len(norm) - WINDOW + 1, WINDOW):
                add(norm[start : start + WINDOW], source)
        for text, source in questions(folder):
            add(normalize(text), source)
    return table


def tracked_texts() -> Iterator[tuple[str, str]]:
    """(path, text) of every tracked file that exists and is text (UTF-8 without NUL bytes)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout
    for name in sorted(n for n in listed.decode().split("\0") if n):
        path = REPO / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue
        try:
            yield name, data.decode("utf-8")
        except UnicodeDecodeError:
            continue


def copies(text: str, table: dict[str, list[tuple[str, str]]]) -> set[str]:
    """Sources of the needles that occur in ``text``."""
    norm = normalize(text)
    found: set[str] = set()
    for i in range(len(norm) - KEY + 1):
        hits = table.get(norm[i : i + KEY])
        if hits:
            found.update(src for needle, src in hits if norm.startswith(needle, i))
    return found


def test_normalize_sees_through_wrapping_quoting_and_json_escapes() -> None:
    assert normalize('Caf\\u00e9 "au  lait",\n  served') == normalize("café au lait served")
    table = {n[:KEY]: [(n, "x")] for n in [normalize("a" * 20 + " then some more words here")]}
    assert copies(json.dumps({"q": "A" * 20 + " then some\nmore words here!"}), table) == {"x"}
    assert copies("a" * 20 + " then other words", table) == set()


def test_no_tracked_file_holds_text_from_shared_data_sets() -> None:
    folders = data_sets()
    if not folders:
        pytest.skip(
            f"no data sets in {SHARED}/eval or {SHARED}/train (../shared is not beside the repo)"
        )
    table = needles(folders)
    assert len(table) > 1000  # the data sets were read
    offending = {}
    for name, text in tracked_texts():
        found = copies(text, table)
        if found:
            offending[name] = sorted(found)[:3] + (
                [f"... {len(found)} in all"] if len(found) > 3 else []
            )
    assert not offending, f"tracked files hold text from ../shared: {offending}"
