"""Watching calls: one :class:`Attempt` per request sent to WeChat, logged and handed to
the client's ``on_attempt`` hook (for Prometheus, OpenTelemetry, your own counters)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeAlias

import attrs

from .errors import WxOcrError

log = logging.getLogger("wxocr_async.observe")


@attrs.frozen
class Attempt:
    """One attempt at an OCR call: a request sent (or tried) and what came of it."""

    #: WeChat's endpoint name: ``"idcard"``, ``"driving"``, ...
    endpoint: str
    #: the API path: ``"cv/ocr/idcard"``
    path: str
    #: 1 for the first attempt of a call, 2 for its first retry, ...
    attempt: int
    #: the HTTP status of the reply (None: no reply, e.g. a timeout or a refused connection)
    status: int | None
    #: WeChat's errcode (0: recognised), or the client's own negative code
    errcode: int
    #: seconds from the start of the attempt (token, queueing and request) to its end
    elapsed: float
    #: bytes of the request body that went out (0 if it never left)
    bytes_sent: int
    #: the error the attempt ended with (None on success)
    error: WxOcrError | None = attrs.field(default=None, eq=False)
    #: whether the client sends the call again after this attempt
    will_retry: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


#: called once per attempt, on the event loop: keep it quick (no I/O; queue instead)
AttemptHook: TypeAlias = Callable[[Attempt], None]


@attrs.define
class AttemptTrace:
    """What one attempt got as far as, filled in while it runs."""

    #: the loop's clock when the attempt started
    started: float
    status: int | None = None
    bytes_sent: int = 0


def observe_attempt(
    path: str,
    endpoint: str,
    attempt: int,
    trace: AttemptTrace,
    error: WxOcrError | None,
    *,
    will_retry: bool,
    now: float,
    hook: AttemptHook | None,
) -> None:
    """Report one attempt (``now``: the loop's clock at its end), unless nobody watches."""
    if hook is None and not log.isEnabledFor(logging.DEBUG):
        return  # nobody is watching: no record to build on the hot path
    report(
        Attempt(
            endpoint=endpoint,
            path=path,
            attempt=attempt,
            status=trace.status,
            errcode=0 if error is None else error.errcode,
            elapsed=now - trace.started,
            bytes_sent=trace.bytes_sent,
            error=error,
            will_retry=will_retry,
        ),
        hook,
    )


def report(attempt: Attempt, hook: AttemptHook | None) -> None:
    """Log ``attempt`` at DEBUG and hand it to ``hook``, whose own errors are logged and
    never reach the call."""
    log.debug(
        "%s attempt %d: HTTP %s, errcode %d, %.1f ms, %d bytes sent%s",
        attempt.path,
        attempt.attempt,
        attempt.status if attempt.status is not None else "-",
        attempt.errcode,
        attempt.elapsed * 1000,
        attempt.bytes_sent,
        ", retrying" if attempt.will_retry else "",
    )
    if hook is not None:
        try:
            hook(attempt)
        except Exception as exc:  # a metrics bug must not fail the call it measures
            log.error("on_attempt hook raised %s: %s", type(exc).__name__, exc)
