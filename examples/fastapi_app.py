"""OCR as a web service with FastAPI: ``POST /ocr/{method}`` with the image in the form
field ``file`` answers the result as JSON (``?naming=camel`` for wx-server-sdk's names).

Run it from the repository's root (``pip install -e '.[examples]'``)::

    export WXOCR_APPID=wx... WXOCR_SECRET=...   # or WXOCR_TOKEN; WXOCR_BASE_URL, WXOCR_REDIS_URL
    uvicorn examples.fastapi_app:app
    curl -F file=@front.jpg http://127.0.0.1:8000/ocr/idcard

Configured as the ``wxocr`` command is (no credentials: the local engine, if installed).
One client serves every request; failures answer as ``wxocr_async.http_errors`` says. A
request body over ``examples.body_limit.MAX_BODY_BYTES`` is answered 413 by the
``BodyLimit`` middleware before Starlette reads (or spools to disk) more than that.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI, Request, UploadFile
from fastapi.responses import JSONResponse

from examples.body_limit import BodyLimit
from wxocr_async import MAX_IMAGE_BYTES, ClientConfig, OcrClient, WxOcrError
from wxocr_async.endpoints import METHOD_OF, lookup
from wxocr_async.http_errors import HttpError, http_error, method_not_found
from wxocr_async.naming import Naming


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """One client for the app's life, made from the environment at startup, closed at
    shutdown."""
    async with ClientConfig.from_env().build() as ocr:
        app.state.ocr = ocr
        yield


app = FastAPI(title="wxocr_async example", lifespan=lifespan)
app.add_middleware(BodyLimit)


class NoSuchMethod(LookupError):
    """The path names no OCR method."""


def ocr_client(request: Request) -> OcrClient:
    """The app's client (a dependency)."""
    ocr: OcrClient = request.app.state.ocr
    return ocr


def ocr_method(method: str) -> str:
    """The client method the path names, by a wire name (``driving``) or a method name
    (``vehicle_license``, ``vehicle-license``): a dependency, checked before the upload."""
    endpoint = lookup(method)
    if endpoint is None:
        raise NoSuchMethod(method)
    return METHOD_OF[endpoint.name]


@app.post("/ocr/{method}")
async def recognise(
    method: Annotated[str, Depends(ocr_method)],
    file: UploadFile,
    ocr: Annotated[OcrClient, Depends(ocr_client)],
    naming: Naming = "snake",
) -> JSONResponse:
    """Recognise the uploaded image with ``method`` (``idcard``, ``driving``, ...)."""
    image = await file.read(MAX_IMAGE_BYTES + 1)  # one byte over: the client refuses it
    result = await getattr(ocr, method)(image)
    return JSONResponse(result.to_dict(naming))


def error_reply(err: HttpError) -> JSONResponse:
    return JSONResponse(err.body, status_code=err.status, headers=err.headers)


@app.exception_handler(WxOcrError)
async def wx_error(request: Request, exc: WxOcrError) -> JSONResponse:
    return error_reply(http_error(exc))


@app.exception_handler(NoSuchMethod)
async def no_such_method(request: Request, exc: NoSuchMethod) -> JSONResponse:
    return error_reply(method_not_found())
