"""Admin rules and file handling, pure or plain blocking functions (the cog runs them in threads)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from bot.config import ALLOWED_ARTICLE_SUFFIXES
from bot.errors import UserFacingError

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()-]{0,119}$")


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
    """The attachment's name if it is a plain, safe file name with an allowed suffix.

    Anything with a path separator, a parent reference, a leading dot or odd characters is refused
    rather than repaired, so what is saved is exactly what the admin sees in the reply.
    """
    name = filename.strip()
    if "/" in name or "\\" in name or ".." in name or "\x00" in name:
        raise UserFacingError(
            f"Refused: the file name {name[:80]!r} contains a path; upload a plain file name."
        )
    if not _SAFE_NAME.match(name):
        raise UserFacingError(
            "Refused: file names may use letters, digits, spaces, '.', '_', '-', '(' and ')', "
            "start with a letter or digit, and be at most 120 characters."
        )
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED_ARTICLE_SUFFIXES:
        allowed = ", ".join(ALLOWED_ARTICLE_SUFFIXES)
        raise UserFacingError(f"Refused: {suffix or 'no extension'} is not one of {allowed}.")
    return name


def inside(folder: Path, path: Path) -> bool:
    """Whether ``path`` resolves to somewhere inside ``folder`` (symlinks followed)."""
    return path.resolve().is_relative_to(folder.resolve())


def save_article(corpus_dir: Path, name: str, data: bytes, *, replace: bool) -> Path:
    """Write ``data`` to ``corpus_dir/name`` atomically; refuse to overwrite unless ``replace``."""
    target = corpus_dir / safe_article_name(name)
    if not inside(corpus_dir, target):
        raise UserFacingError("Refused: that file name points outside the corpus folder.")
    if target.exists() and not replace:
        raise UserFacingError(
            f"`{name}` already exists in the corpus; add `replace: True` to overwrite it."
        )
    corpus_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=corpus_dir, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def remove_article(corpus_dir: Path, relative_path: str) -> Path:
    """Delete one article file, only if it lies inside the corpus folder."""
    target = corpus_dir / relative_path
    if not inside(corpus_dir, target) or not target.is_file():
        raise UserFacingError(f"`{relative_path}` is not a file in the corpus folder.")
    target.unlink()
    return target
