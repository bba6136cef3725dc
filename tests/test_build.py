"""Index builds: incremental by content hash, atomic publication, refusal of a foreign model."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

import index.build.builder
from index.build.builder import build_index
from index.build.lock import build_lock
from index.config import Settings
from index.embedding.embedder import HashEmbedder
from index.engine import Engine
from index.errors import BuildInProgress, IncompatibleIndex, NoIndexError
from index.generations.generation import load_generation
from index.generations.store import current_generation


def test_first_build_then_nothing_to_embed(settings: Settings, fake_embedder: HashEmbedder) -> None:
    first = build_index(settings, fake_embedder)
    assert (first.added, first.changed, first.removed, first.unchanged) == (3, 0, 0, 0)
    assert first.embedded > 0
    fake_embedder.calls.clear()
    second = build_index(settings, fake_embedder)
    assert (second.added, second.unchanged) == (0, 3)
    assert second.embedded == 0
    assert fake_embedder.calls == []
    assert second.generation == first.generation and not second.published  # nothing new
    assert "(nothing changed: kept)" in second.summary()
    third = build_index(settings, fake_embedder, full=True)  # --full always publishes
    assert third.generation != first.generation and third.published


def test_touching_one_article_embeds_only_its_chunks(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    build_index(settings, fake_embedder)
    path = settings.corpus_dir / "volcano.md"
    path.write_text(path.read_text() + "\n\nKilauea in Hawaii erupts often.", encoding="utf-8")
    fake_embedder.calls.clear()
    report = build_index(settings, fake_embedder)
    assert (report.changed, report.unchanged) == (1, 2)
    # Only texts of the volcano article are new: its changed chunk and the new sentence.
    assert 0 < sum(fake_embedder.calls) <= 3
    engine = Engine.open(settings, fake_embedder)
    assert any("Kilauea" in p.text for p in engine.search("Kilauea Hawaii", k=3))


def test_deleted_article_leaves_the_index(settings: Settings, fake_embedder: HashEmbedder) -> None:
    build_index(settings, fake_embedder)
    (settings.corpus_dir / "tea.md").unlink()
    report = build_index(settings, fake_embedder)
    assert report.removed == 1
    engine = Engine.open(settings, fake_embedder)
    assert "tea" not in {a.id for a in engine.articles()}
    assert all(p.article != "tea" for p in engine.search("tea beverage leaves", k=10))


def test_full_rebuild_re_embeds_everything(settings: Settings, fake_embedder: HashEmbedder) -> None:
    first = build_index(settings, fake_embedder)
    again = build_index(settings, fake_embedder, full=True)
    assert again.embedded == first.embedded


def test_crash_mid_write_leaves_previous_generation_serving(
    settings: Settings, fake_embedder: HashEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_index(settings, fake_embedder)
    before = current_generation(settings.index_dir)
    engine = Engine.open(settings, fake_embedder)
    (settings.corpus_dir / "new.md").write_text("# New\n\nBrand new text.", encoding="utf-8")

    def explode(*args: object, **kwargs: object) -> None:
        raise OSError("disk full (injected)")

    monkeypatch.setattr(index.build.builder, "write_segment", explode)
    with pytest.raises(OSError, match="injected"):
        build_index(settings, fake_embedder)
    assert current_generation(settings.index_dir) == before
    reopened = Engine.open(settings, fake_embedder)
    assert reopened.generation == engine.generation
    assert reopened.search("tea beverage", k=1)[0].article == "tea"
    monkeypatch.undo()
    report = build_index(settings, fake_embedder)  # the next build cleans up and succeeds
    assert report.added == 1
    leftovers = list((settings.index_dir / "generations").glob(".tmp-*"))
    assert leftovers == []


def test_failed_reindex_keeps_the_engine_answering(
    settings: Settings, fake_embedder: HashEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_index(settings, fake_embedder)
    engine = Engine.open(settings, fake_embedder)
    generation = engine.generation

    def explode(*args: object, **kwargs: object) -> None:
        raise OSError("injected")

    monkeypatch.setattr(index.build.builder, "write_segment", explode)
    with pytest.raises(OSError):
        engine.reindex(full=True)  # full: an unchanged corpus publishes nothing otherwise
    assert engine.generation == generation
    assert engine.ask("What is tea?").passages


def test_index_built_with_another_model_is_refused(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    build_index(settings, fake_embedder)
    other = HashEmbedder(dim=32, name="other-model")
    with pytest.raises(IncompatibleIndex, match="other-model"):
        Engine.open(settings, other)


def test_no_index_yet_says_how_to_build(settings: Settings, fake_embedder: HashEmbedder) -> None:
    with pytest.raises(NoIndexError, match="articlebot index"):
        Engine.open(settings, fake_embedder)


def test_manifest_checksums_match_files(settings: Settings, fake_embedder: HashEmbedder) -> None:
    from index.generations.store import Manifest, file_sha256

    build_index(settings, fake_embedder)
    folder = current_generation(settings.index_dir)
    manifest = Manifest.read(folder)
    assert manifest.articles == 3
    assert manifest.checksums
    for name, digest in manifest.checksums.items():
        assert file_sha256(folder / name) == digest


def test_stored_vectors_are_unit_length(settings: Settings, fake_embedder: HashEmbedder) -> None:
    build_index(settings, fake_embedder)
    gen = load_generation(current_generation(settings.index_dir), "hash-test", 64)
    vecs = np.vstack([gen.dense.reconstruct(i) for i in range(gen.dense.ntotal)])
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert len(gen.sentence_vectors) == len(gen.sentence_start)


def test_old_generations_are_pruned(settings: Settings, fake_embedder: HashEmbedder) -> None:
    for _ in range(4):
        build_index(settings, fake_embedder, full=True)
    published = [
        p for p in (settings.index_dir / "generations").iterdir() if not p.name.startswith(".")
    ]
    assert len(published) == settings.keep_generations


def test_concurrent_build_is_refused(settings: Settings, fake_embedder: HashEmbedder) -> None:
    """Another thread's build is refused; the thread that holds the lock may build (re-entry)."""
    with build_lock(settings.index_dir):
        errors: list[BaseException] = []

        def other() -> None:
            try:
                build_index(settings, fake_embedder)
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert len(errors) == 1 and isinstance(errors[0], BuildInProgress)
        assert build_index(settings, fake_embedder).published


def test_chunk_offsets_are_exact_in_the_built_index(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    build_index(settings, fake_embedder)
    engine = Engine.open(settings, fake_embedder)
    for passage in engine.search("volcano tea bicycle", k=20):
        found = engine.article(passage.article)
        assert found is not None
        assert found[1][passage.start : passage.end] == passage.text


def test_corpus_with_bad_file_still_builds(settings: Settings, fake_embedder: HashEmbedder) -> None:
    Path(settings.corpus_dir / "broken.md").write_bytes(b"\xff\xfe\x00junk")
    report = build_index(settings, fake_embedder)
    assert [s.path for s in report.skipped] == ["broken.md"]
    assert report.added == 3
