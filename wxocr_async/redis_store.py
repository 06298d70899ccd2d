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
from .loops import PerLoop
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


#: seconds a Redis command or connection attempt may take before StoreUnavailable
#: (redis-py's own default is to wait forever)
DEFAULT_SOCKET_TIMEOUT = 5.0


class RedisStore:
    """A store in Redis (redis-py's asyncio client), shared across processes and machines.

    ``RedisStore.from_url("redis://host:6379/0")`` makes (and owns) its clients, one per
    event loop, each with socket timeouts (``socket_timeout=5`` unless you pass another);
    ``RedisStore(client)`` uses an existing ``redis.asyncio.Redis`` and never closes it.
    Every call made through an :class:`~wxocr_async.OcrClient` is also bounded by the
    call's ``timeout``, whatever the client's own settings.
    """

    def __init__(self, client: redis.asyncio.Redis, *, namespace: str = "wxocr_async") -> None:
        self._given: redis.asyncio.Redis | None = client
        self._owned: PerLoop[redis.asyncio.Redis] | None = None
        self._namespace = namespace
        kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", {})
        self._where = f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"

    @classmethod
    def from_url(cls, url: str, *, namespace: str = "wxocr_async", **kwargs: Any) -> Self:
        """A store with its own clients for ``url`` (``redis://[:password@]host:port/db``);
        ``kwargs`` go to ``redis.asyncio.Redis.from_url``."""
        try:
            import redis.asyncio
        except ImportError as exc:
            raise InvalidInput(
                "RedisStore needs redis-py: pip install 'wxocr_async[redis]'"
            ) from exc
        kwargs.setdefault("socket_timeout", DEFAULT_SOCKET_TIMEOUT)
        kwargs.setdefault("socket_connect_timeout", DEFAULT_SOCKET_TIMEOUT)
        try:  # this one only tells where (it never connects); each loop makes its own
            store = cls(redis.asyncio.Redis.from_url(url, **kwargs), namespace=namespace)
        except ValueError:  # redis-py's message may quote a part of the password: not shown
            raise InvalidInput(
                "not a Redis URL: redis://[[user]:password@]host[:port][/db], rediss://... or "
                "unix://path (percent-encode / ? # @ in a password)"
            ) from None
        store._given = None
        store._owned = PerLoop(lambda: redis.asyncio.Redis.from_url(url, **kwargs), _aclose)
        return store

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._where}, namespace={self._namespace!r})"

    def _k(self, key: str, part: str) -> str:
        return f"{self._namespace}:{key}:{part}"

    async def _run(self, what: str, call: Callable[[redis.asyncio.Redis], Awaitable[T]]) -> T:
        try:
            client = self._given if self._owned is None else await self._owned.get()
            assert client is not None
            return await call(client)
        except Exception as exc:  # redis-py's errors, OSError, and anything odd it lets out
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError from None  # the caller's cancellation, not ours
            detail = getattr(exc, "strerror", None) or str(exc)
            raise StoreUnavailable(
                f"Redis store at {self._where} failed to {what}: "
                f"{type(exc).__name__}: {detail[:200]}"
            ) from exc

    # -- tokens -------------------------------------------------------------------

    async def load_token(self, key: str) -> AccessToken | None:
        raw = await self._run("read the token", lambda r: r.get(self._k(key, "token")))
        return _parse_token(raw)

    async def save_token(self, key: str, token: AccessToken, now: float) -> None:
        ttl_ms = int((token.expires_at - now) * 1000)
        if ttl_ms <= 0:
            return
        raw = json.dumps(
            {"value": token.value, "expires_at": token.expires_at, "refresh_at": token.refresh_at}
        )
        await self._run("store the token", lambda r: r.set(self._k(key, "token"), raw, px=ttl_ms))

    async def discard_token(self, key: str, value: str) -> None:
        await self._run(
            "discard the token", lambda r: r.eval(_DISCARD, 1, self._k(key, "token"), value)
        )

    # -- the refresh lock -----------------------------------------------------------

    async def try_lock(self, key: str, owner: str, ttl: float) -> bool:
        got = await self._run(
            "take the refresh lock",
            lambda r: r.set(self._k(key, "lock"), owner, nx=True, px=int(ttl * 1000)),
        )
        return bool(got)

    async def unlock(self, key: str, owner: str) -> None:
        await self._run(
            "release the refresh lock",
            lambda r: r.eval(_UNLOCK, 1, self._k(key, "lock"), owner),
        )

    async def wait_for_unlock(self, key: str, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        delay = 0.005
        lock = self._k(key, "lock")
        while await self._run("watch the refresh lock", lambda r: r.exists(lock)):
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
            lambda r: r.eval(
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
            lambda r: r.eval(_TAKE_QUOTA, 1, self._k(key, f"quota:{day}"), limit),
        )
        return bool(taken)

    async def return_quota(self, key: str, day: int) -> None:
        await self._run(
            "give back a quota reservation",
            lambda r: r.eval(_RETURN_QUOTA, 1, self._k(key, f"quota:{day}")),
        )

    async def quota_used(self, key: str, day: int) -> int:
        raw = await self._run("read the daily quota", lambda r: r.get(self._k(key, f"quota:{day}")))
        return int(raw or 0)

    async def mark_exhausted(self, key: str, day: int) -> None:
        await self._run(
            "mark the quota spent",
            lambda r: r.set(self._k(key, f"exhausted:{day}"), 1, ex=172800),
        )

    async def is_exhausted(self, key: str, day: int) -> bool:
        found = await self._run(
            "read the quota state", lambda r: r.exists(self._k(key, f"exhausted:{day}"))
        )
        return bool(found)

    async def ping(self) -> None:
        """Check that Redis answers (:class:`~wxocr_async.errors.StoreUnavailable` if not):
        a command line checks once before its first input, not once per input."""
        await self._run("answer a PING", lambda r: r.ping())

    async def close(self) -> None:
        """Close the client this store made for the running loop (``from_url``)."""
        if self._owned is not None:
            await self._owned.aclose()


async def _aclose(client: redis.asyncio.Redis) -> None:
    await client.aclose()


def _parse_token(raw: object) -> AccessToken | None:
    """The stored token, or None if the entry is missing, corrupt or not ours: it is then
    fetched again and overwritten, so one bad value cannot break every process."""
    if raw is None:
        return None
    try:
        data = json.loads(raw)  # type: ignore[arg-type]
        value, expires_at, refresh_at = data["value"], data["expires_at"], data["refresh_at"]
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
    numbers = (expires_at, refresh_at)
    if not isinstance(value, str) or not value or not all(_finite(n) for n in numbers):
        return None
    return AccessToken(value, float(expires_at), float(refresh_at))


def _finite(n: object) -> bool:
    return isinstance(n, (int, float)) and not isinstance(n, bool) and -1e15 < n < 1e15
