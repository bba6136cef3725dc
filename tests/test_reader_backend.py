"""The reader's two backends (index/reader/model.py): int8 on ONNX Runtime, and its float16 twin in
bfloat16 on OpenVINO where the CPU computes bfloat16 natively; READER_BACKEND chooses."""

from __future__ import annotations

import pytest

from index.config import Settings
from index.errors import ReaderError, SettingsError
from index.reader import model as reader_mod
from index.reader.input import Pair
from index.reader.model import Reader
from tests.test_reader import ANSWERED, SENTENCES, TITLE


def _bf16_here() -> bool:
    try:
        return Reader(backend="auto").backend == "bf16"
    except ReaderError:
        return False


def test_int8_is_int8_with_its_own_confidence() -> None:
    reader = Reader(backend="int8")
    assert reader.backend == "int8" and reader.confidence_model == "reader_confidence"


def test_an_unknown_backend_is_one_clear_line() -> None:
    with pytest.raises(ReaderError, match="READER_BACKEND"):
        Reader(backend="fp8")
    with pytest.raises(SettingsError, match="READER_BACKEND"):
        Settings.from_env({"READER_BACKEND": "fp8"})


def test_bf16_asked_for_on_a_cpu_without_it_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from index.embedding import ov_session

    real = ov_session.OpenVinoSession

    class F32Only(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            self.precision = "f32"

    monkeypatch.setattr(ov_session, "OpenVinoSession", F32Only)
    with pytest.raises(ReaderError, match="does not compute in bfloat16"):
        Reader(backend="bf16")
    assert Reader(backend="auto").backend == "int8"  # auto falls back


def test_a_missing_float_file_leaves_auto_on_int8(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setattr(reader_mod, "FLOAT_SUFFIX", "-nowhere.xml")
    assert Reader(backend="auto").backend == "int8"
    with pytest.raises(ReaderError, match="float file"):
        Reader(backend="bf16")


@pytest.mark.skipif(not _bf16_here(), reason="this CPU does not compute bfloat16 natively")
def test_bf16_reads_a_batch_as_each_pair_alone_and_picks_the_answer() -> None:
    bf16 = Reader(backend="bf16")
    assert bf16.confidence_model == "reader_confidence_bf16"
    for question, gold, words in ANSWERED:
        pairs = [Pair(question, s, "", TITLE) for s in SENTENCES]
        together = bf16._read_batch(pairs)
        alone = [bf16._read_batch([p])[0] for p in pairs]
        assert max(abs(a.logit - b.logit) for a, b in zip(together, alone, strict=True)) < 0.2
        best = max(range(len(SENTENCES)), key=lambda i: together[i].logit)
        assert best == gold
        span = together[gold].span
        assert span is not None and words in SENTENCES[gold][span[0] : span[1]]
