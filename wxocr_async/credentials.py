"""AppCredentialSource: tokens fetched with the appid and appsecret, cached in a store.

* In this process, however many calls find the cache cold or stale, one fetch runs and
  all of them await it; a failed fetch is raised to every waiter and not cached.
* Across processes (a shared store such as Redis), a refresh takes the store's lock;
  the others wait for the token it stores, or keep using the old token while it is valid
  (WeChat keeps the previous token valid for 5 minutes after a new one is issued).
* A token WeChat rejected is dropped only if the store still holds it. If a normal
  ``stable_token`` fetch then hands the same token back, one ``force_refresh`` is made,
  within WeChat's limits (20 a day, 30 s apart); otherwise a clear error is raised.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable

from .errors import InvalidInput, TokenRefreshLimited, TokenUnavailable
from .store import WECHAT_FORCE_REFRESH_POLICY, ForceRefreshPolicy, MemoryStore, TokenStore
from .token import (
    AccessToken,
    Clock,
    TokenEndpoint,
    TokenHttp,
    default_refresh_margin,
    parse_token_reply,
)

log = logging.getLogger("wxocr_async.token")


class AppCredentialSource:
    """Access tokens for one app, fetched from ``cgi-bin/stable_token`` (default) or
    ``cgi-bin/token`` and cached in ``store`` (default: in this process only).

    ``lock_timeout``: how long a process may hold the refresh lock (keep it above the
    HTTP timeout); waiters give up with :class:`TokenUnavailable` after twice that.
    """

    query_name = "access_token"

    def __init__(
        self,
        appid: str,
        secret: str,
        *,
        endpoint: TokenEndpoint = "stable_token",
        store: TokenStore | None = None,
        clock: Clock = time.time,
        refresh_margin: Callable[[float], float] = default_refresh_margin,
        force_refresh_policy: ForceRefreshPolicy = WECHAT_FORCE_REFRESH_POLICY,
        lock_timeout: float = 45.0,
    ) -> None:
        if not appid or not secret:
            raise InvalidInput("appid and secret are both required to fetch access tokens")
        if endpoint not in ("stable_token", "token"):
            raise InvalidInput(
                f"token endpoint must be 'stable_token' or 'token', not {endpoint!r}"
            )
        self.appid = appid
        self._secret = secret
        self._endpoint = endpoint
        self._path = f"cgi-bin/{endpoint}"
        # the two endpoints' tokens are isolated from each other by WeChat
        self._key = f"{endpoint}:{appid}"
        self._store: TokenStore = store if store is not None else MemoryStore(clock=clock)
        self._clock = clock
        self._margin = refresh_margin
        self._policy = force_refresh_policy
        self._lock_timeout = lock_timeout
        self._owner = secrets.token_hex(8)
        self._token: AccessToken | None = None
        self._rejected: str | None = None
        self._inflight: asyncio.Task[AccessToken] | None = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(appid={self.appid!r}, endpoint={self._endpoint!r}, "
            f"store={self._store!r})"
        )

    @property
    def store(self) -> TokenStore:
        return self._store

    async def get(self, http: TokenHttp) -> str:
        token = self._token
        if token is not None and self._clock() < token.refresh_at:
            return token.value
        if (
            self._inflight is not None
            and self._inflight.get_loop() is not asyncio.get_running_loop()
        ):
            self._inflight = None  # left behind by a loop that has finished
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(self._refresh(http))
            self._inflight.add_done_callback(self._refresh_done)
        # shield: one waiter's cancellation must not cancel the fetch the others await
        return (await asyncio.shield(self._inflight)).value

    def _refresh_done(self, task: asyncio.Task[AccessToken]) -> None:
        if self._inflight is task:
            self._inflight = None
        if not task.cancelled() and task.exception() is None:
            self._token = task.result()

    def _usable(self, token: AccessToken | None, *, fresh: bool) -> AccessToken | None:
        """``token`` if it is not the rejected one and is still fresh (or valid), else None."""
        if token is None or token.value == self._rejected:
            return None
        return token if self._clock() < (token.refresh_at if fresh else token.expires_at) else None

    async def _refresh(self, http: TokenHttp) -> AccessToken:
        bound = 2 * self._lock_timeout
        try:
            async with asyncio.timeout(bound):  # store operations and waits included
                return await self._refresh_unbounded(http)
        except TimeoutError:
            raise TokenUnavailable(
                f"no token within {bound:.0f} s: the token endpoint, the store or another "
                "process refreshing it did not answer in time",
                endpoint=self._path,
            ) from None

    async def _refresh_unbounded(self, http: TokenHttp) -> AccessToken:
        store, key = self._store, self._key
        while True:
            stored = await store.load_token(key)
            if fresh := self._usable(stored, fresh=True):
                return fresh  # another client or process refreshed it
            if await store.try_lock(key, self._owner, self._lock_timeout):
                try:
                    if fresh := self._usable(await store.load_token(key), fresh=True):
                        return fresh
                    token = await self._fetch(http)
                    await store.save_token(key, token, self._clock())
                    return token
                finally:
                    await store.unlock(key, self._owner)
            if valid := self._usable(stored, fresh=False):
                return valid  # still valid: use it while another process refreshes
            log.debug("token refresh in progress elsewhere for %s; waiting", self.appid)
            await store.wait_for_unlock(key, self._lock_timeout)

    async def _fetch(self, http: TokenHttp) -> AccessToken:
        token = await self._fetch_once(http, force=False)
        if token.value != self._rejected:
            return token
        reason = await self._store.claim_force_refresh(self._key, self._clock(), self._policy)
        if reason is not None:
            raise TokenRefreshLimited(
                "WeChat rejected the access token and a normal fetch handed the same one back; "
                f"a forced refresh is not allowed now: {reason}",
                endpoint=self._path,
            )
        log.info("WeChat handed back the rejected token; forcing a refresh for %s", self.appid)
        return await self._fetch_once(http, force=True)

    async def _fetch_once(self, http: TokenHttp, *, force: bool) -> AccessToken:
        started = self._clock()
        if self._endpoint == "stable_token":
            body = {
                "grant_type": "client_credential",
                "appid": self.appid,
                "secret": self._secret,
                "force_refresh": force,
            }
            reply = await http("POST", self._path, query="", json_body=body)
        else:
            query = f"grant_type=client_credential&appid={self.appid}&secret={self._secret}"
            reply = await http("GET", self._path, query=query, json_body=None)
        token = parse_token_reply(reply, started, self._margin, self._path)
        log.info(
            "fetched a new access token for %s from %s, valid %.0f s",
            self.appid,
            self._path,
            token.expires_at - started,
        )
        return token

    async def reject(self, value: str) -> bool:
        self._rejected = value
        if self._token is not None and self._token.value == value:
            self._token = None
        await self._store.discard_token(self._key, value)  # only if it still holds this one
        return True

    async def close(self) -> None:
        task = self._inflight
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
