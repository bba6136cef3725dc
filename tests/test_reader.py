"""The shipped reader model: loads offline, picks the answering sentence, finds the answer words,
rejects questions the sentence does not answer, and fails with one clear line when its file is damaged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.errors import ReaderError
from index.reader import model as reader_mod
from index.reader.input import MAX_LENGTH, Encoder, Pair, best_span
from index.reader.model import Reader, load_reader

TITLE = "India and Japan Consent to Broaden Defence Cooperation in New, Developing Fields"
SENTENCES = [
    "In the 7th Defence Policy Dialogue held on Wednesday, i.e 5th of March 2023, both India and "
    "Japan agreed to deepen their cooperation in the new and emerging spheres like space and cyber "
    "as a part of their goal to integrate their overall judicious engagements.",
    "The Indian side invited the defence industries of Japan to the talks in order to look into the "
    "investment opportunities in India under the initiative of ‘Make in India’.",
    "The meeting was co-chaired by Defence Secretary Shri Giridhar Aramane and Oka Masami, the Vice "
    "Minister of Defence for International Affairs of Japan.",
    "The ministry stated that they were pleased with the way the initial fighter exercise “Veer "
    "Guardian” between the Indian Air Force and the Japanese Air Self-Defence Force was conducted in "
    "Japan in January of this year.",
    "The Ambassador of Japan to India, Suzuki Hiroshi, accompanied Oka, who was grateful to Singh for "
    "the stimulus provided by his strong and positive leadership in strengthening the bilateral "
    "defence collaboration.",
]
ANSWERED = [
    ("Which new fields did India and Japan agree to cooperate in?", 0, "space and cyber"),
    ("Who co-chaired the meeting?", 2, "Giridhar Aramane and Oka Masami"),
    ("What was the name of the fighter exercise?", 3, "Veer Guardian"),
    ("Who is the Ambassador of Japan to India?", 4, "Suzuki Hiroshi"),
    ("Which initiative did India invite Japanese defence industries under?", 1, "Make in India"),
]
# Unanswerable by construction: a name swapped, a negation, another exercise, another embassy.
UNANSWERED = [
    ("Which new fields did India and Brazil agree to cooperate in?", 0),
    ("Who did not co-chair the meeting?", 2),
    ("What was the name of the naval exercise?", 3),
    ("Who is the Ambassador of India to France?", 4),
]


@pytest.fixture(scope="module")
def reader() -> Reader:
    return load_reader()


@pytest.mark.parametrize(("question", "gold", "words"), ANSWERED)
def test_the_answering_sentence_ranks_first_and_holds_the_span(
    reader: Reader, question: str, gold: int, words: str
) -> None:
    readings = reader.read([Pair(question, s, "", TITLE) for s in SENTENCES])
    best = max(range(len(SENTENCES)), key=lambda i: readings[i].logit)
    assert best == gold
    assert readings[gold].logit > 0.0  # more likely than not to answer
    span = readings[gold].span
    assert span is not None
    assert words in SENTENCES[gold][span[0] : span[1]]
    assert span[1] - span[0] <= len(words) + 25  # the answer words, not the whole sentence


@pytest.mark.parametrize(("question", "sentence"), UNANSWERED)
def test_an_unanswered_question_scores_low(reader: Reader, question: str, sentence: int) -> None:
    (reading,) = reader.read([Pair(question, SENTENCES[sentence], "", TITLE)])
    assert reading.logit < 0.0


def test_a_reading_does_not_depend_on_the_pairs_read_beside_it(reader: Reader) -> None:
    """The int8 model scales its activations per tensor: read in one batch, a pair's logit moved with
    the other pairs (by up to 2 logits on the news set). Each pair is read alone, so it does not."""
    question = "Who co-chaired the meeting?"
    pairs = [Pair(question, s, "", TITLE) for s in SENTENCES]
    together = reader.read(pairs)
    for i, pair in enumerate(pairs):
        [alone] = reader.read([pair])
        assert alone.logit == together[i].logit
        assert alone.span == together[i].span
    long_neighbour = Pair(question, " ".join(SENTENCES * 3), "", TITLE)
    [with_long] = reader.read([pairs[2], long_neighbour])[:1]
    assert with_long.logit == together[2].logit


def test_context_and_long_inputs_fit_the_window() -> None:
    from tokenizers import Tokenizer

    enc = Encoder(Tokenizer.from_file(str(reader_mod.TOKENIZER_FILE)))
    long = "word " * 400
    batch = enc.encode([Pair(long, long, long, long), Pair("Who?", "He did.", "", "")])
    assert batch.input_ids.shape[1] <= MAX_LENGTH
    assert batch.sentence_tokens[0] > 0  # the sentence keeps tokens even after a long question
    first, count = int(batch.sentence_from[1]), int(batch.sentence_tokens[1])
    assert batch.token_type_ids[1, first] == 1 and batch.token_type_ids[1, first - 1] == 0
    assert [tuple(o) for o in batch.offsets[1]] == [(0, 2), (3, 6), (6, 7)][:count]


def test_padding_to_a_multiple_keeps_every_pair_and_its_tokens() -> None:
    from tokenizers import Tokenizer

    enc = Encoder(Tokenizer.from_file(str(reader_mod.TOKENIZER_FILE)))
    pairs = [Pair(q, s, "", TITLE) for (q, _, _), s in zip(ANSWERED, SENTENCES, strict=True)]
    plain, padded = enc.encode(pairs), enc.encode(pairs, multiple=16)
    width = plain.input_ids.shape[1]
    assert width % 16 != 0  # else this test shows nothing
    assert padded.input_ids.shape[1] == -(-width // 16) * 16
    assert (padded.input_ids[:, :width] == plain.input_ids).all()
    assert (padded.input_ids[:, width:] == enc.pad_id).all()
    assert padded.attention_mask[:, width:].sum() == 0
    assert (padded.sentence_from == plain.sentence_from).all()
    assert padded.offsets == plain.offsets
    long = "word " * 400  # already at the window: never padded past it
    assert enc.encode([Pair(long, long)], multiple=48).input_ids.shape[1] == MAX_LENGTH


def test_best_span_stays_inside_the_sentence() -> None:
    import numpy as np

    start = np.array([9.0, 0, 0, 1, 0, 0])
    end = np.array([9.0, 0, 0, 0, 2, 0])
    a, b, _ = best_span(start, end, 2, 3)  # positions 0-1 (question) are off limits
    assert (a, b) == (3, 4)


def test_a_damaged_reader_file_is_one_line_saying_how_to_restore_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "reader.onnx"
    shutil.copyfile(reader_mod.MODEL_FILE, model)
    with model.open("r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00\x01\x02")
    monkeypatch.setattr(reader_mod, "MODEL_FILE", model)
    with pytest.raises(ReaderError) as err:
        Reader(model)
    line = err.value.user_line()
    assert "damaged" in line and "git checkout" in line and "READER=off" in line
    model.unlink()
    with pytest.raises(ReaderError, match="missing"):
        Reader(model)


def test_a_model_that_is_not_onnx_is_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "mine.onnx"
    bogus.write_bytes(b"not a model")
    with pytest.raises(ReaderError, match="cannot be loaded"):
        Reader(bogus)
