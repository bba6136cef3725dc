"""`articlebot add` and `articlebot remove`: change the corpus from the command line, then reindex.

The same rules as the bot's /add-article and /remove-article (index.corpus_files); a running bot on the
same INDEX_DIR picks the new generation up by itself.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from index.config import Settings
from index.corpus import iter_corpus_files, slug_for
from index.corpus_batch import write_batch
from index.corpus_files import (
    CorpusFileError,
    check_article,
    remove_article,
    safe_article_name,
)
from index.errors import CorpusError


class CorpusCommandError(CorpusError):
    """A file cannot be added or removed; the message names it and says why."""


def add_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, help="article files (.md .txt .html .pdf)")
    parser.add_argument(
        "--replace", action="store_true", help="overwrite corpus files of the same name"
    )


def add_remove_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("article", help="the article's slug (e.g. notes/tea) or its file path")


def add_files(settings: Settings, files: list[Path], *, replace: bool) -> list[Path]:
    """Check every file first (name, type, readable as an article), then copy them all in."""
    checked: list[tuple[str, bytes]] = []
    for src in files:
        try:
            name = safe_article_name(src.name)
            data = src.read_bytes()
            check_article(name, data)  # refuse what the index would skip
        except CorpusFileError as exc:
            raise CorpusCommandError(f"{src}: {exc}") from None
        except OSError as exc:
            raise CorpusCommandError(f"{src}: cannot read it ({exc.strerror})") from None
        checked.append((name, data))
    for name, _ in checked:
        if (settings.corpus_dir / name).exists() and not replace:
            raise CorpusCommandError(
                f"`{name}` already exists in the corpus. Use --replace to overwrite it."
            )
    # All or none of them, even if the process is killed midway (index/corpus_batch.py).
    return write_batch(settings.corpus_dir, checked)


def remove_file(settings: Settings, article: str) -> Path:
    """Delete the article named by slug or by path relative to the corpus folder."""
    corpus = settings.corpus_dir
    wanted = article.strip().removeprefix("./")
    for path in iter_corpus_files(corpus):
        rel = path.relative_to(corpus).as_posix()
        if wanted in (rel, slug_for(corpus, path)):
            try:
                return remove_article(corpus, rel)
            except CorpusFileError as exc:
                raise CorpusCommandError(str(exc)) from None
    raise CorpusCommandError(f"no article {article!r} in {corpus}; `articlebot info` lists them")
