"""Where each call's access_token comes from.

A :class:`TokenSource` hands the client a token (or None) and is told when WeChat
rejected one. Sources do HTTP only through the :class:`TokenHttp` callable the
client gives them, so this module never touches aiohttp.
"""

from __future__ import annotations

import math
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import attrs

from .errors import BadResponse, InvalidInput, TokenUnavailable, WxOcrError

if TYPE_CHECKING:
    from .store import TokenStore

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


#: WeChat's documented token lifetime: no token is cached longer, whatever expires_in says
MAX_TOKEN_LIFETIME = 7200.0


def default_refresh_margin(lifetime: float) -> float:
    """Refresh when less than min(5 min, a quarter of the lifetime) remains."""
    return min(300.0, lifetime / 4)


def parse_token_reply(
    reply: dict[str, Any], fetched_at: float, margin: Callable[[float], float], where: str
) -> AccessToken:
    """An :class:`AccessToken` from a token endpoint's JSON (which has no errcode on success)."""
    value = reply.get("access_token")
    lifetime = reply.get("expires_in")
    if not isinstance(value, str) or not value or not value.isprintable() or len(value) > 2048:
        raise BadResponse("token reply has no usable access_token", endpoint=where)
    if isinstance(lifetime, str) and lifetime.isascii() and lifetime.isdigit():
        lifetime = int(lifetime[:12])
    if (
        not isinstance(lifetime, (int, float))
        or isinstance(lifetime, bool)
        or (isinstance(lifetime, float) and not math.isfinite(lifetime))
        or lifetime <= 0
    ):
        raise BadResponse("token reply has no finite positive expires_in", endpoint=where)
    lifetime = float(min(lifetime, MAX_TOKEN_LIFETIME))  # never trust it past WeChat's 2 h
    expires_at = fetched_at + lifetime
    # never schedule the next refresh sooner than half the lifetime (or 30 s) from now, so a
    # token handed back near its end does not turn into a fetch on every call
    refresh_at = max(expires_at - margin(lifetime), fetched_at + min(30.0, lifetime / 2))
    return AccessToken(value, expires_at, min(refresh_at, expires_at))


async def ask_callable(source: Callable[[], Awaitable[str]], what: str) -> str:
    """A token from the caller's async callable; its failures become :class:`TokenUnavailable`
    (chained), so that only WxOcrErrors leave a call."""
    try:
        value = await source()
    except WxOcrError:
        raise
    except Exception as exc:
        raise TokenUnavailable(f"{what} failed: {type(exc).__name__}") from exc
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{what} must return a non-empty string")
    return value


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
            return await ask_callable(self._token, "the token callable")
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


#: where WeChat Cloud Run mounts the cloudbase_access_token (refreshed every 10 minutes)
CLOUDBASE_TOKEN_PATH = "/.tencentcloudbase/wx/cloudbase_access_token"


class CloudbaseTokenSource:
    """A ``cloudbase_access_token`` (sent under that query name): a value, an async
    callable, or the file WeChat Cloud Run mounts, re-read whenever it changes."""

    query_name = "cloudbase_access_token"

    def __init__(
        self,
        token: str | Callable[[], Awaitable[str]] | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
    ) -> None:
        if token is not None and path is not None:
            raise InvalidInput("give a cloudbase token or a path to read it from, not both")
        self._token = token
        self._path = (
            Path(path if path is not None else CLOUDBASE_TOKEN_PATH) if token is None else None
        )
        self._stamp: tuple[int, int, int] | None = None
        self._value = ""

    def __repr__(self) -> str:
        where = (
            f"path={str(self._path)!r}"
            if self._path
            else ("callable" if callable(self._token) else "fixed")
        )
        return f"{type(self).__name__}({where})"

    async def get(self, http: TokenHttp) -> str:
        if self._path is not None:
            return self._read_file()
        if callable(self._token):
            return await ask_callable(self._token, "the cloudbase token callable")
        assert isinstance(self._token, str)
        return self._token

    def _read_file(self, force: bool = False) -> str:
        assert self._path is not None
        try:
            st = self._path.stat()
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
            if force or stamp != self._stamp:
                self._value = self._path.read_text(encoding="utf-8").strip()
                self._stamp = stamp
        except OSError as exc:
            raise InvalidInput(
                f"cannot read the cloudbase_access_token file {str(self._path)!r}: "
                f"{exc.strerror} (is this running on WeChat Cloud Run?)"
            ) from exc
        if not self._value:
            raise InvalidInput(f"the cloudbase_access_token file {str(self._path)!r} is empty")
        return self._value

    async def reject(self, value: str) -> bool:
        if self._path is not None:
            return self._read_file(force=True) != value  # retry only with a newer token
        return callable(self._token)

    async def close(self) -> None:
        return None


def choose_token_source(
    appid: str | None,
    secret: str | None,
    token: str | Callable[[], Awaitable[str]] | None,
    cloudbase_token: str | os.PathLike[str] | Callable[[], Awaitable[str]] | None,
    token_source: TokenSource | None,
    token_endpoint: TokenEndpoint,
    store: TokenStore | None,
    clock: Clock,
) -> TokenSource:
    """The one token source a client's arguments name (more than one is refused)."""
    from .credentials import AppCredentialSource  # it builds on this module

    given = [
        name
        for name, value in (
            ("token=", token),
            ("cloudbase_token=", cloudbase_token),
            ("token_source=", token_source),
            ("appid=/secret=", secret),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise InvalidInput(f"pass only one of {' or '.join(given)}")
    if token is not None:
        if not (callable(token) or (isinstance(token, str) and token)):
            raise InvalidInput("token must be a non-empty string or an async callable")
        return StaticTokenSource(token)
    if cloudbase_token is not None:
        if isinstance(cloudbase_token, os.PathLike):
            return CloudbaseTokenSource(path=cloudbase_token)
        if not (callable(cloudbase_token) or cloudbase_token):
            raise InvalidInput("cloudbase_token must be a non-empty string, a path or a callable")
        return CloudbaseTokenSource(cloudbase_token)
    if token_source is not None:
        return token_source
    if secret:
        if not appid:
            raise InvalidInput("secret= needs appid= too")
        return AppCredentialSource(appid, secret, endpoint=token_endpoint, store=store, clock=clock)
    if appid:
        raise InvalidInput(
            "appid= needs secret= (or pass token=; pass neither for Cloud Run's open-API service)"
        )
    return NoTokenSource()
