"""Where tokens (and shared bookkeeping) live: in this process, or shared (Redis).

A store is keyed by a string naming the app (its appid). Times are epoch seconds on
the caller's clock, so that processes on several machines agree.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Protocol

import attrs
from cachetools import TLRUCache

from .chinatime import china_day
from .token import AccessToken


@attrs.frozen
class ForceRefreshPolicy:
    """WeChat's rule for ``force_refresh``: 20 a day, at least 30 s apart."""

    daily_max: int = 20
    min_interval: float = 30.0


WECHAT_FORCE_REFRESH_POLICY = ForceRefreshPolicy()


class TokenStore(Protocol):
    """Token storage shared by every client (and, for Redis, every process) using it."""

    async def load_token(self, key: str) -> AccessToken | None:
        """The stored token, or None (expired tokens are gone)."""
        ...

    async def save_token(self, key: str, token: AccessToken, now: float) -> None:
        """Store ``token`` until it expires."""
        ...

    async def discard_token(self, key: str, value: str) -> None:
        """Forget the token only if it is still ``value`` (a newer one is kept)."""
        ...

    async def try_lock(self, key: str, owner: str, ttl: float) -> bool:
        """Take the refresh lock for ``key`` for at most ``ttl`` s; False if someone has it."""
        ...

    async def unlock(self, key: str, owner: str) -> None:
        """Release the refresh lock if ``owner`` still holds it."""
        ...

    async def wait_for_unlock(self, key: str, timeout: float) -> None:
        """Return when the refresh lock for ``key`` may be free, or after ``timeout`` s."""
        ...

    async def claim_force_refresh(
        self, key: str, now: float, policy: ForceRefreshPolicy
    ) -> str | None:
        """Record a forced refresh and return None, or return why it is not allowed now."""
        ...

    async def take_quota(self, key: str, day: int, limit: int) -> bool:
        """Atomically count one call against ``key`` for ``day`` if fewer than ``limit``
        were counted; False (and nothing counted) otherwise."""
        ...

    async def return_quota(self, key: str, day: int) -> None:
        """Give back one call counted by :meth:`take_quota` (it never went out)."""
        ...

    async def quota_used(self, key: str, day: int) -> int:
        """Calls counted against ``key`` for ``day``."""
        ...

    async def mark_exhausted(self, key: str, day: int) -> None:
        """Remember that WeChat said ``key``'s quota for ``day`` is spent."""
        ...

    async def is_exhausted(self, key: str, day: int) -> bool:
        """Whether :meth:`mark_exhausted` was called for ``key`` and ``day``."""
        ...

    async def close(self) -> None: ...


class MemoryStore:
    """Tokens in this process (cachetools), shared by the clients given the same store."""

    def __init__(self, *, clock: Callable[[], float], maxsize: int = 1024) -> None:
        self._clock = clock
        self._tokens: TLRUCache[str, AccessToken] = TLRUCache(
            maxsize, ttu=lambda _k, token, _now: token.expires_at, timer=clock
        )
        self._locks: dict[str, _HeldLock] = {}
        self._forced: dict[str, list[float]] = {}
        self._quota: dict[tuple[str, int], int] = {}
        self._exhausted: set[tuple[str, int]] = set()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self._tokens)} tokens)"

    async def load_token(self, key: str) -> AccessToken | None:
        return self._tokens.get(key)

    async def save_token(self, key: str, token: AccessToken, now: float) -> None:
        if token.expires_at > now:
            self._tokens[key] = token

    async def discard_token(self, key: str, value: str) -> None:
        token = self._tokens.get(key)
        if token is not None and token.value == value:
            del self._tokens[key]

    async def try_lock(self, key: str, owner: str, ttl: float) -> bool:
        held = self._locks.get(key)
        if held is not None and held.live():
            return False
        self._locks[key] = _HeldLock(owner, time.monotonic() + ttl)
        return True

    async def unlock(self, key: str, owner: str) -> None:
        held = self._locks.get(key)
        if held is not None and held.owner == owner:
            del self._locks[key]
            held.released.set()

    async def wait_for_unlock(self, key: str, timeout: float) -> None:
        held = self._locks.get(key)
        if held is not None and held.live():
            wait = min(timeout, held.expires - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(held.released.wait(), max(0.0, wait))

    async def claim_force_refresh(
        self, key: str, now: float, policy: ForceRefreshPolicy
    ) -> str | None:
        today = china_day(now)
        times = [t for t in self._forced.get(key, []) if china_day(t) == today]
        reason = force_refresh_refusal(len(times), max(times, default=None), now, policy)
        if reason is None:
            times.append(now)
        self._forced[key] = times
        return reason

    async def take_quota(self, key: str, day: int, limit: int) -> bool:
        used = self._quota.get((key, day), 0)
        if used >= limit:
            return False
        if any(d < day for _, d in self._quota):
            self._quota = {k: v for k, v in self._quota.items() if k[1] >= day}
        self._quota[(key, day)] = used + 1
        return True

    async def return_quota(self, key: str, day: int) -> None:
        used = self._quota.get((key, day), 0)
        if used > 0:
            self._quota[(key, day)] = used - 1

    async def quota_used(self, key: str, day: int) -> int:
        return self._quota.get((key, day), 0)

    async def mark_exhausted(self, key: str, day: int) -> None:
        self._exhausted = {k for k in self._exhausted if k[1] >= day}
        self._exhausted.add((key, day))

    async def is_exhausted(self, key: str, day: int) -> bool:
        return (key, day) in self._exhausted

    async def close(self) -> None:
        return None


class _HeldLock:
    """A refresh lock taken in this process: by whom, until when, in which event loop."""

    def __init__(self, owner: str, expires: float) -> None:
        self.owner = owner
        self.expires = expires  # time.monotonic()
        self.loop = asyncio.get_running_loop()
        self.released = asyncio.Event()

    def live(self) -> bool:
        """Held, not expired, and taken in the running loop (a finished loop's holder is
        gone: its lock is free)."""
        return time.monotonic() < self.expires and self.loop is asyncio.get_running_loop()


def force_refresh_refusal(
    count_today: int, last: float | None, now: float, policy: ForceRefreshPolicy
) -> str | None:
    """Why a forced refresh is refused, given today's count and the last one, or None."""
    if count_today >= policy.daily_max:
        return f"{policy.daily_max} forced refreshes already made today (China time)"
    if last is not None and now - last < policy.min_interval:
        wait = policy.min_interval - (now - last)
        return (
            f"the last forced refresh was under {policy.min_interval:.0f} s ago; "
            f"retry in {wait:.0f} s"
        )
    return None
