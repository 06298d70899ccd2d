"""Keeping the appsecret and access tokens out of every error that leaves the library.

The client registers each secret value it holds (the appsecret, every token it sends)
with a :class:`Redactor`. Before an error leaves a call, :meth:`Redactor.scrub` walks
its whole ``__cause__``/``__context__`` chain: our own errors get ``***`` in place of any
secret in their message; the first foreign link whose text reveals a secret (aiohttp
puts the full URL, token included, in some of its exceptions) is cut off, with all
that lies behind it. Redaction is by value, so it covers any query parameter name.
"""

from __future__ import annotations

from collections import deque
from urllib.parse import quote

from .errors import WxOcrError

MASK = "***"
#: how many recent token values are remembered (a token lives two hours)
RECENT_TOKENS = 16
#: the longest chain walked (real chains are two or three links long)
MAX_CHAIN = 32
#: shorter values are no real secret (tokens run to 100+ characters, appsecrets to 32),
#: and masking them everywhere would only garble messages
MIN_SECRET_LENGTH = 8


class Redactor:
    """The secret values one client holds, and the scrubbing of errors against them."""

    def __init__(self) -> None:
        self._fixed: list[str] = []
        self._recent: deque[str] = deque(maxlen=RECENT_TOKENS)
        self._last = ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<{len(self._fixed) + len(self._recent)} values>)"

    def add(self, value: str | None, *, fixed: bool = False) -> None:
        """Remember ``value`` (``fixed``: for the client's lifetime, e.g. the appsecret)."""
        if not value or value == self._last or len(value) < MIN_SECRET_LENGTH:
            return  # the common case: the same token as the previous call
        self._last = value
        if value in self._fixed or value in self._recent:
            return
        (self._fixed if fixed else self._recent).append(value)

    def _forms(self) -> list[str]:
        values = [*self._fixed, *self._recent]
        return [*values, *(q for v in values if (q := quote(v, safe="")) != v)]

    def redact(self, text: str) -> str:
        """``text`` with every known secret value (plain or URL-encoded) replaced by ``***``."""
        for form in self._forms():
            if form in text:
                text = text.replace(form, MASK)
        return text

    def reveals(self, exc: BaseException) -> bool:
        """Whether ``exc``'s text, repr or args show a known secret value."""
        forms = self._forms()
        try:
            text = f"{exc!s}\n{exc!r}\n{exc.args!r}"
        except Exception:  # a foreign exception whose __str__ fails: keep nothing of it
            return True
        return any(form in text for form in forms)

    def scrub(self, error: WxOcrError) -> WxOcrError:
        """Make ``error`` and its whole chain free of known secrets (in place); returns it."""
        seen: set[int] = set()
        link: BaseException = error
        for _ in range(MAX_CHAIN):
            seen.add(id(link))
            if isinstance(link, WxOcrError):
                clean = self.redact(link.errmsg)
                if clean != link.errmsg:
                    link.errmsg = clean
                    link.args = (link.errcode, clean)
            cause, context = link.__cause__, link.__context__
            if cause is not None and (id(cause) in seen or self._foreign_reveals(cause)):
                link.__cause__ = None
                cause = None
            if context is not None and (id(context) in seen or self._foreign_reveals(context)):
                link.__context__ = None
                link.__suppress_context__ = True
                context = None
            following = cause if cause is not None else context
            if following is None:
                return error
            # walking the cause, the context is a branch of its own: kept only if clean
            if (
                cause is not None
                and context is not None
                and context is not cause
                and self._branch_reveals(context, seen)
            ):
                link.__context__ = None
                link.__suppress_context__ = True
            link = following
        link.__cause__ = link.__context__ = None  # longer than any real chain: cut it
        return error

    def _foreign_reveals(self, exc: BaseException) -> bool:
        return not isinstance(exc, WxOcrError) and self.reveals(exc)

    def _branch_reveals(self, exc: BaseException, seen: set[int]) -> bool:
        """Whether anything on ``exc``'s chain reveals a secret (cycles count as revealing)."""
        link: BaseException | None = exc
        for _ in range(MAX_CHAIN):
            if link is None:
                return False
            if id(link) in seen or self.reveals(link):
                return True
            link = link.__cause__ or link.__context__
        return True
