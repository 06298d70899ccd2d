"""The HTTP transport: the only module of the client that imports aiohttp.

It maps ``(method, url, body, content type, timeout)`` to ``(status, content type,
body)`` and turns every exception aiohttp raises into ours, once. It never follows a
redirect, never raises for a status (the caller's session may be set to: it is
overridden per request), and reads a reply body up to :data:`MAX_REPLY_BYTES`,
counted after decompression, which it does itself so that a compression bomb is cut
off at the cap. The client scrubs the errors of secret values (see
:mod:`wxocr_async.redact`); causes are chained for debugging.
"""

from __future__ import annotations

import asyncio
import functools
import zlib
from typing import Protocol

import aiohttp
import aiohttp.payload
import attrs
from aiohttp.abc import AbstractStreamWriter
from multidict import CIMultiDict
from yarl import URL

from .errors import (
    BadResponse,
    ClientClosed,
    ConnectionFailed,
    InvalidInput,
    RequestTimeout,
    TransportError,
    WxOcrError,
)
from .loops import PerLoop

#: the largest reply body read, after decompression (WeChat's replies are a few KB; a
#: dense printed-text page stays well under 1 MB)
MAX_REPLY_BYTES = 4 * 1024 * 1024

#: header lines a reply may have (WeChat sends about ten; aiohttp's own limit differs
#: between releases, and older ones have none)
MAX_REPLY_HEADERS = 128

# only what we can decompress with a cap; never brotli, even when it is installed
_ACCEPT_ENCODING = CIMultiDict({"Accept-Encoding": "gzip, deflate"})


@attrs.define
class SendProgress:
    """How far one request got: ``sent`` once it may have reached the server (its body
    started going out, or it has no body and the exchange began). A refused connection
    resets it: that request never reached anyone."""

    sent: bool = False


class _PartsPayload(aiohttp.payload.Payload):
    """A body sent as several byte strings in turn: no joined copy of the image."""

    _autoclose = True

    def __init__(
        self, parts: tuple[bytes, ...], content_type: str | None, progress: SendProgress | None
    ) -> None:
        super().__init__(parts, content_type=content_type)
        self._size = sum(map(len, parts))
        self._progress = progress

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return b"".join(self._value).decode(encoding, errors)

    async def write(self, writer: AbstractStreamWriter) -> None:
        if self._progress is not None:
            self._progress.sent = True
        for part in self._value:
            await writer.write(part)  # drains between parts when the socket is slow

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        if content_length is None:
            await self.write(writer)
            return
        if self._progress is not None:
            self._progress.sent = True
        left = content_length
        for part in self._value:
            if left <= 0:
                break
            chunk = part if len(part) <= left else memoryview(part)[:left]
            await writer.write(chunk)
            left -= len(chunk)


@attrs.frozen
class HttpResponse:
    status: int
    content_type: str
    body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")


class Transport(Protocol):
    """What the client needs from HTTP; tests and other stacks can supply their own."""

    async def send(
        self,
        method: str,
        url: str,
        *,
        body: tuple[bytes, ...],
        content_type: str | None,
        timeout: float | None,
        where: str,
        progress: SendProgress | None = None,
    ) -> HttpResponse: ...

    async def close(self) -> None: ...


