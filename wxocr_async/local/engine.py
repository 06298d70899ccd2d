"""The local engine: recognition off the event loop, in a pool sized to the cores.

Models are loaded once per worker, when the pool starts. An image is handed to the pool
only when a worker is free, so it starts at once and its ``timeout`` counts the
recognition alone; until then it waits here, where a cancelled caller leaves nothing
behind. With ``wait=False`` (a server) and ``queue`` images waiting already,
:meth:`LocalEngine.recognise` raises :class:`EngineBusy` at once (the server answers -1).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ..errors import InvalidInput, SystemBusy
from ..image_header import pixel_problem
from ..inspection import Inspection
from . import recognizer

log = logging.getLogger("wxocr_async.local")

#: images up to this size have their header checked on the event loop (microseconds)
_CHECK_INLINE = 64 * 1024

#: WeChat's "system busy" reply, for a full queue or a worker that died
BUSY = {"errcode": -1, "errmsg": "system error"}


class EngineBusy(Exception):
    """Every worker is busy and the queue is full."""


def default_workers() -> int:
    """One worker per CPU this process may use (:func:`usable_cpus`)."""
    return usable_cpus()


def usable_cpus() -> int:
    """The CPUs this process may use: its affinity mask (``taskset``, a container's
    cpuset), lowered by ``OMP_NUM_THREADS`` when that is set, never the host's every core."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    omp = os.environ.get("OMP_NUM_THREADS", "").strip()
    if omp.isdigit() and int(omp) > 0:
        cpus = min(cpus, int(omp))
    return max(1, cpus)


