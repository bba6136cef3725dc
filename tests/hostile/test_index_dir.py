"""An INDEX_DIR that cannot hold an index as it is (issue 19): one line, the last generation kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.build.builder import build_index
from index.config import Settings
from index.embedding.embedder import HashEmbedder
from index.engine import Engine
from index.errors import ArticlebotError, IndexDirProblem
from tests.conftest import SMALL_CORPUS, write_corpus


def settings_for(tmp_path: Path, index_dir: Path) -> Settings:
    corpus = write_corpus(tmp_path / "corpus", SMALL_CORPUS)
    return Settings.from_env({}, corpus_dir=corpus, index_dir=index_dir)


def test_index_dir_that_links_to_nothing_is_one_line(tmp_path: Path) -> None:
    link = tmp_path / "index"
    link.symlink_to(tmp_path / "gone")
    with pytest.raises(
        IndexDirProblem, match=r"is a symbolic link to .*gone, which does not exist"
    ):
        build_index(settings_for(tmp_path, link), HashEmbedder(dim=64))


def test_index_dir_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "index").write_text("not a folder")
    with pytest.raises(ArticlebotError, match="is a file, not a folder"):  # the setting's check
        build_index(settings_for(tmp_path, tmp_path / "index"), HashEmbedder(dim=64))


def test_current_that_is_a_folder_serves_the_last_generation_and_refuses_to_publish(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, tmp_path / "index")
    first = build_index(settings, HashEmbedder(dim=64)).generation
    (settings.index_dir / "CURRENT").unlink()
    (settings.index_dir / "CURRENT").mkdir()
    engine = Engine.open(settings, embedder=HashEmbedder(dim=64))  # the newest intact one
    assert engine.generation == first
    with pytest.raises(IndexDirProblem, match="CURRENT is a folder"):
        build_index(settings, HashEmbedder(dim=64), full=True)
    assert (settings.index_dir / "CURRENT").is_dir()  # nothing of the user's removed
