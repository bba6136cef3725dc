"""Administration through the real client: permission checks, hot reindex, uploads, stats."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.client import ArticleBot
from index.config import Settings
from tests.e2e.conftest import GatedEmbedder
from tests.e2e.loopback import EPHEMERAL, LoopbackDiscord

pytestmark = pytest.mark.e2e

GLACIER = (
    "# Glaciers\n\nA glacier is a persistent body of dense ice that moves under its own weight.\n"
)


def footer(message: dict) -> str:
    return message["embeds"][0]["footer"]["text"]


async def assert_new_generation_answers_glaciers(
    bot: ArticleBot, loopback: LoopbackDiscord
) -> dict:
    """The article added before the swap is quoted, by the generation now serving."""
    asked = await loopback.say("What is a glacier?", mention_bot=True)
    [reply] = await loopback.until(lambda: loopback.replies_to(asked))
    assert reply["embeds"][0]["title"] == "Glaciers"
    assert bot.reader_for(int(loopback.guild_id)).generation in footer(reply)
    return reply


def server_corpus(bot: ArticleBot, loopback: LoopbackDiscord) -> Path:
    """The main guild's own library's corpus folder."""
    return bot.libraries.folder(int(loopback.guild_id)) / "corpus"


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


async def test_non_admin_reindex_is_refused(bot: ArticleBot, loopback: LoopbackDiscord) -> None:
    before = bot.engine.generation
    log = await loopback.slash("reindex", admin=False)
    await loopback.until(lambda: log.original)
    assert log.callbacks[0]["type"] == 4 and log.original["flags"] & EPHEMERAL
    assert "Manage Server" in log.original["content"]
    assert bot.engine.generation == before


async def test_admin_reindex_swaps_while_questions_are_answered(
    bot: ArticleBot, loopback: LoopbackDiscord, settings: Settings, embedder: GatedEmbedder
) -> None:
    guild = int(loopback.guild_id)
    library = await asyncio.to_thread(bot.libraries.ensure, guild)  # the server's own, empty
    old = library.generation
    operator_generation = bot.engine.generation
    (library.corpus_dir / "glaciers.md").write_text(GLACIER, encoding="utf-8")
    embedder.closed = True  # the build will wait inside its first encode
    log = await loopback.slash("reindex", admin=True)
    await loopback.until(embedder.entered.is_set, what="the build to start embedding")

    meanwhile = await loopback.say("What is a glacier?", mention_bot=True)
    [reply] = await loopback.until(lambda: loopback.replies_to(meanwhile))
    assert old in footer(reply)  # answered by the previous generation

    second = await loopback.slash("reindex", admin=True)
    await loopback.until(lambda: second.original)
    assert "already running" in second.original["content"]

    embedder.release.set()
    await loopback.until(
        lambda: any("Reindex finished" in (e.get("content") or "") for e in log.edits),
        what="the reindex summary",
    )
    assert any((e.get("content") or "").startswith("Reindexing") for e in log.edits)
    assert "1 added" in log.edits[-1]["content"]
    assert library.generation != old  # the server's library was rebuilt...
    assert bot.engine.generation == operator_generation  # ...and the operator's left alone

    reply = await assert_new_generation_answers_glaciers(bot, loopback)
    assert "this server's library" in reply["embeds"][0]["description"]


async def test_a_server_admin_cannot_rebuild_the_operators_library(
    bot: ArticleBot, loopback: LoopbackDiscord
) -> None:
    before = bot.engine.generation
    log = await loopback.slash(
        "reindex", {"library": "operator", "full": True}, admin=True, user=loopback.admin
    )
    await loopback.until(lambda: log.original)
    assert log.original["flags"] & EPHEMERAL and "operators" in log.original["content"]
    assert bot.engine.generation == before


async def test_reindex_of_an_emptied_corpus_is_refused(
    bot: ArticleBot, loopback: LoopbackDiscord, settings: Settings
) -> None:
    before = bot.engine.generation
    for path in list(settings.corpus_dir.rglob("*")):
        if path.is_file():
            path.unlink()  # e.g. the corpus volume was not mounted
    log = await loopback.slash(
        "reindex", {"library": "operator"}, admin=True, user=loopback.operator
    )

    def refusal() -> str | None:
        messages = [*log.edits, *log.followups, log.original or {}]
        return next(
            (m["content"] for m in messages if "refusing" in (m.get("content") or "")), None
        )

    text = await loopback.until(refusal, what="the refusal")
    assert "--allow-shrink" in text and "Traceback" not in text
    assert bot.engine.generation == before


async def test_add_article_refuses_path_traversal(
    bot: ArticleBot, loopback: LoopbackDiscord, settings: Settings, tmp_path: Path
) -> None:
    for name in ("../../escape.md", "..\\escape.md", ".hidden.md", "notes.exe"):
        log = await loopback.attach_and_run("add-article", name, b"# Escape\n\nNo.")
        await loopback.until(lambda log=log: log.original)
        assert log.original["flags"] & EPHEMERAL and "Refused" in log.original["content"]
    assert (
        not (tmp_path / "escape.md").exists()
        and not (settings.corpus_dir.parent / "escape.md").exists()
    )
    assert sorted(p.name for p in settings.corpus_dir.glob("*.md")) == [
        "announcements.md",
        "india-japan.md",
        "tea.md",
        "volcano.md",
    ]
    assert files_in(server_corpus(bot, loopback)) == []


async def test_add_and_remove_article(
    bot: ArticleBot, loopback: LoopbackDiscord, settings: Settings
) -> None:
    log = await loopback.attach_and_run("add-article", "glaciers.md", GLACIER.encode())
    await loopback.until(
        lambda: any("Reindex finished" in (e.get("content") or "") for e in log.edits)
    )
    assert (server_corpus(bot, loopback) / "glaciers.md").read_text(encoding="utf-8") == GLACIER
    assert not (settings.corpus_dir / "glaciers.md").exists()
    here = bot.reader_for(int(loopback.guild_id))
    assert "server:glaciers" in {a.id for a in here.articles()}
    assert "glaciers" not in {a.id for a in bot.engine.articles()}
    choices = await loopback.autocomplete("remove-article", "article", "")
    await loopback.until(lambda: choices.callbacks)
    offered = [c["value"] for c in choices.callbacks[0]["data"]["choices"]]
    assert offered == ["server:glaciers"]  # an admin is offered only what they may remove

    again = await loopback.attach_and_run("add-article", "glaciers.md", b"# Other\n\nText.")
    await loopback.until(lambda: again.followups or again.edits)
    said = (again.followups or again.edits)[-1]["content"]
    assert "already exists" in said and "replace" in said

    too_big = b"x" * (bot.bot_settings.max_attachment_bytes + 1)
    big = await loopback.attach_and_run("add-article", "big.md", too_big)
    await loopback.until(lambda: big.original)
    assert "limit" in big.original["content"]

    shared = await loopback.slash(
        "remove-article", {"article": "tea"}, admin=True, user=loopback.admin
    )
    await loopback.until(lambda: shared.original)
    assert "operators" in shared.original["content"]
    assert (settings.corpus_dir / "tea.md").exists()

    gone = await loopback.slash(
        "remove-article", {"article": "server:glaciers"}, admin=True, user=loopback.admin
    )
    await loopback.until(
        lambda: any("Reindex finished" in (e.get("content") or "") for e in gone.edits)
    )
    assert not (server_corpus(bot, loopback) / "glaciers.md").exists()
    assert "server:glaciers" not in {a.id for a in here.articles()}


async def test_stats_for_admins(bot: ArticleBot, loopback: LoopbackDiscord) -> None:
    asked = await loopback.say("Where is Mount Etna?", mention_bot=True)
    [answer] = await loopback.until(lambda: loopback.replies_to(asked))
    vote = await loopback.click(answer, answer["components"][0]["components"][3]["custom_id"])
    await loopback.until(lambda: vote.original)

    log = await loopback.slash("stats", admin=True, user=loopback.admin)
    await loopback.until(lambda: log.followups)
    fields = {f["name"]: f["value"] for f in log.followups[0]["embeds"][0]["fields"]}
    assert fields["Last 24 hours"].startswith("1 questions")
    assert fields["Feedback"] == "👍 0 · 👎 1"
    assert "articles" in fields["Index"]

    refused = await loopback.slash("stats", admin=False)
    await loopback.until(lambda: refused.original)
    assert "admins" in refused.original["content"]


async def test_index_built_from_the_command_line_is_picked_up_without_restart(
    bot: ArticleBot, loopback: LoopbackDiscord, settings: Settings, embedder: GatedEmbedder
) -> None:
    from index.build.builder import build_index
    from index.embedding.embedder import HashEmbedder

    old = bot.engine.generation
    (settings.corpus_dir / "glaciers.md").write_text(GLACIER, encoding="utf-8")
    # What `articlebot index` does in another process: its own embedder, same model name and dim.
    other = HashEmbedder(dim=embedder.dim, name=embedder.name)
    build_index(settings, other)
    assert bot.follow_index.is_running()
    await bot.follow_index()  # one poll now rather than waiting for the interval
    assert bot.engine.generation != old
    await assert_new_generation_answers_glaciers(bot, loopback)


async def test_add_article_refuses_an_unreadable_file_and_saves_nothing(
    bot: ArticleBot, loopback: LoopbackDiscord, settings: Settings
) -> None:
    before = sorted(p.name for p in settings.corpus_dir.iterdir())
    log = await loopback.attach_and_run("add-article", "scan.pdf", b"%PDF-1.4 not really a pdf")
    mine = server_corpus(bot, loopback)

    def said() -> str:
        messages = [*log.followups, *log.edits, *([log.original] if log.original else [])]
        return " ".join(m.get("content") or "" for m in messages)

    await loopback.until(lambda: "not a readable article" in said(), what="the refusal")
    assert "scan.pdf" in said()
    assert sorted(p.name for p in settings.corpus_dir.iterdir()) == before
    assert files_in(mine) == []
