"""Admin rules and file handling, pure or plain blocking functions (the cog runs them in threads)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from bot.errors import UserFacingError
from index.corpus import files as corpus_files
from index.corpus.files import CorpusFileError


def is_admin(
    *,
    user_id: int,
    role_ids: Iterable[int],
    manage_guild: bool,
    admin_user_ids: frozenset[int],
    admin_role_ids: frozenset[int],
) -> bool:
    """Manage Server, or a user or role id listed in the settings."""
    return manage_guild or user_id in admin_user_ids or not admin_role_ids.isdisjoint(role_ids)


def safe_article_name(filename: str) -> str:
    """The attachment's name if it is a plain, safe file name with a supported suffix."""
    with _user_facing():
        return corpus_files.safe_article_name(filename)


def save_article(corpus_dir: Path, name: str, data: bytes, *, replace: bool) -> Path:
    """Check the attachment reads as an article, then write it into the corpus atomically;
    refuse to overwrite unless ``replace``."""
    try:
        corpus_files.check_article(name, data)
        return corpus_files.save_article(corpus_dir, name, data, replace=replace)
    except CorpusFileError as exc:
        if exc.kind == "exists":
            raise UserFacingError(f"{exc} Add `replace: True` to overwrite it.") from None
        raise UserFacingError(str(exc)) from None


def remove_article(corpus_dir: Path, relative_path: str) -> Path:
    """Delete one article file, only if it lies inside the corpus folder."""
    with _user_facing():
        return corpus_files.remove_article(corpus_dir, relative_path)


@contextlib.contextmanager
def _user_facing() -> Iterator[None]:
    try:
        yield
    except CorpusFileError as exc:
        raise UserFacingError(str(exc)) from None
