"""A serving process freezes each generation it loads, so that full collections skip it, and a
swapped-out generation is still freed (index/process/gc_policy.py, issue 11)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

from index.build.builder import build_index
from index.config import Settings
from index.embedding.embedder import HashEmbedder
from index.engine import Engine
from index.process.gc_policy import GEN0_THRESHOLD

REPO = Path(__file__).resolve().parent.parent

SERVE = """
import gc, json, sys, weakref
from pathlib import Path
from index.process import gc_policy
from index.config import Settings
from index.embedding.embedder import HashEmbedder
from index.engine import Engine

corpus, index_dir = Path(sys.argv[1]), Path(sys.argv[2])
settings = Settings.from_env({}, corpus_dir=corpus, index_dir=index_dir, reader="off")
gc_policy.serve_long_lived()
engine = Engine.open(settings, HashEmbedder(dim=64))
frozen_first = gc.get_freeze_count()
first = engine.generation
engine.ask("Where did tea originate?")
old = weakref.ref(engine._generation)
(corpus / "kettle.md").write_text("# Kettle\\n\\nA kettle boils water for tea.", encoding="utf-8")
engine.reindex()
print(json.dumps({
    "threshold": gc.get_threshold()[0],
    "frozen_first": frozen_first,
    "frozen_after": gc.get_freeze_count(),
    "old_alive": old() is not None,
    "swapped": engine.generation != first,
}))
"""


def test_a_serving_process_freezes_each_generation_and_frees_the_old_one(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    build_index(settings, fake_embedder)
    done = subprocess.run(
        [sys.executable, "-c", SERVE, str(settings.corpus_dir), str(settings.index_dir)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=True,
    )
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["threshold"] == GEN0_THRESHOLD
    assert got["frozen_first"] > 1000  # the generation and everything imported before it
    assert got["frozen_after"] > 1000
    assert got["old_alive"] is False
    assert got["swapped"] is True


def test_without_the_serving_policy_nothing_is_frozen(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    build_index(settings, fake_embedder)
    threshold = gc.get_threshold()
    Engine.open(settings.with_(reader="off"), fake_embedder)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == threshold
