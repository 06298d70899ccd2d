"""What a web service should answer when a call fails: status, headers and a JSON body.

One mapping for every framework (the FastAPI and aiohttp examples share it)::

    except wx.WxOcrError as exc:
        err = http_error(exc)
        return JSONResponse(err.body, status_code=err.status, headers=err.headers)

- 429 ``QuotaExceeded`` (WeChat's daily quota or the client's own), with ``Retry-After``:
  the whole seconds to the next midnight China time, when the quotas reset;
- 422 the caller's image or arguments: ``InvalidInput`` (``ImageTooLarge`` too),
  ``InvalidImageUrl``, ``CertificateNotFound``, ``InvalidImageData``;
- 503 WeChat, the network, the token store or this service is down for now:
  ``SystemBusy``, ``RateLimited``, ``ConnectionFailed``, ``RequestTimeout``,
  ``HTTPStatusError`` 5xx or 429, ``StoreUnavailable``, ``TokenUnavailable``,
  ``ClientClosed`` (the service is shutting down);
- 502 anything else, WeChat's answer cannot be used as it stands: ``Unauthorized``,
  ``BadAppCredentials``, ``BadResponse``, ...

A ``CloudCallError`` is answered by the typed error behind it (its ``__cause__``), if any.
The body is ``{"errcode": ..., "errmsg": ...}`` from the error alone (the client has
already scrubbed the appsecret and tokens from ``errmsg``); no URL, repr or traceback.
"""

from __future__ import annotations

import math
import time
from typing import Any

import attrs

from .chinatime import next_china_midnight
from .endpoints import names_text
from .errors import (
    ERRCODE_INVALID_INPUT,
    CertificateNotFound,
    ClientClosed,
    CloudCallError,
    ConnectionFailed,
    DiskError,
    HTTPStatusError,
    InvalidImageData,
    InvalidImageUrl,
    InvalidInput,
    QuotaExceeded,
    RateLimited,
    RequestTimeout,
    StoreUnavailable,
    SystemBusy,
    TokenUnavailable,
    WxOcrError,
)

#: the caller's image or arguments are wrong: 422
CALLER_ERRORS: tuple[type[WxOcrError], ...] = (
    InvalidInput,
    InvalidImageUrl,
    CertificateNotFound,
    InvalidImageData,
)
#: WeChat, the network, the token store or this service (its disk) is down for now: 503
UNAVAILABLE_ERRORS: tuple[type[WxOcrError], ...] = (
    SystemBusy,
    RateLimited,
    ConnectionFailed,
    RequestTimeout,
    StoreUnavailable,
    TokenUnavailable,
    ClientClosed,
    DiskError,
)


@attrs.frozen
class HttpError:
    """An HTTP error reply: status, extra headers and the JSON body."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = attrs.field(factory=dict)


def http_error(exc: WxOcrError, *, now: float | None = None) -> HttpError:
    """The reply for a failed call; ``now`` (epoch seconds) times ``Retry-After``."""
    if isinstance(exc, CloudCallError) and isinstance(exc.__cause__, WxOcrError):
        return attrs.evolve(http_error(exc.__cause__, now=now), body=_body(exc))
    if isinstance(exc, QuotaExceeded):
        return HttpError(429, _body(exc), {"Retry-After": str(seconds_to_quota_reset(now))})
    if isinstance(exc, CALLER_ERRORS):
        return HttpError(422, _body(exc))
    if isinstance(exc, UNAVAILABLE_ERRORS) or (
        isinstance(exc, HTTPStatusError) and (exc.status >= 500 or exc.status == 429)
    ):
        return HttpError(503, _body(exc))
    return HttpError(502, _body(exc))


def method_not_found() -> HttpError:
    """404 for a path naming no OCR method (the name asked for is not echoed)."""
    methods = names_text()
    return HttpError(
        404, {"errcode": ERRCODE_INVALID_INPUT, "errmsg": f"no such OCR method; one of {methods}"}
    )


def seconds_to_quota_reset(now: float | None = None) -> int:
    """Whole seconds until the daily quotas reset (midnight China time), from 1 to 86400."""
    now = time.time() if now is None else now
    return math.ceil(next_china_midnight(now) - now)


def _body(exc: WxOcrError) -> dict[str, Any]:
    return {"errcode": exc.errcode, "errmsg": exc.errmsg}
