"""Scripted faults: what the emulator does instead of (or before) answering normally."""

from __future__ import annotations

import asyncio

import attrs

HTML_ERROR_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


@attrs.frozen
class Fault:
    """One scripted fault, consumed by one request. Build them with the class methods."""

    #: answer ``{"errcode": errcode, "errmsg": errmsg}`` (HTTP 200)
    errcode: int | None = None
    errmsg: str | None = None
    #: answer this raw HTTP status/body instead
    status: int | None = None
    body: bytes = b""
    content_type: str = "text/html"
    #: drop the connection without answering
    reset: bool = False
    #: wait until this event is set, then answer normally
    hold: asyncio.Event | None = None
    #: set when the request this fault applies to has arrived (before any holding)
    arrived: asyncio.Event | None = None
    #: wait this many seconds (server-side latency), then answer normally
    delay: float = 0.0
    #: invalidate every issued token, then answer normally (so the token is rejected)
    revoke_tokens: bool = False

    @classmethod
    def error(cls, errcode: int, errmsg: str | None = None) -> Fault:
        """Answer with a WeChat error reply: ``errmsg`` verbatim if given, else WeChat's own
        text for the code with a ``rid`` suffix as WeChat adds."""
        return cls(errcode=errcode, errmsg=errmsg)

    @classmethod
    def http(
        cls, status: int, body: bytes = HTML_ERROR_PAGE, content_type: str = "text/html"
    ) -> Fault:
        """Answer with an HTTP status and a (by default nginx HTML) body."""
        return cls(status=status, body=body, content_type=content_type)

    @classmethod
    def not_json(
        cls, body: bytes = b"upstream said: try later", content_type: str = "text/plain"
    ) -> Fault:
        """Answer HTTP 200 with a body that is not JSON."""
        return cls(status=200, body=body, content_type=content_type)

    @classmethod
    def connection_reset(cls) -> Fault:
        """Close the connection without a reply."""
        return cls(reset=True)

    @classmethod
    def held(cls, event: asyncio.Event, arrived: asyncio.Event | None = None) -> Fault:
        """Hold the reply until ``event`` is set (for timeouts without clocks); ``arrived``
        is set as soon as the held request is in."""
        return cls(hold=event, arrived=arrived)

    @classmethod
    def delayed(cls, seconds: float) -> Fault:
        """Reply after ``seconds``."""
        return cls(delay=seconds)

    @classmethod
    def revoke(cls) -> Fault:
        """Revoke every token first, as if another process had refreshed it."""
        return cls(revoke_tokens=True)
