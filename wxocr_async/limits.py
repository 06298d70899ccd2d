"""Limits checked before a request is sent, so a refused call never touches the network.

* ``concurrency``: at most N requests in flight (a semaphore around the HTTP call only,
  so waiting for a token holds no slot);
* ``rate_limit``: at most R requests started per second (evenly spaced);
* ``daily_quota``: at most M OCR calls a day, per endpoint or in total, the day ending
  at midnight China time, counted in the store (shared across processes with Redis);
* an endpoint WeChat reports spent (101003, 45009, "not enough market quota") is not
  called again until midnight China time, whether or not ``daily_quota`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import attrs

from .chinatime import china_day, next_china_midnight
from .errors import ERRCODE_LOCAL_QUOTA, InvalidInput, QuotaExceeded, WxOcrError
from .store import TokenStore

log = logging.getLogger("wxocr_async.limits")

QuotaScope = Literal["endpoint", "total"]

#: seconds a reservation may take to be given back before it is left counted
GIVE_BACK_TIMEOUT = 5.0


@attrs.frozen
class Reservation:
    """One call counted against the daily quota, to give back if it never went out."""

    key: str
    day: int


class Pacer:
    """Spaces request starts at least ``1 / rate`` seconds apart."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / check_positive_number("rate_limit", rate)
        self._clock = clock
        self._sleep = sleep
        self._next = -math.inf

    async def wait(self) -> None:
        now = self._clock()
        start = max(now, self._next)
        self._next = start + self.interval  # claimed before sleeping: no two share a slot
        if start > now:
            await self._sleep(start - now)


