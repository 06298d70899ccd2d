"""Failures told to a person: one line on stderr, no traceback, never a secret."""

from __future__ import annotations

import datetime as dt
import time

from ..chinatime import CHINA_UTC_OFFSET, next_china_midnight
from ..errors import (
    BadAppCredentials,
    ConnectionFailed,
    CredentialMissing,
    ImageTooLarge,
    InvalidCredential,
    InvalidInput,
    QuotaExceeded,
    RequestTimeout,
    WxOcrError,
)

CHINA = dt.timezone(dt.timedelta(seconds=CHINA_UTC_OFFSET), "China time")


class CommandError(Exception):
    """A failure told to the user as one line on stderr (exit status 1), no traceback."""


def quota_reset_text(now: float | None = None) -> str:
    """When the daily quota comes back, in China time and in local time."""
    reset = next_china_midnight(time.time() if now is None else now)
    china = dt.datetime.fromtimestamp(reset, CHINA)
    local = dt.datetime.fromtimestamp(reset).astimezone()
    return (
        f"{china:%Y-%m-%d %H:%M} China time "
        f"({local:%Y-%m-%d %H:%M} {local.tzname() or 'local time'})"
    )


def describe(exc: WxOcrError, base_url: str) -> str:
    """What went wrong and what to do about it, in one line, naming where it happened:
    WeChat (or the server at ``base_url``), the local engine, Redis, the input (the error
    is already scrubbed of secret values by the client)."""
    if exc.origin == "local":
        hint = " (--timeout to wait longer)" if isinstance(exc, RequestTimeout) else ""
        return f"{exc.errmsg}{hint}"
    if exc.origin in ("store", "client"):
        return exc.errmsg
    if isinstance(exc, (BadAppCredentials, CredentialMissing)):
        return f"WeChat refused the app credentials ({exc}): check WXOCR_APPID and WXOCR_SECRET"
    if isinstance(exc, InvalidCredential):
        return f"WeChat refused the access token ({exc}): check WXOCR_TOKEN or the credentials"
    if isinstance(exc, ImageTooLarge):
        return (
            f"{exc.errmsg}; WeChat refuses images of 2 MB or more: --shrink re-encodes them "
            "(pip install 'wxocr_async[images]')"
        )
    if isinstance(exc, InvalidInput):
        return exc.errmsg
    if isinstance(exc, QuotaExceeded):
        return f"the daily quota is spent ({exc.errmsg}); it resets at {quota_reset_text()}"
    if isinstance(exc, ConnectionFailed):
        return f"cannot reach {base_url}: {exc.errmsg} (network unreachable? WXOCR_BASE_URL?)"
    if isinstance(exc, RequestTimeout):
        return f"{base_url} did not answer in time: {exc.errmsg} (--timeout to wait longer)"
    return f"WeChat answered with an error: {exc}"
