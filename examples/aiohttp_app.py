"""OCR as a web service with aiohttp: ``POST /ocr/{method}`` with the image in the form
field ``file`` answers the result as JSON (``?naming=camel`` for wx-server-sdk's names).

Run it from the repository's root::

    export WXOCR_APPID=wx... WXOCR_SECRET=...   # or WXOCR_TOKEN; WXOCR_BASE_URL, WXOCR_REDIS_URL
    python -m aiohttp.web -H 127.0.0.1 -P 8080 examples.aiohttp_app:make_app
    python -m examples.aiohttp_app              # the same, on 127.0.0.1:8080
    curl -F file=@front.jpg http://127.0.0.1:8080/ocr/idcard

Configured as the ``wxocr`` command is (no credentials: the local engine, if installed).
One client serves every request; failures answer as ``wxocr_async.http_errors`` says. A
request body over ``examples.body_limit.MAX_BODY_BYTES`` is answered 413, and the
connection closed, without reading more of it than that.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import get_args

from aiohttp import hdrs, web

from examples.body_limit import MAX_BODY_BYTES, BodyTooLarge, body_too_large
from wxocr_async import ClientConfig, InvalidInput, OcrClient, WxOcrError
from wxocr_async.endpoints import METHOD_OF, lookup
from wxocr_async.http_errors import HttpError, http_error, method_not_found
from wxocr_async.naming import Naming
from wxocr_async.surface import file_part

OCR = web.AppKey("ocr", OcrClient)
#: the form field holding the image
FIELD = "file"


async def ocr_client(app: web.Application) -> AsyncIterator[None]:
    """One client for the app's life (a cleanup context), made from the environment."""
    async with ClientConfig.from_env().build() as ocr:
        app[OCR] = ocr
        yield


async def read_body(request: web.Request) -> bytes:
    """The whole request body, counted as it is read: :class:`BodyTooLarge` as soon as it
    passes ``MAX_BODY_BYTES`` (a chunked body; a declared ``Content-Length`` over the cap
    is refused before this), so at most one more chunk than that is read or held."""
    body = bytearray()
    async for chunk in request.content.iter_any():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLarge
    return bytes(body)


async def read_upload(request: web.Request) -> bytes:
    """The ``file`` field of a multipart form. The body is read whole but bounded
    (:func:`read_body`), then parsed: aiohttp's streaming ``request.multipart()`` would read
    a preamble or the parts before ``file`` without bound. An image over WeChat's limit
    that fits the cap is passed on: the client refuses it as too large."""
    if request.content_type != "multipart/form-data":
        raise InvalidInput(f"send the image as multipart/form-data, in the field {FIELD!r}")
    body = await read_body(request)
    # the library's one-pass multipart reader (the one WeChat's surface uses)
    part = file_part(body, request.headers.get(hdrs.CONTENT_TYPE, ""), FIELD)
    if part is None or part.name != FIELD:
        raise InvalidInput(f"no image: send it in the form field {FIELD!r}")
    return part.data


def error_reply(err: HttpError) -> web.Response:
    return web.json_response(err.body, status=err.status, headers=err.headers)


def too_large_reply() -> web.Response:
    """The 413 for a body over the cap; the connection is closed, the rest left unread."""
    reply = error_reply(body_too_large())
    reply.force_close()
    return reply


async def recognise(request: web.Request) -> web.Response:
    """Recognise the uploaded image with the path's method (``idcard``, ...)."""
    if (request.content_length or 0) > MAX_BODY_BYTES:  # refused before any of it is read
        return too_large_reply()
    endpoint = lookup(request.match_info["method"])  # a wire or a method name
    if endpoint is None:
        return error_reply(method_not_found())
    method = METHOD_OF[endpoint.name]
    naming = request.query.get("naming", "snake")
    try:
        if naming not in get_args(Naming):
            raise InvalidInput(f"naming must be one of {', '.join(get_args(Naming))}")
        image = await read_upload(request)
        result = await getattr(request.app[OCR], method)(image)
    except BodyTooLarge:
        return too_large_reply()
    except WxOcrError as exc:
        return error_reply(http_error(exc))
    return web.json_response(result.to_dict(naming))


def make_app(argv: list[str] | None = None) -> web.Application:
    """The application (``argv``: what ``python -m aiohttp.web`` passes on; unused)."""
    # lingering_time=0: a request answered before its body was read whole (a 413) has its
    # connection closed, where aiohttp would otherwise read and drop the rest for 10 s
    app = web.Application(client_max_size=MAX_BODY_BYTES, handler_args={"lingering_time": 0})
    app.cleanup_ctx.append(ocr_client)
    app.router.add_post("/ocr/{method}", recognise)
    return app


app = make_app()

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=8080)
