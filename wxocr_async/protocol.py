"""Pure request building and reply parsing: no I/O, no aiohttp.

A request is built once per call (the multipart body included) and can be sent
again unchanged on a retry; the token goes into the URL only at send time.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import attrs

from .endpoints import ENDPOINTS, Endpoint
from .errors import BadResponse, HTTPStatusError, InvalidInput, error_from_reply
from .images import PreparedImage
from .models import WireModel, marked_engine
from .naming import converter

R = TypeVar("R", bound=WireModel)

ImageMode = Literal["photo", "scan"]
IMAGE_MODES: frozenset[str] = frozenset({"photo", "scan"})
#: the wire names of the endpoints that take ``type=photo|scan``
MODE_ENDPOINTS: tuple[str, ...] = tuple(e.name for e in ENDPOINTS if e.takes_mode)


Body = tuple[bytes, ...]


@attrs.frozen
class OcrRequest:
    """An OCR request minus its token: ``POST {base}/{path}?{query}`` with ``body``.

    The body is a tuple of byte strings sent one after another, so the image itself
    is never copied (a multipart body is: head, the caller's image bytes, tail).
    """

    path: str
    #: encoded query string without the token ("" when there is none)
    query: str
    body: Body = attrs.field(repr=lambda b: f"<{sum(map(len, b))} bytes>")
    content_type: str | None

    @property
    def size(self) -> int:
        """Bytes in the body."""
        return sum(map(len, self.body))


def build_ocr_request(
    endpoint: Endpoint[Any],
    *,
    image: PreparedImage | None,
    img_url: str | None,
    mode: str | None = None,
) -> OcrRequest:
    """Build the request for one OCR call; exactly one of ``image``/``img_url``."""
    check_request(endpoint, image, img_url, mode)
    params: list[str] = []
    if mode is not None:
        params.append(f"type={mode}")
    if img_url is not None:
        params.append("img_url=" + quote(img_url, safe=""))
        return OcrRequest(endpoint.path, "&".join(params), (), None)
    assert image is not None
    body, content_type = multipart_body("img", image)
    return OcrRequest(endpoint.path, "&".join(params), body, content_type)


def check_request(endpoint: Endpoint[Any], image: object, img_url: object, mode: object) -> None:
    """Refuse what no OCR call may carry: both or neither source, an ``img_url`` WeChat
    could never fetch, a ``mode`` unknown or sent to an endpoint that takes none."""
    check_one_source(image, img_url)
    check_mode(endpoint, mode)
    if img_url is not None:
        check_img_url(img_url)


def check_mode(endpoint: Endpoint[Any], mode: object) -> None:
    """Refuse a ``mode`` other than photo/scan, or for an endpoint without WeChat's legacy
    ``type=`` (only idcard, bankcard and driving take one)."""
    if mode is None:
        return
    if mode not in IMAGE_MODES:
        raise InvalidInput(f"mode must be 'photo' or 'scan', not {mode!r}")
    if not endpoint.takes_mode:
        raise InvalidInput(
            f"{endpoint.path} takes no mode: only {', '.join(MODE_ENDPOINTS)} take type=photo|scan"
        )


def check_one_source(image: object, img_url: object) -> None:
    """Refuse a call with both or neither of an image and ``img_url``."""
    if (image is None) == (img_url is None):
        raise InvalidInput(
            "give exactly one of an image (path, bytes or file object) or img_url="
            + (", not both" if image is not None else "")
        )


def check_img_url(img_url: object) -> None:
    """Refuse an ``img_url`` WeChat could never fetch."""
    if not isinstance(img_url, str) or not img_url.strip():
        raise InvalidInput("img_url must be a non-empty http(s) URL string")
    if not img_url.lower().startswith(("http://", "https://")):
        raise InvalidInput("img_url must start with http:// or https:// (WeChat fetches it)")


def multipart_body(field: str, image: PreparedImage) -> tuple[Body, str]:
    """A ``multipart/form-data`` body with one file part (as parts), and its Content-Type.

    The boundary is 128 random bits, fresh for every request, as aiohttp's own FormData
    does: the image is not scanned for it.
    """
    boundary = os.urandom(16).hex()
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{field}"; filename="{image.filename}"\r\n'
        f"Content-Type: {image.content_type}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return (head, image.data, tail), f"multipart/form-data; boundary={boundary}"


def compose_url(base_url: str, path: str, query: str, token: tuple[str, str] | None) -> str:
    """The full URL to send. It holds the token: never log or format it."""
    param = _token_param(*token) if token is not None else ""
    if query and param:
        return f"{base_url}/{path}?{query}&{param}"
    if query or param:
        return f"{base_url}/{path}?{query or param}"
    return f"{base_url}/{path}"


@functools.lru_cache(maxsize=8)
def _token_param(name: str, value: str) -> str:
    return f"{name}={quote(value, safe='')}"


def decode_reply(status: int, content_type: str, body: bytes, where: str) -> dict[str, Any]:
    """The JSON object of a successful reply; raises the matching WxOcrError otherwise.

    Only a 2xx status can succeed (a redirect is never followed, nor a success).
    ``errcode`` may be an integer or a string of ASCII digits with an optional ``-``;
    a missing one means success. Anything else is :class:`BadResponse`.
    """
    if not 200 <= status < 300:
        raise HTTPStatusError(
            status,
            f"HTTP {status} instead of a JSON reply ({_describe(content_type, body)})",
            endpoint=where,
        )
    try:
        # WeChat sends UTF-8 (skips detection); NaN and Infinity are not JSON
        payload = _DECODER.decode(body.decode("utf-8"))
    except (ValueError, RecursionError):  # bad bytes or JSON, too deep, digits over the limit
        raise BadResponse(
            f"reply is not JSON (HTTP {status}, {_describe(content_type, body)})",
            endpoint=where,
        ) from None
    if not isinstance(payload, dict):
        raise BadResponse(f"reply is JSON but not an object (HTTP {status})", endpoint=where)
    return check_reply(payload, where)


def check_reply(payload: dict[str, Any], where: str) -> dict[str, Any]:
    """``payload`` if its ``errcode`` says success; the matching WxOcrError otherwise."""
    errcode = _errcode(payload.get("errcode", 0))
    if errcode is None:
        raise BadResponse("reply has an errcode that is not an integer", endpoint=where)
    if errcode != 0:
        errmsg = payload.get("errmsg", "")
        raise error_from_reply(errcode, errmsg if isinstance(errmsg, str) else repr(errmsg), where)
    return payload


_ERRCODE_TEXT = re.compile(r"-?[0-9]{1,18}")


def _errcode(raw: object) -> int | None:
    """``raw`` as WeChat's errcode, or None if it is not one (``0.5``, ``true``, ``"4_0001"``)."""
    if raw is None:
        return 0
    if type(raw) is int:
        return raw if abs(raw) < 10**18 else None
    if isinstance(raw, str) and _ERRCODE_TEXT.fullmatch(raw):
        return int(raw)
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e999: JSON has no infinity, and no reader takes it back
        raise ValueError(f"{text[:20]} is out of range")
    return value


# one decoder for every reply (json.loads with an option would build one per call)
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def _describe(content_type: str, body: bytes) -> str:
    kind = "an HTML page" if body.lstrip()[:1] == b"<" else "a body"
    return f"{kind}, Content-Type {content_type or 'none'!r}, {len(body)} bytes"


def structure_result(
    endpoint: Endpoint[R], payload: dict[str, Any], *, engine: str = "wechat"
) -> R:
    """The typed result of a successful reply (snake_case wire names), marked with the
    engine that gave it (``result.engine``)."""
    try:
        result: R = converter("snake").structure(payload, endpoint.result_type)
    except Exception as exc:  # cattrs raises many kinds; all mean "not the documented shape"
        raise BadResponse(
            f"reply does not have the documented shape: {type(exc).__name__}: {exc}",
            endpoint=endpoint.path,
        ) from exc
    return marked_engine(result, engine)
