"""The HTTP transport: the only module of the client that imports aiohttp.

It maps ``(method, url, body, content type, timeout)`` to ``(status, content
type, body)`` and turns aiohttp's exceptions into ours, once. aiohttp's own
exception texts can hold the full URL, and WeChat's URLs hold the access_token,
so a cause whose text contains a credential is not chained.
"""

from __future__ import annotations

import logging
from typing import Protocol

import aiohttp
import aiohttp.payload
import attrs
from aiohttp.abc import AbstractStreamWriter
from yarl import URL

from .errors import ConnectionFailed, HTTPStatusError, RequestTimeout, TransportError

log = logging.getLogger("wxocr_async.transport")

_CREDENTIAL_MARKERS = ("access_token", "secret", "cloudbase_access_token")


class _PartsPayload(aiohttp.payload.Payload):
    """A body sent as several byte strings in turn: no joined copy of the image."""

    _autoclose = True

    def __init__(self, parts: tuple[bytes, ...], content_type: str | None) -> None:
        super().__init__(parts, content_type=content_type)
        self._size = sum(map(len, parts))

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return b"".join(self._value).decode(encoding, errors)

    async def write(self, writer: AbstractStreamWriter) -> None:
        for part in self._value:
            await writer.write(part)  # drains between parts when the socket is slow

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        if content_length is None:
            await self.write(writer)
            return
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
    ) -> HttpResponse: ...

    async def close(self) -> None: ...


class AiohttpTransport:
    """Sends requests through one ``aiohttp.ClientSession``.

    A session passed in belongs to the caller and is never closed here; otherwise
    one is created lazily inside the running loop and closed by :meth:`close`.
    """

    def __init__(self, session: aiohttp.ClientSession | None = None) -> None:
        self._session = session
        self._owns_session = session is None
        self._closed = False

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this client is closed; create a new one")
        if self._session is None:
            self._session = aiohttp.ClientSession()
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
    ) -> HttpResponse:
        session = self._get_session()
        # the body goes as its parts, in turn (empty: no body at all)
        data = _PartsPayload(body, content_type) if body else None
        try:
            async with session.request(
                method,
                URL(url, encoded=True),
                data=data,
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=False,
            ) as resp:
                reply = await resp.read()
                return HttpResponse(resp.status, resp.headers.get("Content-Type", ""), reply)
        except TimeoutError as exc:
            raise RequestTimeout(f"no reply within {timeout} s", endpoint=where) from _safe_cause(
                exc
            )
        except aiohttp.ClientResponseError as exc:  # a caller's session with raise_for_status
            message = f"HTTP {exc.status} instead of a JSON reply"
            raise HTTPStatusError(exc.status, message, endpoint=where) from _safe_cause(exc)
        except (aiohttp.ClientConnectionError, ConnectionError) as exc:
            message = f"connection failed: {type(exc).__name__}"
            raise ConnectionFailed(message, endpoint=where) from _safe_cause(exc)
        except aiohttp.ClientError as exc:
            message = f"HTTP client error: {type(exc).__name__}"
            raise TransportError(message, endpoint=where) from _safe_cause(exc)

    async def close(self) -> None:
        """Close the session if this transport created it. Safe to call twice."""
        self._closed = True
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()


def _safe_cause(cause: BaseException) -> BaseException | None:
    """``cause`` to chain, or None when its text could reveal a credential from the URL."""
    text = f"{cause!s} {cause!r}"
    return None if any(marker in text for marker in _CREDENTIAL_MARKERS) else cause
