"""Faults from issue 9: a build while another holds the lock, a full disk, kill -9 during `add`.

Real processes hold the lock and get killed; the disk-full case runs in a small tmpfs where a user
namespace allows mounting one, and with an injected ENOSPC everywhere.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import index.cli.indexing
import index.cli.main
import index.embedding.embedder
from index.build.builder import build_index
from index.cli.indexing import update_index
from index.cli.main import main
from index.config import Settings
from index.corpus import batch as corpus_batch
from index.embedding.embedder import HashEmbedder
from index.errors import BuildInProgress, DiskFull
from tests.conftest import REPO


@pytest.fixture
def lock_holder(settings: Settings) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the index's build lock until its stdin closes."""
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from index.build.lock import build_lock
        with build_lock(Path({str(settings.index_dir)!r})):
            print("held", flush=True)
            sys.stdin.read()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    yield proc
    if proc.poll() is None:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait()


def _release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, settings: Settings, capsys: pytest.CaptureFixture[str]):
    """`articlebot ARGS` in-process with the fake embedder and no waiting for the lock."""
    monkeypatch.setattr(index.embedding.embedder, "load_embedder", lambda *a: HashEmbedder(dim=64))
    monkeypatch.setattr(index.cli.indexing, "LOCK_WAIT_SECONDS", 0.0)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(
            [*args, "--corpus", str(settings.corpus_dir), "--index-dir", str(settings.index_dir)]
        )
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_add_and_remove_refuse_before_touching_the_corpus_while_a_build_runs(
    cli, settings: Settings, lock_holder: subprocess.Popen[str], tmp_path: Path
) -> None:
    new = tmp_path / "kettle.md"
    new.write_text("# Kettle\n\nA kettle boils water for tea.\n", encoding="utf-8")
    before = sorted(p.name for p in settings.corpus_dir.rglob("*"))

    code, out, err = cli("add", str(new))
    assert code == 75 and out == "" and err.count("\n") == 1
    assert f"process {lock_holder.pid}" in err and "nothing was changed" in err
    code, out, err = cli("remove", "tea")
    assert code == 75 and err.count("\n") == 1

    assert sorted(p.name for p in settings.corpus_dir.rglob("*")) == before
    _release(lock_holder)
    assert cli("add", str(new))[0] == 0
    assert (settings.corpus_dir / "kettle.md").is_file()


def test_index_waits_for_the_other_build_then_publishes(
    settings: Settings, lock_holder: subprocess.Popen[str]
) -> None:
    told: list[str] = []
    waiting = threading.Event()

    def on_wait(line: str) -> None:
        told.append(line)
        waiting.set()

    result: list[object] = []
    worker = threading.Thread(
        target=lambda: result.append(
            build_index(settings, HashEmbedder(dim=64), wait=600, on_wait=on_wait)
        )
    )
    worker.start()
    assert waiting.wait(timeout=60)
    assert result == [] and "waiting for another build" in told[0]
    _release(lock_holder)
    worker.join()
    assert len(result) == 1 and (settings.index_dir / "CURRENT").is_file()


