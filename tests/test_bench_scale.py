"""The scale benchmark and its hash embedder: a seconds-long run keeps `bench --scale` working."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index.bench.hash_embedder import BenchHashEmbedder
from index.bench.scale import real_sentences, run_scale_bench, write_synthetic_corpus
from index.cli.main import main
from index.config import Settings

SAMPLE_CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SCALE_KEYS = {"chunks", "build_s", "update_one_s", "open_s", "rss_mb", "p50_ms", "p95_ms",
              "p99_ms", "max_gc_pause_ms"}  # fmt: skip


def test_bench_embedder_is_deterministic_unit_and_lexical() -> None:
    embedder = BenchHashEmbedder(dim=384)
    texts = ["The treaty was signed in Paris.", "The treaty was signed in Rome.", "Cats purr.", ""]
    first, again = embedder.encode(texts), BenchHashEmbedder(dim=384).encode(texts)
    assert first.shape == (4, 384) and first.dtype == np.float32
    assert np.array_equal(first, again)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert first[0] @ first[1] > first[0] @ first[2] + 0.3


def test_synthetic_corpus_is_made_of_real_sentences(tmp_path: Path) -> None:
    pool = real_sentences(SAMPLE_CORPUS)
    corpus = write_synthetic_corpus(tmp_path, pool, n_chunks=50, chunk_tokens=200, n_questions=5)
    assert len(corpus.files) == 5
    body = corpus.files[0].read_text(encoding="utf-8")
    assert body.startswith("# 0: ")
    assert any(sentence in body for sentence in pool)
    assert all(len(q.split()) <= 8 for q in corpus.questions)


def test_scale_bench_reports_every_figure(tmp_path: Path) -> None:
    settings = Settings(corpus_dir=SAMPLE_CORPUS, index_dir=tmp_path / "unused")
    figures = run_scale_bench(settings, 300, 30, encoder=False, workdir=tmp_path / "work")
    assert set(figures) >= SCALE_KEYS
    assert 200 <= figures["chunks"] <= 400  # type: ignore[operator]
    assert figures["questions"] == 30 and figures["encoder"] is None
    assert figures["update_embedded"] >= 1  # type: ignore[operator]
    assert figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]  # type: ignore[operator]
    assert (tmp_path / "work" / "index" / "CURRENT").is_file()


def test_bench_scale_refuses_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--corpus", str(SAMPLE_CORPUS), "--scale", "0"]) == 2
    assert "--scale must be a positive number of chunks" in capsys.readouterr().err


def test_bench_scale_cli_prints_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["bench", "--corpus", str(SAMPLE_CORPUS), "--index-dir", str(tmp_path / "i"),
            "--scale", "100", "-n", "5", "--no-encoder", "--json"]  # fmt: skip
    assert main(args) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) >= SCALE_KEYS and figures["questions"] == 5


def test_a_synthetic_corpus_needs_no_corpus_folder(tmp_path: Path) -> None:
    from index.bench.scale import real_sentences

    pool = real_sentences(tmp_path / "no-such-folder")  # `bench --scale` outside the repository
    assert len(pool) >= 1000 and all(8 <= len(s.split()) <= 30 for s in pool)
    assert pool == real_sentences(tmp_path / "no-such-folder")  # the same every run
