"""Fetching ``img_url`` as WeChat does, without becoming a way into the network the
fetcher runs in (SSRF).

:class:`ImageFetcher` is what ``wxocr serve`` and the offline engine use to download
an ``img_url``. The rules are in its docstring; :func:`address_refusal` is the
address filter on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import math
import socket
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeAlias

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from .errors import (
    BadResponse,
    ClientClosed,
    InvalidImageData,
    InvalidImageUrl,
    InvalidInput,
    WxOcrError,
)
from .images import MAX_IMAGE_BYTES
from .loops import PerLoop
from .transport import BodyTooLarge, close_session, read_body

if TYPE_CHECKING:
    from aiohttp.abc import ResolveResult

#: seconds one whole fetch may take (connect, headers, body) by default
DEFAULT_FETCH_TIMEOUT = 10.0

#: the User-Agent fetches are made with
USER_AGENT = "wxocr_async-img-fetch/1"

#: ``(host, port) -> IP address strings``: name resolution (default: ``getaddrinfo``)
Resolver: TypeAlias = Callable[[str, int], Awaitable[list[str]]]

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

_WHERE = "img_url"
_HINT = "allow_private_urls (wxocr serve --allow-private-urls) permits them"
_HEADERS = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
_NUMERIC_FLAGS = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
_ADDRCONFIG = socket.AI_ADDRCONFIG & getattr(socket, "AI_MASK", ~0)

_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_PRIVATE = (
    ipaddress.IPv4Network("10.0.0.0/8"),
    ipaddress.IPv4Network("172.16.0.0/12"),
    ipaddress.IPv4Network("192.168.0.0/16"),
    ipaddress.IPv6Network("fc00::/7"),
)


def address_refusal(address: str | IPAddress) -> str | None:
    """Why ``address`` must not be fetched from (``"a loopback address"`` and the like),
    or None for a globally routable unicast address.

    An IPv4 address inside an IPv6 one (mapped ``::ffff:a.b.c.d``, NAT64
    ``64:ff9b::a.b.c.d``, 6to4 ``2002:…``) is judged as that IPv4 address too. Raises
    ValueError for a string that is not an IP address.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        for kind, v4 in (
            ("an IPv4-mapped", ip.ipv4_mapped),
            ("a NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None),
            ("a 6to4", ip.sixtofour),
        ):
            if v4 is not None and (why := address_refusal(v4)) is not None:
                return f"{kind} address for {v4}, {why}"
        if ip.ipv4_mapped is not None or ip in _NAT64:
            return None  # the IPv4 address inside is global
        if ip.is_site_local:
            return "a site-local address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip in _SHARED:
        return "a shared (carrier-grade NAT) address"
    if any(ip in net for net in _PRIVATE):
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private or not ip.is_global:
        return "a special-purpose address that is not globally routable"
    return None


class ImageFetcher:
    """Fetches ``img_url`` as WeChat does, and nothing WeChat could not reach.

    * Only ``http`` and ``https`` URLs with a host; anything else is refused unsent.
    * Redirects are never followed (a 3xx is an error), and any status but 200 is one.
    * The body must be under ``max_bytes`` (WeChat's 2 MB by default), counted after
      decompression, which is done here with that cap (gzip and deflate only; any other
      Content-Encoding is an error). A Content-Length of ``max_bytes`` or more is
      refused before the body is read.
    * The whole fetch (name resolution, connect, headers, body) takes at most
      ``timeout`` seconds.
    * Unless ``allow_private``, addresses that are not globally routable (loopback,
      private, link-local, shared, multicast, reserved, unspecified; see
      :func:`address_refusal`) are refused with no connection made. An IP-literal host
      is checked before the request; a name is resolved once, and if any of its
      addresses is refused so is the URL; otherwise the connection is made only to
      those checked addresses (no DNS rebinding). Legacy numeric IPv4 hosts
      (``2130706433``, ``127.1``) are always refused.
    * No proxy from the environment, no cookies kept, no connection reused.

    Every failure is an :class:`~wxocr_async.errors.InvalidImageUrl` (101000), except a
    body too large: :class:`~wxocr_async.errors.InvalidImageData` (101002), and a fetch
    after :meth:`close`: :class:`~wxocr_async.errors.ClientClosed`. Messages name the
    host only (never the path or query) and chain no exception that might hold the URL.

    ``resolver(host, port)`` returns the IP address strings for a name (for tests;
    default: the system's ``getaddrinfo``). The aiohttp session is made on first use in
    each event loop and closed when that loop shuts down or on :meth:`close`.
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout: float = DEFAULT_FETCH_TIMEOUT,
        max_bytes: int = MAX_IMAGE_BYTES,
        resolver: Resolver | None = None,
    ) -> None:
        if not (isinstance(timeout, int | float) and timeout > 0 and math.isfinite(timeout)):
            raise InvalidInput(f"timeout must be a positive number of seconds, not {timeout!r}")
        if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 1:
            raise InvalidInput(f"max_bytes must be a positive int, not {max_bytes!r}")
        self._allow_private = allow_private
        self._timeout = float(timeout)
        self._max_bytes = max_bytes
        self._resolve = resolver if resolver is not None else _getaddrinfo
        self._sessions: PerLoop[aiohttp.ClientSession] = PerLoop(self._make_session, close_session)
        self._closed = False

    def _make_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            resolver=_CheckedResolver(self._resolve, self._allow_private),
            use_dns_cache=False,
            force_close=True,
        )
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            headers=_HEADERS,
            # one bound for the whole fetch, fetch()'s own (two timers race to report it)
            timeout=aiohttp.ClientTimeout(total=None),
            auto_decompress=False,
        )

    async def fetch(self, url: str) -> bytes:
        """The body of ``url``, under the rules above."""
        if self._closed:
            raise ClientClosed("the image fetcher is closed", endpoint=_WHERE)
        target = _checked_url(url, self._allow_private)
        host = _shown(target.raw_host or "")
        session = await self._sessions.get()
        if self._closed:  # closed while the session was being made
            raise ClientClosed("the image fetcher is closed", endpoint=_WHERE)
        error: WxOcrError
        try:
            async with asyncio.timeout(self._timeout):
                return await self._get(session, target, host)
        except WxOcrError:
            raise
        except _Unfetchable as exc:  # from the resolver, through aiohttp
            error = _url_error(exc.message)
        except TimeoutError:
            error = _url_error(
                f"fetching img_url from host {host} took more than {self._timeout:g} s: given up"
            )
        except aiohttp.ClientConnectorError as exc:  # refused, unreachable, TLS
            error = _url_error(f"cannot connect to img_url host {host} ({type(exc).__name__})")
        except aiohttp.InvalidURL:
            error = _url_error("img_url is not a URL that can be fetched")
        except (aiohttp.ClientResponseError, aiohttp.ClientPayloadError) as exc:
            error = _url_error(f"img_url host {host} sent a malformed reply ({type(exc).__name__})")
        except (aiohttp.ClientError, OSError, RuntimeError, ValueError) as exc:
            error = _url_error(f"fetching img_url from host {host} failed ({type(exc).__name__})")
        if self._closed:
            error = ClientClosed("the image fetcher was closed during the fetch", endpoint=_WHERE)
        # outside the except blocks, from None: aiohttp's exceptions carry the whole URL
        raise error from None

    async def _get(self, session: aiohttp.ClientSession, target: URL, host: str) -> bytes:
        failure: BadResponse
        async with session.get(
            target, allow_redirects=False, raise_for_status=False, auto_decompress=False
        ) as resp:
            if 300 <= resp.status < 400:
                raise _url_error(
                    f"img_url host {host} answered HTTP {resp.status}, a redirect: "
                    "redirects are not followed"
                )
            if resp.status != 200:
                raise _url_error(
                    f"img_url host {host} answered HTTP {resp.status}; only 200 is accepted"
                )
            if resp.content_length is not None and resp.content_length >= self._max_bytes:
                raise self._too_big(host)
            try:
                return await read_body(resp, self._max_bytes - 1, _WHERE)
            except BadResponse as exc:  # raised below, outside the except: no context
                failure = exc
        if isinstance(failure, BodyTooLarge):
            raise self._too_big(host)
        raise _url_error(f"img_url host {host} sent a reply that cannot be used: {failure.errmsg}")

    def _too_big(self, host: str) -> InvalidImageData:
        return InvalidImageData(
            101002,
            f"the image at img_url host {host} is {self._max_bytes} bytes or more "
            f"(after decompression): not read further; images must be under "
            f"{self._max_bytes} bytes",
            endpoint=_WHERE,
        )

    async def close(self) -> None:
        """Close this event loop's session; later fetches raise ClientClosed. Safe to
        call twice."""
        self._closed = True
        await self._sessions.aclose()


class _Unfetchable(Exception):
    """Raised by the resolver through aiohttp (which passes on anything but OSError): the
    name cannot be resolved, or resolves to a refused address."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _CheckedResolver(AbstractResolver):
    """Resolves once and hands aiohttp only addresses that passed the filter, so the
    connection is made to a checked address (aiohttp connects only to what its
    resolver returns)."""

    def __init__(self, resolve: Resolver, allow_private: bool) -> None:
        self._resolve = resolve
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            addresses = await self._resolve(host, port)
        except OSError:  # socket.gaierror and the like
            addresses = []
        results: list[ResolveResult] = []
        for text in addresses:
            ip = _parse_address(text)
            if ip is None:
                raise _Unfetchable(
                    f"img_url host {_shown(host)} resolved to something that is not an "
                    "IP address: not fetched"
                )
            why = None if self._allow_private else address_refusal(ip)
            if why is not None:
                raise _Unfetchable(
                    f"img_url host {_shown(host)} resolves to {ip}, {why}: not fetched ({_HINT})"
                )
            ip_family = socket.AF_INET if ip.version == 4 else socket.AF_INET6
            if family in (socket.AF_UNSPEC, ip_family):
                result: ResolveResult = {
                    "hostname": host,
                    "host": str(ip),
                    "port": port,
                    "family": ip_family,
                    "proto": 0,
                    "flags": _NUMERIC_FLAGS,
                }
                results.append(result)
        if not results:
            raise _Unfetchable(f"img_url host {_shown(host)} could not be resolved")
        return results

    async def close(self) -> None:
        pass


async def _getaddrinfo(host: str, port: int) -> list[str]:
    """The system's addresses for ``host`` (the default resolver)."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=_ADDRCONFIG
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _checked_url(url: object, allow_private: bool) -> URL:
    """``url`` parsed, if it may be fetched as far as can be told without resolving it."""
    parsed: URL | None = None
    if isinstance(url, str):
        with contextlib.suppress(ValueError, TypeError, UnicodeError):
            candidate = URL(url)
            _ = candidate.port  # a port out of range raises here
            parsed = candidate
    if parsed is None:
        raise _url_error("img_url is not a valid URL")
    if parsed.scheme not in ("http", "https"):
        shown = repr(parsed.scheme[:20]) if parsed.scheme else "missing"
        raise _url_error(f"img_url must be an http or https URL (its scheme is {shown})")
    host = parsed.raw_host
    if not host:
        raise _url_error("img_url has no host")
    literal = _literal_address(host)
    if literal is not None and not allow_private and (why := address_refusal(literal)):
        raise _url_error(f"img_url host {literal} is {why}: not fetched ({_HINT})")
    return parsed


def _literal_address(host: str) -> IPAddress | None:
    """``host`` as an address, if aiohttp would connect to it without resolving it (an
    IPv6 literal, or digits and dots); None for a name."""
    if ":" not in host and not host.replace(".", "").isdigit():
        return None
    address = _parse_address(host)
    if address is not None:
        return address
    try:  # 2130706433, 127.1, 0177.0.0.1: what socket (and older aiohttp) would connect to
        legacy: IPAddress | None = ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        legacy = None
    if legacy is None:
        raise _url_error(f"img_url host {_shown(host)} is not a valid IP address")
    why = address_refusal(legacy)
    raise _url_error(
        f"img_url host {_shown(host)} is a legacy numeric form of {legacy}"
        + (f", {why}" if why else "")
        + ": not fetched (write an IPv4 address as four decimal numbers)"
    )


def _parse_address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _shown(host: str) -> str:
    return host if len(host) <= 100 else f"{host[:100]}..."


def _url_error(message: str) -> InvalidImageUrl:
    return InvalidImageUrl(101000, message, endpoint=_WHERE)
