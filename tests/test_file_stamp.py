"""An update reads only the files whose stamp changed (real files on disk, a fake embedder)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import index.corpus.folder
from index.build.builder import build_index
from index.config import Settings
from index.corpus import file_stamp
from index.embedding.embedder import HashEmbedder
from index.engine import Engine


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Trust stamps at once (the files of a test are seconds old) and record every file read."""
    monkeypatch.setattr(file_stamp, "RACY_NS", 0)
    monkeypatch.setattr(file_stamp, "RACY_FINE_NS", 0)
    seen: list[str] = []
    real = index.corpus.folder.read_article

    def recording(corpus_dir: Path, path: Path, *rest: object) -> object:
        seen.append(path.relative_to(corpus_dir).as_posix())
        return real(corpus_dir, path, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(index.corpus.folder, "read_article", recording)
    return seen


def test_an_update_reads_only_the_changed_file(
    settings: Settings, fake_embedder: HashEmbedder, reads: list[str]
) -> None:
    build_index(settings, fake_embedder)
    assert sorted(reads) == ["notes/bicycle.txt", "tea.md", "volcano.md"]
    reads.clear()
    path = settings.corpus_dir / "tea.md"
    path.write_text(path.read_text() + "\n\nOolong is half oxidised.", encoding="utf-8")
    report = build_index(settings, fake_embedder)
    assert reads == ["tea.md"] and (report.changed, report.unchanged) == (1, 2)
    reads.clear()
    assert not build_index(settings, fake_embedder).published and reads == []
    answer = Engine.open(settings, fake_embedder).ask("Which tea is half oxidised?")
    assert any("Oolong" in p.text for p in answer.passages)


def test_each_published_build_renews_the_stamps_of_the_files_it_read(
    settings: Settings, fake_embedder: HashEmbedder, reads: list[str]
) -> None:
    build_index(settings, fake_embedder)
    os.utime(settings.corpus_dir / "tea.md")  # touched, not changed: read again, unchanged
    (settings.corpus_dir / "kettle.md").write_text("# Kettle\n\nIt boils.", encoding="utf-8")
    reads.clear()
    report = build_index(settings, fake_embedder)
    assert sorted(reads) == ["kettle.md", "tea.md"] and (report.added, report.changed) == (1, 0)
    (settings.corpus_dir / "kettle.md").write_text("# Kettle\n\nIt whistles.", encoding="utf-8")
    reads.clear()
    build_index(settings, fake_embedder)
    assert reads == ["kettle.md"]  # tea.md's stamp was renewed by the build that read it


def test_a_copy_that_keeps_size_and_mtime_is_still_noticed(
    settings: Settings, fake_embedder: HashEmbedder, reads: list[str]
) -> None:
    """cp -p or rsync -t: same size, same modification time; the change time still moves."""
    build_index(settings, fake_embedder)
    path = settings.corpus_dir / "volcano.md"
    before = path.stat()
    path.write_text(path.read_text().replace("Sicily", "Sicilx"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    reads.clear()
    assert build_index(settings, fake_embedder).changed == 1 and reads == ["volcano.md"]


class _Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def time_ns(self) -> int:
        return self.now


def test_a_stamp_taken_right_after_a_change_is_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.md"
    path.write_text("# A\n\nText.", encoding="utf-8")
    changed = path.stat().st_ctime_ns
    monkeypatch.setattr(file_stamp, "time", _Clock(changed + file_stamp.RACY_FINE_NS // 2))
    stamp = file_stamp.take(path)
    assert not file_stamp.unchanged(path, stamp, 1000)  # the same clock tick could hide a change
    monkeypatch.setattr(file_stamp, "time", _Clock(changed + file_stamp.RACY_FINE_NS * 2))
    stamp = file_stamp.take(path)
    assert file_stamp.unchanged(path, stamp, 1000)
    assert not file_stamp.unchanged(path, stamp, 5)  # now over MAX_ARTICLE_BYTES: read (refused)
    assert not file_stamp.unchanged(path, "not a stamp", 1000)
    path.write_text("# A\n\nText!", encoding="utf-8")
    assert not file_stamp.unchanged(path, stamp, 1000)


def test_whole_second_times_get_the_wider_window(tmp_path: Path) -> None:
    """ext3, HFS+ or FAT keep whole seconds: a change in the same second keeps the times."""
    path = tmp_path / "a.md"
    path.write_text("# A\n\nText.", encoding="utf-8")
    second = 1_700_000_000 * 10**9
    os.utime(path, ns=(second, second))
    st = path.stat()
    shape = [st.st_size, second, st.st_ctime_ns, st.st_ino, st.st_dev]
    fine = json.dumps([*shape, max(second, st.st_ctime_ns) + file_stamp.RACY_FINE_NS * 2])
    assert not file_stamp.unchanged(path, fine, 1000)  # within 2 s of a whole-second time
    late = json.dumps([*shape, max(second, st.st_ctime_ns) + file_stamp.RACY_NS * 2])
    assert file_stamp.unchanged(path, late, 1000)
