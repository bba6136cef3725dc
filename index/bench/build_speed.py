"""`articlebot bench --build`: how fast a full build runs against what the runtime can do and against
the plain pipeline a user would otherwise write, all in one run.

- ``build_s``: a full build (``build_index`` into an empty index folder and vector cache; the model
  already loaded, as in the plain pipeline below).
- ``build_real_tokens_per_s``: the word pieces of the texts the build ran through the model (special
  tokens included, padding not), over the seconds spent inside the model calls.
- ``runtime_tokens_per_s``: the same model on batches of 32 equal texts as long as the build's
  texts were on average (``runtime_text_tokens``; no padding at all, a cost per token that depends on
  the length as the build's does): the ceiling the build's own rate is compared with
  (``build_vs_runtime``).
- ``plain_s``: sentence-transformers + FAISS over the same articles, one vector per paragraph
  (the baselines of ../shared/eval/README.md: paragraphs split at blank lines, ``encode`` with its
  defaults, an exact inner-product index), and ``build_vs_plain`` = ``build_s`` / ``plain_s``.
  Needs the `[dev]` (or `[torch]`) extra; without it the figure is left out and says why.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from index.config import Settings
from index.embedding.embedder import Embedder

FIXED_BATCHES = 8
T = TypeVar("T")


class TimedEmbedder:
    """An embedder that adds up the seconds spent in its model calls and the real word pieces they
    read (counted before the clock starts, so the count costs nothing here)."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.seconds = 0.0
        self.tokens = 0
        self.texts = 0
        if callable(getattr(inner, "encode_pooled", None)):
            self.encode_pooled = self._encode_pooled  # only where the inner embedder pools

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self._inner.count_tokens(texts)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self._timed(self._inner.encode, texts)

    def _encode_pooled(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        return self._timed(self._inner.encode_pooled, texts, spans)  # type: ignore[attr-defined]

    def _timed(self, call: Callable[..., T], texts: Sequence[str], *rest: object) -> T:
        """``call(texts, *rest)``, its word pieces counted first and its seconds added up."""
        window = self._inner.max_tokens
        self.tokens += sum(min(n, window) + 2 for n in self._inner.count_tokens(texts))
        self.texts += len(texts)
        started = time.perf_counter()
        try:
            return call(texts, *rest)
        finally:
            self.seconds += time.perf_counter() - started


def runtime_tokens_per_s(embedder: Embedder, length: int) -> float:
    """Word pieces a second on batches of 32 equal texts of about ``length`` pieces each."""
    per_word = max(1, embedder.count_tokens(["word"])[0])
    text = " ".join(["word"] * max(1, (length - 2) // per_word))
    tokens = embedder.count_tokens([text])[0] + 2
    texts = [text] * 32
    embedder.encode(texts[:2])  # warm-up
    started = time.perf_counter()
    for _ in range(FIXED_BATCHES):
        embedder.encode(texts)
    return FIXED_BATCHES * 32 * tokens / (time.perf_counter() - started)


def build_figures(settings: Settings, embedder: Embedder, *, plain: bool) -> dict[str, object]:
    from index.build.builder import build_index

    timed = TimedEmbedder(embedder)
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="articlebot-bench-build-") as tmp:
        report = build_index(settings.with_(index_dir=Path(tmp)), timed)  # type: ignore[arg-type]
    figures["build_s"] = round(report.seconds, 2)
    figures["build_model_s"] = round(timed.seconds, 2)
    figures["build_real_tokens"] = timed.tokens
    build_rate = timed.tokens / timed.seconds if timed.seconds else 0.0
    figures["build_real_tokens_per_s"] = round(build_rate)
    length = round(timed.tokens / timed.texts) if timed.texts else 128
    runtime = runtime_tokens_per_s(embedder, length)
    figures["runtime_text_tokens"] = length
    figures["runtime_tokens_per_s"] = round(runtime)
    figures["build_vs_runtime"] = round(build_rate / runtime, 3)
    if plain:
        figures |= plain_figures(settings, report.seconds)
    return figures


def plain_figures(settings: Settings, build_s: float) -> dict[str, object]:
    """The plain sentence-transformers + FAISS pipeline over the same articles, timed."""
    try:
        import faiss
        from sentence_transformers import SentenceTransformer
    except ImportError:
        return {
            "plain_s": None,
            "plain_note": "needs sentence-transformers (pip install -e '.[dev]')",
        }
    from index.embedding.model_path import resolve_model_path

    model = SentenceTransformer(
        str(resolve_model_path(settings.embed_model)), device="cpu", local_files_only=True
    )
    model.encode(["warm-up"])
    started = time.perf_counter()
    paragraphs = _paragraphs(settings.corpus_dir)
    vectors = model.encode(paragraphs, normalize_embeddings=True, convert_to_numpy=True)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    plain_s = time.perf_counter() - started
    return {
        "plain_paragraphs": len(paragraphs),
        "plain_s": round(plain_s, 2),
        "build_vs_plain": round(build_s / plain_s, 3),
    }


def _paragraphs(corpus: Path) -> list[str]:
    out: list[str] = []
    for path in sorted(corpus.rglob("*")):
        if path.suffix.lower() in (".md", ".txt") and path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            blocks = (p.strip() for p in re.split(r"\n\s*\n", text))
            out += [p for p in blocks if p and not p.startswith("#")]  # paragraphs, not titles
    return out
