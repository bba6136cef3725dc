"""Garbage collection for a process that serves a large generation for a long time (issue 11).

A loaded generation is tens of thousands of long-lived objects (articles, term statistics, index
wrappers). CPython's full collections walk all of them again and again: at 100k chunks one pause
reached 35 ms during 1,000 questions. So, once a process has asked for it (`serve_long_lived`, called
by the entry points: the `articlebot` command, the bot, the scale bench's serving process), each
generation the engine loads is frozen (`gc.freeze`: collections skip it), and young collections run
less often. Frozen objects are still freed by reference counting, so a swapped-out generation goes
as soon as its last question ends, provided it holds no reference cycle (tests/test_gc_policy.py
checks that it does not).
"""

from __future__ import annotations

import gc

from index.process.malloc_policy import reuse_large_blocks

# Young objects allocated before a collection (CPython's default: 700). A question allocates some
# thousands of short-lived containers; 10,000 keeps a young collection to about a millisecond.
GEN0_THRESHOLD = 10_000
GEN1_THRESHOLD = 10
GEN2_THRESHOLD = 10

_DEFAULT_THRESHOLDS = gc.get_threshold()
_state = {"serving": False}


def serve_long_lived() -> None:
    """This process serves questions for a long time: tune the collector, freeze generations, and
    let the allocator reuse a question's large temporaries (index/process/malloc_policy.py)."""
    gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)
    _state["serving"] = True
    reuse_large_blocks()


def serving() -> bool:
    return _state["serving"]


def stop_serving() -> None:
    """Back to CPython's defaults, nothing frozen (for tests, which run many commands in one process)."""
    gc.unfreeze()
    gc.set_threshold(*_DEFAULT_THRESHOLDS)
    _state["serving"] = False


def settle_after_load() -> None:
    """After a generation was loaded or swapped in: collect once, then freeze what survives.

    Everything frozen before is thawed first, so that a generation left behind by a swap and any
    cycle it held are collected now rather than kept for good. No-op unless `serve_long_lived` ran.
    """
    if not _state["serving"]:
        return
    gc.unfreeze()
    gc.collect()
    gc.freeze()
