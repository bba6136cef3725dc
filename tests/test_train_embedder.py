"""scripts/train_embedder.py's data: the passages are the index's own chunks (title over chunk, as
embedded), and a question's positive is the chunk that holds its answer nearest where it was marked."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import train_embedder


def words(texts: list[str]) -> list[int]:
    return [len(t.split()) for t in texts]


def test_chunks_are_the_index_chunks_and_the_answer_chunk_is_found(tmp_path: Path) -> None:
    paragraphs = [
        f"Paragraph {i} tells of the harbour levy, item {i}, in plain words that fill the chunk. "
        * 3
        for i in range(6)
    ]
    paragraphs[4] = "The levy was proposed by Councilor Renata Ostrowski in March. " * 2
    (tmp_path / "levy.md").write_text(
        "# Harbour levy\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8"
    )
    [(slug, (text, chunks))] = train_embedder.chunked(tmp_path, words, 60).items()
    assert slug == "levy" and len(chunks) >= 3
    for start, end, embedded in chunks:
        assert embedded == f"Harbour levy\n{text[start:end]}"
    answer = "Renata Ostrowski"
    first = text.find(answer)
    second = text.find(answer, first + 1)
    c = train_embedder.answer_chunk(text, chunks, answer, second)
    assert c is not None and chunks[c][0] <= second < chunks[c][1]
    assert train_embedder.answer_chunk(text, chunks, "not in the article", 0) is None
