"""Server libraries (issue 18): one server's view of the operator's library and its own, and the
registry that opens server libraries on demand. Real engines (hash embedder) on real folders."""

from __future__ import annotations

import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from index.build.builder import build_index
from index.config import Settings
from index.embedding.embedder import HashEmbedder
from index.engine import Engine
from index.library.scoped import SERVER_PREFIX, ScopedLibrary, is_server_article, server_slug
from index.library.servers import NoSuchLibrary, ServerLibraries
from tests.conftest import SMALL_CORPUS, write_corpus

NIGHTJAR = "# Project Nightjar\n\nThe Nightjar launch code word is heliotrope.\n"


@pytest.fixture
def operator(tmp_path: Path) -> Engine:
    corpus = write_corpus(tmp_path / "corpus", SMALL_CORPUS)
    settings = Settings.from_env({}, corpus_dir=corpus, index_dir=tmp_path / "index")
    embedder = HashEmbedder(dim=64)
    build_index(settings, embedder)
    return Engine.open(settings, embedder=embedder)


@pytest.fixture
def servers(tmp_path: Path, operator: Engine) -> ServerLibraries:
    return ServerLibraries(tmp_path / "servers", operator.settings, operator.sibling, max_open=2)


def add(servers: ServerLibraries, server_id: int, name: str, text: str) -> Engine:
    engine = servers.ensure(server_id)
    (engine.corpus_dir / name).write_text(text, encoding="utf-8")
    engine.reindex()
    return engine  # type: ignore[return-value]


def test_a_server_without_articles_has_no_folder_and_reads_the_shared_library(
    servers: ServerLibraries, operator: Engine
) -> None:
    assert servers.get(7) is None and servers.get(None) is None
    assert not servers.folder(7).exists() and servers.server_ids() == []
    view = ScopedLibrary(operator, lambda: servers.get(7))
    assert view.generation == operator.generation
    assert [a.id for a in view.articles()] == [a.id for a in operator.articles()]
    assert view.ask("What is tea?").quotes == operator.ask("What is tea?").quotes


def test_a_servers_articles_are_its_own_and_labelled(
    servers: ServerLibraries, operator: Engine
) -> None:
    add(servers, 7, "nightjar.md", NIGHTJAR)
    mine = ScopedLibrary(operator, lambda: servers.get(7))
    other = ScopedLibrary(operator, lambda: servers.get(8))
    answer = mine.ask("What is the Nightjar launch code word?")
    assert answer.answered and answer.quotes[0].article == "server:nightjar"
    assert "heliotrope" in answer.quotes[0].text
    assert answer.generation.count("+") == 1  # both libraries' generations
    elsewhere = other.ask("What is the Nightjar launch code word?")
    assert all("heliotrope" not in q.text for q in elsewhere.quotes)
    assert all("heliotrope" not in p.text for p in elsewhere.passages)
    assert "server:nightjar" in {a.id for a in mine.articles()}
    assert "server:nightjar" not in {a.id for a in other.articles()}
    assert mine.article("server:nightjar") is not None
    assert other.article("server:nightjar") is None
    assert mine.article("nightjar") is None  # an unprefixed id names the shared library only
    assert any(p.article == "server:nightjar" for p in mine.search("Nightjar heliotrope"))
    info = mine.info()
    assert info.articles == operator.info().articles + 1


def test_quote_offsets_still_check_against_the_servers_article(
    servers: ServerLibraries, operator: Engine
) -> None:
    library = add(servers, 7, "nightjar.md", NIGHTJAR)
    quote = ScopedLibrary(operator, lambda: servers.get(7)).ask("Nightjar code word?").quotes[0]
    assert is_server_article(quote.article)
    found = library.article(server_slug(quote.article))
    assert found is not None and found[1][quote.start : quote.end] == quote.text


def test_the_shared_library_can_be_turned_off_for_servers(
    servers: ServerLibraries, operator: Engine
) -> None:
    add(servers, 7, "nightjar.md", NIGHTJAR)
    only_mine = ScopedLibrary(None, lambda: servers.get(7))
    assert all(a.id.startswith(SERVER_PREFIX) for a in only_mine.articles())
    nothing = ScopedLibrary(None, lambda: servers.get(9))
    assert not nothing.ask("What is tea?").answered and nothing.articles() == []


