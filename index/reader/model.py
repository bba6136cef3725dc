"""The reader: our own cross-encoder (index/data/reader.onnx, int8) run by ONNX Runtime, no torch.

For each (question, candidate sentence) it gives a logit that the sentence answers the question and the
answer's span inside the sentence, from one forward pass. How it was trained and measured: docs/READER.md.
The file is checked against its recorded SHA-256 (index/data/reader.json) when loaded; a missing or damaged
file is one ReaderError line saying how to restore it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.config import READER_BACKENDS
from index.embedding.ort_session import cpu_session
from index.errors import ReaderError
from index.reader.input import Encoder, Pair, answerable_from, best_span, token_span_to_chars

DATA = Path(__file__).resolve().parent.parent / "data"  # index/data
MODEL_FILE = DATA / "reader.onnx"
# The same weights in float16 (OpenVINO's format), run in bfloat16 where the CPU computes it natively
# (docs/READER.md, "The reader in bfloat16"): faster than the int8 file there, and as the float model.
FLOAT_SUFFIX = "-float.xml"
TOKENIZER_FILE = DATA / "reader-tokenizer.json"
CARD_FILE = DATA / "reader.json"
RESTORE = (
    "restore it with `git checkout -- index/data/` (or reinstall articlebot), "
    "or set READER=off to answer without it"
)
# Readings kept for reuse, most recent last: a pair read alone reads the same every time, and a
# question's second look in its story (index/answer/further.py) re-reads the pairs it read first.
KEPT_READINGS = 512
# bfloat16 pads a batch to a multiple of this many tokens: OpenVINO compiles kernels per input shape
# and keeps a few (ov_session.SHAPE_CACHE), so fewer distinct widths hit that cache more often
# (docs/PERFORMANCE.md, session 17). int8 reads each pair alone, unpadded.
BF16_PAD_MULTIPLE = 16


@dataclass(frozen=True)
class Reading:
    """The reader's verdict on one pair: ``logit`` (higher: more likely to answer) and the answer's
    character span inside the sentence, when the model finds one."""

    logit: float
    span: tuple[int, int] | None
    span_score: float


def confidence_model_name(backend: str) -> str:
    """The name of the confidence model fit for a backend's logits (scripts/calibrate_reader.py)."""
    return "reader_confidence" if backend == "int8" else f"reader_confidence_{backend}"


def float_file(model: Path) -> Path:
    """Where ``model``'s float16 twin lives: reader.onnx -> reader-float.xml (and its .bin)."""
    return model.with_name(model.stem + FLOAT_SUFFIX)


