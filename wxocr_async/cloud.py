"""The wx-server-sdk cloud-call parity layer: ``ocr.openapi.ocr.idcard({...})``.

It mirrors ``cloud.openapi.ocr.*`` of wx-server-sdk: camelCase parameters converted to
snake_case as the SDK does (``imgUrl``; ``img: {contentType, value}`` becomes a file part
named ``img``), results with ``errcode``/``errmsg`` removed, keys camelCased recursively
and ``errCode: 0`` / ``errMsg: "openapi.ocr.<name>:ok"`` added; failures raise
:class:`CloudCallError`. Everything else (session, token, limits) is the client's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from .endpoints import BY_CLOUD_NAME
from .errors import CloudCallError, InvalidInput, WxOcrError
from .images import PreparedImage, check_image
from .naming import camelize, snakeize

if TYPE_CHECKING:
    from .client import OcrClient

CloudResult = dict[str, Any]
CloudMethod = Callable[[Mapping[str, Any]], Awaitable[CloudResult]]

#: wx-server-sdk's "API not found" code, for names with no cloud API (menu, platenum)
API_NOT_FOUND = -604100

_EXTENSIONS = {
    "image/jpeg": "jpeg",
    "image/jpg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/webp": "webp",
    "image/tiff": "tiff",
}


class OpenApi:
    """``client.openapi``: ``.ocr.<name>(params)``, or ``client.openapi(convertCase=False)``."""

    def __init__(self, client: OcrClient, *, convert_case: bool = True) -> None:
        self._client = client
        self._convert_case = convert_case
        self.ocr = OcrNamespace(client, convert_case)

    def __call__(self, *, convertCase: bool = True) -> OpenApi:
        """Options as wx-server-sdk's ``cloud.openapi({convertCase: false})`` takes them."""
        return OpenApi(self._client, convert_case=convertCase)

    def __repr__(self) -> str:
        return f"OpenApi(convertCase={self._convert_case})"


class OcrNamespace:
    """``openapi.ocr``: every attribute is a cloud method, as in wx-server-sdk."""

    def __init__(self, client: OcrClient, convert_case: bool) -> None:
        self._client = client
        self._convert_case = convert_case

    def __dir__(self) -> list[str]:
        return sorted(BY_CLOUD_NAME)

    def __getattr__(self, name: str) -> CloudMethod:
        if name.startswith("_"):
            raise AttributeError(name)

        async def call(params: Mapping[str, Any] | None = None) -> CloudResult:
            return await self._call(name, params or {})

        call.__name__ = call.__qualname__ = name
        return call

    async def _call(self, name: str, params: Mapping[str, Any]) -> CloudResult:
        api = f"openapi.ocr.{name}"
        endpoint = BY_CLOUD_NAME.get(name)
        if endpoint is None:
            raise CloudCallError(API_NOT_FOUND, f"{api}:fail API not found")
        try:
            request = _request_args(params, self._convert_case)
            payload = await self._client.request_ocr(endpoint, **request)
        except WxOcrError as exc:
            raise CloudCallError(
                exc.errcode, f"{api}:fail {exc.errmsg}", endpoint=endpoint.path
            ) from exc
        return _result(payload, api, self._convert_case)


def _request_args(params: Mapping[str, Any], convert_case: bool) -> dict[str, Any]:
    """``request_ocr`` keyword arguments from wx-server-sdk style parameters."""
    if not isinstance(params, Mapping):
        raise InvalidInput(f"parameters must be an object, not {type(params).__name__}")
    snake = snakeize(dict(params)) if convert_case else dict(params)
    unknown = set(snake) - {"img_url", "img", "type"}
    if unknown:
        raise InvalidInput(
            f"unknown parameter(s) {', '.join(sorted(unknown))}; OCR takes imgUrl, img and type"
        )
    args: dict[str, Any] = {"mode": snake.get("type"), "img_url": snake.get("img_url")}
    media = snake.get("img")
    if media is not None:
        args["image"] = _media(media, convert_case)
    return args


def _media(media: Any, convert_case: bool) -> PreparedImage:
    """An upload from ``{contentType, value[, fileName]}`` as wx-server-sdk builds it."""
    if not isinstance(media, Mapping) or "value" not in media:
        raise InvalidInput("img must be {contentType, value} with the image bytes in value")
    value = media["value"]
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise InvalidInput(f"img.value must be bytes, not {type(value).__name__}")
    content_type = media.get("content_type" if convert_case else "contentType")
    if not isinstance(content_type, str) or not content_type:
        raise InvalidInput("img.contentType (the MIME type) is required")
    checked = check_image(bytes(value), None, "img.value")
    # with conversion on, wx-server-sdk renames fileName to file_name before it looks for
    # fileName, so the name is always img.<ext>; with it off, fileName is honoured
    filename = media.get("fileName") if not convert_case else None
    if not isinstance(filename, str) or not filename:
        filename = f"img.{_EXTENSIONS.get(content_type, 'png')}"
    return PreparedImage(checked.data, filename, content_type)


def _result(payload: Mapping[str, Any], api: str, convert_case: bool) -> CloudResult:
    body = {k: v for k, v in payload.items() if k not in ("errcode", "errmsg")}
    result: CloudResult = camelize(body) if convert_case else body
    result["errMsg"] = f"{api}:ok"
    result["errCode"] = 0
    return result


def cloud_form(endpoint: str, reply: Mapping[str, Any]) -> CloudResult:
    """WeChat's ``reply`` for ``endpoint`` (a wire name) as the cloud call shows it: keys
    camelCased, ``errCode``/``errMsg`` (``"openapi.ocr.<name>:ok"``, or ``:fail`` and
    WeChat's text for an error, as :class:`CloudCallError` carries them). An endpoint
    without a cloud API (menu, platenum) gets its keys camelCased alone."""
    names = [n for n, e in BY_CLOUD_NAME.items() if e.name == endpoint]
    code = reply.get("errcode", 0)
    if not names:
        converted: CloudResult = camelize(dict(reply))
        return converted
    api = f"openapi.ocr.{names[0]}"
    if code != 0:
        return {"errCode": code, "errMsg": f"{api}:fail {reply.get('errmsg', '')}"}
    return _result(reply, api, True)
