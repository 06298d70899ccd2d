"""ImageFetcher: ``img_url`` fetched as WeChat does, never into this machine's network.

Every server here listens on loopback, and a guard (the autouse ``connections``
fixture) refuses any socket connection to an address off this machine, so no test
leaves it even if the fetcher is broken.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import ipaddress
import socket
import struct
import tracemalloc
import zlib
from asyncio.selector_events import BaseSelectorEventLoop
from collections.abc import Iterator
from functools import cache
from typing import Any, Self

import pytest

from wxocr_async.errors import (
    ClientClosed,
    InvalidImageData,
    InvalidImageUrl,
    InvalidInput,
    WxOcrError,
)
from wxocr_async.fetch import (
    DEFAULT_FETCH_TIMEOUT,
    ImageFetcher,
    _CheckedResolver,
    address_refusal,
)
from wxocr_async.images import MAX_IMAGE_BYTES

from .hostile import RawHttpServer, Scenario, SilentServer, Writer, http_reply, reply, stream

SECRET = "SENTINEL"
PATH = f"/img.png?secret={SECRET}"
IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64
PNG_200 = http_reply("200 OK", {"Content-Type": "image/png"}, IMAGE)
GUARD = 30  # seconds: a hang guard only, never a timing assertion


def _is_loopback(host: str) -> bool:
    ip = ipaddress.ip_address(host.partition("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The addresses sockets connected to during the test. A connection to anything
    but loopback is refused here: the tests never leave this machine."""
    attempts: list[str] = []
    original = BaseSelectorEventLoop.sock_connect

    async def guarded(self: BaseSelectorEventLoop, sock: socket.socket, address: Any) -> None:
        host = str(address[0])
        attempts.append(host)
        if not _is_loopback(host):
            raise ConnectionRefusedError(f"test guard: no connection to {host}")
        await original(self, sock, address)

    monkeypatch.setattr(BaseSelectorEventLoop, "sock_connect", guarded)
    return attempts


class Listener(RawHttpServer):
    """A :class:`RawHttpServer` on ``host`` that counts the connections it accepts."""

    def __init__(self, scenario: Scenario, host: str = "127.0.0.1") -> None:
        super().__init__(scenario)
        self.host = host
        self.accepted = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        await super()._serve(reader, writer)

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def at(self, host: str, path: str = PATH) -> str:
        return f"http://{host}:{self.port}{path}"