class Limits:
    """The client's limits for one app (``appid`` names its quota keys).

    A call goes: :meth:`slot` (the concurrency bound), :meth:`reserve` (WeChat's "spent"
    mark and the daily quota, counted in the store), :meth:`pace` (the rate), then the
    request. A reservation whose request never went out is given back in the background
    (:meth:`give_back`), so that a stalled store never holds up a cancellation.
    """

    def __init__(
        self,
        *,
        appid: str | None,
        store: TokenStore,
        clock: Callable[[], float],
        concurrency: int | None = None,
        rate_limit: float | None = None,
        daily_quota: int | None = None,
        quota_scope: QuotaScope = "endpoint",
    ) -> None:
        check_positive_int("concurrency", concurrency)
        check_positive_int("daily_quota", daily_quota)
        if rate_limit is not None:
            check_positive_number("rate_limit", rate_limit)
        if quota_scope not in ("endpoint", "total"):
            raise InvalidInput(f"quota_scope must be 'endpoint' or 'total', not {quota_scope!r}")
        self._app = appid or "-"
        self._store = store
        self._clock = clock
        self._concurrency = concurrency
        self._semaphore: asyncio.Semaphore | None = None
        self._semaphore_loop: asyncio.AbstractEventLoop | None = None
        self._pacer = Pacer(rate_limit) if rate_limit is not None else None
        self.daily_quota = daily_quota
        self.quota_scope: QuotaScope = quota_scope
        self._exhausted: set[tuple[str, int]] = set()  # local copy of the store's marks
        self._returning: set[asyncio.Task[None]] = set()
        self._warned: set[tuple[str, int]] = set()  # (quota key, day) already logged

    def _warn_once(self, key: str, day: int, message: str, *args: object) -> None:
        """Log ``message`` at WARNING the first time ``key`` runs out on ``day``."""
        if (key, day) not in self._warned:
            self._warned = {seen for seen in self._warned if seen[1] == day}  # bounded
            self._warned.add((key, day))
            log.warning(message, *args)

    def _quota_key(self, endpoint: str) -> str:
        return f"quota:{self._app}:{endpoint if self.quota_scope == 'endpoint' else '*'}"

    def _spent_key(self, endpoint: str) -> str:
        return f"spent:{self._app}:{endpoint}"

    async def reserve(self, endpoint: str, path: str) -> Reservation | None:
        """Count one call to ``endpoint``, or raise :class:`QuotaExceeded` without sending."""
        now = self._clock()
        day = china_day(now)
        spent = self._spent_key(endpoint)
        if (spent, day) in self._exhausted or await self._store.is_exhausted(spent, day):
            self._exhausted.add((spent, day))
            raise QuotaExceeded(
                ERRCODE_LOCAL_QUOTA,
                "WeChat reported this endpoint's daily quota spent; not calling it again "
                f"until midnight China time (in {_until(next_china_midnight(now) - now)})",
                endpoint=path,
            )
        if self.daily_quota is None:
            return None
        key = self._quota_key(endpoint)
        if not await self._store.take_quota(key, day, self.daily_quota):
            scope = "for this endpoint" if self.quota_scope == "endpoint" else "in total"
            self._warn_once(
                key,
                day,
                "%s: daily_quota of %d calls %s is used up; refusing calls until midnight "
                "China time",
                path,
                self.daily_quota,
                scope,
            )
            raise QuotaExceeded(
                ERRCODE_LOCAL_QUOTA,
                f"daily_quota of {self.daily_quota} calls {scope} is used up; it resets at "
                f"midnight China time (in {_until(next_china_midnight(now) - now)})",
                endpoint=path,
            )
        return Reservation(key, day)

    def give_back(self, reservation: Reservation | None) -> None:
        """Return a reservation whose request never reached WeChat, in the background
        (bounded by :data:`GIVE_BACK_TIMEOUT`; :meth:`settle` waits for it)."""
        if reservation is not None:
            task = asyncio.ensure_future(self._return(reservation))
            self._returning.add(task)
            task.add_done_callback(self._returning.discard)

    async def _return(self, reservation: Reservation) -> None:
        try:
            async with asyncio.timeout(GIVE_BACK_TIMEOUT):
                await self._store.return_quota(reservation.key, reservation.day)
        except (WxOcrError, TimeoutError) as exc:  # it stays counted: the safe side
            log.warning("could not give back a quota reservation: %s", type(exc).__name__)

    async def settle(self, timeout: float = GIVE_BACK_TIMEOUT) -> None:
        """Wait (at most ``timeout`` s) for reservations being given back in this loop."""
        loop = asyncio.get_running_loop()
        pending = [t for t in self._returning if t.get_loop() is loop]
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    async def mark_exhausted(self, endpoint: str, path: str) -> None:
        """WeChat said ``endpoint``'s quota is spent: stop calling it until midnight."""
        key, day = self._spent_key(endpoint), china_day(self._clock())
        self._warn_once(
            key,
            day,
            "%s: WeChat says the daily quota is spent; not calling it again until "
            "midnight China time",
            path,
        )
        self._exhausted.add((key, day))
        await self._store.mark_exhausted(key, day)

    async def remaining(self, endpoint: str) -> int | None:
        """Calls left today under ``daily_quota`` (0 if WeChat said the quota is spent);
        None if there is no ``daily_quota`` and WeChat has not said so."""
        await self.settle()
        day = china_day(self._clock())
        if await self._store.is_exhausted(self._spent_key(endpoint), day):
            return 0
        if self.daily_quota is None:
            return None
        used = await self._store.quota_used(self._quota_key(endpoint), day)
        return max(0, self.daily_quota - used)

    def slot(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """A concurrency slot around one request (a no-op without ``concurrency``)."""
        if self._concurrency is None:
            return contextlib.nullcontext()
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._semaphore_loop is not loop:
            # a semaphore belongs to one loop; a new loop (asyncio.run again) starts afresh
            self._semaphore = asyncio.Semaphore(self._concurrency)
            self._semaphore_loop = loop
        return self._semaphore

    def may_queue(self) -> bool:
        """Whether taking a slot and a rate turn now could wait."""
        semaphore = self._semaphore
        return self._pacer is not None or (
            self._concurrency is not None
            and (
                semaphore is None
                or self._semaphore_loop is not asyncio.get_running_loop()
                or semaphore.locked()
            )
        )

    async def pace(self) -> None:
        """Wait for this request's turn under ``rate_limit``."""
        if self._pacer is not None:
            await self._pacer.wait()


def check_positive_int(name: str, value: object) -> None:
    """Refuse anything but None or a positive ``int`` (``True`` is not a count)."""
    if value is not None and (type(value) is not int or value < 1):
        raise InvalidInput(f"{name} must be a positive integer or None, not {value!r}")


def check_positive_number(name: str, value: object) -> float:
    """``value`` if it is a positive finite number (not a bool, not a string)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise InvalidInput(f"{name} must be a positive finite number, not {value!r}")
    return float(value)


def _until(seconds: float) -> str:
    minutes = max(0, math.ceil(seconds / 60))
    return f"{minutes // 60} h {minutes % 60} min"
