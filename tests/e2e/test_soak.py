"""The soak run in miniature (`make soak` runs the full one): 30 s of questions from 20 users with a
`/reindex` and an `/add-article` in the middle, through the real client, model and reader.

Deselect with ``-m "not soak"``. The bounds are generous: they catch an error, a lost reply, a
blocked event loop or a leak, not a slow machine.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.build.builder import build_index
from index.config import Settings
from index.engine import Engine
from tests.conftest import REPO
from tests.e2e.soak import SoakPlan, format_table, run_soak

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.soak]

# 240 questions a minute: about a fifth of one core for the reader and the encoder, so the run
# stays meaningful while other tests or builds share the machine.
PLAN = SoakPlan(seconds=30, per_minute=240, users=20, warmup_questions=5, drain_seconds=60)
HEARTBEAT_LATE_MS = 2000  # the loopback's interval is 250 ms
RSS_GROWTH_MB = 100


async def test_thirty_seconds_of_questions_with_a_reindex_and_an_upload(
    real_embedder, tmp_path: Path
) -> None:
    corpus = shutil.copytree(REPO / "corpus", tmp_path / "corpus")
    settings = Settings.from_env({}, corpus_dir=corpus, index_dir=tmp_path / "index")
    build_index(settings, real_embedder)
    engine = Engine.open(settings, real_embedder)
    assert engine.reader is not None  # the questions go through the reader, as in `run`

    report = await run_soak(PLAN, settings, engine, tmp_path / "bot.sqlite3")
    table = format_table(report)

    assert report.asked == PLAN.questions == 120, table
    assert report.errors == 0, "\n".join([table, *report.logged_errors, *report.problems])
    assert report.answered + report.abstained == report.asked and report.answered > 0, table
    assert [step.command for step in report.admin] == ["reindex", "add-article"], table
    assert all("1 added" in step.final for step in report.admin), table
    # Replies named the first generation, then the one /reindex made, then /add-article's.
    assert len(report.generations) == 3, table
    assert (corpus / "lighthouses.md").is_file() and (corpus / "glaciers.md").is_file()
    assert report.heartbeat["beats"] > 0 and report.heartbeat_warnings == 0, table
    assert report.heartbeat["max_late_ms"] < HEARTBEAT_LATE_MS, table
    assert report.rss_mb["growth"] < RSS_GROWTH_MB, table
