"""Dropping slow clients: a connection that has not delivered a whole request in time is
closed, whatever it is doing (slowloris headers, a body at one byte a second, idling).

aiohttp bounds the size of a request, not the time it takes to arrive. Each connection's
protocol is wrapped in a :class:`Watchdog` whose timer runs while the connection waits
for or receives a request; :func:`request_complete_middleware` stops it once a request's
body has been read whole, and restarts it when the reply is handed back. Requests being
recognised are never cut: the bound covers the client, not the work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware


class Watchdog(asyncio.Protocol):
    """aiohttp's protocol for one connection, closed after ``timeout`` seconds without a
    whole request (counted from the request's first byte, or from the last reply while
    the connection idles)."""

    def __init__(self, inner: Any, timeout: float, pack: Watchdogs) -> None:
        self._inner = inner
        self._timeout = timeout
        self._pack = pack
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._idle = True  # no request under way: the first byte restarts the clock
        self._handling = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # TCP: a stream transport
        self._transport = transport
        self._pack.live[transport] = self
        self._arm()
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._idle and not self._handling:
            self._idle = False
            self._arm()  # a request starts: it has `timeout` seconds to arrive whole
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        result: bool | None = self._inner.eof_received()
        return result

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._transport is not None:
            self._pack.live.pop(self._transport, None)
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def request_received(self) -> None:
        """A whole request is in: its handling is not the client's time."""
        self._handling += 1
        self._disarm()

    def reply_started(self) -> None:
        """The reply goes out; the connection idles until its next request."""
        self._handling -= 1
        if not self._handling:
            self._idle = True
            self._arm()

    def _arm(self) -> None:
        self._disarm()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._timeout, self._expire)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        self._pack.dropped += 1
        if self._transport is not None:
            self._transport.abort()  # not close(): a client that reads nothing keeps it open


class Watchdogs:
    """The watchdogs of one server's live connections."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.live: dict[asyncio.Transport, Watchdog] = {}
        #: connections closed for being too slow
        self.dropped = 0

    def protocol_factory(self, make_inner: Callable[[], Any]) -> Callable[[], Watchdog]:
        """For ``loop.create_server``: aiohttp's protocol, watched."""
        return lambda: Watchdog(make_inner(), self.timeout, self)

    def middleware(self) -> Middleware:
        """Reads each request's body (bounded by the app's ``client_max_size``) while the
        clock runs, then stops it for the handler."""

        @web.middleware
        async def request_complete(request: web.Request, handler: Handler) -> web.StreamResponse:
            dog = self.live.get(request.transport) if request.transport is not None else None
            if dog is None:
                return await handler(request)
            if request.can_read_body:
                await request.read()  # kept by aiohttp for the handler
            dog.request_received()
            try:
                return await handler(request)
            finally:
                dog.reply_started()

        return request_complete

    def abort_all(self) -> None:
        """Close every connection still open (a server's last step)."""
        for transport in list(self.live):
            transport.abort()
