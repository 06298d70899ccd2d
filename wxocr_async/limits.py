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
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Literal

import attrs

from .chinatime import china_day, next_china_midnight
from .errors import ERRCODE_LOCAL_QUOTA, InvalidInput, QuotaExceeded
from .store import TokenStore

QuotaScope = Literal["endpoint", "total"]


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
        if not rate > 0:
            raise InvalidInput("rate_limit must be a positive number of calls per second")
        self.interval = 1.0 / rate
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
    """The client's limits for one app (``appid`` names its quota keys)."""

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
        if concurrency is not None and concurrency < 1:
            raise InvalidInput("concurrency must be at least 1 (or None for no limit)")
        if daily_quota is not None and daily_quota < 0:
            raise InvalidInput("daily_quota must be zero or more (or None for no limit)")
        if quota_scope not in ("endpoint", "total"):
            raise InvalidInput(f"quota_scope must be 'endpoint' or 'total', not {quota_scope!r}")
        self._app = appid or "-"
        self._store = store
        self._clock = clock
        self._semaphore = asyncio.Semaphore(concurrency) if concurrency else None
        self._pacer = Pacer(rate_limit) if rate_limit is not None else None
        self.daily_quota = daily_quota
        self.quota_scope: QuotaScope = quota_scope
        self._exhausted: set[tuple[str, int]] = set()  # local copy of the store's marks

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
            raise QuotaExceeded(
                ERRCODE_LOCAL_QUOTA,
                f"daily_quota of {self.daily_quota} calls {scope} is used up; it resets at "
                f"midnight China time (in {_until(next_china_midnight(now) - now)})",
                endpoint=path,
            )
        return Reservation(key, day)

    async def give_back(self, reservation: Reservation | None) -> None:
        """Return a reservation for a call that did not reach WeChat (or was cancelled)."""
        if reservation is not None:
            await self._store.return_quota(reservation.key, reservation.day)

    async def mark_exhausted(self, endpoint: str) -> None:
        """WeChat said ``endpoint``'s quota is spent: stop calling it until midnight."""
        key, day = self._spent_key(endpoint), china_day(self._clock())
        self._exhausted.add((key, day))
        await self._store.mark_exhausted(key, day)

    async def remaining(self, endpoint: str) -> int | None:
        """Calls left today under ``daily_quota`` (0 if WeChat said the quota is spent);
        None if there is no ``daily_quota`` and WeChat has not said so."""
        day = china_day(self._clock())
        if await self._store.is_exhausted(self._spent_key(endpoint), day):
            return 0
        if self.daily_quota is None:
            return None
        used = await self._store.quota_used(self._quota_key(endpoint), day)
        return max(0, self.daily_quota - used)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a concurrency slot (and a pacing turn) around one HTTP request."""
        async with self._semaphore or contextlib.nullcontext():
            if self._pacer is not None:
                await self._pacer.wait()
            yield


def _until(seconds: float) -> str:
    minutes = max(0, math.ceil(seconds / 60))
    return f"{minutes // 60} h {minutes % 60} min"
