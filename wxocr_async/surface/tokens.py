"""Access tokens as WeChat issues them, to one appid/secret pair, in a bounded table.

``/cgi-bin/token`` issues a new token each time; the previous one stays valid for a
grace period (WeChat: five minutes). ``/cgi-bin/stable_token`` hands back the current
token until it nears expiry, or a new one on ``force_refresh``. Tokens are kept by their
SHA-256, so a lookup compares digests, never the secret value itself; the table holds at
most ``max_live`` tokens (the oldest are dropped first), so no number of token requests
grows it.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Callable
from typing import Literal

import attrs

from .wire import Reply, error_reply

#: tokens kept live at most (besides accepted ones): a client needs one, a fleet a few
MAX_LIVE_TOKENS = 1000
TokenKind = Literal["token", "stable_token"]
TokenState = Literal["valid", "invalid", "expired"]


@attrs.define
class _Issued:
    value: str = attrs.field(repr=False)
    expires: float


class TokenTable:
    """The tokens issued to ``appid``/``secret`` (None: to nobody; every pair is refused).

    ``lifetime``: seconds a token lives; ``grace``: seconds the previous token stays valid
    after a new one; ``clock``: the time source (a manual clock in tests)."""

    def __init__(
        self,
        appid: str | None,
        secret: str | None,
        *,
        lifetime: float = 7200,
        grace: float = 300,
        clock: Callable[[], float] = time.monotonic,
        max_live: int = MAX_LIVE_TOKENS,
    ) -> None:
        self.appid = appid
        self._secret = secret
        self.lifetime = lifetime
        self.grace = grace
        self.clock = clock
        self.max_live = max_live
        self._live: dict[bytes, _Issued] = {}
        self._accepted: set[bytes] = set()
        self._current: dict[TokenKind, bytes] = {}

    def __repr__(self) -> str:
        return f"TokenTable(appid={self.appid!r}, live={len(self._live)})"

    # -- credentials --------------------------------------------------------------------

    def credential_error(self, appid: object, secret: object) -> Reply | None:
        """WeChat's error for a token request with this pair, or None if it gets a token.
        Compared in constant time."""
        if not appid:
            return error_reply(41002)
        if self.appid is None or not _same(appid, self.appid):
            return error_reply(40013)
        if not secret:
            return error_reply(41004)
        if self._secret is None or not _same(secret, self._secret):
            return error_reply(40125)
        return None

    # -- issuing ------------------------------------------------------------------------

    def issue(self, kind: TokenKind) -> tuple[str, float]:
        """A new token of ``kind`` and its lifetime; the previous one gets the grace."""
        now = self.clock()
        old = self._live.get(self._current.get(kind, b""))
        if old is not None:
            old.expires = min(old.expires, now + self.grace)
        value = secrets.token_urlsafe(48)
        key = _digest(value)
        self._live[key] = _Issued(value, now + self.lifetime)
        self._current[kind] = key
        self._bound(now)
        return value, self.lifetime

    def stable(self, force_refresh: bool) -> tuple[str, int, bool]:
        """``stable_token``: ``(token, expires_in, newly issued)``. The current token is
        handed back until it is within ``min(grace, lifetime / 4)`` of expiry."""
        now = self.clock()
        current = self._live.get(self._current.get("stable_token", b""))
        remaining = current.expires - now if current is not None else 0.0
        if force_refresh or current is None or remaining <= min(self.grace, self.lifetime / 4):
            value, lifetime = self.issue("stable_token")
            return value, int(lifetime), True
        return current.value, math.floor(remaining), False

    def accept(self, value: str) -> None:
        """Accept ``value`` as a token that never expires (a server's own token)."""
        self._accepted.add(_digest(value))

    # -- checking -----------------------------------------------------------------------

    def state(self, value: str) -> TokenState:
        key = _digest(value)
        if key in self._accepted:
            return "valid"
        issued = self._live.get(key)
        if issued is None:
            return "invalid"
        return "valid" if self.clock() < issued.expires else "expired"

    def revoke(self) -> None:
        """Invalidate every issued token (accepted ones stay)."""
        self._live.clear()
        self._current.clear()

    def issued(self) -> list[str]:
        """Every issued token still in the table, expired or not, oldest first (for tests
        looking for leaks)."""
        return [t.value for t in self._live.values()]

    def __len__(self) -> int:
        return len(self._live)

    def _bound(self, now: float) -> None:
        """Drop expired tokens from the oldest end, then the oldest non-current ones past
        ``max_live`` (a walk of a few entries: the oldest come first)."""
        current = set(self._current.values())
        excess = len(self._live) - self.max_live
        drop = []
        for key, issued in self._live.items():
            if excess <= 0 and now < issued.expires:
                break
            if key not in current:
                drop.append(key)
                excess -= 1
        for key in drop:
            del self._live[key]


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def _same(given: object, expected: str) -> bool:
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())
