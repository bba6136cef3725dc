"""An upload is checked from memory (issue 19, cause 1): the check wrote a copy of the file into
/tmp (`articlebot-check-*`) and a process killed during a long check left it there for good."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from index.corpus import files as corpus_files
from index.corpus.files import CorpusFileError, check_article
from tests.conftest import REPO

# The child checks an upload whose parsing never ends (the Markdown reader is held), saying when
# it has started; it is then killed with SIGKILL, as the OOM killer or `kill -9` would.
_CHILD = textwrap.dedent(
    """
    import sys, time
    from index.corpus import folder
    from index.corpus.files import check_article

    def held(text):
        print("checking", flush=True)
        time.sleep(600)

    folder.parse_markdown = held
    check_article("upload.md", b"# Upload\\n\\n" + b"A long hostile upload. " * 50_000)
    """
)


def test_a_process_killed_during_an_upload_check_leaves_no_copy(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD],
        cwd=REPO,
        env={**os.environ, "TMPDIR": str(temp)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "checking"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert list(temp.iterdir()) == []  # before: articlebot-check-*/upload.md, 1.1 MB, for good


def test_the_check_writes_no_file_and_still_refuses_what_the_index_would_skip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_writes(*args: object, **kwargs: object) -> None:
        raise AssertionError("the check wrote a file")

    monkeypatch.setattr(corpus_files.tempfile, "TemporaryDirectory", no_writes)
    monkeypatch.setattr(corpus_files.tempfile, "mkstemp", no_writes)
    check_article("fine.md", b"# Fine\n\nA fine article.\n")
    for name, data, reason in [
        ("empty.md", b"", "empty file"),
        ("binary.txt", b"text\x00more", "binary"),
        ("blank.html", b"<html><body></body></html>", "no text found"),
        ("big.md", b"# Big\n\n" + b"x" * 64, "over the 32-byte limit"),
    ]:
        with pytest.raises(CorpusFileError, match=reason) as refused:
            check_article(name, data, max_bytes=32 if name == "big.md" else 2_000_000)
        assert refused.value.kind == "unreadable"
