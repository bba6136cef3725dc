"""`articlebot eval`: answer quality on a question set (SQuAD format). Skeleton; see issue 4."""

from __future__ import annotations

import argparse

from index.config import Settings


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("questions", help="questions.jsonl (id, question, answers, article)")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument("--limit", type=int, help="ask only the first N questions")


def run_eval_command(args: argparse.Namespace, settings: Settings) -> int:
    raise NotImplementedError("articlebot eval is not built yet")
