"""Where each call's access_token comes from.

A :class:`TokenSource` hands the client a token (or None) and is told when WeChat
rejected one. Sources do HTTP only through the :class:`TokenHttp` callable the
client gives them, so this module never touches aiohttp.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

import attrs

from .errors import BadResponse, InvalidInput

log = logging.getLogger("wxocr_async.token")

Clock = Callable[[], float]
TokenEndpoint = Literal["stable_token", "token"]


class TokenHttp(Protocol):
    """Sends a token request and returns the decoded JSON (raising WxOcrError on errcode)."""

    async def __call__(
        self, method: str, path: str, *, query: str, json_body: dict[str, Any] | None
    ) -> dict[str, Any]: ...


class TokenSource(Protocol):
    """Gives each call its token and hears when WeChat rejected one."""

    @property
    def query_name(self) -> str | None:
        """The query parameter the token goes in; None: send no token at all."""
        ...

    async def get(self, http: TokenHttp) -> str | None:
        """The token to use now (fetching one if needed)."""
        ...

    async def reject(self, value: str) -> bool:
        """WeChat rejected ``value`` (40001/40014/42001). True if asking again may help."""
        ...

    async def close(self) -> None: ...


@attrs.frozen(repr=False)
class AccessToken:
    """A token and when (on the client's clock) it expires and should be refreshed."""

    value: str
    expires_at: float
    refresh_at: float

    def __repr__(self) -> str:
        return f"AccessToken(<redacted>, expires_at={self.expires_at:.1f})"


def default_refresh_margin(lifetime: float) -> float:
    """Refresh when less than min(5 min, a quarter of the lifetime) remains."""
    return min(300.0, lifetime / 4)


class AppCredentialSource:
    """Fetches tokens with the appid and appsecret and caches them until shortly before expiry.

    However many calls find the cache cold or stale, one fetch runs and all of them
    await it; a failed fetch is raised to every waiter and not cached.
    """

    query_name = "access_token"

    def __init__(
        self,
        appid: str,
        secret: str,
        *,
        endpoint: TokenEndpoint = "stable_token",
        clock: Clock = time.monotonic,
        refresh_margin: Callable[[float], float] = default_refresh_margin,
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
        self._clock = clock
        self._margin = refresh_margin
        self._token: AccessToken | None = None
        self._inflight: asyncio.Task[AccessToken] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(appid={self.appid!r}, endpoint={self._endpoint!r})"

    async def get(self, http: TokenHttp) -> str:
        token = self._token
        if token is not None and self._clock() < token.refresh_at:
            return token.value
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(self._fetch(http))
            self._inflight.add_done_callback(self._fetch_done)
        # shield: one waiter's cancellation must not cancel the fetch the others await
        return (await asyncio.shield(self._inflight)).value

    def _fetch_done(self, task: asyncio.Task[AccessToken]) -> None:
        if self._inflight is task:
            self._inflight = None
        if not task.cancelled() and task.exception() is None:
            self._token = task.result()

    async def _fetch(self, http: TokenHttp) -> AccessToken:
        started = self._clock()
        if self._endpoint == "stable_token":
            body = {
                "grant_type": "client_credential",
                "appid": self.appid,
                "secret": self._secret,
                "force_refresh": False,
            }
            reply = await http("POST", "cgi-bin/stable_token", query="", json_body=body)
        else:
            query = f"grant_type=client_credential&appid={self.appid}&secret={self._secret}"
            reply = await http("GET", "cgi-bin/token", query=query, json_body=None)
        token = parse_token_reply(reply, started, self._margin, f"cgi-bin/{self._endpoint}")
        log.debug(
            "fetched a token from cgi-bin/%s, valid %.0f s",
            self._endpoint,
            token.expires_at - started,
        )
        return token

    async def reject(self, value: str) -> bool:
        token = self._token
        if token is not None and token.value == value:
            self._token = None  # only if the cache still holds the rejected token
        return True

    async def close(self) -> None:
        task = self._inflight
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def parse_token_reply(
    reply: dict[str, Any], fetched_at: float, margin: Callable[[float], float], where: str
) -> AccessToken:
    """An :class:`AccessToken` from a token endpoint's JSON (which has no errcode on success)."""
    value = reply.get("access_token")
    lifetime = reply.get("expires_in")
    if not isinstance(value, str) or not value:
        raise BadResponse("token reply has no access_token", endpoint=where)
    if isinstance(lifetime, str) and lifetime.isdigit():
        lifetime = int(lifetime)
    if not isinstance(lifetime, (int, float)) or isinstance(lifetime, bool) or lifetime <= 0:
        raise BadResponse("token reply has no positive expires_in", endpoint=where)
    expires_at = fetched_at + lifetime
    return AccessToken(value, expires_at, expires_at - margin(float(lifetime)))


class StaticTokenSource:
    """A token the caller manages: a fixed string, or an async callable asked on every call
    (a central token service, a third-party ``authorizer_access_token``)."""

    def __init__(
        self,
        token: str | Callable[[], Awaitable[str]],
        *,
        query_name: str = "access_token",
    ) -> None:
        self._token = token
        self.query_name = query_name

    def __repr__(self) -> str:
        kind = "callable" if callable(self._token) else "fixed"
        return f"{type(self).__name__}({kind}, query_name={self.query_name!r})"

    async def get(self, http: TokenHttp) -> str:
        if callable(self._token):
            value = await self._token()
            if not isinstance(value, str) or not value:
                raise InvalidInput("the token callable must return a non-empty string")
            return value
        return self._token

    async def reject(self, value: str) -> bool:
        return callable(self._token)  # a callable may hand back a fresh one

    async def close(self) -> None:
        return None


class NoTokenSource:
    """No token at all: WeChat Cloud Run's open-API service adds it on the way."""

    query_name: str | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    async def get(self, http: TokenHttp) -> None:
        return None

    async def reject(self, value: str) -> bool:
        return False

    async def close(self) -> None:
        return None