def _retrieved(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


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
        #: called with (endpoint, seconds a worker spent) after each recognition
        self.on_recognised: Callable[[str, float], None] | None = None
        #: images being recognised now, and waiting for a worker
        self.running = 0
        self.queued = 0
        #: times a dead worker's pool was replaced
        self.restarts = 0
        #: images refused for their pixel size, never decoded
        self.refused = 0
        self._executor: concurrent.futures.Executor | None = None
        self._loading: asyncio.Future[None] | None = None
        self._slots: asyncio.Semaphore | None = None
        self._slots_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"LocalEngine(workers={self.workers}, queue={self.queue})"

    async def start(self) -> None:
        """Start the workers and load the models in each; callers at the same time share
        one start, and return once every model is loaded. A failure to start is
        :class:`~wxocr_async.errors.SystemBusy` (errcode -1), and the next call tries
        again."""
        if self._executor is not None and self._loading is None:
            return
        loading = self._loading
        if loading is None or loading.get_loop() is not asyncio.get_running_loop():
            loading = self._loading = asyncio.ensure_future(self._start_once())
            loading.add_done_callback(_retrieved)  # every caller may have been cancelled
        await asyncio.shield(loading)  # a cancelled caller leaves the start to the others

    async def _start_once(self) -> None:
        try:
            await self._start()
        except Exception as exc:
            self._discard_pool()
            err = SystemBusy(-1, f"the local engine could not start: {type(exc).__name__}: {exc}")
            err.origin = "local"
            raise err from None
        finally:
            self._loading = None

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

    async def recognise(
        self, endpoint: str, data: bytes, *, wait: bool = True, timeout: float | None = None
    ) -> dict[str, Any]:
        """WeChat's reply for ``data`` sent to ``endpoint``.

        An image whose header claims more than
        :data:`~wxocr_async.image_header.MAX_IMAGE_PIXELS` (or a side over
        :data:`~wxocr_async.image_header.MAX_IMAGE_SIDE`), or whose size cannot be read, is
        101002 at once, having decoded nothing. Otherwise the image waits for a free
        worker (with ``wait=False`` and ``queue`` images waiting already,
        :class:`EngineBusy` at once) and is handed to it. ``timeout``: seconds for the
        recognition itself, counted from that moment (starting the engine and waiting for
        a worker do not count); past it, ``TimeoutError``. A caller cancelled while its
        image waits leaves nothing behind; one cancelled or timed out during recognition
        leaves the image to finish in its worker, which is not free until then.
        """
        return (await self._run(endpoint, data, wait, timeout, inspect=False)).reply

    async def inspect(
        self, endpoint: str, data: bytes, *, wait: bool = True, timeout: float | None = None
    ) -> Inspection:
        """:meth:`recognise`, with what the recognition saw: every text line it read and
        the lines each reply field came from (:mod:`.provenance`). The lines are there
        when the reply is an error too (101001: what was read, though no document was
        found); an image refused before decoding has none."""
        outcome = await self._run(endpoint, data, wait, timeout, inspect=True)
        seen = outcome.seen
        if seen is None:
            return Inspection(endpoint, outcome.reply, "local")
        return Inspection(
            endpoint, outcome.reply, "local", seen.lines, seen.fields, seen.size, outcome.seconds
        )

    async def _run(
        self, endpoint: str, data: bytes, wait: bool, timeout: float | None, *, inspect: bool
    ) -> recognizer.Outcome:
        # a header walk is quick, but a crafted 2 MB one takes tens of ms: off the loop
        checking = len(data) > _CHECK_INLINE
        problem = await asyncio.to_thread(pixel_problem, data) if checking else pixel_problem(data)
        if problem is not None:
            self.refused += 1
            reply = {**recognizer.NOT_AN_IMAGE, "errmsg": f"decode image failed: {problem}"}
            return recognizer.Outcome(reply, 0.0)
        await self.start()
        idle = self._idle_workers()
        if not wait and idle.locked() and self.queued >= self.queue:
            raise EngineBusy(f"all {max(self.workers, 1)} workers busy and {self.queue} waiting")
        self.queued += 1
        try:
            await idle.acquire()  # cancelled here: never recognised
        finally:
            self.queued -= 1
        try:
            if self._executor is None:  # a worker died while this image waited: a new pool
                await self.start()
            executor = self._executor
            if executor is None:  # and died again at once
                idle.release()
                return recognizer.Outcome(dict(BUSY), 0.0)
            future = asyncio.get_running_loop().run_in_executor(
                executor, recognizer.run, endpoint, data, inspect
            )
        except BrokenProcessPool:  # a worker died since the last image (killed, SIGTERM)
            idle.release()
            await self._restart()
            return recognizer.Outcome(dict(BUSY), 0.0)
        except BaseException:
            idle.release()
            raise
        self.running += 1

        def finished(done: asyncio.Future[recognizer.Outcome]) -> None:
            idle.release()
            self.running -= 1
            if not done.cancelled() and done.exception() is None:  # retrieved either way
                self._report(endpoint, done.result())

        future.add_done_callback(finished)
        try:
            async with asyncio.timeout(timeout):  # a worker has it: the clock starts
                return await asyncio.shield(future)
        except BrokenProcessPool:  # a worker died (killed, out of memory)
            await self._restart()
            return recognizer.Outcome(dict(BUSY), 0.0)
        except TimeoutError:
            raise
        except Exception:  # the pool itself failed (not the recognition: run() catches)
            log.exception("the local engine failed to run a recognition for %s", endpoint)
            return recognizer.Outcome(dict(BUSY), 0.0)

    @property
    def in_flight(self) -> int:
        """Images being recognised or waiting for a worker now."""
        return self.running + self.queued

    def _report(self, endpoint: str, outcome: recognizer.Outcome) -> None:
        if outcome.failure is not None:
            log.error(
                "the local engine failed on an image for %s (answered %s):\n%s",
                endpoint,
                outcome.reply["errcode"],
                outcome.failure.rstrip(),
            )
        if self.on_recognised is not None:
            try:
                self.on_recognised(endpoint, outcome.seconds)
            except Exception:
                log.exception("the on_recognised hook failed")

    def _idle_workers(self) -> asyncio.Semaphore:
        """One token per worker: an image is handed to the pool only when one is free, so
        that it starts at once (the pool's own queue stays empty)."""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots_loop is not loop:
            self._slots = asyncio.Semaphore(max(self.workers, 1))
            self._slots_loop = loop
        return self._slots

    async def _restart(self) -> None:
        """A worker died (killed, out of memory): a fresh pool for the next image."""
        if self._discard_pool():
            self.restarts += 1
            log.warning("a local engine worker died; starting a fresh pool")

    def _discard_pool(self) -> bool:
        """Drop the pool without waiting for its workers; whether there was one."""
        executor, self._executor = self._executor, None
        if executor is None:
            return False
        executor.shutdown(wait=False, cancel_futures=True)
        return True

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
