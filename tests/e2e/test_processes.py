"""Two bot processes, one index generation: each an OS process with its own discord.py client (one
gateway shard each, BOT_SHARDS=2), both reading the same index folder, neither writing to it.

The index is built once with the real model; each process then runs the serving entry point
(`python -m bot.main`, via tests/e2e/bot_process.py, which points discord.py at the loopback
Discord) on that folder. The loopback sends each guild's events to the process whose shard holds it.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from index.build.builder import build_index
from index.config import Settings
from tests.conftest import REPO
from tests.e2e.conftest import CORPUS, TOKEN
from tests.e2e.loopback import LoopbackDiscord

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

QUESTIONS = {  # one per guild, so one per process
    "main": ("Which new fields did India and Japan agree to cooperate in?", "india-japan.md"),
    "other": ("Which volcano in Sicily is one of the most active in Europe?", "volcano.md"),
}


def folder_state(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every path below ``root``: (size, mtime in ns, sha256) for files, (0, 0, "dir") for folders."""
    state = {}
    for path in sorted(root.rglob("*")):
        stat = path.lstat()
        if path.is_dir():
            state[str(path.relative_to(root))] = (0, 0, "dir")
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            state[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns, digest)
    return state


def bot_env(
    settings: Settings, loopback: LoopbackDiscord, shard: int, home: Path
) -> dict[str, str]:
    """The process environment: no settings inherited from the developer's shell or .env."""
    inherited = ("CORPUS_", "INDEX_", "ARTICLEBOT_", "DISCORD_", "BOT_", "READER", "EMBED_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    return env | {
        "PYTHONPATH": str(REPO),
        "HF_HUB_OFFLINE": "1",
        "ARTICLEBOT_HOME": str(home),
        "CORPUS_DIR": str(settings.corpus_dir),
        "INDEX_DIR": str(settings.index_dir),
        "DISCORD_TOKEN": TOKEN,
        "BOT_SHARDS": "2",
        "BOT_SHARD_IDS": str(shard),
        "BOT_DB_PATH": str(home / "bot.sqlite3"),
        "BOT_HEARTBEAT_FILE": str(home / "bot.heartbeat"),
        "LOOPBACK_DISCORD": loopback.base,
    }


def start_bot(env: dict[str, str], home: Path) -> subprocess.Popen[bytes]:
    home.mkdir(parents=True)
    with (home / "stderr.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.bot_process"],
            cwd=home,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, as `docker stop` sends: the bot closes the gateway and exits."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def quoted(reply: dict) -> str:
    """The quote in a reply's embed, without the block-quote marks and the emphasis."""
    lines = reply["embeds"][0]["description"].splitlines()
    return " ".join(line[2:] for line in lines if line.startswith("> ")).replace("**", "")


def asked_in(db: Path) -> list[tuple[int, str, int]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT guild_id, generation, answered FROM questions").fetchall()


async def test_two_processes_answer_from_one_generation_without_writing_it(
    settings: Settings, loopback: LoopbackDiscord, real_embedder: object, tmp_path: Path
) -> None:
    generation = build_index(settings, real_embedder).generation  # type: ignore[arg-type]
    before = folder_state(settings.index_dir)
    ours = loopback.shard_of(loopback.guild_id, 2)
    other_guild, other_channel = loopback.add_guild(shard=1 - ours, shards=2)
    guilds = {ours: loopback.guild_id, 1 - ours: other_guild}
    homes = {shard: tmp_path / f"bot-{shard}" for shard in (0, 1)}
    bots = {s: start_bot(bot_env(settings, loopback, s, homes[s]), homes[s]) for s in (0, 1)}

    def both_connected() -> bool:
        for shard, process in bots.items():
            if process.poll() is not None:
                log = (homes[shard] / "stderr.log").read_text(errors="replace")[-3000:]
                raise AssertionError(f"bot process {shard} exited {process.returncode}:\n{log}")
        return len(loopback.identify_shards) == 2

    try:
        await loopback.until(both_connected, timeout=300, what="both processes to connect")
        assert sorted(loopback.identify_shards) == [[0, 2], [1, 2]]  # type: ignore[type-var]
        asked = {
            "main": await loopback.say(QUESTIONS["main"][0], mention_bot=True),
            "other": await loopback.say(
                QUESTIONS["other"][0], mention_bot=True, channel=other_channel
            ),
        }
        for name, message in asked.items():
            [reply] = await loopback.until(
                lambda m=message: loopback.replies_to(m), timeout=120, what=f"the {name} reply"
            )
            article = " ".join(CORPUS[QUESTIONS[name][1]].split())
            quote = quoted(reply)
            assert quote and quote in article, f"not verbatim from {QUESTIONS[name][1]}: {quote}"
    finally:
        codes = {shard: stop(process) for shard, process in bots.items()}
    assert codes == {0: 0, 1: 0}
    for shard, guild in guilds.items():  # each process answered its own guild's question
        assert asked_in(homes[shard] / "bot.sqlite3") == [(int(guild), generation, 1)]
    assert folder_state(settings.index_dir) == before  # nothing written, no new generation


async def test_the_real_process_keeps_each_servers_library_its_own(
    settings: Settings, loopback: LoopbackDiscord, real_embedder: object, tmp_path: Path
) -> None:
    """Issue 18 through the bot's serving entry point, the real model and two servers: an article
    B's admin adds is quoted in B and never in A; B's admin cannot remove A's shared articles."""
    build_index(settings, real_embedder)  # type: ignore[arg-type]
    b_guild, b_channel = loopback.add_guild(shard=0, shards=1)
    home = tmp_path / "bot"
    env = bot_env(settings, loopback, 0, home)
    del env["BOT_SHARDS"], env["BOT_SHARD_IDS"]
    env["SERVERS_DIR"] = str(home / "servers")
    bot = start_bot(env, home)
    b_admin = loopback.user("beatrice")
    secret = "# Project Nightjar\n\nThe Nightjar launch code word is heliotrope.\n"
    question = "What is the Nightjar launch code word?"

    def connected() -> bool:
        if bot.poll() is not None:
            log = (home / "stderr.log").read_text(errors="replace")[-3000:]
            raise AssertionError(f"the bot process exited {bot.returncode}:\n{log}")
        return bool(loopback.identify_shards)

    try:
        await loopback.until(connected, timeout=300, what="the process to connect")
        upload = await loopback.attach_and_run(
            "add-article", "nightjar.md", secret.encode(), user=b_admin, guild=b_guild
        )
        await loopback.until(
            lambda: any("Reindex finished" in (e.get("content") or "") for e in upload.edits),
            timeout=120,
            what="B's reindex",
        )
        in_b = await loopback.say(question, mention_bot=True, channel=b_channel)
        [reply_b] = await loopback.until(lambda: loopback.replies_to(in_b), timeout=120)
        assert "heliotrope" in quoted(reply_b)
        in_a = await loopback.say(question, mention_bot=True)
        [reply_a] = await loopback.until(lambda: loopback.replies_to(in_a), timeout=120)
        assert "heliotrope" not in str(reply_a["embeds"])
        removal = await loopback.slash(
            "remove-article", {"article": "tea"}, admin=True, user=b_admin, guild=b_guild
        )
        await loopback.until(lambda: removal.original, timeout=60)
        assert "operators" in removal.original["content"]
        assert (settings.corpus_dir / "tea.md").exists()
        assert (home / "servers" / b_guild / "corpus" / "nightjar.md").exists()
    finally:
        code = stop(bot)
    assert code == 0
