"""A news story's dateline is read but never answers (issue 22): "Sept. 3" is not the wildfire's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.answer.quotes import Candidate
from index.answer.with_reader import pairs_for
from index.reader.input import Pair
from index.reader.model import load_reader
from index.text.dateline import dateline_end
from tests.conftest import generation_of

LEDE = (
    "DURANGO, Colo., Sept. 3 (Articlebot Wire) — A fast-moving wildfire in the hills north of Durango "
    "more than tripled in size overnight, forcing about 4,500 people to evacuate."
)


@pytest.mark.parametrize(
    ("sentence", "dateline"),
    [
        (LEDE, "DURANGO, Colo., Sept. 3 (Articlebot Wire) — "),
        ("WASHINGTON (CNN) -- The Senate voted on Monday.", "WASHINGTON (CNN) -- "),
        ("(CNN) -- A man was arrested.", "(CNN) -- "),
        ("NEW YORK — Shares fell.", "NEW YORK — "),
        ("ST. JOHN'S, Newfoundland, Jan. 4 — A storm hit.", "ST. JOHN'S, Newfoundland, Jan. 4 — "),
        ("NASA said — and meant it — that the launch slips.", ""),
        ("The U.S. — like Canada — voted no.", ""),
        ("A — as in apple.", ""),
        ("Shares fell on Monday.", ""),
    ],
)
def test_the_dateline_is_measured_to_the_dash(sentence: str, dateline: str) -> None:
    assert sentence[: dateline_end(sentence)] == dateline


def test_no_answer_span_starts_in_the_dateline() -> None:
    reader = load_reader()
    question = "What is the name of the wildfire near Durango?"
    end = dateline_end(LEDE)
    [free] = reader.read([Pair(question, LEDE)])
    [kept] = reader.read([Pair(question, LEDE, answer_from=end)])
    assert free.span is not None and free.span[0] < end  # the shipped reader does take the dateline
    assert kept.span is not None and kept.span[0] >= end
    assert kept.logit == free.logit  # the same reading; only where the answer is sought changes


def test_only_the_lede_carries_its_dateline(tmp_path: Path) -> None:
    gen = generation_of(
        tmp_path,
        {
            "wildfire": "Wildfire triples in size north of Durango\n\n"
            + LEDE
            + " OSLO — this is no dateline, it is the middle of a story.\n",
        },
    )
    rows = range(len(gen.sentence_article))
    pairs = pairs_for(gen, "Where?", [Candidate(s, 0, 0.0, 0.0, 0.0) for s in rows])
    starts = {p.sentence[:7]: p.answer_from for p in pairs}
    assert starts["DURANGO"] == dateline_end(LEDE)
    assert all(v == 0 for k, v in starts.items() if k != "DURANGO")