class Reader:
    """Loaded once per process; ``read`` is thread-safe (one runtime call at a time).

    ``backend``: "int8" runs ``model`` (int8) on ONNX Runtime, each pair alone; "bf16" runs its float16
    twin (float_file) on OpenVINO in bfloat16, a call's pairs in one batch, and fails on a CPU without
    native bfloat16; "auto" is bf16 where it can be, int8 elsewhere. ``self.backend`` says which."""

    def __init__(
        self, model: Path = MODEL_FILE, *, threads: int = 2, backend: str = "int8"
    ) -> None:
        from tokenizers import Tokenizer

        if backend not in READER_BACKENDS:
            raise ReaderError(
                f"READER_BACKEND must be one of {', '.join(READER_BACKENDS)}, got {backend!r}"
            )
        self.backend = "int8"
        session = None
        twin = float_file(model)
        if backend != "int8" and (twin.is_file() or backend == "bf16"):
            session = _bf16_session(twin, threads, required=backend == "bf16")
        if session is not None:
            self.backend = "bf16"
        else:
            _check_file(model)
        try:
            self._encoder = Encoder(Tokenizer.from_file(str(TOKENIZER_FILE)))
            self._session = session if session is not None else cpu_session(model, threads)
        except Exception as exc:  # onnxruntime/tokenizers raise their own types for bad files
            raise ReaderError(
                f"the reader model {model} cannot be loaded ({exc}); {RESTORE}"
            ) from None
        self._lock = threading.Lock()
        self._kept: OrderedDict[Pair, Reading] = OrderedDict()
        # The confidence model fit for this backend's logits (index/data/<name>.json); the int8
        # one where none was fit yet. Resolved once, not per question.
        own = confidence_model_name(self.backend)
        self.confidence_model = (
            own if (DATA / f"{own}.json").is_file() else confidence_model_name("int8")
        )

    def read(self, pairs: Sequence[Pair]) -> list[Reading]:
        """One reading per pair: with int8 each from its own forward pass, in bfloat16 the new pairs
        in one batch.

        int8 reads each pair alone: the model quantizes its activations with one scale per tensor,
        so in a batch a pair's logit moved with the other pairs beside it (by 0.6 logits on average,
        up to 2.2, on the news set's candidates), and with it the choice; alone, without padding, the
        cost is about the same (docs/PERFORMANCE.md). bfloat16 has no such scale (a pair's logit
        moves by at most 0.14 with its batch). Either way a pair's reading depends on the pair only,
        so the last KEPT_READINGS are kept, and a pair read again is not run again."""
        with self._lock:
            known = {p: self._kept[p] for p in pairs if p in self._kept}
            for pair in known:
                self._kept.move_to_end(pair)
        new = list(dict.fromkeys(p for p in pairs if p not in known))
        if self.backend == "bf16":  # no per-tensor activation scale: one batch reads the same
            fresh = self._read_batch(new)
        else:
            fresh = [reading for pair in new for reading in self._read_batch([pair])]
        got = dict(zip(new, fresh, strict=True))
        with self._lock:
            self._kept.update(got)
            while len(self._kept) > KEPT_READINGS:
                self._kept.popitem(last=False)
        return [known[p] if p in known else got[p] for p in pairs]

    def _read_batch(self, pairs: Sequence[Pair]) -> list[Reading]:
        if not pairs:
            return []
        multiple = BF16_PAD_MULTIPLE if self.backend == "bf16" else 1
        batch = self._encoder.encode(pairs, multiple=multiple)
        feeds = {
            "input_ids": batch.input_ids,
            "attention_mask": batch.attention_mask,
            "token_type_ids": batch.token_type_ids,
        }
        with self._lock:
            logits, starts, ends = self._session.run(None, feeds)
        out = []
        for i in range(len(pairs)):
            first, count = int(batch.sentence_from[i]), int(batch.sentence_tokens[i])
            skip = answerable_from(batch.offsets[i], pairs[i].answer_from)
            span: tuple[int, int] | None = None
            a, b, score = best_span(starts[i], ends[i], first + skip, count - skip)
            if count - skip > 0:
                span = token_span_to_chars(batch.offsets[i], first, a, b)
            out.append(Reading(float(logits[i]), span, score))
        return out


def _check_file(model: Path) -> None:
    """The file exists and matches the SHA-256 of its card (``<model>.json``, written at export).

    The shipped model must have its card; a model of the user's own is checked when it has one."""
    if not model.is_file():
        raise ReaderError(f"the reader model {model} is missing; {RESTORE}")
    card = CARD_FILE if model.resolve() == MODEL_FILE.resolve() else model.with_suffix(".json")
    if card != CARD_FILE and not card.is_file():
        return
    try:
        expected = json.loads(card.read_text(encoding="utf-8"))["sha256"]
    except (OSError, ValueError, KeyError):
        raise ReaderError(f"the reader's card {card} is missing or damaged; {RESTORE}") from None
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    if digest != expected:
        raise ReaderError(f"the reader model {model} is damaged (checksum mismatch); {RESTORE}")


def _bf16_session(twin: Path, threads: int, *, required: bool) -> Any:
    """OpenVINO on ``twin`` when it computes in bfloat16 here; None (int8 then) unless ``required``."""
    from index.embedding.ov_session import OpenVinoSession
    from index.errors import EmbedderError

    if not twin.is_file() or not twin.with_suffix(".bin").is_file():
        raise ReaderError(
            f"READER_BACKEND=bf16: the reader's float file {twin} is missing; {RESTORE}"
        )
    try:
        session = OpenVinoSession(twin, threads, "auto")
    except EmbedderError as exc:  # openvino missing
        if required:
            raise ReaderError(f"READER_BACKEND=bf16: {exc}") from None
        return None
    if session.precision != "bf16":
        if required:
            raise ReaderError(
                "READER_BACKEND=bf16: this CPU does not compute in bfloat16 natively "
                f"(OpenVINO chose {session.precision}); use READER_BACKEND=auto or int8"
            )
        return None
    return session


_cache: dict[tuple[Path, str], Reader] = {}
_cache_lock = threading.Lock()


def load_reader(model: Path = MODEL_FILE, backend: str = "int8") -> Reader:
    """The process's one Reader for ``model`` and ``backend`` (loaded on first use, then shared)."""
    with _cache_lock:
        reader = _cache.get((model, backend))
        if reader is None:
            reader = _cache[(model, backend)] = Reader(model, backend=backend)
        return reader