def answering(*addresses: str) -> Any:
    """A resolver that answers ``addresses`` for every name, recording the names."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return list(addresses)

    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


def held(head: bytes, release: asyncio.Event) -> Scenario:
    """Writes ``head`` then nothing more until ``release`` is set."""

    async def scenario(writer: Writer) -> None:
        writer.write(head)
        await writer.drain()
        await release.wait()

    return scenario


def drip(head: bytes, release: asyncio.Event) -> Scenario:
    """Writes ``head`` then one body byte a second until ``release`` is set."""

    async def scenario(writer: Writer) -> None:
        writer.write(head)
        for _ in range(GUARD):
            writer.write(b"x")
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(release.wait(), 1.0)
            if release.is_set():
                return

    return scenario


@cache
def gzip_bomb(size: int = 1 << 30) -> bytes:
    """``size`` zero bytes as one valid gzip stream of about 1 MB, in a fraction of a
    second: after a full flush a block of zeros always compresses the same, so one is
    compressed and repeated (the trailer's CRC is computed over the real data)."""
    block = bytes(1 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    first = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    middle = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    last = packer.compress(block) + packer.flush()
    crc = 0
    for _ in range(size // len(block)):
        crc = zlib.crc32(block, crc)
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return first + middle * (size // len(block) - 2) + last[:-8] + trailer


def chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception behind it (``__cause__`` and ``__context__``)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def assert_no_secret(exc: BaseException) -> None:
    for link in chain(exc):
        assert SECRET not in str(link), link
        assert SECRET not in repr(link), link
        assert SECRET not in repr(link.args), link


# == The address filter (no connections) ==============================================


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.254", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "shared"),
        ("100.127.255.254", "shared"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("192.0.2.1", "not globally routable"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fe80::1%1", "link-local"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("ff02::1", "multicast"),
        ("fec0::1", "site-local"),
        ("::ffff:10.0.0.1", "IPv4-mapped address for 10.0.0.1, a private"),
        ("::ffff:127.0.0.1", "IPv4-mapped address for 127.0.0.1, a loopback"),
        ("64:ff9b::a00:1", "NAT64 address for 10.0.0.1, a private"),
        ("2002:7f00:1::1", "6to4 address for 127.0.0.1, a loopback"),
        ("2001:db8::1", "not globally routable"),
        ("::7f00:1", "reserved"),
    ],
)
def test_addresses_that_are_not_global_are_refused(address: str, why: str) -> None:
    refusal = address_refusal(address)
    assert refusal is not None and why in refusal, refusal
    assert address_refusal(ipaddress.ip_address(address.partition("%")[0])) is not None


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8"],
)
def test_global_addresses_are_allowed(address: str) -> None:
    assert address_refusal(address) is None


def test_a_non_address_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="does not appear to be"):
        address_refusal("example.com")


async def test_the_resolver_hands_aiohttp_only_checked_addresses() -> None:
    """What aiohttp connects to is what the resolver returns: the checked addresses."""
    resolver = _CheckedResolver(answering("8.8.8.8", "2606:4700::1111"), allow_private=False)
    results = await resolver.resolve("global.example", 443, family=socket.AF_UNSPEC)
    assert [(r["host"], r["port"], r["family"]) for r in results] == [
        ("8.8.8.8", 443, socket.AF_INET),
        ("2606:4700::1111", 443, socket.AF_INET6),
    ]
    only_v4 = await resolver.resolve("global.example", 443, family=socket.AF_INET)
    assert [r["host"] for r in only_v4] == ["8.8.8.8"]


# == Refused before any connection ====================================================


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "0.0.0.0", "2130706433", "127.1", "0x7f.1"],
)
async def test_loopback_urls_are_refused_without_connecting(
    host: str, connections: list[str]
) -> None:
    fetcher = ImageFetcher()
    try:
        async with Listener(reply(PNG_200)) as server:
            with pytest.raises(InvalidImageUrl) as info:
                await asyncio.wait_for(fetcher.fetch(server.at(host)), GUARD)
    finally:
        await fetcher.close()
    assert info.value.errcode == 101000
    assert server.accepted == 0 and connections == []
    assert_no_secret(info.value)


async def test_ipv6_loopback_is_refused_without_connecting(connections: list[str]) -> None:
    try:
        listener = await Listener(reply(PNG_200), host="::1").__aenter__()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    fetcher = ImageFetcher()
    try:
        with pytest.raises(InvalidImageUrl, match="loopback") as info:
            await asyncio.wait_for(fetcher.fetch(listener.at("[::1]")), GUARD)
    finally:
        await fetcher.close()
        await listener.__aexit__(None, None, None)
    assert info.value.errcode == 101000
    assert listener.accepted == 0 and connections == []


async def test_a_name_resolving_to_loopback_is_refused_and_allowed_only_when_private_is(
    connections: list[str],
) -> None:
    """DNS rebinding: the address checked is the one connected to. With allow_private a
    name that resolves (here, by the injected resolver) to 127.0.0.1 reaches the
    listener there; without, the same answer is refused and nothing connects."""
    resolver = answering("127.0.0.1")
    strict = ImageFetcher(resolver=resolver)
    lax = ImageFetcher(resolver=resolver, allow_private=True)
    try:
        async with Listener(reply(PNG_200)) as server:
            with pytest.raises(InvalidImageUrl, match=r"rebind\.example resolves to 127\.0\.0\.1"):
                await asyncio.wait_for(strict.fetch(server.at("rebind.example")), GUARD)
            assert server.accepted == 0 and connections == []
            for _ in range(2):  # resolved afresh each time: no cached answer, no kept socket
                got = await asyncio.wait_for(lax.fetch(server.at("rebind.example")), GUARD)
                assert got == IMAGE
    finally:
        await strict.close()
        await lax.close()
    assert server.accepted == 2 and connections == ["127.0.0.1", "127.0.0.1"]
    assert resolver.asked == ["rebind.example"] * 3


