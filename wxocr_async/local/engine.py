"""The local engine: recognition off the event loop, in a pool sized to the cores.

Models are loaded once per worker, when the pool starts. At most ``queue`` images wait
for a worker; beyond that, :meth:`LocalEngine.recognise` waits for room (a client) or,
with ``wait=False``, raises :class:`EngineBusy` at once (a server answers -1).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ..errors import InvalidInput, SystemBusy
from . import recognizer

#: WeChat's "system busy" reply, for a full queue or a worker that died
BUSY = {"errcode": -1, "errmsg": "system error"}


class EngineBusy(Exception):
    """Every worker is busy and the queue is full."""


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class LocalEngine:
    """RapidOCR plus field extraction, serving WeChat's replies.

    ``workers``: processes recognising at once (default: one per core); ``threads``: ONNX
    Runtime threads in each (default: the cores shared out between them); ``workers=0``
    recognises in a thread of this process instead (one image at a time: the cheapest
    start for a single image). ``queue``: images waiting for a worker at most (default
    ``2 × workers``).
    """

    def __init__(
        self, *, workers: int | None = None, queue: int | None = None, threads: int | None = None
    ) -> None:
        if workers is None:
            workers = default_workers()
        if type(workers) is not int or workers < 0:
            raise InvalidInput(f"workers must be a non-negative integer, not {workers!r}")
        if queue is not None and (type(queue) is not int or queue < 0):
            raise InvalidInput(f"queue must be a non-negative integer, not {queue!r}")
        if threads is not None and (type(threads) is not int or threads < 1):
            raise InvalidInput(f"threads must be a positive integer, not {threads!r}")
        self.workers = workers
        #: ONNX Runtime threads per worker: by default the cores shared out between the
        #: workers (throughput: no core oversubscribed); a server that wants one image read
        #: fast passes every core (an ID card photo in 0.75 s instead of 1.2 s on 2 cores)
        self.threads = (
            threads if threads is not None else max(1, default_workers() // max(workers, 1))
        )
        self.queue = queue if queue is not None else 2 * max(workers, 1)
        self._executor: concurrent.futures.Executor | None = None
        self._slots: asyncio.Semaphore | None = None
        self._slots_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"LocalEngine(workers={self.workers}, queue={self.queue})"

    async def start(self) -> None:
        """Start the workers and load the models in each (idempotent); a failure to is
        :class:`~wxocr_async.errors.SystemBusy` (errcode -1)."""
        if self._executor is not None:
            return
        try:
            await self._start()
        except Exception as exc:
            await self._restart()
            raise SystemBusy(
                -1, f"the local engine could not start: {type(exc).__name__}: {exc}"
            ) from None

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        if self.workers == 0:
            self._executor = concurrent.futures.ThreadPoolExecutor(1, "wxocr-local")
            await loop.run_in_executor(self._executor, recognizer.load_model, self.threads)
            return
        self._executor = concurrent.futures.ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=recognizer.worker_init,
            initargs=(self.threads,),
        )
        # every worker started and its model loaded before the first image
        await asyncio.gather(
            *(
                loop.run_in_executor(self._executor, recognizer.load_model)
                for _ in range(self.workers)
            )
        )

    async def recognise(self, endpoint: str, data: bytes, *, wait: bool = True) -> dict[str, Any]:
        """WeChat's reply for ``data`` sent to ``endpoint``. A cancelled caller leaves its
        image to finish in the worker (its slot is held until then: the bound stays true)."""
        await self.start()
        slots = self._semaphore()
        if not wait and slots.locked():
            raise EngineBusy(f"all {max(self.workers, 1)} workers busy and {self.queue} waiting")
        await slots.acquire()
        assert self._executor is not None
        try:
            future = asyncio.get_running_loop().run_in_executor(
                self._executor, recognizer.recognise, endpoint, data
            )
        except BaseException:
            slots.release()
            raise

        def finished(done: asyncio.Future[dict[str, Any]]) -> None:
            slots.release()
            if not done.cancelled():
                done.exception()  # retrieved: a cancelled caller's failure is not logged

        future.add_done_callback(finished)
        try:
            return await asyncio.shield(future)
        except BrokenProcessPool:  # a worker died (killed, out of memory)
            await self._restart()
            return dict(BUSY)
        except Exception:  # cannot happen in recognise (it catches); the answer stays -1
            return dict(BUSY)

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots_loop is not loop:
            self._slots = asyncio.Semaphore(max(self.workers, 1) + self.queue)
            self._slots_loop = loop
        return self._slots

    async def _restart(self) -> None:
        """A worker died (killed, out of memory): a fresh pool for the next image."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        """Stop the workers (images still queued are dropped)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)

    async def __aenter__(self) -> LocalEngine:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
