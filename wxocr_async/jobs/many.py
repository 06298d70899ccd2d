"""``recognise_many``: the library from code that is not async (a Dask task, a Celery task,
a Spark ``mapPartitions`` function, a ``multiprocessing.Pool`` worker).

Each (process, config) gets one event loop, in a daemon thread, and one client on it,
made on the first call and reused by every later call from any thread: one token fetch
and one local engine per process, however many tasks it runs. A forked child makes its
own. They are closed when the interpreter exits (or by :func:`close_clients`).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import threading
from collections.abc import Coroutine, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from ..batch import resolve_endpoint
from ..client import OcrClient
from ..config import ClientConfig
from ..endpoints import Endpoint
from ..errors import InvalidInput
from ..naming import Naming
from .inputs import Input
from .results import result_line

if TYPE_CHECKING:
    from ..local import LocalEngine

T = TypeVar("T")

#: seconds the interpreter's exit waits for each client to close
CLOSE_TIMEOUT = 10.0


class ClientThread:
    """An event loop in a daemon thread, and one client built from ``config`` on it (its
    local engine started): for code that is not async, or whose own loop is not the one
    to use (a Ray actor's). ``local_engine``: an engine of the caller's for the client,
    closed with it."""

    def __init__(self, config: ClientConfig, *, local_engine: LocalEngine | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self._engine = local_engine
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="wxocr-jobs", daemon=True
        )
        self._thread.start()
        try:
            self.client: OcrClient = self.run(self._start(config))
        except BaseException:
            self.stop()
            raise

    async def _start(self, config: ClientConfig) -> OcrClient:
        options: dict[str, Any] = {} if self._engine is None else {"local_engine": self._engine}
        client = config.build(**options)
        try:  # a local engine's models load before the first call's clock starts
            await client.warm_up()
        except BaseException:
            await self._close(client)
            raise
        return client

    async def _close(self, client: OcrClient) -> None:
        try:
            await client.close()
        finally:
            if self._engine is not None:
                await self._engine.close()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait for it (cancelled if this thread is
        interrupted)."""
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()
            raise

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start ``coro`` on the loop without waiting (``asyncio.wrap_future`` awaits it
        from another loop)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self) -> None:
        """Close the client (and the engine given), then stop the loop."""
        try:
            self.run(self._close(self.client), CLOSE_TIMEOUT)
        except (concurrent.futures.TimeoutError, RuntimeError):
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(CLOSE_TIMEOUT)
            if not self._thread.is_alive():
                self.loop.close()


_runners: dict[tuple[int, ClientConfig], ClientThread] = {}
_lock = threading.Lock()


def _runner(config: ClientConfig) -> ClientThread:
    key = (os.getpid(), config)  # a forked child inherits the dict, not the threads
    with _lock:
        runner = _runners.get(key)
        if runner is None:
            runner = _runners[key] = ClientThread(config)
    return runner


@atexit.register
def close_clients() -> None:
    """Close this process's clients and stop their loops (run at the interpreter's
    exit; the next :func:`recognise_many` makes new ones)."""
    with _lock:
        mine = [key for key in _runners if key[0] == os.getpid()]
        runners = [_runners.pop(key) for key in mine]
    for runner in runners:
        runner.close()


def _key(item: object, index: int) -> str:
    """The ``path`` of an item's line: an :class:`Input`'s key, the path or URL as given,
    else its position."""
    if isinstance(item, Input):
        return item.key
    if isinstance(item, str):
        return item
    if isinstance(item, os.PathLike):
        return os.fsdecode(item)
    return f"#{index}"


def recognise_many(
    endpoint: str | Endpoint[Any],
    items: Iterable[object],
    config: ClientConfig,
    *,
    concurrency: int = 8,
    naming: Naming | None = None,
) -> list[bytes]:
    """Recognise ``items`` (paths, ``http(s)://`` URLs, bytes, file objects, or
    :class:`Input` from :func:`~wxocr_async.jobs.input_lister`) with ``endpoint``; one
    result line per item, in the order of ``items``, in ``wxocr batch``'s format
    (``path``: the input's key, the path or URL as given, or ``#index``).

    Synchronous: it runs on this process's loop and client for ``config`` (made on first
    use, then reused). An item that fails is a line with ``"status": "error"``; a
    spent quota leaves the rest ``"not_attempted"``, never sent. ``naming``: the result
    fields' names (default: ``config.naming``).
    """
    found = resolve_endpoint(endpoint)
    if not isinstance(config, ClientConfig):
        raise InvalidInput(f"config must be a wx.ClientConfig, not {type(config).__name__}")
    listed = list(items)
    chosen: Naming = naming if naming is not None else config.naming
    runner = _runner(config)

    async def run() -> list[bytes]:
        lines: list[bytes] = []
        sent = [item.target if isinstance(item, Input) else item for item in listed]
        batch = runner.client.batch(found, sent, concurrency=concurrency, ordered=True)
        async for outcome in batch:
            key = _key(listed[outcome.index], outcome.index)
            lines.append(result_line(key, outcome, chosen, found.name))
        return lines

    return runner.run(run())
