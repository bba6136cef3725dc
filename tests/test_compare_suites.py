"""scripts/compare_suites.py: trials side by side, from the eval reports news_suite.sh writes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import compare_suites


def report(path: Path, hits: int, answerable: int, wrong: int) -> None:
    metrics = {
        "answerable": answerable,
        "quote_hit": round(hits / answerable, 4),
        "answered_rate": 0.95,
        "abstain_rate_impossible": 0.3,
        "breakdown": {
            "quote_hit": {"n": hits, "share": hits / answerable},
            "wrong_sentence": {"n": wrong, "share": wrong / answerable},
        },
    }
    path.write_text(json.dumps({"metrics": metrics}), encoding="utf-8")


def test_two_trials_side_by_side_and_a_missing_set(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    report(out / "squad1-base.json", 3229, 3846, 132)
    report(out / "squad1-new.json", 3213, 3846, 142)
    report(out / "news-base.json", 154, 210, 9)
    text = compare_suites.table(tmp_path, ["base", "new"])
    assert "| quote hit | 3229 (84.0%) | 3213 (83.5%) |" in text
    assert "| bin wrong_sentence | 132 | 142 |" in text
    # the news set only the first trial has: the other's cells say so
    news = text.split("### news")[1].split("###")[0]
    assert "| quote hit | 154 (73.3%) | - |" in news
    assert "lede" not in text  # no trial has it
