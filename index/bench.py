"""`articlebot bench`: speed and memory figures for docs/PERFORMANCE.md. Skeleton."""

from __future__ import annotations

import argparse

from index.config import Settings


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--questions", type=int, default=200, help="questions to time")


def run_bench_command(args: argparse.Namespace, settings: Settings) -> int:
    raise NotImplementedError("articlebot bench is not built yet")
