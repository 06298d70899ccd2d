"""When to send a failed request again, and how long to wait first (pure decisions).

Retried: -1 system busy, HTTP 5xx and 429, a reply that is not WeChat's JSON (a
proxy's error page), connection failures, and 45011 (the per-minute limit, waited out
to the next minute). Never retried: quota, bad image (101000-101002), unauthorised,
bad arguments, and every other code the caller must act on.

Retries that can spend quota twice: a request WeChat received whose reply was lost.
A timeout is the common case, so timeouts are retried only with ``retry_timeouts=True``;
a connection reset after the request was sent, and a proxy error page, can hide the
same thing and are retried by default (a refused connection never reached WeChat).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

import attrs

from .errors import RateLimited, RequestTimeout, WxOcrError


@attrs.frozen
class RetryPolicy:
    """How many attempts a call gets and how long to wait between them.

    Waits grow as ``base_delay * 2**(n-1)``, capped at ``max_delay``, with full jitter;
    no retry starts once ``deadline`` seconds have passed since the first attempt.
    ``sleep``, ``random`` and ``clock`` are injectable so tests assert the waits without
    waiting.
    """

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    deadline: float | None = 60.0
    retry_timeouts: bool = False
    sleep: Callable[[float], Awaitable[None]] = attrs.field(
        default=asyncio.sleep, eq=False, repr=False
    )
    random: Callable[[], float] = attrs.field(default=random.random, eq=False, repr=False)
    clock: Callable[[], float] = attrs.field(default=time.time, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    def should_retry(self, error: WxOcrError, attempt: int) -> bool:
        """Whether attempt number ``attempt`` (1-based), which failed with ``error``,
        may be followed by another."""
        if attempt >= self.attempts:
            return False
        if isinstance(error, RequestTimeout):
            return self.retry_timeouts
        return error.retryable

    def delay(self, error: WxOcrError, attempt: int) -> float:
        """Seconds to wait before the attempt after ``attempt``."""
        jitter: float = self.random()
        backoff = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1)) * jitter
        if isinstance(error, RateLimited):  # "retry next minute"
            now: float = self.clock()
            return max(backoff, 60.0 - now % 60.0)
        return backoff

    def within_deadline(self, elapsed: float, delay: float) -> bool:
        """Whether a retry after ``delay`` more seconds still starts within the deadline."""
        return self.deadline is None or elapsed + delay <= self.deadline


NO_RETRY = RetryPolicy(attempts=1)
