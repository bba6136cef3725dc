"""Golden answers on the shipped sample corpus, with the real model: one question per article and format."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from index.answer.spelling import correct
from index.corpus.folder import scan_corpus
from index.engine import Engine
from tests.conftest import REPO

pytestmark = pytest.mark.integration

CORPUS = REPO / "corpus"


def test_india_japan_question_quotes_space_and_cyber(sample_engine: Engine) -> None:
    answer = sample_engine.ask("Which new fields did India and Japan agree to cooperate in?")
    assert answer.answered
    quote = answer.quotes[0]
    assert quote.article == "india-japan-defence-cooperation"
    assert "space and cyber" in quote.text
    raw = (CORPUS / "india-japan-defence-cooperation.md").read_text(encoding="utf-8")
    assert quote.text in raw  # character for character in the file
    found = sample_engine.article(quote.article)
    assert found is not None and found[1][quote.start : quote.end] == quote.text


@pytest.mark.parametrize(
    ("question", "article", "words"),
    [
        (
            "Who co-chaired the Defence Policy Dialogue?",
            "india-japan-defence-cooperation",
            "Aramane",
        ),
        (
            "What is the default minimum confidence before the bot abstains?",
            "how-articlebot-answers",
            "the minimum confidence is 0.22",
        ),
        (
            "How many generations of the index are kept on disk?",
            "adding-articles-and-reindexing",
            "Two generations",
        ),
        (
            "What is the size limit for attachments to /add-article?",
            "admin-commands",
            "2,000,000 bytes",
        ),
        (
            "How much memory did the process use with ONNX Runtime?",
            "news-onnx-runtime-by-default",
            "721 MB",
        ),
        (
            "For what share of questions is the passage with the answer ranked first?",
            "answer-quality",
            "88.2%",
        ),
    ],
)
def test_sample_questions(sample_engine: Engine, question: str, article: str, words: str) -> None:
    answer = sample_engine.ask(question)
    assert answer.answered
    assert answer.quotes[0].article == article
    assert words in " ".join(q.text for q in answer.quotes)


def test_markdown_and_text_quotes_appear_in_their_files(sample_engine: Engine) -> None:
    for question, path in [
        (
            "How many passages of one article can be shown for a question?",
            "how-articlebot-answers.md",
        ),
        (
            "How often does the bot check for a new index generation?",
            "adding-articles-and-reindexing.txt",
        ),
    ]:
        quote = sample_engine.ask(question).quotes[0]
        assert quote.article == Path(path).stem
        assert quote.text in (CORPUS / path).read_text(encoding="utf-8")


def test_a_pdf_quote_names_its_page(sample_engine: Engine) -> None:
    answer = sample_engine.ask(
        "On what share of SQuAD 2.0 unanswerable questions does the bot abstain?"
    )
    assert answer.answered
    quote = answer.quotes[0]
    assert (quote.article, quote.page) == ("answer-quality", 2)
    assert "29.6%" in quote.text


@pytest.mark.parametrize(
    "question",
    [
        "What is the best recipe for chocolate chip cookies?",
        "Who won the football world cup in 2018?",
    ],
)
def test_off_topic_question_abstains(sample_engine: Engine, question: str) -> None:
    answer = sample_engine.ask(question)
    assert not answer.answered
    assert answer.quotes == ()


def test_every_sample_file_is_an_article_in_every_format() -> None:
    scan = scan_corpus(CORPUS)
    assert scan.skipped == ()
    assert all(a.title for a in scan.articles)
    assert {Path(a.path).suffix for a in scan.articles} == {".md", ".txt", ".html", ".pdf"}
    assert "india-japan-defence-cooperation" in {a.id for a in scan.articles}


def test_the_sample_pdf_is_what_its_script_writes() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_sample_pdf", REPO / "scripts" / "make_sample_pdf.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    written = script.build_pdf(script.PAGES, script.TITLE, script.AUTHOR)
    assert written == (CORPUS / "answer-quality.pdf").read_bytes(), "run scripts/make_sample_pdf.py"


def test_the_answer_span_is_verbatim_inside_the_quote(sample_engine: Engine) -> None:
    answer = sample_engine.ask("Which new fields did India and Japan agree to cooperate in?")
    assert answer.answer is not None
    span, quote = answer.answer, answer.quotes[0]
    assert quote.start <= span.start < span.end <= quote.end
    text = sample_engine.article(quote.article)
    assert text is not None and text[1][span.start : span.end] == span.text
    assert "space and cyber" in span.text and len(span.text) < 40
    assert answer.to_json()["answer"] == {"text": span.text, "start": span.start, "end": span.end}


def test_a_question_the_article_almost_answers_is_declined(sample_engine: Engine) -> None:
    answer = sample_engine.ask("Which new fields did India and Brazil agree to cooperate in?")
    assert not answer.answered and answer.answer is None
    assert answer.to_json()["answer"] is None


def test_reader_off_answers_the_old_way(sample_engine: Engine) -> None:
    """READER=off: the sentence scorer alone picks the quote; no answer span."""
    off = Engine(
        sample_engine.settings.with_(reader="off"),
        sample_engine.embedder,
        sample_engine._generation,
    )
    answer = off.ask("Which new fields did India and Japan agree to cooperate in?")
    assert answer.answered and answer.answer is None
    assert "space and cyber" in answer.quotes[0].text
    assert not off.ask("What is the best recipe for chocolate chip cookies?").answered


@pytest.mark.integration
def test_a_follow_up_s_answer_words_answer_the_follow_up(sample_engine: Engine) -> None:
    """The thread's earlier question finds the sentence; the marked words answer "when was that",
    not the earlier question (issue 22: they were "space and cyber" again)."""
    first = "Which new fields did India and Japan agree to cooperate in?"
    answer = sample_engine.ask("when was that", context=first)
    assert answer.answered and answer.answer is not None
    assert "March 2023" in answer.answer.text
    assert "space" not in answer.answer.text
    quote = answer.quotes[0]
    assert quote.start <= answer.answer.start < answer.answer.end <= quote.end


@pytest.mark.integration
def test_a_misspelled_question_is_read_as_the_articles_spell_it(sample_engine: Engine) -> None:
    typed = "Which ambasador acompanied Oka?"
    gen = sample_engine._generation
    assert correct(typed, gen.vocabulary, gen.doc_freq) == "Which ambassador accompanied Oka?"
    answer = sample_engine.ask(typed)
    assert answer.answered and "Suzuki Hiroshi" in answer.quotes[0].text
    assert answer.question == typed  # reported as typed
