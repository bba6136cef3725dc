"""The real `articlebot` process: what only shows in a process (pipes, .env, the home folder, exit codes)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index.build.builder import build_index
from index.config import Settings
from tests.conftest import REPO, SMALL_CORPUS, write_corpus

pytestmark = pytest.mark.integration


def articlebot() -> list[str]:
    """The installed console script (as a user runs it), else the module."""
    script = Path(sys.executable).parent / "articlebot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "index.cli.main"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CORPUS_", "INDEX_"))}
    env.pop("ARTICLEBOT_HOME", None)
    env.pop("DISCORD_TOKEN", None)
    env["HF_HUB_OFFLINE"] = "1"
    env["PYTHONPATH"] = str(REPO)
    return env | extra


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*articlebot(), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean_env(**env),
        check=False,
        timeout=300,
    )


def run_into_closed_pipe(*args: str, cwd: Path) -> tuple[int, str]:
    """Like `articlebot ARGS | head -0`: the reader is gone before the first line is written."""
    proc = subprocess.Popen(
        [*articlebot(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=clean_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the process takes far longer to start than this takes
    err = proc.stderr.read().decode("utf-8", "replace")
    return proc.wait(timeout=300), err


@pytest.fixture(scope="module")
def home(real_embedder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ARTICLEBOT_HOME with corpus/ and var/index built by the real model (the defaults)."""
    root = tmp_path_factory.mktemp("home")
    write_corpus(root / "corpus", SMALL_CORPUS)
    settings = Settings.from_env({"ARTICLEBOT_HOME": str(root)})
    build_index(settings, real_embedder)
    return root


def test_output_into_a_closed_pipe_is_quiet(home: Path) -> None:
    for args in (("info",), ("info", "--json"), ("search", "volcano", "--json")):
        code, err = run_into_closed_pipe(*args, cwd=home)
        assert "Traceback" not in err and "Exception ignored" not in err, (args, err)
        assert err == ""
        assert code == 141, args  # 128 + SIGPIPE, as a shell reports for `yes | head`


def test_env_saved_as_utf16_by_powershell_is_read(home: Path, tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(f"INDEX_DIR={home / 'var' / 'index'}\r\n".encode("utf-16"))
    result = run("info", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"articles": 3' in result.stdout


def test_env_with_a_latin1_comment_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"# caf\xe9 settings\nINDEX_DIR=var/index\n")
    result = run("info", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert f"{tmp_path / '.env'}, line 1: not UTF-8" in result.stderr
    assert "save the file as UTF-8" in result.stderr


def test_index_dir_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    result = run("index", "--index-dir", "afile", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        f"articlebot: error: INDEX_DIR (--index-dir) {tmp_path / 'afile'} is a file, not a folder\n"
    )


def test_version(tmp_path: Path) -> None:
    result = run("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("articlebot ") and result.stdout.split()[1][0].isdigit()


def test_articlebot_home_is_the_base_of_relative_settings(home: Path, tmp_path: Path) -> None:
    shutil.copyfile(REPO / ".env.example", home / ".env")  # relative CORPUS_DIR and INDEX_DIR
    try:
        result = run("info", "--json", cwd=tmp_path, ARTICLEBOT_HOME=str(home))
        assert result.returncode == 0, result.stderr
        assert f'"index_dir": "{home / "var" / "index"}"' in result.stdout
    finally:
        (home / ".env").unlink()
    missing = run("info", cwd=tmp_path)  # no index below the current folder
    assert missing.returncode == 2
    assert f"no index in {tmp_path / 'var' / 'index'}" in missing.stderr
    assert f"ARTICLEBOT_HOME={tmp_path} (default: .)" in missing.stderr


class Terminal:
    """The main side of a pty: ``expect`` reads until text appears after what was already matched."""

    def __init__(self, fd: int) -> None:
        self.fd, self.buffer, self.pos = fd, bytearray(), 0

    def expect(self, wanted: bytes, patience: float = 120.0) -> str:
        """Read until ``wanted`` appears; fail (not hang) when nothing comes for ``patience`` seconds."""
        import select

        while (found := self.buffer.find(wanted, self.pos)) < 0:
            ready, _, _ = select.select([self.fd], [], [], patience)
            if not ready:
                raise AssertionError(f"{wanted!r} never came: {bytes(self.buffer[self.pos :])!r}")
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:  # EIO: the other side closed
                chunk = b""
            if not chunk:
                raise AssertionError(f"{wanted!r} never came: {bytes(self.buffer[self.pos :])!r}")
            self.buffer.extend(chunk)
        text = self.buffer[self.pos : found + len(wanted)].decode("utf-8", "replace")
        self.pos = found + len(wanted)
        return text

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)


def test_chat_on_a_terminal_has_line_history(home: Path) -> None:
    """Up-arrow recalls the previous question (readline), instead of asking "^[[A"."""
    import pty

    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen(
        [*articlebot(), "chat"],
        stdin=child_fd,
        stdout=child_fd,
        stderr=subprocess.DEVNULL,
        cwd=home,
        env=clean_env(TERM="dumb"),
        close_fds=True,
    )
    os.close(child_fd)
    term = Terminal(main_fd)
    try:
        term.expect(b"? ")
        term.send(b"Which volcano in Sicily is very active?\r")
        assert "Etna" in term.expect(b"confidence")
        term.expect(b"? ")  # the next prompt: readline is reading
        term.send(b"\x1b[A\r")  # up-arrow: the same question again
        again = term.expect(b"confidence")
        assert "Which volcano in Sicily is very active?" in again and "Etna" in again
        term.expect(b"? ")
        term.send(b"\x04")  # Ctrl-D
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(main_fd)
