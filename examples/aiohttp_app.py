"""OCR as a web service with aiohttp: ``POST /ocr/{method}`` with the image in the form
field ``file`` answers the result as JSON (``?naming=camel`` for wx-server-sdk's names).

Run it from the repository's root::

    export WXOCR_APPID=wx... WXOCR_SECRET=...   # or WXOCR_TOKEN; WXOCR_BASE_URL, WXOCR_REDIS_URL
    python -m aiohttp.web -H 127.0.0.1 -P 8080 examples.aiohttp_app:make_app
    python examples/aiohttp_app.py              # the same, on 127.0.0.1:8080
    curl -F file=@front.jpg http://127.0.0.1:8080/ocr/idcard

Configured as the ``wxocr`` command is (no credentials: the local engine, if installed).
One client serves every request; failures answer as ``wxocr_async.http_errors`` says.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import get_args

from aiohttp import BodyPartReader, web

from wxocr_async import MAX_IMAGE_BYTES, InvalidInput, OcrClient, WxOcrError
from wxocr_async.cli.config import client_from_env
from wxocr_async.endpoints import BY_METHOD
from wxocr_async.http_errors import HttpError, http_error, method_not_found
from wxocr_async.naming import Naming

OCR = web.AppKey("ocr", OcrClient)
#: the form field holding the image
FIELD = "file"


async def ocr_client(app: web.Application) -> AsyncIterator[None]:
    """One client for the app's life (a cleanup context), made from the environment."""
    async with client_from_env() as ocr:
        app[OCR] = ocr
        yield


async def read_upload(request: web.Request) -> bytes:
    """The ``file`` field of a multipart form, read up to one byte more than WeChat takes
    (the client refuses that as too large): a huge upload never fills the memory."""
    if request.content_type != "multipart/form-data":
        raise InvalidInput(f"send the image as multipart/form-data, in the field {FIELD!r}")
    try:
        async for part in await request.multipart():
            if isinstance(part, BodyPartReader) and part.name == FIELD:
                data = bytearray()
                while len(data) <= MAX_IMAGE_BYTES and (chunk := await part.read_chunk()):
                    data += chunk
                return bytes(data[: MAX_IMAGE_BYTES + 1])
    except ValueError:  # no boundary, a broken part
        raise InvalidInput("the multipart form could not be read") from None
    raise InvalidInput(f"no image: send it in the form field {FIELD!r}")


def error_reply(err: HttpError) -> web.Response:
    return web.json_response(err.body, status=err.status, headers=err.headers)


async def recognise(request: web.Request) -> web.Response:
    """Recognise the uploaded image with the path's method (``idcard``, ...)."""
    method = request.match_info["method"]
    if method not in BY_METHOD:
        return error_reply(method_not_found())
    naming = request.query.get("naming", "snake")
    try:
        if naming not in get_args(Naming):
            raise InvalidInput(f"naming must be one of {', '.join(get_args(Naming))}")
        image = await read_upload(request)
        result = await getattr(request.app[OCR], method)(image)
    except WxOcrError as exc:
        return error_reply(http_error(exc))
    return web.json_response(result.to_dict(naming))


def make_app(argv: list[str] | None = None) -> web.Application:
    """The application (``argv``: what ``python -m aiohttp.web`` passes on; unused)."""
    app = web.Application()
    app.cleanup_ctx.append(ocr_client)
    app.router.add_post("/ocr/{method}", recognise)
    return app


app = make_app()

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=8080)
