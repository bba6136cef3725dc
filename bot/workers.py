"""Where blocking work runs: never on the event loop, and with a bounded number of threads.

Questions share one small pool (the model and FAISS are compute-bound: more threads only fight for
the two cores); reindexing gets its own thread so questions keep being answered meanwhile; SQLite
and file writes get a third, so they never queue behind a question or a build.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Workers:
    def __init__(self, query_threads: int = 1) -> None:
        self._query = ThreadPoolExecutor(query_threads, thread_name_prefix="articlebot-query")
        self._build = ThreadPoolExecutor(1, thread_name_prefix="articlebot-build")
        self._io = ThreadPoolExecutor(1, thread_name_prefix="articlebot-io")

    async def query(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._run(self._query, fn, *args, **kwargs)

    async def build(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._run(self._build, fn, *args, **kwargs)

    async def io(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._run(self._io, fn, *args, **kwargs)

    @staticmethod
    async def _run(
        pool: ThreadPoolExecutor, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, functools.partial(fn, *args, **kwargs))

    def shutdown(self) -> None:
        for pool in (self._query, self._build, self._io):
            pool.shutdown(wait=False, cancel_futures=True)