def test_at_most_max_open_libraries_are_held_and_reopened_on_demand(
    servers: ServerLibraries,
) -> None:
    for server_id in (1, 2, 3):
        add(servers, server_id, "nightjar.md", NIGHTJAR)
    assert servers.open_count == 2  # the least recently used was closed
    opened = servers.opened
    assert servers.get(1) is not None and servers.opened == opened + 1  # reopened from disk
    assert servers.close_idle(0) == 2 and servers.open_count == 0


def test_leaving_keeps_the_library_until_the_keep_days_pass(servers: ServerLibraries) -> None:
    add(servers, 7, "nightjar.md", NIGHTJAR)
    servers.left(7, now=1_000_000.0)
    assert servers.left_at(7) == 1_000_000.0
    assert servers.purge_left(30, now=1_000_000.0 + 29 * 86_400) == []
    assert servers.folder(7).exists()
    servers.rejoined(7)  # back before the end: the clock stops
    assert servers.purge_left(30, now=1_000_000.0 + 31 * 86_400) == []
    servers.left(7, now=1_000_000.0)
    assert servers.purge_left(30, now=1_000_000.0 + 31 * 86_400) == [7]
    assert not servers.folder(7).exists() and servers.get(7) is None


def test_export_is_the_servers_articles_and_delete_removes_everything(
    servers: ServerLibraries,
) -> None:
    add(servers, 7, "nightjar.md", NIGHTJAR)
    with zipfile.ZipFile(BytesIO(servers.export(7, 1_000_000))) as archive:
        assert archive.namelist() == ["nightjar.md"]
        assert archive.read("nightjar.md").decode() == NIGHTJAR
    with pytest.raises(NoSuchLibrary, match="larger than 10 bytes"):
        servers.export(7, 10)
    summary = servers.summary(7)
    assert summary.articles == 1 and summary.bytes > len(NIGHTJAR) and summary.left_at is None
    assert servers.delete(7) and not servers.folder(7).exists()
    assert not servers.delete(7)
    with pytest.raises(NoSuchLibrary, match="no library"):
        servers.export(7, 1_000_000)


def test_server_ids_must_be_positive(servers: ServerLibraries) -> None:
    with pytest.raises(ValueError, match="not a server id"):
        servers.folder(0)


def test_a_question_read_by_both_libraries_is_embedded_once(
    servers: ServerLibraries, operator: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(servers, 7, "nightjar.md", NIGHTJAR)
    encoded: list[str] = []
    real = operator.embedder.encode

    def counting(texts: list[str]) -> object:
        encoded.extend(texts)
        return real(texts)

    monkeypatch.setattr(operator.embedder, "encode", counting)
    ScopedLibrary(operator, lambda: servers.get(7)).ask("Who keeps the launch code word?")
    assert encoded == ["Who keeps the launch code word?"]


def test_the_readers_budget_is_shared_between_the_libraries() -> None:
    from index.library.scoped import share_budget

    assert share_budget([[9, 8, 1], [7, 6, 5]], 4) == [2, 2]
    assert share_budget([[9, 8, 7, 6], []], 3) == [3, 0]
    assert share_budget([[], []], 6) == [0, 0]


def test_a_question_read_by_both_libraries_reads_one_budget(
    servers: ServerLibraries, operator: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from index.answer.with_reader import READER_CANDIDATES

    add(servers, 7, "nightjar.md", NIGHTJAR)
    assert operator.reader is not None  # READER=on, the default
    read: list[int] = []
    real = operator.reader.read

    def counting(pairs: list[object]) -> object:
        read.append(len(pairs))
        return real(pairs)  # type: ignore[arg-type]

    monkeypatch.setattr(operator.reader, "read", counting)
    alone = operator.ask("What is the Nightjar launch code word?")
    single = sum(read)
    read.clear()
    both = ScopedLibrary(operator, lambda: servers.get(7)).ask(
        "What is the Nightjar launch code word?"
    )
    assert single <= READER_CANDIDATES + 1 and sum(read) <= READER_CANDIDATES + 1
    assert both.answered and both.quotes[0].article == "server:nightjar"
    assert not (alone.answered and "heliotrope" in alone.quotes[0].text)
