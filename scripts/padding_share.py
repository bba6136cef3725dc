"""Share of the tokens a build computes that are padding: texts sorted per 64-text batch vs all sorted.

Usage: python scripts/padding_share.py CORPUS_DIR   (the real tokenizer of the default model; no encoding)
"""

from __future__ import annotations

import sys
from pathlib import Path

from index.build.builder import embed_text_for_chunk, split_article
from index.config import DEFAULT_MODEL
from index.corpus.folder import scan_corpus
from index.embedding.embedder import load_embedder

OUTER, INNER = 64, 32  # the build's batch, the ONNX embedder's batch


def computed_tokens(order: list[int], lengths: list[int]) -> int:
    total = 0
    for i in range(0, len(order), OUTER):
        outer = sorted(order[i : i + OUTER], key=lengths.__getitem__)
        for k in range(0, len(outer), INNER):
            batch = outer[k : k + INNER]
            total += max(lengths[j] for j in batch) * len(batch)
    return total


def main(corpus: Path) -> None:
    embedder = load_embedder(DEFAULT_MODEL, "onnx")
    splits = [split_article(a, embedder, 200) for a in scan_corpus(corpus).articles]
    texts = [embed_text_for_chunk(s.article.title, c.text) for s in splits for c in s.chunks]
    texts = list(dict.fromkeys(texts + [x.text for s in splits for x in s.sentences]))
    lengths = [min(n, embedder.max_tokens) + 2 for n in embedder.count_tokens(texts)]
    real = sum(lengths)
    before = computed_tokens(list(range(len(texts))), lengths)
    after = computed_tokens(sorted(range(len(texts)), key=lengths.__getitem__), lengths)
    print(
        f"{len(texts)} texts, {real} real tokens; sorted per batch: {before} computed "
        f"({1 - real / before:.1%} padding); all sorted: {after} computed ({1 - real / after:.1%})"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