class AiohttpTransport:
    """Sends requests through an ``aiohttp.ClientSession``.

    A session passed in belongs to the caller and is never closed here (it must belong
    to the loop that makes the calls). Otherwise the transport makes one per event loop,
    on first use, and closes it when that loop shuts down or on :meth:`close`.
    """

    def __init__(
        self, session: aiohttp.ClientSession | None = None, *, max_reply: int = MAX_REPLY_BYTES
    ) -> None:
        self._session = session
        self._owned: PerLoop[aiohttp.ClientSession] = PerLoop(aiohttp.ClientSession, close_session)
        self._max_reply = max_reply
        self._closed = False

    @property
    def session_loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop of the session this transport made last, if it made one."""
        return self._owned.loop

    async def _get_session(self, where: str) -> aiohttp.ClientSession:
        if self._closed:
            raise ClientClosed("the client is closed; create a new one", endpoint=where)
        if self._session is None:
            return await self._owned.get()
        owner = getattr(self._session, "_loop", None)  # aiohttp keeps no public accessor
        if owner is not None and owner is not asyncio.get_running_loop():
            state = "a closed" if owner.is_closed() else "another"
            raise InvalidInput(
                f"the aiohttp.ClientSession passed as session= belongs to {state} event "
                "loop; create it inside the loop that makes the calls"
            )
        return self._session

    async def send(
        self,
        method: str,
        url: str,
        *,
        body: tuple[bytes, ...],
        content_type: str | None,
        timeout: float | None,
        where: str,
        progress: SendProgress | None = None,
    ) -> HttpResponse:
        session = await self._get_session(where)
        # the body goes as its parts, in turn (empty: no body at all)
        data = _PartsPayload(body, content_type, progress) if body else None
        if data is None and progress is not None:
            progress.sent = True  # no body to watch: assume it may arrive
        error: WxOcrError
        cause: BaseException
        try:
            async with session.request(
                method,
                URL(url, encoded=True),
                data=data,
                headers=_ACCEPT_ENCODING,
                timeout=_client_timeout(timeout),
                allow_redirects=False,
                raise_for_status=False,
                auto_decompress=False,
            ) as resp:
                reply = await read_body(resp, self._max_reply, where)
                return HttpResponse(resp.status, resp.headers.get("Content-Type", ""), reply)
        except WxOcrError:
            raise
        except TimeoutError as exc:
            error, cause = RequestTimeout(f"no reply within {timeout} s", endpoint=where), exc
        except aiohttp.ClientConnectorError as exc:  # refused, DNS, TLS: nothing was sent
            if progress is not None:
                progress.sent = False
            error, cause = _failed(f"cannot connect: {type(exc).__name__}", where), exc
        except aiohttp.ClientResponseError as exc:  # the reply could not be parsed as HTTP
            error, cause = _malformed(f"{type(exc).__name__}: {exc.message}", where), exc
        except aiohttp.ClientPayloadError as exc:  # bad chunk, cut short, bad encoding
            error, cause = _malformed(f"the reply body is broken: {type(exc).__name__}", where), exc
        except (aiohttp.ClientConnectionError, ConnectionError) as exc:
            error, cause = _failed(f"connection failed: {type(exc).__name__}", where), exc
        except aiohttp.ClientError as exc:
            error = TransportError(f"HTTP client error: {type(exc).__name__}", endpoint=where)
            cause = exc
        except (RuntimeError, ValueError, OSError) as exc:  # e.g. a header aiohttp refuses
            error = TransportError(f"HTTP client failure: {type(exc).__name__}", endpoint=where)
            cause = exc
        raise error from cause  # outside the except blocks: no implicit __context__

    async def close(self) -> None:
        """Close the session if this transport made it. Safe to call twice."""
        self._closed = True
        await self._owned.aclose()


@functools.lru_cache(maxsize=16)
def _client_timeout(total: float | None) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=total)


async def close_session(session: aiohttp.ClientSession) -> None:
    """Close ``session`` unless it is closed already."""
    if not session.closed:
        await session.close()


def _failed(message: str, where: str) -> ConnectionFailed:
    return ConnectionFailed(message, endpoint=where)


def _malformed(what: str, where: str) -> BadResponse:
    return BadResponse(f"malformed HTTP reply ({what[:200]})", endpoint=where)


async def read_body(resp: aiohttp.ClientResponse, cap: int, where: str) -> bytes:
    """The reply body, decompressed, refusing more than ``cap`` bytes in or out."""
    if len(resp.raw_headers) > MAX_REPLY_HEADERS:
        raise _malformed(f"{len(resp.raw_headers)} header lines", where)
    encoding = resp.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
        raise BadResponse(
            f"reply uses an unsupported Content-Encoding {encoding[:40]!r}", endpoint=where
        )
    if encoding in ("", "identity"):
        length = resp.content_length
        if length is not None and length > cap:
            raise body_too_large(cap, where)
        if length is not None:  # the parser stops at Content-Length: a bounded read
            return await resp.read()
    inflate = _Inflater(encoding, cap, where) if encoding not in ("", "identity") else None
    parts: list[bytes] = []
    received = 0
    while chunk := await resp.content.readany():
        received += len(chunk)
        if received > cap:
            raise body_too_large(cap, where)
        if inflate is not None:
            parts.extend(inflate.feed(chunk))
        else:
            parts.append(chunk)
    if inflate is not None:
        parts.extend(inflate.finish())
    return b"".join(parts)


class _Inflater:
    """gzip or deflate, never producing more than ``cap`` bytes in all."""

    def __init__(self, encoding: str, cap: int, where: str) -> None:
        self._encoding = encoding
        self._cap = cap
        self._where = where
        self._out = 0
        self._d: zlib._Decompress | None = None

    def feed(self, data: bytes) -> list[bytes]:
        if self._d is None:
            if self._encoding == "deflate":  # zlib-wrapped, or (against the RFC) raw
                zlib_header = (
                    len(data) >= 2 and data[0] & 0x0F == 8 and int.from_bytes(data[:2]) % 31 == 0
                )
                self._d = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
            else:
                self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out: list[bytes] = []
        try:
            while data:
                piece = self._d.decompress(data, self._cap + 1 - self._out)
                self._out += len(piece)
                if self._out > self._cap:
                    raise body_too_large(self._cap, self._where)
                out.append(piece)
                data = self._d.unconsumed_tail
        except zlib.error:
            raise BadResponse(
                f"reply body is not valid {self._encoding} data", endpoint=self._where
            ) from None
        return out

    def finish(self) -> list[bytes]:
        if self._d is None:
            return []
        try:
            rest = self._d.flush(self._cap + 1 - self._out)
        except zlib.error:
            raise BadResponse(
                f"reply body is not valid {self._encoding} data", endpoint=self._where
            ) from None
        if self._out + len(rest) > self._cap:
            raise body_too_large(self._cap, self._where)
        return [rest]


class BodyTooLarge(BadResponse):
    """A reply body over the cap (counted after decompression): not read further."""


def body_too_large(cap: int, where: str) -> BodyTooLarge:
    return BodyTooLarge(f"reply body is larger than {cap} bytes; not read further", endpoint=where)
