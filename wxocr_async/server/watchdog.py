"""The server's connections: slow clients dropped, their number and the bodies being read
bounded, malformed requests answered in JSON without their text.

aiohttp bounds the size of a request, not the time it takes to arrive. Each connection's
protocol is wrapped in a :class:`Watchdog` whose timer runs while the connection waits
for or receives a request; the middleware stops it once a request's body has been read
whole, and restarts it when the reply is handed back. Requests being recognised are never
cut: the bound covers the client, not the work. A connection past ``max_connections`` is
closed at once, and at most ``max_reading`` request bodies are read at a time (each up
to the app's ``client_max_size``), so no number of clients grows the server's memory
without bound.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ..surface import error_reply, json_response

log = logging.getLogger("wxocr_async.server")

#: connections open at once at most (each costs a socket and up to ~128 KiB of buffers)
MAX_CONNECTIONS = 1000
#: request bodies being read at once at most (each up to the app's client_max_size)
MAX_READING = 32


class Watchdog(asyncio.Protocol):
    """aiohttp's protocol for one connection, closed after ``timeout`` seconds without a
    whole request (counted from the request's first byte, or from the last reply while
    the connection idles)."""

    def __init__(self, inner: Any, pack: Watchdogs) -> None:
        self._inner = inner
        self._pack = pack
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._idle = True  # no request under way: the first byte restarts the clock
        self._refused = False
        self.handling = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # TCP: a stream transport
        self._transport = transport
        if len(self._pack.live) >= self._pack.max_connections:
            self._refused = True  # aiohttp never hears of it
            self._pack.refused += 1
            transport.abort()
            return
        self._pack.live[transport] = self
        self._arm()
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._idle and not self.handling:
            self._idle = False
            self._arm()  # a request starts: it has `timeout` seconds to arrive whole
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        if self._refused:
            return None
        result: bool | None = self._inner.eof_received()
        return result

    def connection_lost(self, exc: Exception | None) -> None:
        if self._refused:
            return
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
        self.handling += 1
        self._disarm()

    def reply_started(self) -> None:
        """The reply goes out; the connection idles until its next request."""
        self.handling -= 1
        if not self.handling:
            self._idle = True
            self._arm()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()  # not close(): a client that reads nothing keeps it open

    def _arm(self) -> None:
        self._disarm()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._pack.timeout, self._expire)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        self._pack.dropped += 1
        self.abort()


class Watchdogs:
    """The watchdogs of one server's live connections, and the bounds they share."""

    def __init__(
        self,
        timeout: float,
        *,
        max_connections: int = MAX_CONNECTIONS,
        max_reading: int = MAX_READING,
    ) -> None:
        self.timeout = timeout
        self.max_connections = max_connections
        self.live: dict[asyncio.Transport, Watchdog] = {}
        #: connections closed for being too slow; refused for being one too many
        self.dropped = 0
        self.refused = 0
        self._reading = asyncio.Semaphore(max_reading)

    def protocol_factory(self, server: web.Server) -> Callable[[], Watchdog]:
        """For ``loop.create_server``: aiohttp's protocol for ``server`` (an AppRunner's),
        watched, with its errors in JSON."""
        loop = asyncio.get_running_loop()

        def make() -> Watchdog:
            return Watchdog(_JsonErrors(server, loop=loop, **_HANDLER_SETTINGS), self)

        return make

    def middleware(self) -> Middleware:
        """Reads each request's body (bounded by the app's ``client_max_size``, a few at
        a time) while the clock runs, then stops it for the handler."""

        @web.middleware
        async def request_complete(request: web.Request, handler: Handler) -> web.StreamResponse:
            dog = self.live.get(request.transport) if request.transport is not None else None
            if dog is None:
                return await handler(request)
            if request.can_read_body:
                async with self._reading:
                    try:
                        await request.read()  # kept by aiohttp for the handler
                    except ConnectionError:  # the client hung up mid-body: its business
                        log.debug("a client hung up before sending its whole request")
                        raise web.HTTPBadRequest() from None
            dog.request_received()
            try:
                return await handler(request)
            finally:
                dog.reply_started()

        return request_complete

    def abort_idle(self) -> None:
        """Close the connections with no request being handled (a stopping server's
        first step: a client half-way through a request is not waited for)."""
        for dog in list(self.live.values()):
            if not dog.handling:
                dog.abort()

    def abort_all(self) -> None:
        """Close every connection still open (a server's last step)."""
        for dog in list(self.live.values()):
            dog.abort()


#: aiohttp's per-connection settings: no access log (its lines would hold the request
#: line: a token, a secret), WeChat-sized headers, a refused body's rest not read for long
_HANDLER_SETTINGS: dict[str, Any] = {
    "access_log": None,
    "max_headers": 64,
    "lingering_time": 1.0,
}


class _JsonErrors(web.RequestHandler):
    """aiohttp's protocol, answering what it cannot parse or handle in WeChat's JSON."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """Without aiohttp's text, which repeats the request line (a token, a secret in
        the query). A malformed request is logged at DEBUG by its kind alone: a stranger
        cannot flood the log with it."""
        kind = type(exc).__name__ if exc is not None else str(status)
        if status >= 500:
            log.error("a request failed: %s", kind, exc_info=exc)
            reply = error_reply(-1)
        else:
            log.debug("a malformed request refused: %s", kind)
            reply = error_reply(400, "bad request: malformed HTTP")
        if request.writer.output_size > 0:  # part of a reply went out: only closing is left
            raise ConnectionError("a reply was under way; the connection is closed")
        response = json_response(reply, status=status)
        response.force_close()
        return response
