"""The calls a client has in flight: each runs guarded (refused once the client is closed,
its errors scrubbed of secrets), and ``close()`` ends them all."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .errors import ClientClosed, WxOcrError
from .redact import Redactor

T = TypeVar("T")


class CallsInFlight:
    """The tasks running a call now, and those of them that :meth:`end` cancelled."""

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._calls: set[asyncio.Task[Any]] = set()
        self._closing: set[asyncio.Task[Any]] = set()
        #: set once :meth:`end` ran: new calls are refused
        self.closed = False

    async def guarded(self, where: str, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work``: refused once closed; :meth:`end` cancels it, and it raises
        :class:`ClientClosed` (unless its caller cancelled it too); every error is scrubbed
        of secret values."""
        if self.closed:
            raise ClientClosed("the client is closed; create a new one", endpoint=where)
        task = asyncio.current_task()
        assert task is not None
        self._calls.add(task)
        try:
            return await work()
        except WxOcrError as exc:
            self._redactor.scrub(exc)
            raise
        except asyncio.CancelledError:
            if task in self._closing and task.uncancel() == 0:
                raise ClientClosed(
                    "the client was closed during this call", endpoint=where
                ) from None
            raise
        finally:
            self._calls.discard(task)
            self._closing.discard(task)

    async def end(self, timeout: float) -> None:
        """Refuse new calls, cancel those in flight (but the caller's own) and wait for
        them, ``timeout`` seconds at most."""
        self.closed = True
        me, loop = asyncio.current_task(), asyncio.get_running_loop()
        calls = [t for t in self._calls if t is not me and not t.done() and t.get_loop() is loop]
        for task in calls:
            self._closing.add(task)
            task.cancel()
        if calls:
            await asyncio.wait(calls, timeout=timeout)