@pytest.mark.parametrize(
    "answer",
    [
        ("8.8.8.8", "10.0.0.1"),
        ("10.0.0.1", "8.8.8.8"),
        ("2606:4700::1111", "::1"),
        ("8.8.8.8", "not-an-address"),
    ],
)
async def test_a_name_with_any_refused_address_is_refused(
    answer: tuple[str, ...], connections: list[str]
) -> None:
    fetcher = ImageFetcher(resolver=answering(*answer))
    try:
        with pytest.raises(InvalidImageUrl, match=r"mixed\.example") as info:
            await asyncio.wait_for(fetcher.fetch(f"http://mixed.example{PATH}"), GUARD)
    finally:
        await fetcher.close()
    assert info.value.errcode == 101000 and connections == []
    assert_no_secret(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1:{port}/img.png",
        "gopher://127.0.0.1:{port}/_GET",
        "http://",
        "http:///img.png",
        "https://:{port}/img.png",
        "//127.0.0.1:{port}/img.png",
        "127.0.0.1:{port}/img.png",
        "not a url",
        "",
        "http://127.0.0.1:99999/img.png",
        "http://[::1/img.png",
        "http://1.2.3.4.5:{port}/",
    ],
)
async def test_other_urls_are_refused_without_connecting(url: str, connections: list[str]) -> None:
    fetcher = ImageFetcher(allow_private=True)
    try:
        async with Listener(reply(PNG_200)) as server:
            with pytest.raises(InvalidImageUrl) as info:
                await asyncio.wait_for(fetcher.fetch(url.format(port=server.port)), GUARD)
    finally:
        await fetcher.close()
    assert info.value.errcode == 101000
    assert server.accepted == 0 and connections == []


# == Fetching (allow_private: against loopback listeners) ===========================


async def fetch_from(
    scenario: Scenario,
    *,
    timeout: float = DEFAULT_FETCH_TIMEOUT,
    max_bytes: int = MAX_IMAGE_BYTES,
    release: asyncio.Event | None = None,
) -> tuple[bytes | WxOcrError, Listener]:
    """What fetching from a listener running ``scenario`` gives: the body or the error.
    ``release`` is set once the fetch is over (before the listener shuts down)."""
    fetcher = ImageFetcher(allow_private=True, timeout=timeout, max_bytes=max_bytes)
    try:
        async with Listener(scenario) as server:
            try:
                return await asyncio.wait_for(fetcher.fetch(server.at("127.0.0.1")), GUARD), server
            except WxOcrError as exc:
                assert_no_secret(exc)
                return exc, server
            finally:
                if release is not None:
                    release.set()
    finally:
        await fetcher.close()


async def test_a_200_image_is_fetched() -> None:
    got, server = await fetch_from(reply(PNG_200))
    assert got == IMAGE
    assert server.requests == [f"GET {PATH} HTTP/1.1"]


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "raw-deflate"])
async def test_a_compressed_image_is_decompressed(encoding: str) -> None:
    if encoding in ("gzip", "x-gzip"):
        packed = gzip.compress(IMAGE)
    elif encoding == "deflate":
        packed = zlib.compress(IMAGE)
    else:
        packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        packed = packer.compress(IMAGE) + packer.flush()
    wire = "deflate" if encoding == "raw-deflate" else encoding
    got, _ = await fetch_from(reply(http_reply("200 OK", {"Content-Encoding": wire}, packed)))
    assert got == IMAGE


async def test_a_redirect_is_not_followed() -> None:
    fetcher = ImageFetcher(allow_private=True)
    try:
        async with Listener(reply(PNG_200)) as target:
            moved = http_reply("302 Found", {"Location": target.at("127.0.0.1")}, b"")
            async with Listener(reply(moved)) as server:
                with pytest.raises(InvalidImageUrl, match="302, a redirect") as info:
                    await asyncio.wait_for(fetcher.fetch(server.at("127.0.0.1")), GUARD)
    finally:
        await fetcher.close()
    assert info.value.errcode == 101000
    assert server.accepted == 1 and target.accepted == 0
    assert_no_secret(info.value)


