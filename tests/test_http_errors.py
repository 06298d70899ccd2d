"""wxocr_async.http_errors: every error class lands on the status issue #12 gives it."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest

from wxocr_async import errors
from wxocr_async.endpoints import BY_METHOD
from wxocr_async.errors import (
    ERRCODE_LOCAL_QUOTA,
    BadResponse,
    ClientClosed,
    CloudCallError,
    ConnectionFailed,
    DiskError,
    HTTPStatusError,
    ImageTooLarge,
    InvalidInput,
    QuotaExceeded,
    RequestTimeout,
    ResultsFileBusy,
    StoreUnavailable,
    TokenRefreshLimited,
    TokenUnavailable,
    TransportError,
    WxOcrError,
    error_from_reply,
)
from wxocr_async.http_errors import http_error, method_not_found

#: 2026-12-02 00:00 China time
CHINA_MIDNIGHT = dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.UTC).timestamp()


def _cloud(cause: WxOcrError) -> CloudCallError:
    err = CloudCallError(cause.errcode, f"openapi.ocr.idcard:fail {cause.errmsg}")
    err.__cause__ = cause
    return err


CASES: list[tuple[WxOcrError, int]] = [
    # quota spent: WeChat's (two codes and the message) or the client's own budget
    (error_from_reply(45009, "reach max api daily quota limit"), 429),
    (error_from_reply(101003, "not enough market quota"), 429),
    (QuotaExceeded(ERRCODE_LOCAL_QUOTA, "the daily quota of 100 calls is spent"), 429),
    # the caller's image or arguments
    (InvalidInput("the image is empty"), 422),
    (ImageTooLarge("the image is 3.0 MB"), 422),
    (error_from_reply(101000, "invalid image url"), 422),
    (error_from_reply(101001, "certificate not found"), 422),
    (error_from_reply(101002, "invalid image data"), 422),
    # WeChat, the network or the token store down for now
    (error_from_reply(-1, "system error"), 503),
    (error_from_reply(45011, "api minute-quota reach limit"), 503),
    (ConnectionFailed("cannot connect: ClientConnectorError"), 503),
    (RequestTimeout("no reply within 30.0 s"), 503),
    (HTTPStatusError(502, "HTTP 502"), 503),
    (HTTPStatusError(500, "HTTP 500"), 503),
    (HTTPStatusError(429, "HTTP 429"), 503),
    (StoreUnavailable("redis at 127.0.0.1:6379 is unreachable"), 503),
    (TokenUnavailable("no token within 30 s"), 503),
    (ClientClosed(), 503),
    (DiskError("cannot write results to r.jsonl: No space left on device"), 503),
    (ResultsFileBusy("r.jsonl is being written by another run"), 503),
    # anything else: WeChat's answer cannot be used as it stands
    (HTTPStatusError(404, "HTTP 404"), 502),
    (BadResponse("the reply is not JSON"), 502),
    (TransportError("HTTP client error: InvalidURL"), 502),
    (error_from_reply(48001, "api unauthorized"), 502),
    (error_from_reply(61007, "api is unauthorized to component"), 502),
    (error_from_reply(40013, "invalid appid"), 502),
    (error_from_reply(40001, "invalid credential"), 502),
    (error_from_reply(41001, "access_token missing"), 502),
    (error_from_reply(40164, "invalid ip, not in whitelist"), 502),
    (TokenRefreshLimited("a forced refresh is not allowed now"), 502),
    (error_from_reply(47001, "data format error"), 502),
    (CloudCallError(-604100, "openapi.ocr.menu:fail API not found"), 502),
]


def _ids(case: tuple[WxOcrError, int]) -> str:
    exc, _ = case
    return f"{type(exc).__name__}{exc.errcode}"


def test_every_error_class_has_a_case() -> None:
    classes = {
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, WxOcrError)
    }
    assert {type(exc) for exc, _ in CASES} == classes


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_status_and_body(case: tuple[WxOcrError, int]) -> None:
    exc, status = case
    err = http_error(exc, now=CHINA_MIDNIGHT - 60)
    assert err.status == status
    assert err.body == {"errcode": exc.errcode, "errmsg": exc.errmsg}
    assert err.headers == ({"Retry-After": "60"} if status == 429 else {})


@pytest.mark.parametrize(
    ("cause", "status"),
    [(error_from_reply(45009, "quota"), 429), (error_from_reply(101001, "not found"), 422)],
)
def test_cloud_call_error_is_answered_by_its_cause(cause: WxOcrError, status: int) -> None:
    exc = _cloud(cause)
    err = http_error(exc, now=CHINA_MIDNIGHT - 1)
    assert err.status == status
    assert err.body == {"errcode": cause.errcode, "errmsg": exc.errmsg}


@pytest.mark.parametrize(
    ("now", "retry_after"),
    [
        (CHINA_MIDNIGHT - 3600, "3600"),
        (CHINA_MIDNIGHT - 0.5, "1"),  # a part second rounds up: never before midnight
        (CHINA_MIDNIGHT, "86400"),
        (CHINA_MIDNIGHT + 0.25, "86400"),
        (CHINA_MIDNIGHT + 1, "86399"),
        (CHINA_MIDNIGHT + 86399.5, "1"),
    ],
)
def test_retry_after_counts_to_china_midnight(now: float, retry_after: str) -> None:
    err = http_error(error_from_reply(45009, "quota"), now=now)
    assert err.headers == {"Retry-After": retry_after}


def test_retry_after_without_now_is_within_a_day() -> None:
    seconds = int(http_error(error_from_reply(45009, "quota")).headers["Retry-After"])
    assert 1 <= seconds <= 86400


def test_method_not_found_names_the_methods_not_the_request() -> None:
    err = method_not_found()
    assert err.status == 404
    assert err.headers == {}
    assert err.body["errcode"] == errors.ERRCODE_INVALID_INPUT
    words = Counter(re.findall(r"[\w-]+", err.body["errmsg"]))
    for method, endpoint in BY_METHOD.items():  # each endpoint once, by both its names
        assert words[method.replace("_", "-")] == 1
        assert words[endpoint.name] == 1
