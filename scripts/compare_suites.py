"""Readers' end-to-end trials side by side (the files `scripts/news_suite.sh trial WORK NAME` writes).

    .venv/bin/python scripts/compare_suites.py WORK NAME [NAME...]

For each set (news measuring part, held t28-t30, lede check, squad1 untouched articles, squad2 measuring
half): the quote's hits (count and share of the answerable), the answered share, the declined shares
of the unanswerable and off-topic questions, passage@1, the p50 latency, then every breakdown bin, one
column a trial. A set a trial lacks shows "-".
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.bench.breakdown import ANSWERABLE_BINS, UNANSWERABLE_BINS  # noqa: E402

SETS = ("news", "t28-30", "lede", "squad1", "squad2")
BINS = ANSWERABLE_BINS + UNANSWERABLE_BINS


def metrics(path: Path) -> dict[str, Any] | None:
    """The eval report's metrics, or None when the file is missing or empty."""
    if not path.is_file() or path.stat().st_size == 0:
        return None
    report = json.loads(path.read_text(encoding="utf-8"))
    found = report.get("metrics", report)
    return found if isinstance(found, dict) else None


def _pct(value: object) -> str:
    return "-" if value is None else f"{100 * float(value):.1f}%"  # type: ignore[arg-type]


def rows(m: dict[str, Any]) -> dict[str, str]:
    """One trial's cells for one set."""
    n = int(m.get("answerable") or 0)
    hits = round(float(m.get("quote_hit") or 0) * n)
    cells = {
        "quote hit": f"{hits} ({_pct(m.get('quote_hit'))})",
        "answered": _pct(m.get("answered_rate")),
        "unanswerable declined": _pct(m.get("abstain_rate_impossible")),
        "off-topic declined": _pct(m.get("abstain_rate_off_corpus")),
        "passage@1": _pct(m.get("retrieval@1")),
        "p50 ms": str(m.get("latency_ms_median", "-")),
    }
    bins = m.get("breakdown") or {}
    for b in BINS:
        if b in bins:
            value = bins[b]  # {"n", "share"} (index.bench.breakdown.tally)
            cells[f"bin {b}"] = str(value["n"] if isinstance(value, dict) else value)
    return cells


def table(work: Path, names: list[str]) -> str:
    lines = []
    for s in SETS:
        found = {n: metrics(work / "out" / f"{s}-{n}.json") for n in names}
        if not any(found.values()):
            continue
        cells = {n: rows(m) if m else {} for n, m in found.items()}
        keys: list[str] = []
        for c in cells.values():
            keys += [k for k in c if k not in keys]
        lines.append(f"\n### {s}\n")
        lines.append("| | " + " | ".join(names) + " |")
        lines.append("|---|" + "---|" * len(names))
        for k in keys:
            lines.append(f"| {k} | " + " | ".join(cells[n].get(k, "-") for n in names) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("work", type=Path)
    ap.add_argument("names", nargs="+")
    args = ap.parse_args(argv)
    sys.stdout.write(table(args.work, args.names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
