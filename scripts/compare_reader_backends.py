"""The reader's float weights on OpenVINO (bfloat16 where the CPU has it) beside the shipped int8 model on
ONNX Runtime: speed, agreement, and the quotes it would choose. A measurement, not a backend the
engine offers (docs/READER.md, "The reader in bfloat16", session 15).

    # the float32 ONNX of a reader's weights (needs torch: the dev install)
    .venv/bin/python scripts/train_reader.py --export-only --out var/reader-news9 \\
        --onnx var/reader-news9/reader.onnx --keep-float
    # time and agreement over the first N questions' read pairs (the engine's 8 candidates)
    .venv/bin/python scripts/compare_reader_backends.py speed var/reader-news9/reader.fp32.onnx \\
        tests/data/news/dev.jsonl tests/data/news/corpus --index-dir var/s13/idx-news -n 150
    # every question of a set answered (MIN_CONFIDENCE=0) with the bfloat16 reader, read as one batch
    .venv/bin/python scripts/compare_reader_backends.py eval var/reader-news9/reader.fp32.onnx \\
        tests/data/news/dev.jsonl tests/data/news/corpus --index-dir var/s13/idx-news --split fit

In bfloat16 a question's pairs can be read as one batch: the int8 model's per-tensor activation
scale (which made a pair's logit depend on its neighbours, index/reader/model.py) is not there.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.answer.with_reader import READER_CANDIDATES, pairs_for  # noqa: E402
from index.bench import evaluate as ev  # noqa: E402
from index.build.builder import build_index  # noqa: E402
from index.config import Settings  # noqa: E402
from index.embedding.embedder import load_embedder  # noqa: E402
from index.embedding.ov_session import OpenVinoSession  # noqa: E402
from index.engine import Engine, Prepared  # noqa: E402
from index.reader.input import Pair  # noqa: E402
from index.reader.model import Reader, Reading  # noqa: E402


class FloatReader(Reader):
    """The reader's float ONNX on ONNX Runtime; a question's pairs read in one call (``batched``)."""

    def __init__(self, model: Path, batched: bool = True) -> None:
        super().__init__(model)
        self._batched = batched

    def read(self, pairs: Sequence[Pair]) -> list[Reading]:
        if self._batched:
            return self._read_batch(list(pairs))
        return [r for p in pairs for r in self._read_batch([p])]


class OpenVinoReader(FloatReader):
    """The same, compiled by OpenVINO (``precision`` bf16 or f32)."""

    def __init__(self, model: Path, precision: str = "bf16", batched: bool = True) -> None:
        super().__init__(model, batched)
        self._session = OpenVinoSession(model, 2, precision)  # type: ignore[assignment]


def _engine(args: argparse.Namespace, reader: Reader | None) -> Engine:
    settings = Settings.from_env(
        {"MIN_CONFIDENCE": "0"}, corpus_dir=args.corpus, index_dir=args.index_dir
    )
    embedder = load_embedder(settings.embed_model, settings.embed_backend)
    build_index(settings, embedder)
    shipped = Engine.open(settings, embedder)
    if reader is None:
        return shipped
    return Engine(settings, embedder, shipped._generation, reader)


def speed(args: argparse.Namespace) -> None:
    engine = _engine(args, None)
    sets = []
    for q in ev.read_questions(args.questions)[: args.n]:
        p = engine.prepare(q.question)
        if isinstance(p, Prepared) and p.candidates:
            sets.append(pairs_for(p.gen, p.asked.text, p.candidates[:READER_CANDIDATES]))
    pairs = sum(map(len, sets))
    print(f"{len(sets)} questions, {pairs} pairs")
    readers = {
        "onnxruntime int8, each pair alone (shipped)": Reader(),
        "openvino bf16, one batch a question": OpenVinoReader(args.float_onnx),
        "openvino bf16, each pair alone": OpenVinoReader(args.float_onnx, batched=False),
        "openvino f32, one batch a question": OpenVinoReader(args.float_onnx, "f32"),
        "onnxruntime f32, one batch a question": FloatReader(args.float_onnx),
        "openvino f32, each pair alone (reference)": OpenVinoReader(
            args.float_onnx, "f32", batched=False
        ),
    }
    out = {}
    for name, reader in readers.items():
        for ps in sets[:5]:
            reader._read_batch(ps[:1])  # compile / warm
        start = time.perf_counter()
        out[name] = [
            reader.read(ps)
            if isinstance(reader, FloatReader)
            else [r for p in ps for r in reader._read_batch([p])]  # as read(), without the kept
            for ps in sets
        ]
        took = time.perf_counter() - start
        print(f"{name}: {took / len(sets) * 1000:.1f} ms a question")
    ref = out["openvino f32, each pair alone (reference)"]
    for name, got in out.items():
        diff = [
            abs(a.logit - b.logit)
            for x, y in zip(got, ref, strict=True)
            for a, b in zip(x, y, strict=True)
        ]
        same = np.mean(
            [
                int(np.argmax([a.logit for a in x])) == int(np.argmax([b.logit for b in y]))
                for x, y in zip(got, ref, strict=True)
            ]
        )
        print(
            f"{name} vs the float reference: mean |logit difference| {np.mean(diff):.3f}, "
            f"max {np.max(diff):.2f}; same best sentence {same:.1%}"
        )


def evaluate(args: argparse.Namespace) -> None:
    engine = _engine(args, OpenVinoReader(args.float_onnx))
    qs = ev.read_questions(args.questions)
    if args.split:
        qs = [q for q in qs if q.split == args.split]
    asked = ev.classify(qs, {a.id for a in engine.articles()})
    metrics = ev.compute_metrics(ev.ask_all(engine, asked))
    print(json.dumps(metrics))


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("mode", choices=("speed", "eval"))
    ap.add_argument("float_onnx", type=Path)
    ap.add_argument("questions", type=Path)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--index-dir", type=Path, required=True)
    ap.add_argument("-n", type=int, default=150, help="speed: questions")
    ap.add_argument("--split", help="eval: only this split of the questions")
    args = ap.parse_args()
    speed(args) if args.mode == "speed" else evaluate(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
