"""Small misbehaving servers for the hostile-case tests, on 127.0.0.1 (raw asyncio).

* :class:`RawHttpServer` reads each request (head and body, capped) and answers with
  whatever bytes a scenario writes: malformed HTTP, floods, bombs.
* :class:`TcpProxy` forwards to a real server (Redis) and can be frozen mid-stream.
* :class:`SilentServer` accepts connections, reads, and never answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import Awaitable, Callable
from functools import cache
from types import TracebackType
from typing import Protocol, Self


class Writer(Protocol):
    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...


Scenario = Callable[[Writer], Awaitable[None]]

HEAD_CAP = 64 * 1024
BODY_CAP = 4 * 1024 * 1024


class _Server:
    """Lifecycle shared by the servers: listen on an ephemeral port, close everything."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self.port = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        self._idle.clear()
        try:
            await self._handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):  # the peer may be gone: that ends it too
                await asyncio.wait_for(writer.wait_closed(), 10)
            self._writers.discard(writer)
            if not self._writers:
                self._idle.set()

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        await asyncio.wait_for(self._idle.wait(), 30)  # every connection handled and closed


class RawHttpServer(_Server):
    """Answers every request by running ``scenario`` on the connection's writer."""

    def __init__(self, scenario: Scenario) -> None:
        super().__init__()
        self.scenario = scenario
        #: request lines received (they hold tokens: never print them)
        self.requests: list[str] = []
        #: bytes the scenario managed to write before the client hung up
        self.bytes_sent = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > HEAD_CAP:
            return
        lines = head.decode("latin-1").split("\r\n")
        self.requests.append(lines[0])
        length = next(
            (
                int(v)
                for k, _, v in (h.partition(":") for h in lines[1:])
                if k.lower() == "content-length"
            ),
            0,
        )
        await reader.readexactly(min(length, BODY_CAP))
        await self.scenario(_CountingWriter(writer, self))


class _CountingWriter:
    """A StreamWriter stand-in for scenarios that counts what was written."""

    def __init__(self, writer: asyncio.StreamWriter, server: RawHttpServer) -> None:
        self._writer = writer
        self._server = server

    def write(self, data: bytes) -> None:
        self._writer.write(data)
        self._server.bytes_sent += len(data)

    async def drain(self) -> None:
        await self._writer.drain()


def reply(raw: bytes) -> Scenario:
    """A scenario that writes ``raw`` and closes."""

    async def scenario(writer: Writer) -> None:
        writer.write(raw)
        await writer.drain()

    return scenario


def stream(head: bytes, chunk: bytes, *, chunked: bool = False) -> Scenario:
    """A scenario that writes ``head`` then ``chunk`` again and again until the client
    hangs up (an endless, or a 200 MB, body)."""

    async def scenario(writer: Writer) -> None:
        writer.write(head)
        framed = b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk
        with contextlib.suppress(ConnectionError):
            for _ in range(100_000):  # a hang guard of its own: at most a few GB
                writer.write(framed)
                await writer.drain()

    return scenario


def http_reply(status: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items())]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@cache
def bomb(encoding: str, size: int = 512 * 1024 * 1024) -> bytes:
    """``size`` zero bytes compressed as ``gzip``, ``deflate`` (zlib) or ``raw-deflate``
    (a few hundred KB; built once, never holding the expanded bytes)."""
    wbits = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}.get(encoding, -zlib.MAX_WBITS)
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = bytes(1024 * 1024)
    parts = [packer.compress(block) for _ in range(size // len(block))]
    return b"".join([*parts, packer.flush()])


class TcpProxy(_Server):
    """Forwards to ``upstream``; :meth:`freeze` stops forwarding (both ways) until
    :meth:`thaw`. ``holding`` is set once data arrives while frozen."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__()
        self._upstream = (host, port)
        self._open = asyncio.Event()
        self._open.set()
        self.holding = asyncio.Event()
        self._pumps: set[asyncio.Task[None]] = set()

    def freeze(self) -> None:
        self.holding.clear()
        self._open.clear()

    def thaw(self) -> None:
        self._open.set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        try:
            pumps = [
                asyncio.ensure_future(self._pump(reader, up_writer)),
                asyncio.ensure_future(self._pump(up_reader, writer)),
            ]
            self._pumps.update(pumps)
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
        finally:
            up_writer.close()

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        while data := await source.read(65536):
            if not self._open.is_set():
                self.holding.set()
                await self._open.wait()
            sink.write(data)
            await sink.drain()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.thaw()
        for pump in list(self._pumps):
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        await super().__aexit__(exc_type, exc, tb)


class SilentServer(_Server):
    """Accepts, reads whatever comes (capped), never answers: a stalled dependency."""

    def __init__(self) -> None:
        super().__init__()
        self.connected = asyncio.Event()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connected.set()
        received = 0
        while received < BODY_CAP and (data := await reader.read(65536)):
            received += len(data)
