"""Failures told to a person: one line on stderr, no traceback, never a secret."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import time
import urllib.parse

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

#: exit statuses: all ok; some inputs failed or an error stopped the command; a command
#: line that cannot run; the daily quota ran out with inputs left (``EX_TEMPFAIL``: run
#: again later); interrupted (SIGINT, SIGTERM)
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_TEMPFAIL, EXIT_INTERRUPTED = 0, 1, 2, 75, 130


class CommandError(Exception):
    """A failure told to the user as one line on stderr, no traceback; the command exits
    with ``exit_status`` (1 unless given)."""

    def __init__(self, message: str, *, exit_status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_status = exit_status


class UsageError(CommandError):
    """A command line that cannot be run as given (exit status 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_status=EXIT_USAGE)


def say(text: str) -> None:
    """Tell a person ``text`` on stderr. A stderr that is closed, full or gone never stops
    the work (a batch goes on, its results file is what counts)."""
    stream = sys.stderr
    if stream is None:
        return
    with contextlib.suppress(OSError, ValueError):
        print(text, file=stream, flush=True)


def shown_name(name: str) -> str:
    """A file name fit for one line on a terminal: control characters (a newline, a
    carriage return, an escape) as escapes; printable text as it is."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def shown_url(url: str) -> str:
    """``url`` without what may be secret in it: a user and password, a query."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            netloc += f":{parts.port}"
    except ValueError:
        return "the server (WXOCR_BASE_URL)"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


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
    if exc.origin in ("store", "client", "disk"):
        return exc.errmsg
    if isinstance(exc, (BadAppCredentials, CredentialMissing)):
        return f"WeChat refused the app credentials ({exc}): check WXOCR_APPID and WXOCR_SECRET"
    if isinstance(exc, InvalidCredential):
        return f"WeChat refused the access token ({exc}): check WXOCR_TOKEN or the credentials"
    if isinstance(exc, ImageTooLarge):
        return f"{exc.errmsg}: --shrink re-encodes it (pip install 'wxocr_async[images]')"
    if isinstance(exc, InvalidInput):
        return exc.errmsg
    if isinstance(exc, QuotaExceeded):
        return f"the daily quota is spent ({exc.errmsg}); it resets at {quota_reset_text()}"
    if isinstance(exc, ConnectionFailed):
        where = shown_url(base_url)
        return f"cannot reach {where}: {exc.errmsg} (network unreachable? WXOCR_BASE_URL?)"
    if isinstance(exc, RequestTimeout):
        where = shown_url(base_url)
        return f"{where} did not answer in time: {exc.errmsg} (--timeout to wait longer)"
    return f"WeChat answered with an error: {exc}"
