"""The engine over a small index: dense search against a brute-force oracle, answers, swaps."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from index.answer.retrieval import dense_search
from index.build.builder import build_index
from index.config import Settings
from index.embedding.embedder import HashEmbedder
from index.engine import Engine, ReindexInProgress


@pytest.fixture
def engine(settings: Settings, fake_embedder: HashEmbedder) -> Engine:
    build_index(settings, fake_embedder)
    return Engine.open(settings, fake_embedder)


def test_dense_search_matches_brute_force_oracle(engine: Engine) -> None:
    gen = engine._generation
    vecs = np.vstack([gen.dense.reconstruct(i) for i in range(gen.dense.ntotal)])
    rng = np.random.default_rng(7)
    for _ in range(20):
        q = rng.normal(size=vecs.shape[1]).astype(np.float32)
        q /= np.linalg.norm(q)
        ids, scores = dense_search(gen, q, 3)
        oracle = np.argsort(-(vecs @ q), kind="stable")[:3]
        assert np.allclose(scores, (vecs @ q)[oracle], atol=1e-5)
        assert set(ids.tolist()) == set(oracle.tolist()) or np.allclose(
            np.sort(scores), np.sort((vecs @ q)[ids]), atol=1e-5
        )


def test_k_larger_than_the_index_returns_no_minus_one(engine: Engine) -> None:
    gen = engine._generation
    q = np.ones(gen.dense.d, dtype=np.float32) / np.sqrt(gen.dense.d)
    ids, _ = dense_search(gen, q, 1000)
    assert len(ids) == gen.dense.ntotal
    assert (ids >= 0).all()
    passages = engine.search("volcano", k=1000)
    assert len({p.chunk_id for p in passages}) == len(passages)
    assert all(p.chunk_id >= 0 for p in passages)


def test_answer_quotes_are_verbatim_with_offsets(engine: Engine) -> None:
    answer = engine.ask("During which dynasty did it originate?")
    assert answer.quotes
    for quote in answer.quotes:
        found = engine.article(quote.article)
        assert found is not None
        assert found[1][quote.start : quote.end] == quote.text
        assert len(quote.text) <= 400
    assert "Shang dynasty" in answer.quotes[0].text


def test_unrelated_question_abstains_and_keeps_closest_passages(
    settings: Settings, fake_embedder: HashEmbedder
) -> None:
    build_index(settings, fake_embedder)
    strict = Engine.open(settings.with_(min_confidence=0.99), fake_embedder)
    answer = strict.ask("Who won the 1998 football world cup final?")
    assert answer.answered is False
    assert answer.quotes == ()
    assert answer.passages  # "closest I found"


def test_reindex_swaps_generation_and_refuses_a_second_one(
    engine: Engine, settings: Settings
) -> None:
    old = engine.generation
    (settings.corpus_dir / "kiwi.md").write_text(
        "# Kiwi\n\nThe kiwi is a flightless bird native to New Zealand.", encoding="utf-8"
    )
    started, release = threading.Event(), threading.Event()

    def slow_progress(stage: str, done: int, total: int) -> None:
        started.set()
        release.wait(5)

    worker = threading.Thread(target=lambda: engine.reindex(progress=slow_progress))
    worker.start()
    assert started.wait(5)
    with pytest.raises(ReindexInProgress):
        engine.reindex()
    assert engine.generation == old  # the old generation answers meanwhile
    assert engine.ask("What is tea?").generation == old
    release.set()
    worker.join(10)
    assert engine.generation != old
    assert engine.search("kiwi flightless bird", k=1)[0].article == "kiwi"


def test_article_lookup_and_listing(engine: Engine) -> None:
    ids = {a.id for a in engine.articles()}
    assert ids == {"tea", "volcano", "notes/bicycle"}
    found = engine.article("tea")
    assert found is not None
    info, text = found
    assert info.url == "https://example.org/tea"
    assert "aromatic beverage" in text
    assert engine.article("missing") is None


def test_info_counts(engine: Engine) -> None:
    info = engine.info()
    assert info.articles == 3
    assert info.chunks >= 3
    assert info.model == "hash-test"


def test_refresh_picks_up_a_generation_published_elsewhere(
    engine: Engine, settings: Settings
) -> None:
    assert engine.refresh() is False  # nothing new
    old = engine.generation
    (settings.corpus_dir / "kiwi.md").write_text("# Kiwi\n\nA flightless bird.", encoding="utf-8")
    build_index(settings, HashEmbedder(dim=64))  # another process's build, e.g. the CLI
    assert engine.refresh() is True
    assert engine.generation != old
    assert engine.search("kiwi flightless", k=1)[0].article == "kiwi"


def test_blank_question_is_an_abstention_without_passages(engine: Engine) -> None:
    answer = engine.ask("   ")
    assert answer.answered is False and answer.quotes == () and answer.passages == ()


def test_questions_asked_from_several_threads_get_the_answers_asked_alone(engine: Engine) -> None:
    from concurrent.futures import ThreadPoolExecutor

    questions = [
        "Where is Mount Etna?",
        "During which dynasty did tea originate?",
        "What propels a bicycle?",
        "What escapes from a magma chamber?",
    ] * 3

    def seen(question: str) -> object:
        answer = engine.ask(question)  # the dense search of each runs on the shared search thread
        return answer.answered, answer.quotes, [(p.article, p.score) for p in answer.passages]

    alone = [seen(q) for q in questions]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(seen, questions))
    assert together == alone


def test_a_forked_child_asks_after_its_parent_did(engine: Engine) -> None:
    import multiprocessing

    question = "What escapes from a magma chamber?"
    expected = engine.ask(question).quotes  # the parent's search thread now exists
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    child = context.Process(target=_ask_in_child, args=(engine, question, writer))
    child.start()  # it inherits the engine, not the thread
    child.join(60)
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive, "the child hung waiting for a search thread it does not have"
    assert child.exitcode == 0 and reader.recv() == expected


def _ask_in_child(engine: Engine, question: str, out: object) -> None:
    out.send(engine.ask(question).quotes)  # type: ignore[attr-defined]
