"""Every file of an index damaged three ways: no traceback, never a quote that is not in the corpus,
and `articlebot index --full` repairs it (real files on disk, the CLI in-process, a fake embedder)."""

from __future__ import annotations

import io
import json
import logging
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import index.embedding.embedder
from index.cli.main import main
from index.embedding.embedder import HashEmbedder
from index.segments.segment import FILES as SEGMENT_FILES
from tests.conftest import SMALL_CORPUS, write_corpus

# The current generation has two segments: the first build's (two articles, hard links shared
# with the older generation) and the second build's (the third article).
GENERATION_FILES = (
    "manifest.json",
    "stamps.json",
    *(f"old:{name}" for name in SEGMENT_FILES),
    "new:meta.sqlite",
    "new:sentence_vectors.npy",
    "new:terms.json",
)
OTHER_FILES = ("CURRENT", "cache/embeddings.sqlite")
QUESTION = "Where is Mount Etna?"


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit: the subtlest damage (e.g. "Nairobi" -> "Nairobj")
    path.write_bytes(bytes(data))


def delete(path: Path) -> None:
    path.unlink()


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncate": truncate,
    "flip": flip_byte,
    "delete": delete,
}


@pytest.fixture(scope="module")
def two_generations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index with an older generation (two articles) and the current one (three)."""
    root = tmp_path_factory.mktemp("template")
    first = dict(list(SMALL_CORPUS.items())[:2])
    write_corpus(root / "corpus", first)
    with _fake_model():
        assert _cli(root, "index") == 0
        write_corpus(root / "corpus", SMALL_CORPUS)
        assert _cli(root, "index") == 0
    return root


class _fake_model:
    """The CLI's model loader returns the fake embedder (fast; the files on disk are real)."""

    def __enter__(self) -> None:
        self._saved = index.embedding.embedder.load_embedder
        index.embedding.embedder.load_embedder = lambda *a: HashEmbedder(dim=64)  # type: ignore[assignment]

    def __exit__(self, *exc: object) -> None:
        index.embedding.embedder.load_embedder = self._saved  # type: ignore[assignment]


def _cli(root: Path, *args: str) -> int:
    return main([*args, "--corpus", str(root / "corpus"), "--index-dir", str(root / "index")])


def _run(root: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        with _fake_model():
            code = _cli(root, *args)
    finally:
        sys.stdout, sys.stderr = saved
    return code, out.getvalue(), err.getvalue()


def _current(root: Path) -> Path:
    return root / "index" / "generations" / (root / "index" / "CURRENT").read_text().strip()


def _target(root: Path, target: str) -> Path:
    """``old:FILE``/``new:FILE``: that file of the current generation's first or second segment."""
    if target in OTHER_FILES:
        return root / "index" / target
    which, _, name = target.rpartition(":")
    if not which:
        return _current(root) / name
    segments = json.loads((_current(root) / "manifest.json").read_text())["segments"]
    assert len(segments) == 2
    return _current(root) / "segments" / segments[which == "new"]["name"] / name


def _assert_verbatim(root: Path, answer: dict[str, object]) -> None:
    """Every quote and passage is a slice of the article file it names (never altered text)."""
    corpus = root / "corpus"
    texts = {
        p.relative_to(corpus).with_suffix("").as_posix(): p.read_text(encoding="utf-8")
        for p in corpus.rglob("*")
        if p.is_file()
    }
    items = [*answer["quotes"], *answer["passages"]]  # type: ignore[misc]
    assert items, answer
    for item in items:
        assert item["text"] in texts[item["article"]], item


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("target", GENERATION_FILES + OTHER_FILES)
def test_damaged_index_file_is_reported_or_bypassed_and_full_index_repairs_it(
    two_generations: Path,
    tmp_path: Path,
    target: str,
    damage: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    root = tmp_path / "copy"
    shutil.copytree(two_generations, root)
    path = _target(root, target)
    DAMAGE[damage](path)

    caplog.set_level(logging.WARNING)
    code, out, err = _run(root, "ask", QUESTION, "--json")
    if code == 0:
        _assert_verbatim(root, json.loads(out))
        logged = caplog.text + err  # the CLI logs to stderr (or pytest captures the record)
        if target != "cache/embeddings.sqlite":  # the cache is not read to answer
            assert path.name in logged and "index --full" in logged
    else:
        assert code == 2 and err.count("\n") == 1, err
        assert path.name in err and "articlebot index --full" in err

    caplog.clear()
    code, out, err = _run(root, "index", "--full")
    assert code == 0, err
    code, out, err = _run(root, "ask", QUESTION, "--json")
    assert code == 0, err
    _assert_verbatim(root, json.loads(out))
    assert "damaged" not in caplog.text + err
    assert json.loads(out)["generation"] == _current(root).name


def test_flipped_article_text_is_never_quoted(two_generations: Path, tmp_path: Path) -> None:
    """The issue's case: one byte of an article's text in meta.sqlite changed ('Sicily' ->
    'Sicilx'), which a checksum catches; no generation left intact means one line, exit 2."""
    root = tmp_path / "copy"
    shutil.copytree(two_generations, root)
    for old in (root / "index" / "generations").iterdir():
        if old != _current(root):
            shutil.rmtree(old)
    meta = _target(root, "old:meta.sqlite")
    data = meta.read_bytes()
    assert data.count(b"Sicily") >= 1
    meta.write_bytes(data.replace(b"Sicily", b"Sicilx"))
    code, out, err = _run(root, "ask", QUESTION, "--json")
    assert (code, out) == (2, "")
    assert err.startswith("articlebot: error: index file ") and "meta.sqlite" in err
    assert "Sicilx" not in err
