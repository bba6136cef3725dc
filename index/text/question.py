"""The prepared question: its terms, their IDF in the served corpus, its word pairs and its type,
made once per question and read by retrieval, scoring and matching stored terms."""

from __future__ import annotations

import itertools
import re
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from index.text.analysis import terms, words


class TermStats(Protocol):
    """The corpus statistics a question is weighed with (a served Generation has them)."""

    @property
    def doc_freq(self) -> Container[str]: ...

    def idf(self, term: str) -> float: ...


class TermLookup(Protocol):
    """A segment's vocabulary: term -> id, -1 when absent (index/segments/term_rows.py)."""

    def find_many(self, terms: Sequence[str]) -> Sequence[int]: ...


QUESTION_TYPES = ("quantity", "time", "person", "place", "other")


_QUANTITY = re.compile(
    r"\bhow (?:many|much|long|old|far|large|big|high|tall|often|fast|deep|wide|heavy)\b"
    r"|\bwhat (?:percentage|percent|proportion|number|amount|size|population|fraction|rate|"
    r"length|distance|temperature|speed|cost|price)\b"
)
_TIME_Q = re.compile(
    r"^when\b|\b(?:what|which) (?:year|years|century|decade|date|day|month|time|period|era|age)\b"
)
_PERSON_Q = re.compile(
    r"^who\b|^whom\b|^whose\b|\b(?:what|which) (?:person|man|woman|king|leader|emperor|"
    r"president|general|scientist|author|writer|company|organization|group)\b"
)
_PLACE_Q = re.compile(
    r"^where\b|\b(?:what|which) (?:country|countries|city|cities|place|region|state|river|town|"
    r"capital|continent|island|area|location|province|nation)\b"
)


def question_type(question: str) -> str:
    """What kind of thing the question asks for, from its wording (the main clause's wh-word)."""
    text = " ".join(words(question))
    # "When X happened, what did Y do?": the asking clause is the one after the comma.
    if "," in question:
        tail = " ".join(words(question.rsplit(",", 1)[1]))
        if re.search(r"\b(?:what|which|who|whom|whose|where|when|how)\b", tail):
            text = tail
    wh = re.search(r"\b(?:what|which|who|whom|whose|where|when|how)\b.*", text)
    clause = wh.group() if wh else text
    for name, pattern in (
        ("quantity", _QUANTITY),
        ("time", _TIME_Q),
        ("person", _PERSON_Q),
        ("place", _PLACE_Q),
    ):
        if pattern.search(clause):
            return name
    return "other"


@dataclass(frozen=True)
class Ids:
    """A question's terms in one segment's vocabulary."""

    ids: np.ndarray  # sorted: the ids of the question's terms the segment holds
    bits: np.ndarray  # each one's place in the question's term order
    pairs: frozenset[tuple[int, int]]  # the question's word pairs whose both terms it holds


class QueryTerms:
    """What matching needs of one question: its distinct terms in order (bit k: the k-th), the bit
    masks of its word pairs, and per vocabulary the ids of its terms (looked up once)."""

    def __init__(self, terms: Sequence[str], bigrams: frozenset[tuple[str, str]]) -> None:
        self.order = tuple(dict.fromkeys(terms))
        place = {t: k for k, t in enumerate(self.order)}
        self.bigrams = bigrams
        self._pair_masks = [(1 << place[a]) | (1 << place[b]) for a, b in bigrams]
        self._found: dict[int, frozenset[str]] = {0: frozenset()}
        self._pairs: dict[int, bool] = {0: False}
        self._ids: dict[TermLookup, Ids] = {}

    def found(self, mask: int) -> frozenset[str]:
        """The question's terms named by ``mask``: Query.present() of the row."""
        got = self._found.get(mask)
        if got is None:
            got = frozenset(t for k, t in enumerate(self.order) if mask >> k & 1)
            self._found[mask] = got
        return got

    def has_pair(self, mask: int) -> bool:
        """Whether both terms of one of the question's word pairs are in ``mask``."""
        got = self._pairs.get(mask)
        if got is None:
            got = self._pairs[mask] = any(mask & m == m for m in self._pair_masks)
        return got

    def ids(self, vocab: TermLookup) -> Ids:
        got = self._ids.get(vocab)
        if got is None:
            found = vocab.find_many(self.order)
            of = {t: i for t, i in zip(self.order, found, strict=True) if i >= 0}
            held = sorted((of[t], k) for k, t in enumerate(self.order) if t in of)
            pairs = frozenset((of[a], of[b]) for a, b in self.bigrams if a in of and b in of)
            got = self._ids[vocab] = Ids(
                np.array([i for i, _ in held], dtype=np.int64),
                np.array([k for _, k in held], dtype=np.int64),
                pairs,
            )
        return got


