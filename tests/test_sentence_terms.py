"""Sentence and title terms stored at index time (index/segments/term_rows.py) are the terms stemming the
text gives, through updates (a segment with deletions) and merges; matching a question against them
(index/generations/term_match.py) gives the sets and shares the plain computation gives; an index of the schema
before them is refused and rebuilt."""

from __future__ import annotations

import gc
import itertools
import json
import weakref
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.answer.retrieval import candidates
from index.build.builder import build_index
from index.config import Settings
from index.embedding.embedder import HashEmbedder
from index.engine import Engine
from index.errors import IncompatibleIndex
from index.generations.generation import Generation, load_generation
from index.generations.store import SCHEMA_VERSION, Manifest, current_generation
from index.segments.term_rows import FILES, StoredTerms, Vocabulary
from index.text.analysis import terms
from index.text.question import Query

QUESTIONS = (
    "Where is Mount Etna?",
    "During which dynasty did tea originate in China?",
    "Is green tea oxidised, and is tea oxidised?",  # repeated terms
    "Where is the Café in Zürich?",
    "What propels a two-wheeled bicycle?",
    "qwertyuiop zxcvbnm",  # no term in any vocabulary
    "the a of",  # no terms at all
)


def _open(settings: Settings, embedder: HashEmbedder) -> Generation:
    folder = current_generation(settings.index_dir)
    return load_generation(folder, embedder.name, embedder.dim)


def _assert_stored_terms_are_stemmed_text(gen: Generation) -> None:
    n = len(gen.sentence_start)
    assert n > 10
    for row in range(n):
        assert gen.terms.sentence_terms(row) == terms(gen.sentence_text(row)), row
    for article in range(len(gen.articles)):
        assert gen.terms.title_terms(article) == terms(gen.articles[article].title)


def _assert_matches_are_the_plain_computation(gen: Generation) -> None:
    rows = list(range(len(gen.sentence_start)))
    articles = list(range(len(gen.articles)))
    for question in QUESTIONS:
        query = Query.make(gen, question)
        got = gen.terms.sentences(query, rows[::-1], distinct=True)  # any order
        seqs = [terms(gen.sentence_text(r)) for r in rows[::-1]]
        assert got.found == [query.present(seq) for seq in seqs]
        assert got.bigram == [query.bigram_overlap(seq) for seq in seqs]
        assert got.lengths == [len(seq) for seq in seqs]
        assert got.distinct == [len(set(seq)) for seq in seqs]
        titles = [query.present(terms(gen.articles[a].title)) for a in articles]
        assert gen.terms.titles(query, articles) == titles
        assert gen.terms.sentences(query, []).found == []


