"""Resources that belong to one event loop (an aiohttp session, a Redis client).

A client made at module level may be used under several successive ``asyncio.run()``
calls (a script, pytest-asyncio's per-test loops). :class:`PerLoop` makes the resource
on first use in each loop and closes it when that loop shuts down: it parks a started
async generator with the loop, and ``asyncio.run()`` (like ``asyncio.Runner`` and
pytest-asyncio) closes every such generator while the loop still runs, so the
resource is closed properly instead of leaking into a closed loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerLoop(Generic[T]):
    """One ``T`` per event loop: ``make()`` on first use, ``close(t)`` at loop shutdown
    or on :meth:`aclose`."""

    def __init__(self, make: Callable[[], T], close: Callable[[T], Awaitable[None]]) -> None:
        self._make = make
        self._close = close
        self._loop: asyncio.AbstractEventLoop | None = None
        self._value: T | None = None
        self._keeper: AsyncGenerator[None, None] | None = None

    @property
    def current(self) -> T | None:
        """The resource of the loop that used it last, if any (not made here)."""
        return self._value

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop :attr:`current` belongs to (None once that loop has shut it down)."""
        return self._loop

    async def get(self) -> T:
        """The resource for the running loop (made now if this loop has none)."""
        loop = asyncio.get_running_loop()
        if self._value is not None and self._loop is loop:
            return self._value
        # a previous loop's resource was closed when that loop shut down; if that loop
        # was closed without shutting down its generators, it is dropped here
        value = self._make()
        keeper = self._keep(value)
        await keeper.asend(None)  # started: the loop now holds it, to close at shutdown
        self._loop, self._value, self._keeper = loop, value, keeper
        return value

    async def _keep(self, value: T) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            if self._value is value:
                self._loop = self._value = self._keeper = None
            await self._close(value)

    async def aclose(self) -> None:
        """Close the running loop's resource now (a no-op if there is none)."""
        keeper = self._keeper
        if keeper is not None and self._loop is asyncio.get_running_loop():
            await keeper.aclose()
        self._loop = self._value = self._keeper = None
