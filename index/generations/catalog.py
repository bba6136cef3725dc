"""The article catalog of a served generation: each article's listing entry (title, url, date,
chunks, length) by slug, and its row, derived once per generation for `/article`, `/sources` and
autocomplete (a swapped-out generation takes its catalog with it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.generations.article_table import ArticleTable
from index.types import Article, ArticleInfo


@dataclass(frozen=True)
class Catalog:
    infos: dict[str, ArticleInfo]  # by slug, in the generation's order
    rows: dict[str, int]  # slug -> article row


def build_catalog(articles: Sequence[Article], chunk_article: np.ndarray) -> Catalog:
    counts = np.bincount(chunk_article, minlength=len(articles)).tolist()
    listed = _listing(articles)
    infos = {
        a.id: ArticleInfo(a.id, a.title, a.url, a.date, a.author, a.path, int(n), chars)
        for (a, chars), n in zip(listed, counts, strict=True)
    }
    return Catalog(infos, {a.id: i for i, (a, _) in enumerate(listed)})


def _listing(articles: Sequence[Article]) -> list[tuple[Article, int]]:
    """Each article (its text left out where the generation reads texts on demand) and its length."""
    if isinstance(articles, ArticleTable):
        return articles.listing()
    return [(a, len(a.text)) for a in articles]
