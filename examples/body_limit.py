"""The cap on request bodies both example services share, and the ASGI middleware that
enforces it for the FastAPI one (the aiohttp one checks it in its handler).

A body over :data:`MAX_BODY_BYTES` is answered 413 with a ``wxocr_async.http_errors``
body and ``Connection: close``, without reading the rest of it: by its ``Content-Length``
before anything is read, else (chunked) as soon as the bytes received pass the cap.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from wxocr_async.errors import ERRCODE_IMAGE_TOO_LARGE
from wxocr_async.http_errors import HttpError
from wxocr_async.surface import MAX_REQUEST_BODY

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: the most of a request body either service reads: WeChat's image limit (2 MiB) plus
#: 64 KiB for the multipart form around the image (boundaries, part headers, small
#: fields), the same cap as ``wxocr serve``'s
MAX_BODY_BYTES = MAX_REQUEST_BODY


class BodyTooLarge(Exception):
    """The request body is over :data:`MAX_BODY_BYTES`."""


def body_too_large() -> HttpError:
    """The 413 reply, closing the connection so that a client still sending stops."""
    errmsg = (
        f"the request body is too large: this service reads at most {MAX_BODY_BYTES} "
        "bytes, enough for an image WeChat accepts"
    )
    return HttpError(
        413, {"errcode": ERRCODE_IMAGE_TOO_LARGE, "errmsg": errmsg}, {"Connection": "close"}
    )


def declared_length(scope: Scope) -> int | None:
    """The request's ``Content-Length``, if it gives a well-formed one."""
    for name, value in scope["headers"]:
        if name == b"content-length":  # ASGI header names are lower case
            return int(value) if value.isdigit() else None
    return None


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` is answered :func:`body_too_large`
    and the app behind never receives more than ``max_bytes`` of it.

    A ``Content-Length`` over the cap is refused before the app runs; otherwise ``receive``
    counts the bytes and, past the cap, raises :class:`BodyTooLarge` instead of handing
    them on. Whatever the app then answers is dropped for the 413 (an answer it had begun
    before that stands, and an error it raises propagates). Pure ASGI, unlike Starlette's
    ``BaseHTTPMiddleware``, which would buffer the body.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = declared_length(scope)
        if length is not None and length > self.max_bytes:
            await send_too_large(send)
            return
        received = 0
        over = started = False

        async def counted_receive() -> Message:
            nonlocal received, over
            if over:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    over = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over and not started:
                return  # the app's answer to a body cut short: the 413 goes instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not over or started:
                raise
        if over and not started:
            await send_too_large(send)


async def send_too_large(send: Send) -> None:
    """Send :func:`body_too_large` as raw ASGI messages."""
    err = body_too_large()
    body = json.dumps(err.body, ensure_ascii=False).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in err.headers.items()),
    ]
    await send({"type": "http.response.start", "status": err.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
