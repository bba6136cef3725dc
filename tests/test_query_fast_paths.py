"""The query path's shortcuts (issue 11) give exactly what the plain computations give: word tokens,
stemmed terms, sentence signals, and the passage features built on them."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest
import Stemmer
from hypothesis import given, settings
from hypothesis import strategies as st

from index.answer import quotes as answer
from index.answer import retrieval as search
from index.answer import scoring
from index.embedding.embedder import HashEmbedder
from index.generations.generation import Generation
from index.text import analysis as text
from index.text.question import QUESTION_TYPES, Query
from tests.conftest import generation_of

_STEMMER = Stemmer.Stemmer("english")
# The number pattern signals() used before it read `number` off the number words it finds.
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    r"fifty|hundred|thousand|million|billion|trillion|dozen|half|several)\b",
    re.IGNORECASE,
)
# Words that exercise every branch: stopwords, lone letters and digits, number and month words in
# any case, money, characters whose case mapping is special (Kelvin sign, long s, dotted I).
VOCAB = [
    "The",
    "a",
    "I",
    "5",
    "x",
    "_",
    "__init__",
    "Running",
    "runs",
    "ran",
    "skies",
    "dying",
    "news",
    "One",
    "TWO",
    "seventy",
    "1,230.5",
    "21st",
    "MARCH",
    "Centuries",
    "per",
    "cent",
    "PERCENT",
    "$",
    "%",
    "€",
    "£",
    "dollars",
    "Euros",
    "1347",
    "44",
    "BC",
    "AD",
    "Watt",
    "Rhine",
    "K",
    "ſix",
    "İstanbul",
    "café",
    "naïve",
    "²",
    "’s",
    "-",
    ".",
    ",",
    ";",
    "?",
    "!",
    "(",
    ")",
    "\n",
    "\t",
]
sentences_ = st.lists(st.sampled_from(VOCAB) | st.text(max_size=8), max_size=30).map(" ".join)
_Q_WORDS = ("rhine", "1347", "two", "watt", "basel", "cologne", "million")


def reference_words(s: str) -> list[str]:
    return [w.lower() for w in re.findall(r"\w+", s)]


def reference_terms(s: str) -> list[str]:
    kept = [
        w for w in reference_words(s) if w not in text.STOPWORDS and (len(w) > 1 or w.isdigit())
    ]
    return _STEMMER.stemWords(kept)


@settings(max_examples=400, deadline=None)
@given(sentences_)
def test_words_and_terms_are_the_plain_regex_and_stemmer(s: str) -> None:
    assert text.words(s) == reference_words(s)
    assert text.terms(s) == reference_terms(s)
    assert text.terms(s) == reference_terms(s)  # again, from the word cache


def test_the_word_cache_is_emptied_when_full_and_stays_right(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(text, "_TERM_OF", {})
    monkeypatch.setattr(text, "TERM_CACHE_WORDS", 3)
    samples = [
        "Barges carry coal and grain.",
        "Cologne and Basel are ports.",
        "On the river Rhine.",
    ]
    for sample in samples * 2:
        assert text.terms(sample) == reference_terms(sample)
        assert len(text._TERM_OF) <= 3 + len(reference_words(sample))


@settings(max_examples=400, deadline=None)
@given(sentences_)
def test_signals_read_as_the_case_insensitive_patterns_do(s: str) -> None:
    got = scoring.signals(s)
    assert got.time == bool(scoring._TIME.search(s))
    assert got.money == bool(scoring._MONEY.search(s))
    assert got.number == bool(_NUMBER.search(s))
    assert got.numbers == frozenset(m.group().lower() for m in scoring._NUMBER_WORD.finditer(s))


@settings(max_examples=300, deadline=None)
@given(sentences_, st.sampled_from(QUESTION_TYPES), st.sets(st.sampled_from(_Q_WORDS)))
def test_signals_for_a_question_type_give_the_features_all_signals_give(
    s: str, qtype: str, q_words: set[str]
) -> None:
    partial = scoring.signals(s, qtype)
    full = scoring.signals(s)
    assert scoring.type_match(qtype, partial, q_words) == scoring.type_match(qtype, full, q_words)
    assert (partial.capitals, partial.numbers) == (full.capitals, full.numbers)


ARTICLES = {
    "rivers": "# Rivers\n\nThe Rhine flows from the Swiss Alps to the North Sea. It is 1,230 km long. "
    "The Rhine river carries barges.\n\nBarges carry coal and grain on the Rhine. Cologne and Basel "
    "are ports on the river.",
    "plague": "# Plague of the Rhine\n\nThe Black Death killed millions of people in Europe between "
    "1347 and 1351.\n\nIt was caused by the bacterium Yersinia pestis, spread by fleas on rats.",
    "engines": "# Steam engine\n\nJames Watt improved the steam engine in 1776 with a separate "
    "condenser. Steam engines carried coal.\n\nThe centrifugal governor regulated the engine.",
}
QUESTIONS = (
    "Which river carries barges of coal?",
    "steam engine steam engine coal",
    "When did the Black Death kill people in Europe?",
    "Rhine Rhine",
    "zebra quantum",
)


@pytest.fixture
def gen(tmp_path: Path) -> Generation:
    return generation_of(tmp_path, ARTICLES, chunk_max_tokens=24)


def reference_best(gen: Generation, qvec: np.ndarray, query: Query, rows: list[int]) -> np.ndarray:
    """best_sentences as first written: every sentence's whole term set, summed in the question's order."""
    out = []
    for r in rows:
        a, b = int(gen.chunk_first_sentence[r]), int(gen.chunk_last_sentence[r])
        vals, bag = [], set()
        for s in range(a, b + 1):
            seq = text.terms(gen.sentence_text(s))
            bag.update(seq)
            cos = float(gen.sentence_vectors[s].astype(np.float32) @ qvec.astype(np.float32))
            bigram = (
                len(query.bigrams & set(itertools.pairwise(seq))) / len(query.bigrams)
                if query.bigrams
                else 0.0
            )
            vals.append((cos, query.overlap(set(seq)), bigram))
        out.append([max(v[i] for v in vals) for i in range(3)] + [query.overlap(bag)])
    return np.asarray(out)


@pytest.mark.parametrize("question", QUESTIONS)
def test_best_sentences_equal_the_plain_computation_bit_for_bit(
    gen: Generation, question: str
) -> None:
    qvec = HashEmbedder().encode([question])[0]
    query = Query.make(gen, question)
    rows = list(range(len(gen.chunk_article)))
    assert len(rows) > 3 and any(
        gen.chunk_last_sentence[r] > gen.chunk_first_sentence[r] for r in rows
    )
    got = search.best_sentences(gen, qvec, query, rows)
    want = reference_best(gen, qvec, query, rows)
    assert got.tolist() == want.tolist()
    articles = [int(gen.chunk_article[r]) for r in rows]
    titles = [query.overlap_of(f) for f in gen.terms.titles(query, articles)]
    assert titles == [
        query.overlap(set(text.terms(gen.articles[int(gen.chunk_article[r])].title))) for r in rows
    ]


def reference_lexical(gen: Generation, query: Query, s: int) -> list[float]:
    """The lexical columns of sentence_features as first written, from whole term sets."""
    seq = text.terms(gen.sentence_text(s))
    bag, q_terms = set(seq), set(query.terms)

    def neighbour(n: int) -> set[str]:
        same = 0 <= n < len(gen.sentence_article) and (
            gen.sentence_article[n] == gen.sentence_article[s]
            and gen.sentence_paragraph[n] == gen.sentence_paragraph[s]
        )
        return set(text.terms(gen.sentence_text(n))) if same else set()

    prev, nxt = neighbour(s - 1), neighbour(s + 1)
    return [
        query.overlap(bag),
        query.bigram_overlap(seq),
        query.overlap(bag | prev | nxt),
        max(query.overlap(prev), query.overlap(nxt)),
        len(bag - q_terms) / max(1, len(bag)),
        len(bag & q_terms) / max(1, len(q_terms)),
    ]


@pytest.mark.parametrize("question", QUESTIONS)
def test_sentence_features_equal_the_plain_computation_bit_for_bit(
    gen: Generation, question: str
) -> None:
    qvec = HashEmbedder().encode([question])[0]
    hits = search.candidates(gen, qvec, Query.make(gen, question))
    rows = answer.candidate_rows(gen, hits)
    assert rows
    x = answer.sentence_features(gen, qvec, Query.make(gen, question), hits, rows)
    columns = [
        answer.SENTENCE_FEATURES.index(name)
        for name in (
            "overlap",
            "bigram",
            "window_overlap",
            "neighbour_overlap",
            "novelty",
            "matched_share",
        )
    ]
    query = Query.make(gen, question)
    assert x[:, columns].tolist() == [reference_lexical(gen, query, s) for s, _ in rows]