def test_stored_terms_are_the_text_terms_through_an_update_and_a_merge(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    build_index(settings, fake_embedder)
    gen = _open(settings, fake_embedder)
    _assert_stored_terms_are_stemmed_text(gen)
    _assert_matches_are_the_plain_computation(gen)

    tea = settings.corpus_dir / "tea.md"  # changed: its old rows are deleted in the first segment
    tea.write_text(tea.read_text() + "\n\nGreen tea is not oxidised. Tea, tea and tea.")
    (settings.corpus_dir / "cafe.md").write_text(
        "# Café Zürich\n\nThe Café in Zürich serves naïve coffee to 東京 visitors, 1,230.5 cups a "
        "day.\n\nThe a of.\n\nAnd it is what it is.",
        encoding="utf-8",
    )
    build_index(settings, fake_embedder)
    manifest = Manifest.read(current_generation(settings.index_dir))
    assert len(manifest.segments) == 2 and manifest.segments[0]["deleted"]
    gen = _open(settings, fake_embedder)
    _assert_stored_terms_are_stemmed_text(gen)
    _assert_matches_are_the_plain_computation(gen)

    assert build_index(settings, fake_embedder, optimize=True).published
    assert len(Manifest.read(current_generation(settings.index_dir)).segments) == 1
    merged = _open(settings, fake_embedder)
    _assert_stored_terms_are_stemmed_text(merged)
    _assert_matches_are_the_plain_computation(merged)


def test_vocabulary_finds_every_term_and_no_other() -> None:
    words = ["tea", "zürich", "東京", "a1", "caf", "café", "z", "0"]
    vocab = Vocabulary.of([*words, "tea"])
    assert vocab.terms() == sorted(set(words)) and len(vocab) == len(words)
    for i, word in enumerate(vocab.terms()):
        assert vocab.find(word) == i
    for absent in ("", "00", "b", "te", "teas", "zz", "東", "東京都", "ca"):
        assert vocab.find(absent) == -1
    empty = Vocabulary.of([])
    assert len(empty) == 0 and empty.find("tea") == -1 and empty.terms() == []


@settings(max_examples=200, deadline=None)
@given(
    st.sets(st.text(alphabet="abé東0", min_size=1, max_size=12), max_size=60),
    st.lists(st.text(alphabet="abé東0", max_size=12), max_size=20),
)
def test_vocabulary_lookups_agree_with_a_dict(held: set[str], asked: list[str]) -> None:
    # a small alphabet: many terms share their first 8 bytes, and é and 東 are several bytes
    vocab = Vocabulary.of(held)
    ids = {t: i for i, t in enumerate(sorted(held))}
    queries = [*asked, *held]
    assert vocab.find_many(queries) == [ids.get(t, -1) for t in queries]


def test_merged_terms_keep_the_kept_rows_in_order_with_one_vocabulary(tmp_path: Path) -> None:
    first = StoredTerms.of([["tea", "leaf"], [], ["tea"]], [["tea"], ["leaf"]])
    second = StoredTerms.of([["volcano", "tea"], ["ash"]], [["volcano"]])
    keep_first = (np.array([True, False, True]), np.array([True, False]))
    keep_second = (np.ones(2, bool), np.ones(1, bool))
    merged = StoredTerms.merged([(first, *keep_first), (second, *keep_second)])
    merged.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)
    back = StoredTerms.load(tmp_path, 4, 2)
    assert [back.sentence_terms(r) for r in range(4)] == [
        ["tea", "leaf"],
        ["tea"],
        ["volcano", "tea"],
        ["ash"],
    ]
    assert [back.title_terms(a) for a in range(2)] == [["tea"], ["volcano"]]
    assert back.vocab.terms() == ["ash", "leaf", "tea", "volcano"]
    with pytest.raises(ValueError, match=r"sentence_term_ptr\.npy"):
        StoredTerms.load(tmp_path, 5, 2)  # the files hold 4 sentences, the segment says 5


def test_an_index_of_schema_2_is_refused_and_rebuilt(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    """Schema 2's segments had no stored terms: opening one names its schema, and the next build
    writes the generation anew (vectors from the cache), which then serves."""
    assert SCHEMA_VERSION == 3
    build_index(settings, fake_embedder)
    folder = current_generation(settings.index_dir)
    manifest = Manifest.read(folder)
    for entry in manifest.segments:
        for name in FILES:
            (folder / "segments" / entry["name"] / name).unlink()
    older = replace(manifest, schema_version=2).sealed()
    (folder / "manifest.json").write_text(json.dumps(asdict(older)), encoding="utf-8")
    with pytest.raises(IncompatibleIndex, match="schema 2"):
        Engine.open(settings, fake_embedder)
    report = build_index(settings, fake_embedder)
    assert report.published and report.embedded == 0
    assert Engine.open(settings, fake_embedder).ask("Where is Mount Etna?").passages


def test_a_generation_is_freed_by_reference_counting_alone(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    """Frozen objects (index/process/gc_policy.py) are never collected as cycles: nothing a question
    leaves on the generation may refer back to it."""
    build_index(settings, fake_embedder)
    gen = _open(settings, fake_embedder)
    question = "Where is Mount Etna?"
    assert candidates(gen, fake_embedder.encode([question])[0], Query.make(gen, question))
    ref = weakref.ref(gen)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        del gen
        assert ref() is None
    finally:
        if was_enabled:
            gc.enable()


def test_word_pairs_count_once_however_often_they_repeat(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    (settings.corpus_dir / "pairs.md").write_text(
        "# Pairs\n\nGreen tea, green tea and green tea again; tea green.", encoding="utf-8"
    )
    build_index(settings, fake_embedder)
    gen = _open(settings, fake_embedder)
    query = Query.make(gen, "green tea green")
    row = next(r for r in range(len(gen.sentence_start)) if "again" in gen.sentence_text(r))
    seq = terms(gen.sentence_text(row))
    assert len(query.bigrams) == 2 and set(query.bigrams) <= set(itertools.pairwise(seq))
    (got,) = gen.terms.sentences(query, [row]).bigram
    assert got == 1.0 == query.bigram_overlap(seq)