@dataclass(frozen=True)
class Query:
    """A question prepared once for all scoring: its terms, their IDF, its type."""

    text: str
    terms: tuple[str, ...]
    idf: dict[str, float]
    mass: float
    bigrams: frozenset[tuple[str, str]]
    words: frozenset[str]
    qtype: str
    oov_mass: float  # share of the IDF mass carried by terms the index has never seen
    term_set: frozenset[str] = frozenset()
    # overlap() of each set of the question's terms met so far: sentences repeat the same few
    _overlaps: dict[frozenset[str], float] = field(default_factory=dict, repr=False, compare=False)
    # The question's terms as bit masks and vocabulary ids, for matching stored sentence terms.
    matching: QueryTerms = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    @classmethod
    def make(cls, stats: TermStats, question: str) -> Query:
        """``question`` prepared against the corpus statistics ``stats`` (a Generation)."""
        q_terms = terms(question)
        idf = {t: stats.idf(t) for t in q_terms}
        mass = sum(idf.values()) or 1.0
        oov = sum(v for t, v in idf.items() if t not in stats.doc_freq)
        bigrams = frozenset(itertools.pairwise(q_terms))
        return cls(
            text=question,
            terms=tuple(q_terms),
            idf=idf,
            mass=mass,
            bigrams=bigrams,
            words=frozenset(words(question)),
            qtype=question_type(question),
            oov_mass=oov / mass if idf else 1.0,
            term_set=frozenset(q_terms),
            matching=QueryTerms(q_terms, bigrams),
        )

    def overlap(self, bag: frozenset[str] | set[str]) -> float:
        """Share of the question's IDF mass found in ``bag``."""
        return sum(v for t, v in self.idf.items() if t in bag) / self.mass

    def present(self, seq: Iterable[str]) -> frozenset[str]:
        """The question's terms found in ``seq``: overlap() and bigram_overlap() depend on these only."""
        return self.term_set.intersection(seq)

    def overlap_of(self, found: frozenset[str]) -> float:
        """overlap() of a present() set, the same float, computed once per set."""
        got = self._overlaps.get(found)
        if got is None:
            got = self._overlaps[found] = self.overlap(found)
        return got

    def bigram_overlap(self, seq: Sequence[str]) -> float:
        if not self.bigrams:
            return 0.0
        return len(self.bigrams & set(itertools.pairwise(seq))) / len(self.bigrams)


@dataclass(frozen=True)
class Asked:
    """One question as the engine answers it, prepared once in ``Engine.ask``.

    ``text`` is what is searched for and what the reader reads to choose the sentence: the
    question, after the earlier question of a thread when there is one ("When?" alone asks
    nothing). ``retrieval`` prepares that text for BM25 and the passage ranker; ``scoring``
    prepares the question alone, which is what the sentence features weigh (the earlier question's
    words would favour its own answer), and the answer span is read for the question alone."""

    question: str
    context: str | None
    text: str
    retrieval: Query
    scoring: Query

    @classmethod
    def make(cls, stats: TermStats, question: str, context: str | None = None) -> Asked:
        text = f"{context}\n{question}" if context else question
        scoring = Query.make(stats, question)
        retrieval = Query.make(stats, text) if context else scoring
        return cls(question, context, text, retrieval, scoring)
