"""`articlebot verify` hashes every file, whatever the stamp says: it finds damage that kept a
file's size and times, which an open (a stat per file against the stamp) does not see."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import index.embedding.embedder
from index.build.builder import build_index
from index.cli.main import main
from index.config import Settings
from index.embedding.embedder import HashEmbedder
from index.engine import Engine
from index.generations.store import current_generation


def _verify(settings: Settings, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    dirs = ["--corpus", str(settings.corpus_dir), "--index-dir", str(settings.index_dir)]
    code = main(["verify", *extra, *dirs])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _flip_keeping_stamp(path: Path) -> None:
    """One byte changed in place; size, access and modification times put back as they were."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_verify_finds_damage_that_an_open_does_not(
    settings: Settings,
    fake_embedder: HashEmbedder,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(index.embedding.embedder, "load_embedder", lambda *args: fake_embedder)
    build_index(settings, fake_embedder)
    code, out = _verify(settings, capsys)
    assert code == 0 and "every checksum matches" in out
    folder = current_generation(settings.index_dir)
    (vectors,) = folder.glob("segments/*/sentence_vectors.npy")
    _flip_keeping_stamp(vectors)
    Engine.open(settings, fake_embedder)  # the stamp still matches: the open trusts it
    code, out = _verify(settings, capsys, "--all")
    assert code == 2
    assert out.startswith("articlebot: error: index file ") and "sentence_vectors.npy" in out
    assert "checksum mismatch" in out