def test_a_build_that_cannot_wait_says_so_in_one_line(
    settings: Settings, lock_holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(BuildInProgress) as caught:
        build_index(settings, HashEmbedder(dim=64))
    assert str(settings.index_dir) in caught.value.user_line()
    assert caught.value.exit_code == 75


def test_run_starts_on_the_current_generation_while_a_cli_build_runs(
    settings: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`articlebot run` / `chat` does not wait for (or fail on) a build running elsewhere."""
    first = build_index(settings, HashEmbedder(dim=64))
    (settings.corpus_dir / "kettle.md").write_text("# Kettle\n\nIt boils.\n", encoding="utf-8")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD.format(index_dir=str(settings.index_dir))],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        update_index(settings, HashEmbedder(dim=64), serving=True)
    finally:
        _release(holder)
    assert "starting on the current index" in capsys.readouterr().err
    assert (settings.index_dir / "CURRENT").read_text().strip() == first.generation


_HOLD = """
import sys
from pathlib import Path
from index.build.lock import build_lock
with build_lock(Path({index_dir!r})):
    print("held", flush=True)
    sys.stdin.read()
"""


# Disk full -------------------------------------------------------------------------------------


def _no_space(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize(
    "where",
    [
        "index.segments.segment.np.save",
        "index.segments.segment.faiss.write_index",
        "index.generations.store._fsync_file",
    ],
)
def test_disk_full_is_one_line_naming_the_folder_and_leaves_no_staging(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    first = build_index(settings, HashEmbedder(dim=64), full=True)
    monkeypatch.setattr(where, _no_space)
    with pytest.raises(DiskFull) as caught:
        build_index(settings, HashEmbedder(dim=64), full=True)
    line = caught.value.user_line()
    assert str(settings.index_dir / "generations") in line and "needed" in line
    assert caught.value.exit_code == 74
    assert not list((settings.index_dir / "generations").glob(".tmp-*"))
    assert (settings.index_dir / "CURRENT").read_text().strip() == first.generation


def test_full_disk_while_caching_vectors_names_the_cache_folder(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from index.embedding import vector_cache

    def full(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(vector_cache.VectorCache, "put_many", full)
    with pytest.raises(DiskFull, match="cache"):
        build_index(settings, HashEmbedder(dim=64))


def _can_mount_tmpfs() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="no user namespace to mount a small tmpfs")
def test_a_real_full_tmpfs_gives_one_line_and_no_leftovers(settings: Settings) -> None:
    """The index folder on a 256 KiB tmpfs: the build fails for lack of space, cleanly."""
    script = textwrap.dedent(
        f"""
        import os, sys
        from pathlib import Path
        from index.build.builder import build_index
        from index.config import Settings
        from index.embedding.embedder import HashEmbedder
        from index.errors import ArticlebotError
        s = Settings.from_env({{}}, corpus_dir=Path({str(settings.corpus_dir)!r}),
                              index_dir=Path("/mnt/index"))
        try:
            build_index(s, HashEmbedder(dim=384))
        except ArticlebotError as exc:
            print(exc.user_line(), file=sys.stderr)
            leftovers = list(Path("/mnt/index/generations").glob(".tmp-*"))
            print("leftovers", len(leftovers))
            sys.exit(exc.exit_code)
        """
    )
    big = "Filler sentence number {} about kettles and tea for the full disk test.\n"
    (settings.corpus_dir / "big.txt").write_text(
        "Big\n\n" + "".join(big.format(i) for i in range(4000)), encoding="utf-8"
    )
    result = subprocess.run(
        ["unshare", "-rm", "sh", "-c",
         f"mount -t tmpfs -o size=256k tmpfs /mnt && exec {sys.executable} -c \"$0\"", script],
        cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 74, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "/mnt/index" in result.stderr and "is full" in result.stderr
    assert result.stdout.strip() == "leftovers 0"


# kill -9 during add ----------------------------------------------------------------------------

NAMES = [f"batch-{i}.txt" for i in range(5)]


def _batch_files(folder: Path) -> list[Path]:
    folder.mkdir()
    paths = []
    for i, name in enumerate(NAMES):
        path = folder / name
        line = f"Line {i} of a long article about the batch test, with enough words to be read.\n"
        path.write_text(f"Batch {i}\n\n" + line * 12000, encoding="utf-8")  # ~1 MB each
        paths.append(path)
    return paths


def test_kill_9_during_add_leaves_all_or_none_and_no_parts(
    settings: Settings, tmp_path: Path
) -> None:
    files = _batch_files(tmp_path / "incoming")
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from index.cli.corpus import add_files
        from index.config import Settings
        s = Settings.from_env({{}}, corpus_dir=Path({str(settings.corpus_dir)!r}),
                              index_dir=Path({str(settings.index_dir)!r}))
        add_files(s, [Path(p) for p in {[str(f) for f in files]!r}], replace=False)
        """
    )
    corpus = settings.corpus_dir
    for attempt in range(3):
        proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
        while proc.poll() is None and not any(
            p.name.startswith(".upload-") or p.name in NAMES for p in corpus.iterdir()
        ):
            pass  # until the batch starts writing into the corpus
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        build_index(settings, HashEmbedder(dim=64))  # the next build recovers the corpus
        present = [n for n in NAMES if (corpus / n).exists()]
        assert present in ([], NAMES), f"attempt {attempt}: {present}"
        assert not [p.name for p in corpus.iterdir() if p.name.startswith(".")], attempt
        for name in present:
            (corpus / name).unlink()


def test_recover_finishes_a_journaled_batch_and_drops_orphan_parts(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    orphan = corpus / f".upload-{dead.stdout.strip()}-abc.part"
    orphan.write_text("half an upload", encoding="utf-8")
    parts = [corpus / f".upload-{dead.stdout.strip()}-{i}.part" for i in range(2)]
    for i, part in enumerate(parts):
        part.write_text(f"article {i}", encoding="utf-8")
    (corpus / corpus_batch.JOURNAL).write_text(
        f'[["{parts[0].name}", "a.txt"], ["{parts[1].name}", "b.txt"]]', encoding="utf-8"
    )
    corpus_batch.recover(corpus)
    assert sorted(p.name for p in corpus.iterdir()) == ["a.txt", "b.txt"]
    assert (corpus / "b.txt").read_text(encoding="utf-8") == "article 1"


def test_kill_9_while_the_journal_is_written_leaves_no_batch_and_no_temp_journal(
    settings: Settings, tmp_path: Path
) -> None:
    """The window the random kills above hit rarely: the parts are written, the journal's temp
    file too, and the process dies before renaming it into place (the batch was not committed)."""
    files = _batch_files(tmp_path / "incoming")
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from index.cli.corpus import add_files
        from index.config import Settings
        replace = os.replace
        def die_before_committing(src, dst):
            if str(src).endswith(".tmp"):
                os.kill(os.getpid(), signal.SIGKILL)
            replace(src, dst)
        os.replace = die_before_committing
        s = Settings.from_env({{}}, corpus_dir=Path({str(settings.corpus_dir)!r}),
                              index_dir=Path({str(settings.index_dir)!r}))
        add_files(s, [Path(p) for p in {[str(f) for f in files]!r}], replace=False)
        """
    )
    corpus = settings.corpus_dir
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO)
    assert result.returncode == -signal.SIGKILL
    left = sorted(p.name for p in corpus.iterdir() if p.name.startswith("."))
    assert any(n.startswith(corpus_batch.JOURNAL) and n.endswith(".tmp") for n in left), left
    assert sum(n.endswith(".part") for n in left) == len(NAMES), left

    build_index(settings, HashEmbedder(dim=64))  # the next build recovers the corpus
    assert not [n for n in NAMES if (corpus / n).exists()]
    assert not [p.name for p in corpus.iterdir() if p.name.startswith(".")]


def test_a_journal_being_written_by_a_live_process_is_kept(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    mine = corpus / f"{corpus_batch.JOURNAL}.{os.getpid()}.tmp"
    mine.write_text("[", encoding="utf-8")
    corpus_batch.recover(corpus)
    assert mine.exists()


def test_a_full_disk_while_writing_the_journal_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = tmp_path / "corpus"
    monkeypatch.setattr(corpus_batch.json, "dump", _no_space)
    with pytest.raises(OSError, match="No space"):
        corpus_batch.write_batch(corpus, [("a.txt", b"article a"), ("b.txt", b"article b")])
    assert list(corpus.iterdir()) == []
