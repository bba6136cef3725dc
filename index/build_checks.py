"""What a build checks before it publishes: is anything new at all, and is it losing articles?

An `articlebot chat` or `run` on an unchanged corpus publishes nothing (the serving generation stays),
and a corpus that lost every article or more than half of them (a wrong --corpus, an unmounted
volume) is refused unless the build is told that this is intended (`--allow-shrink`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from index.errors import IndexUnavailable, ShrinkRefused
from index.generation import read_articles
from index.store import SCHEMA_VERSION, Manifest, current_generation
from index.types import Article


def unchanged_generation(
    index_dir: Path, model: str, dim: int, params: Mapping[str, object], articles: Sequence[Article]
) -> Manifest | None:
    """The serving generation's manifest if it holds exactly ``articles`` built the same way."""
    try:
        folder = current_generation(index_dir)
        manifest = Manifest.read(folder)
        if (manifest.schema_version, manifest.model, manifest.dim) != (SCHEMA_VERSION, model, dim):
            return None
        if any(manifest.params.get(k) != v for k, v in params.items()):
            return None
        return manifest if read_articles(folder) == list(articles) else None
    except (IndexUnavailable, OSError, ValueError):
        return None  # anything unreadable: build a fresh generation


def check_shrink(
    previous: Sequence[str], current: Sequence[str], corpus_dir: Path, *, allow: bool
) -> None:
    """ShrinkRefused when the new generation would drop every previous article or more than half."""
    dropped = len(set(previous) - set(current))
    if allow or not previous or dropped * 2 <= len(previous):
        return
    raise ShrinkRefused(
        f"refusing to publish an index without {dropped} of the {len(previous)} articles it "
        f"serves ({corpus_dir} holds {len(current)}); the current index keeps serving. If that is "
        "intended, run `articlebot index --allow-shrink`"
    )