@pytest.mark.parametrize("status", ["404 Not Found", "500 Internal Server Error", "403 Forbidden"])
async def test_a_status_other_than_200_is_refused(status: str) -> None:
    got, _ = await fetch_from(reply(http_reply(status, {"Content-Type": "image/png"}, IMAGE)))
    assert isinstance(got, InvalidImageUrl) and got.errcode == 101000
    assert f"HTTP {status.split()[0]}" in got.errmsg


async def test_an_endless_body_is_cut_at_the_cap() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n"  # no length: until close
    got, server = await fetch_from(stream(head, bytes(65536)))
    assert isinstance(got, InvalidImageData) and got.errcode == 101002
    # what the server got out before the fetcher hung up: the cap plus socket buffers
    assert server.bytes_sent < MAX_IMAGE_BYTES + 24 * 2**20


async def test_an_endless_chunked_body_is_cut_at_the_cap() -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    got, server = await fetch_from(stream(head, bytes(65536), chunked=True))
    assert isinstance(got, InvalidImageData) and got.errcode == 101002
    assert server.bytes_sent < MAX_IMAGE_BYTES + 24 * 2**20


async def test_a_content_length_over_the_cap_is_refused_before_reading() -> None:
    """The server sends the head and 1 KB, then nothing: a fetcher that waited for the
    body would time out (101000), not refuse it (101002)."""
    release = asyncio.Event()
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 52428800\r\n\r\n" + bytes(1024)
    got, server = await fetch_from(held(head, release), timeout=GUARD - 5, release=release)
    assert isinstance(got, InvalidImageData) and got.errcode == 101002
    assert server.accepted == 1


async def test_a_gzip_bomb_is_cut_at_the_cap() -> None:
    bomb = gzip_bomb()
    assert len(bomb) < MAX_IMAGE_BYTES  # it passes on the wire: the cap is after inflating
    page = http_reply("200 OK", {"Content-Encoding": "gzip"}, bomb)
    tracemalloc.start()
    try:
        got, _ = await fetch_from(reply(page))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(got, InvalidImageData) and got.errcode == 101002
    # the expanded bytes never existed: 1 GB inflated would show here
    assert peak < 64 * 2**20, peak


@pytest.mark.parametrize("framing", ["length", "close", "chunked", "gzip"])
@pytest.mark.parametrize(("size", "ok"), [(999, True), (1000, False)])
async def test_the_image_must_be_under_max_bytes(framing: str, size: int, ok: bool) -> None:
    body = bytes(size)
    if framing == "length":
        scenario = reply(http_reply("200 OK", {}, body))
    elif framing == "gzip":
        scenario = reply(http_reply("200 OK", {"Content-Encoding": "gzip"}, gzip.compress(body)))
    elif framing == "chunked":
        raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        raw += b"%x\r\n%s\r\n0\r\n\r\n" % (size, body)
        scenario = reply(raw)
    else:
        scenario = reply(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body)
    got, _ = await fetch_from(scenario, max_bytes=1000)
    if ok:
        assert got == body
    else:
        assert isinstance(got, InvalidImageData) and got.errcode == 101002
        assert "1000 bytes or more" in got.errmsg


async def test_an_unknown_content_encoding_is_refused() -> None:
    got, _ = await fetch_from(reply(http_reply("200 OK", {"Content-Encoding": "br"}, b"\x1b")))
    assert isinstance(got, InvalidImageUrl) and got.errcode == 101000
    assert "Content-Encoding" in got.errmsg


async def test_a_broken_gzip_body_is_refused() -> None:
    page = http_reply("200 OK", {"Content-Encoding": "gzip"}, b"not gzip at all")
    got, _ = await fetch_from(reply(page))
    assert isinstance(got, InvalidImageUrl) and got.errcode == 101000


@pytest.mark.parametrize("case", ["drip", "silent"])
async def test_a_slow_server_times_out(case: str) -> None:
    release = asyncio.Event()
    fetcher = ImageFetcher(allow_private=True, timeout=1.0)
    server: Listener | SilentServer
    if case == "drip":
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
        server = Listener(drip(head, release))
    else:
        server = SilentServer()
    try:
        async with server:
            url = f"http://127.0.0.1:{server.port}{PATH}"
            try:
                with pytest.raises(InvalidImageUrl, match="took more than 1 s") as info:
                    await asyncio.wait_for(fetcher.fetch(url), GUARD)
            finally:
                release.set()
    finally:
        await fetcher.close()
    assert info.value.errcode == 101000
    assert_no_secret(info.value)


