"""Who may use a ``wxocr serve``: its token, its appid/secret, or nobody's (open)."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Mapping

import attrs

from ..errors import InvalidInput

ENV_TOKEN = "WXOCR_TOKEN"
ENV_APPID = "WXOCR_APPID"
ENV_SECRET = "WXOCR_SECRET"


@attrs.frozen
class ServerAuth:
    """The server's credentials.

    ``token``: every OCR call must carry exactly this ``access_token``; ``appid`` and
    ``secret``: the token endpoints issue tokens to this pair (and to no other), with
    WeChat's rules. Either, both, or neither: an open server, which needs no token and
    issues none."""

    token: str | None = attrs.field(default=None, repr=False)
    appid: str | None = None
    secret: str | None = attrs.field(default=None, repr=False)

    def __attrs_post_init__(self) -> None:
        if (self.appid is None) != (self.secret is None):
            have, missing = (ENV_APPID, ENV_SECRET) if self.appid else (ENV_SECRET, ENV_APPID)
            raise InvalidInput(f"{have} is set but {missing} is not: set both, or neither")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerAuth:
        """From ``WXOCR_TOKEN``, ``WXOCR_APPID`` and ``WXOCR_SECRET`` (empty: unset)."""
        env = os.environ if env is None else env
        return cls(
            token=env.get(ENV_TOKEN) or None,
            appid=env.get(ENV_APPID) or None,
            secret=env.get(ENV_SECRET) or None,
        )

    @property
    def is_open(self) -> bool:
        """No credentials: any caller may call, and no token is issued to anyone."""
        return self.token is None and self.appid is None

    def describe(self) -> str:
        """How callers authenticate, in a few words (no secret in them)."""
        ways = []
        if self.token is not None:
            ways.append(f"calls carry {ENV_TOKEN}")
        if self.appid is not None:
            ways.append(f"tokens issued to {ENV_APPID}={self.appid}")
        return " or ".join(ways) if ways else "open: no token needed"


def is_loopback_host(host: str) -> bool:
    """Whether every address ``host`` stands for is a loopback address (a name is
    resolved; one that does not resolve is not loopback)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    if not host:
        return False  # every interface
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(
        ipaddress.ip_address(str(a).split("%")[0]).is_loopback for a in addresses
    )
