"""One server's view: the operator's library and that server's own, read as one.

A server's articles carry the ``server:`` prefix in their ids wherever this view hands them out
(quotes, passages, article lists), so a lookup finds the right library and an id from one server's
library never names an article of the operator's. Questions are asked of both libraries, the reader
reading one budget of candidates between them (the sentence scorer's best, wherever they are); the
answer with the higher confidence wins (both use the same calibrated confidence), and the passages of
both are merged by score.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, runtime_checkable

from index.answer.with_reader import READER_CANDIDATES
from index.types import Answer, ArticleInfo, IndexInfo, Passage, Quote

SERVER_PREFIX = "server:"
SpanT = TypeVar("SpanT", Quote, Passage)


class ReadsLibrary(Protocol):
    """What a view reads from one library (index.engine.Engine has it)."""

    @property
    def generation(self) -> str: ...

    @property
    def min_confidence(self) -> float: ...

    def ask(self, question: str, *, k: int = 5, context: str | None = None) -> Answer: ...

    def search(self, query: str, *, k: int = 10) -> list[Passage]: ...

    def info(self) -> IndexInfo: ...

    def articles(self) -> list[ArticleInfo]: ...

    def article(self, slug: str) -> tuple[ArticleInfo, str] | None: ...


def is_server_article(article_id: str) -> bool:
    return article_id.startswith(SERVER_PREFIX)


def server_slug(article_id: str) -> str:
    """The slug inside the server's library of a ``server:`` id."""
    return article_id.removeprefix(SERVER_PREFIX)


class ScopedLibrary:
    """The libraries one server (or a DM) reads: ``operator`` (None when turned off for servers)
    and ``server()``, which opens the server's library on demand (None when it has none)."""

    def __init__(
        self,
        operator: ReadsLibrary | None,
        server: Callable[[], ReadsLibrary | None] = lambda: None,
    ) -> None:
        self._operator, self._server = operator, server

    def _both(self) -> tuple[ReadsLibrary | None, ReadsLibrary | None]:
        return self._operator, self._server()

    @property
    def generation(self) -> str:
        op, srv = self._both()
        parts = [e.generation for e in (op, srv) if e is not None]
        return "+".join(parts) if parts else "none"

    @property
    def min_confidence(self) -> float:
        """The threshold the libraries answer with (one calibration for all of them)."""
        op, srv = self._both()
        engine = op or srv
        return engine.min_confidence if engine is not None else 1.0

    def ask(self, question: str, *, k: int = 5, context: str | None = None) -> Answer:
        op, srv = self._both()
        if srv is None:
            if op is None:
                return Answer(question, False, 0.0, (), (), generation="none")
            return op.ask(question, k=k, context=context)
        if op is None:
            return _relabel_answer(srv.ask(question, k=k, context=context))
        shared, mine = _ask_both(op, srv, question, k, context)
        mine = _relabel_answer(mine)
        best = max((mine, shared), key=lambda a: (a.answered, a.confidence))
        passages = sorted((*mine.passages, *shared.passages), key=lambda p: -p.score)[:k]
        return dataclasses.replace(
            best,
            passages=tuple(passages),
            generation=f"{shared.generation}+{mine.generation}",
            seconds=mine.seconds + shared.seconds,
        )

    def search(self, query: str, *, k: int = 10) -> list[Passage]:
        op, srv = self._both()
        found = list(op.search(query, k=k)) if op is not None else []
        if srv is not None:
            found += [_relabel(p) for p in srv.search(query, k=k)]
        return sorted(found, key=lambda p: -p.score)[:k]

    def info(self) -> IndexInfo:
        op, srv = self._both()
        infos = [e.info() for e in (op, srv) if e is not None]
        if not infos:
            return IndexInfo("none", "", "", 0, 0, 0, 0, "", "")
        first = infos[0]
        return dataclasses.replace(
            first,
            generation="+".join(i.generation for i in infos),
            articles=sum(i.articles for i in infos),
            chunks=sum(i.chunks for i in infos),
            sentences=sum(i.sentences for i in infos),
        )

    def articles(self) -> list[ArticleInfo]:
        op, srv = self._both()
        listed = list(op.articles()) if op is not None else []
        if srv is not None:
            listed += [dataclasses.replace(a, id=SERVER_PREFIX + a.id) for a in srv.articles()]
        return listed

    def article(self, article_id: str) -> tuple[ArticleInfo, str] | None:
        op, srv = self._both()
        if is_server_article(article_id):
            found = srv.article(server_slug(article_id)) if srv is not None else None
            if found is None:
                return None
            info, text = found
            return dataclasses.replace(info, id=article_id), text
        return op.article(article_id) if op is not None else None


@runtime_checkable
class PreparesQuestions(Protocol):
    """An engine whose quote choice can be split from retrieval (index.engine.Engine)."""

    def prepare(self, question: str, *, k: int = 5, context: str | None = None) -> Any: ...

    def finish(self, prepared: Any, *, read: int | None = None) -> Answer: ...


def _ask_both(
    op: ReadsLibrary, srv: ReadsLibrary, question: str, k: int, context: str | None
) -> tuple[Answer, Answer]:
    """Both libraries' answers, the reader reading one budget of candidates between them (the
    best by the sentence scorer, from either library) rather than a full budget each: a question
    from a server then costs about what a question to one library does, plus a second search."""
    if not (isinstance(op, PreparesQuestions) and isinstance(srv, PreparesQuestions)):
        return op.ask(question, k=k, context=context), srv.ask(question, k=k, context=context)
    prepared = [
        op.prepare(question, k=k, context=context),
        srv.prepare(question, k=k, context=context),
    ]
    if any(isinstance(p, Answer) for p in prepared):  # nothing to look for
        return op.ask(question, k=k, context=context), srv.ask(question, k=k, context=context)
    reads = share_budget([p.candidate_scores() for p in prepared], READER_CANDIDATES)
    return op.finish(prepared[0], read=reads[0]), srv.finish(prepared[1], read=reads[1])


def share_budget(scores: list[list[float]], budget: int) -> list[int]:
    """How many of its best candidates each library's reader reads: the ``budget`` best scores
    over all libraries (each list best first), counted per library."""
    pooled = sorted(
        ((score, i) for i, ranked in enumerate(scores) for score in ranked[:budget]),
        key=lambda t: -t[0],
    )[:budget]
    return [sum(1 for _, i in pooled if i == library) for library in range(len(scores))]


def _relabel(span: SpanT) -> SpanT:
    return dataclasses.replace(span, article=SERVER_PREFIX + span.article)


def _relabel_answer(answer: Answer) -> Answer:
    return dataclasses.replace(
        answer,
        quotes=tuple(_relabel(q) for q in answer.quotes),
        passages=tuple(_relabel(p) for p in answer.passages),
    )