async def test_https_to_a_server_without_tls_is_refused() -> None:
    """The TLS handshake meets plain HTTP: a connection failure, not a hang."""
    accepted = 0

    async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        writer.write(PNG_200)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(plain, "127.0.0.1", 0)
    fetcher = ImageFetcher(allow_private=True)
    try:
        url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}{PATH}"
        with pytest.raises(InvalidImageUrl, match=r"connect to img_url host 127\.0\.0\.1") as info:
            await asyncio.wait_for(fetcher.fetch(url), GUARD)
    finally:
        await fetcher.close()
        server.close()
        await asyncio.wait_for(server.wait_closed(), GUARD)
    assert info.value.errcode == 101000 and accepted == 1
    assert_no_secret(info.value)


# == Errors name no secret ==========================================================


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_no_error_carries_the_query_string() -> None:
    """The URL's query may hold secrets: no failure shows it, anywhere in its chain."""

    async def failing_dns(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, f"no such name {SECRET}")

    cases: list[tuple[ImageFetcher, str]] = [
        (ImageFetcher(), f"http://127.0.0.1{PATH}"),
        (ImageFetcher(resolver=answering("10.0.0.1")), f"http://x.example{PATH}"),
        (ImageFetcher(resolver=failing_dns), f"http://x.example{PATH}"),
        (ImageFetcher(allow_private=True), f"http://127.0.0.1:{_closed_port()}{PATH}"),
        (ImageFetcher(), f"ftp://x.example{PATH}"),
        (ImageFetcher(), f"http://x.example:99999{PATH}"),
    ]
    for fetcher, url in cases:
        try:
            with pytest.raises(InvalidImageUrl) as info:
                await asyncio.wait_for(fetcher.fetch(url), GUARD)
        finally:
            await fetcher.close()
        assert_no_secret(info.value)
        assert info.value.__cause__ is None and info.value.__context__ is None, url
    for scenario in (
        reply(http_reply("404 Not Found", {}, SECRET.encode())),
        reply(b"HTTP/1.1 200 OK\r\nContent-Length: nonsense\r\n\r\n"),
        reply(b"garbage, not HTTP\r\n\r\n"),
        stream(b"HTTP/1.1 200 OK\r\n\r\n", bytes(65536)),
    ):
        got, _ = await fetch_from(scenario)  # checks every error with assert_no_secret
        assert isinstance(got, WxOcrError)
        assert got.__cause__ is None and got.__context__ is None


# == Lifecycle ======================================================================


async def test_close_is_idempotent_and_a_later_fetch_is_client_closed() -> None:
    fetcher = ImageFetcher(allow_private=True)
    await fetcher.close()  # before any use
    fetcher = ImageFetcher(allow_private=True)
    async with Listener(reply(PNG_200)) as server:
        assert await asyncio.wait_for(fetcher.fetch(server.at("127.0.0.1")), GUARD) == IMAGE
        await fetcher.close()
        await fetcher.close()
        with pytest.raises(ClientClosed) as info:
            await fetcher.fetch(server.at("127.0.0.1"))
    assert server.accepted == 1
    assert info.value.errcode == -10500 and info.value.endpoint == "img_url"


def test_one_fetcher_serves_successive_event_loops() -> None:
    fetcher = ImageFetcher(allow_private=True)

    async def once() -> bytes:
        async with Listener(reply(PNG_200)) as server:
            return await asyncio.wait_for(fetcher.fetch(server.at("127.0.0.1")), GUARD)

    assert asyncio.run(once()) == IMAGE
    assert asyncio.run(once()) == IMAGE  # the first loop's session closed with that loop


@pytest.mark.parametrize(
    "kwargs",
    [{"timeout": 0}, {"timeout": -1.0}, {"timeout": float("inf")}, {"max_bytes": 0}],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        ImageFetcher(**kwargs)
