"""Opening a generation reads nothing that grows with the corpus (issue 11): articles are read on
demand within the cache's bounds, row tables, vectors and postings are memory-mapped, and document
frequencies computed per term equal a count over the live chunks (real files on disk, fake embedder)."""

from __future__ import annotations

import mmap

import numpy as np
import pytest

import index.segments.postings
from index.build.builder import build_index
from index.cli.main import main
from index.config import Settings
from index.embedding.embedder import HashEmbedder
from index.generations.article_table import ArticleTable
from index.generations.generation import Generation, load_generation, segment_entries
from index.generations.store import current_generation
from index.segments.segment import read_articles, read_segment


def _open(settings: Settings, embedder: HashEmbedder) -> Generation:
    return load_generation(current_generation(settings.index_dir), embedder.name, embedder.dim)


def _file_backed(array: np.ndarray) -> bool:
    base = array
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "base", None)
    return isinstance(base, mmap.mmap)


def _with_a_deletion(settings: Settings, embedder: HashEmbedder) -> Generation:
    build_index(settings, embedder)
    path = settings.corpus_dir / "volcano.md"
    path.write_text(path.read_text().replace("Sicily", "Catania, Sicily"), encoding="utf-8")
    build_index(settings, embedder)
    return _open(settings, embedder)


def test_arrays_and_vectors_come_from_the_files(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    build_index(settings, fake_embedder)
    gen = _open(settings, fake_embedder)
    assert isinstance(gen.sentence_vectors, np.ndarray)  # one segment, nothing deleted: no copy
    for array in (gen.sentence_vectors, gen.chunk_start, gen.sentence_end):
        assert _file_backed(array) and not array.flags.writeable
    (seg, _), *_ = segment_entries(current_generation(settings.index_dir), gen.manifest)
    postings = read_segment(seg, fake_embedder.dim, articles=gen.manifest.articles).postings
    assert _file_backed(postings.docs) and _file_backed(postings.tf)


def test_articles_are_read_on_demand_and_match_the_segment(
    settings: Settings, fake_embedder: HashEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen = _with_a_deletion(settings, fake_embedder)
    assert isinstance(gen.articles, ArticleTable)
    monkeypatch.setattr(ArticleTable, "CACHE_ARTICLES", 1)
    folder = current_generation(settings.index_dir)
    entries = segment_entries(folder, gen.manifest)
    table = ArticleTable(
        [
            (seg, np.setdiff1d(np.arange(entry["rows"][0]), deleted))
            for (seg, deleted), entry in zip(entries, gen.manifest.segments, strict=True)
        ]
    )
    stored = {a.id: a for seg, _ in entries for a in read_articles(seg)}
    for _ in range(2):
        for row in range(len(table)):
            article = table[row]
            assert article.text == stored[article.id].text or article.id == "volcano"
            assert len(table._cache) <= 1
    assert table[-1].id == "volcano" and "Catania" in table[-1].text  # the changed one, anew
    assert [a.id for a in table].count("volcano") == 1
    with pytest.raises(IndexError):
        table[len(table)]


def test_the_listing_gives_each_text_length_without_the_texts(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    gen = _with_a_deletion(settings, fake_embedder)
    assert isinstance(gen.articles, ArticleTable)
    listed = gen.articles.listing()
    assert [a.id for a, _ in listed] == [a.id for a in gen.articles]
    assert [n for _, n in listed] == [len(a.text) for a in gen.articles]
    assert all(a.text == "" for a, _ in listed)


@pytest.mark.parametrize("search_up_to", [4_096, 0])  # binary search, and the live mask
def test_document_frequencies_count_live_chunks_only(
    settings: Settings,
    fake_embedder: HashEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    search_up_to: int,
) -> None:
    monkeypatch.setattr(index.segments.postings, "SEARCH_DELETED_MAX", search_up_to)
    gen = _with_a_deletion(settings, fake_embedder)
    counted: dict[str, int] = {}
    for part in gen.bm25._parts:
        for col, term in enumerate(part.post.terms):
            docs = part.post.docs[part.post.ptr[col] : part.post.ptr[col + 1]]
            counted[term] = counted.get(term, 0) + int((part.rows[docs] >= 0).sum())
    assert any(len(p.deleted) for p in gen.bm25._parts)
    for term, df in counted.items():
        assert gen.doc_freq.get(term) == df
        assert (term in gen.doc_freq) == (df > 0)
    assert "no-such-term" not in gen.doc_freq and gen.doc_freq.get("no-such-term") == 0


def test_plain_info_reads_the_manifest_alone(
    settings: Settings, fake_embedder: HashEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    build_index(settings, fake_embedder)
    for meta in current_generation(settings.index_dir).glob("segments/*/meta.sqlite"):
        meta.rename(meta.with_name("moved.sqlite"))  # any read of the articles would fail now
    dirs = ["--corpus", str(settings.corpus_dir), "--index-dir", str(settings.index_dir)]
    assert main(["info", *dirs]) == 0
    assert "3 articles" in capsys.readouterr().out
