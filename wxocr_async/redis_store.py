"""RedisStore: tokens shared by every process using the same Redis (extra ``[redis]``).

Keys, all under ``{namespace}:{key}`` where ``key`` names the token endpoint and appid
(or, for quotas, the appid and endpoint): ``:token`` (JSON, expiring with the token),
``:lock`` (the refresh lock, ``SET NX PX`` with an owner token, released only by its
owner), ``:forced:{china day}`` and ``:forced:last`` (forced-refresh bookkeeping),
``:quota:{china day}`` (calls counted, atomically, by a Lua script) and
``:exhausted:{china day}`` (WeChat said the quota is spent).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Self, TypeVar

from .chinatime import china_day
from .errors import InvalidInput, StoreUnavailable
from .store import ForceRefreshPolicy, force_refresh_refusal
from .token import AccessToken

if TYPE_CHECKING:
    import redis.asyncio

T = TypeVar("T")

_DISCARD = """
local raw = redis.call('GET', KEYS[1])
if raw and cjson.decode(raw)['value'] == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS: today's counter, last time; ARGV: now, daily max, min interval
_CLAIM_FORCE = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local last = redis.call('GET', KEYS[2])
local now = tonumber(ARGV[1])
if count < tonumber(ARGV[2]) and (not last or now - tonumber(last) >= tonumber(ARGV[3])) then
  redis.call('INCR', KEYS[1])
  redis.call('EXPIRE', KEYS[1], 172800)
  redis.call('SET', KEYS[2], ARGV[1], 'EX', 172800)
  return {1, count, last or ''}
end
return {0, count, last or ''}
"""


# KEYS: the day's counter; ARGV: limit. Counts one call if under the limit.
_TAKE_QUOTA = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], 172800)
return 1
"""
_RETURN_QUOTA = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used > 0 then redis.call('DECR', KEYS[1]) end
return 0
"""


class RedisStore:
    """A store in Redis (redis-py's asyncio client), shared across processes and machines.

    ``RedisStore.from_url("redis://host:6379/0")`` makes (and owns) its client;
    ``RedisStore(client)`` uses an existing ``redis.asyncio.Redis`` and never closes it.
    """

    def __init__(self, client: redis.asyncio.Redis, *, namespace: str = "wxocr_async") -> None:
        self._redis = client
        self._namespace = namespace
        self._owns_client = False
        kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", {})
        self._where = f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"

    @classmethod
    def from_url(cls, url: str, *, namespace: str = "wxocr_async", **kwargs: Any) -> Self:
        """A store with its own client for ``url`` (``redis://[:password@]host:port/db``)."""
        try:
            import redis.asyncio
        except ImportError as exc:
            raise InvalidInput(
                "RedisStore needs redis-py: pip install 'wxocr_async[redis]'"
            ) from exc
        store = cls(redis.asyncio.Redis.from_url(url, **kwargs), namespace=namespace)
        store._owns_client = True
        return store

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._where}, namespace={self._namespace!r})"

    def _k(self, key: str, part: str) -> str:
        return f"{self._namespace}:{key}:{part}"

    async def _run(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        import redis.exceptions

        try:
            return await call()
        except redis.exceptions.RedisError as exc:
            raise StoreUnavailable(
                f"Redis store at {self._where} failed to {what}: {type(exc).__name__}: {exc}"
            ) from exc
        except OSError as exc:
            raise StoreUnavailable(
                f"Redis store at {self._where} is unreachable ({what}): {exc.strerror or exc}"
            ) from exc

    # -- tokens -------------------------------------------------------------------

    async def load_token(self, key: str) -> AccessToken | None:
        raw = await self._run("read the token", lambda: self._redis.get(self._k(key, "token")))
        if raw is None:
            return None
        data = json.loads(raw)
        return AccessToken(data["value"], float(data["expires_at"]), float(data["refresh_at"]))

    async def save_token(self, key: str, token: AccessToken, now: float) -> None:
        ttl_ms = int((token.expires_at - now) * 1000)
        if ttl_ms <= 0:
            return
        raw = json.dumps(
            {"value": token.value, "expires_at": token.expires_at, "refresh_at": token.refresh_at}
        )
        await self._run(
            "store the token", lambda: self._redis.set(self._k(key, "token"), raw, px=ttl_ms)
        )

    async def discard_token(self, key: str, value: str) -> None:
        await self._run(
            "discard the token",
            lambda: self._redis.eval(_DISCARD, 1, self._k(key, "token"), value),
        )

    # -- the refresh lock -----------------------------------------------------------

    async def try_lock(self, key: str, owner: str, ttl: float) -> bool:
        got = await self._run(
            "take the refresh lock",
            lambda: self._redis.set(self._k(key, "lock"), owner, nx=True, px=int(ttl * 1000)),
        )
        return bool(got)

    async def unlock(self, key: str, owner: str) -> None:
        await self._run(
            "release the refresh lock",
            lambda: self._redis.eval(_UNLOCK, 1, self._k(key, "lock"), owner),
        )

    async def wait_for_unlock(self, key: str, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        delay = 0.005
        lock = self._k(key, "lock")
        while await self._run("watch the refresh lock", lambda: self._redis.exists(lock)):
            left = deadline - loop.time()
            if left <= 0:
                return
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, 0.1)

    async def claim_force_refresh(
        self, key: str, now: float, policy: ForceRefreshPolicy
    ) -> str | None:
        day_key = self._k(key, f"forced:{china_day(now)}")
        last_key = self._k(key, "forced:last")
        allowed, count, last = await self._run(
            "record a forced refresh",
            lambda: self._redis.eval(
                _CLAIM_FORCE, 2, day_key, last_key, repr(now), policy.daily_max, policy.min_interval
            ),
        )
        if allowed:
            return None
        last_time = float(last) if last not in (b"", "", None) else None
        return force_refresh_refusal(int(count), last_time, now, policy) or "refused"

    # -- the daily quota -------------------------------------------------------------

    async def take_quota(self, key: str, day: int, limit: int) -> bool:
        taken = await self._run(
            "count a call against the daily quota",
            lambda: self._redis.eval(_TAKE_QUOTA, 1, self._k(key, f"quota:{day}"), limit),
        )
        return bool(taken)

    async def return_quota(self, key: str, day: int) -> None:
        await self._run(
            "give back a quota reservation",
            lambda: self._redis.eval(_RETURN_QUOTA, 1, self._k(key, f"quota:{day}")),
        )

    async def quota_used(self, key: str, day: int) -> int:
        raw = await self._run(
            "read the daily quota", lambda: self._redis.get(self._k(key, f"quota:{day}"))
        )
        return int(raw or 0)

    async def mark_exhausted(self, key: str, day: int) -> None:
        await self._run(
            "mark the quota spent",
            lambda: self._redis.set(self._k(key, f"exhausted:{day}"), 1, ex=172800),
        )

    async def is_exhausted(self, key: str, day: int) -> bool:
        found = await self._run(
            "read the quota state", lambda: self._redis.exists(self._k(key, f"exhausted:{day}"))
        )
        return bool(found)

    async def close(self) -> None:
        """Close the client if this store created it (``from_url``)."""
        if self._owns_client:
            await self._redis.aclose()
