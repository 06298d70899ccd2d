"""Hostile conditions: servers that stall, flood or lie, stalled Redis, closing and
cancelling mid-call, odd arguments. Each test names the promise it checks; the servers
are in tests/hostile.py (raw asyncio on 127.0.0.1) or the emulator."""

from __future__ import annotations

import asyncio
import json
import math
import socket
import threading
import traceback
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
import redis.asyncio

import wxocr_async as wx
from wxocr_async.emulator import Fault, WeChatEmulator, card_png
from wxocr_async.token import StaticTokenSource
from wxocr_async.transport import MAX_REPLY_BYTES

from .conftest import ManualClock
from .hostile import (
    RawHttpServer,
    SilentServer,
    TcpProxy,
    bomb,
    http_reply,
    reply,
    stream,
)

IMAGE = card_png("hostile")
SECRET = "SENTINEL-appsecret-c0ffee"
TOKEN = "SENTINEL-token-9f8e7d"
GUARD = 30  # seconds: a hang guard, never a timing assertion
OK_IDCARD = json.dumps({"errcode": 0, "errmsg": "ok", "type": "Front"}).encode()


# -- helpers ---------------------------------------------------------------------------


def chain(err: BaseException) -> Iterator[BaseException]:
    """Every exception reachable through __cause__ and __context__."""
    seen: set[int] = set()
    todo = [err]
    while todo:
        link = todo.pop()
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        todo += [x for x in (link.__cause__, link.__context__) if x is not None]


def exposed_text(err: BaseException) -> str:
    """str, repr, args, attributes and the formatted traceback of every link."""
    parts = ["".join(traceback.format_exception(err))]
    for link in chain(err):
        parts += [str(link), repr(link), repr(link.args)]
        parts.append(repr(getattr(link, "__dict__", {})))
    return "\n".join(parts)


def assert_clean(err: BaseException, *secrets: str) -> None:
    text = exposed_text(err)
    for secret in secrets:
        assert secret not in text, f"{secret[:12]}... leaked through {type(err).__name__}"


def token_client(url: str, **kw: Any) -> wx.OcrClient:
    return wx.OcrClient(token=TOKEN, base_url=url, retry=wx.NO_RETRY, **kw)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
async def redis_proxy(redis_url: str) -> AsyncIterator[TcpProxy]:
    host, port = redis_url.removeprefix("redis://").split("/")[0].split(":")
    async with TcpProxy(host, int(port)) as proxy:
        yield proxy


# == No call may hang ==================================================================


async def test_timeout_bounds_a_hanging_token_endpoint(emulator: WeChatEmulator) -> None:
    release = asyncio.Event()
    emulator.push_faults("stable_token", Fault.held(release))
    async with wx.OcrClient(
        emulator.appid, emulator.secret, base_url=emulator.base_url, retry=wx.NO_RETRY
    ) as ocr:
        with pytest.raises(wx.RequestTimeout):
            async with asyncio.timeout(GUARD):
                await ocr.idcard(IMAGE, timeout=1)
        release.set()


async def test_timeout_bounds_a_stalled_redis(redis_url: str, namespace: str) -> None:
    """CLIENT PAUSE stalls every client of the server (as DEBUG SLEEP does, but it
    answers once the pause is in force: no race); the calls end on their own timeout."""
    store = wx.RedisStore.from_url(redis_url, namespace=namespace)
    pauser = redis.asyncio.Redis.from_url(redis_url)
    async with wx.OcrClient(
        token="t", base_url="http://127.0.0.1:9", store=store, timeout=1, daily_quota=5
    ) as ocr:
        try:
            await pauser.execute_command("CLIENT", "PAUSE", "2500", "ALL")  # type: ignore[no-untyped-call]
            with pytest.raises((wx.RequestTimeout, wx.StoreUnavailable)):
                async with asyncio.timeout(GUARD):
                    await ocr.quota_remaining("idcard")  # touches the store only
            with pytest.raises((wx.RequestTimeout, wx.StoreUnavailable)):
                async with asyncio.timeout(GUARD):
                    await ocr.idcard(IMAGE, timeout=1)
        finally:
            async with asyncio.timeout(GUARD):
                await pauser.ping()  # answered when the pause is over
            await pauser.aclose()


async def test_timeout_bounds_a_redis_that_never_answers(emulator: WeChatEmulator) -> None:
    async with SilentServer() as silent:
        store = wx.RedisStore.from_url(f"redis://127.0.0.1:{silent.port}/0", socket_timeout=None)
        async with wx.OcrClient(
            emulator.appid, emulator.secret, base_url=emulator.base_url, store=store
        ) as ocr:
            with pytest.raises((wx.RequestTimeout, wx.StoreUnavailable)):
                async with asyncio.timeout(GUARD):
                    await ocr.idcard(IMAGE, timeout=1)
            assert silent.connected.is_set()
    assert emulator.stats.total_ocr_calls == 0


async def test_cancelling_a_queued_call_never_waits_on_a_frozen_redis(
    emulator: WeChatEmulator, redis_proxy: TcpProxy, namespace: str
) -> None:
    """Call B waits for the only slot while Redis freezes; cancelling B must not wait for
    Redis (no reservation is taken before the slot, and giving one back never blocks)."""
    release, arrived = asyncio.Event(), asyncio.Event()
    emulator.push_faults("idcard", Fault.held(release, arrived))
    store = wx.RedisStore.from_url(
        f"redis://127.0.0.1:{redis_proxy.port}/0", namespace=namespace, socket_timeout=None
    )
    async with wx.OcrClient(
        token="t",
        base_url=emulator.base_url,
        store=store,
        concurrency=1,
        daily_quota=10,
        retry=wx.NO_RETRY,
    ) as ocr:
        emulator.require_token = False
        first = asyncio.ensure_future(ocr.idcard(IMAGE))
        await asyncio.wait_for(arrived.wait(), GUARD)
        second = asyncio.ensure_future(ocr.idcard(IMAGE))
        await asyncio.sleep(0)
        redis_proxy.freeze()
        second.cancel()
        async with asyncio.timeout(GUARD):  # while Redis is still frozen
            with pytest.raises(asyncio.CancelledError):
                await second
        redis_proxy.thaw()
        release.set()
        assert (await asyncio.wait_for(first, GUARD)).type == "Front"
        assert await ocr.quota_remaining("idcard") == 9  # only the first was counted


async def test_cancelling_during_a_reservation_on_frozen_redis(
    emulator: WeChatEmulator, redis_proxy: TcpProxy, namespace: str
) -> None:
    store = wx.RedisStore.from_url(
        f"redis://127.0.0.1:{redis_proxy.port}/0", namespace=namespace, socket_timeout=None
    )
    emulator.require_token = False
    async with wx.OcrClient(
        token="t", base_url=emulator.base_url, store=store, daily_quota=10, timeout=None
    ) as ocr:
        await ocr.idcard(IMAGE)  # connected
        redis_proxy.freeze()
        call = asyncio.ensure_future(ocr.idcard(IMAGE))
        await asyncio.wait_for(redis_proxy.holding.wait(), GUARD)
        call.cancel()
        async with asyncio.timeout(GUARD):
            with pytest.raises(asyncio.CancelledError):
                await call
        redis_proxy.thaw()
    assert emulator.stats.ocr_calls["idcard"] == 1


async def test_redis_store_keeps_the_callers_cancellation_and_timeout(
    redis_proxy: TcpProxy, namespace: str
) -> None:
    store = wx.RedisStore.from_url(
        f"redis://127.0.0.1:{redis_proxy.port}/0", namespace=namespace, socket_timeout=None
    )
    try:
        assert await store.quota_used("k", 1) == 0  # connected
        redis_proxy.freeze()
        read = asyncio.ensure_future(store.quota_used("k", 1))
        await asyncio.wait_for(redis_proxy.holding.wait(), GUARD)
        read.cancel()
        async with asyncio.timeout(GUARD):
            with pytest.raises(asyncio.CancelledError):
                await read
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await store.quota_used("k", 1)
        redis_proxy.thaw()
    finally:
        await store.close()


@pytest.mark.parametrize("value", [math.nan, math.inf, -1, 0, True, "5"])
@pytest.mark.parametrize("name", ["timeout", "rate_limit"])
def test_bad_numbers_are_refused(name: str, value: Any) -> None:
    with pytest.raises(wx.InvalidInput, match=name):
        wx.OcrClient(token="t", **{name: value})


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "3", math.nan])
@pytest.mark.parametrize("name", ["concurrency", "daily_quota"])
def test_bad_counts_are_refused(name: str, value: Any) -> None:
    with pytest.raises(wx.InvalidInput, match=name):
        wx.OcrClient(token="t", **{name: value})


@pytest.mark.parametrize("value", [math.nan, math.inf, 0, True, "5"])
async def test_bad_per_call_timeout_is_refused_before_sending(
    emulator: WeChatEmulator, value: Any
) -> None:
    async with token_client(emulator.base_url) as ocr:
        with pytest.raises(wx.InvalidInput, match="timeout"):
            await ocr.idcard(IMAGE, timeout=value)
    assert emulator.stats.total_ocr_calls == 0


# == No secret leaves the library ======================================================

MALFORMED = {
    "bad status line": reply(b"HTTP/1.1 abc OK\r\nContent-Length: 2\r\n\r\n{}"),
    "garbage status line": reply(b"SSH-2.0-OpenSSH_9.2\r\n\r\n"),
    "bad header byte": reply(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Bad\x01: y\r\n"
        b"Content-Length: 2\r\n\r\n{}"
    ),
    "bad chunk size": reply(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
    ),
    "20 000 headers": reply(
        b"HTTP/1.1 200 OK\r\n"
        + b"".join(b"X-H%d: v\r\n" % i for i in range(20_000))
        + b"Content-Length: 2\r\n\r\n{}"
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_malformed_http_is_a_bad_response_without_secrets(case: str) -> None:
    async with RawHttpServer(MALFORMED[case]) as server:
        async with token_client(server.url) as ocr:
            with pytest.raises(wx.WxOcrError) as info:
                async with asyncio.timeout(GUARD):
                    await ocr.idcard(IMAGE)
        assert any(TOKEN in r for r in server.requests)  # the token did go out
    err = info.value
    assert type(err) is wx.BadResponse and err.retryable  # never HTTPStatusError(400)
    assert_clean(err, TOKEN)


@pytest.mark.parametrize("endpoint", ["stable_token", "token"])
@pytest.mark.parametrize("case", ["bad status line", "bad chunk size", "20 000 headers"])
async def test_token_endpoints_failing_never_show_the_secret(endpoint: str, case: str) -> None:
    async with (
        RawHttpServer(MALFORMED[case]) as server,
        wx.OcrClient(
            "wx-hostile",
            SECRET,
            base_url=server.url,
            token_endpoint=endpoint,  # type: ignore[arg-type]
            retry=wx.NO_RETRY,
        ) as ocr,
    ):
        with pytest.raises(wx.BadResponse) as info:
            async with asyncio.timeout(GUARD):
                await ocr.idcard(IMAGE)
    assert server.requests and server.requests[0].split()[1].startswith(f"/cgi-bin/{endpoint}")
    assert_clean(info.value, SECRET)


async def test_a_callers_raise_for_status_session_is_overridden_and_clean() -> None:
    page = http_reply("500 Internal Server Error", {"Content-Type": "text/html"}, b"<h1>x</h1>")
    async with (
        RawHttpServer(reply(page)) as server,
        aiohttp.ClientSession(raise_for_status=True) as session,
        token_client(server.url, session=session) as ocr,
    ):
        with pytest.raises(wx.HTTPStatusError) as info:
            await ocr.idcard(IMAGE)
    assert info.value.status == 500
    assert_clean(info.value, TOKEN)


async def test_a_token_under_another_query_name_is_redacted_by_value() -> None:
    source = StaticTokenSource(TOKEN, query_name="authorizer_token")
    async with RawHttpServer(MALFORMED["bad status line"]) as server:
        async with wx.OcrClient(token_source=source, base_url=server.url, retry=wx.NO_RETRY) as ocr:
            with pytest.raises(wx.BadResponse) as info:
                await ocr.idcard(IMAGE)
        assert f"authorizer_token={TOKEN}" in server.requests[0]
    assert_clean(info.value, TOKEN)


async def test_errmsg_is_kept_redacted_and_capped() -> None:
    echo = {"errcode": 40003, "errmsg": f"bad {TOKEN} and {SECRET} " + "x" * 5000}
    page = http_reply("200 OK", {"Content-Type": "application/json"}, json.dumps(echo).encode())
    async with (
        RawHttpServer(reply(page)) as server,
        wx.OcrClient(
            token_source=StaticTokenSource(TOKEN), base_url=server.url, retry=wx.NO_RETRY
        ) as ocr,
    ):
        ocr._redactor.add(SECRET, fixed=True)  # as the appsecret of an app client is
        with pytest.raises(wx.WxOcrError) as info:
            await ocr.idcard(IMAGE)
        with pytest.raises(wx.CloudCallError) as cloud:
            await ocr.openapi.ocr.idcard({"imgUrl": "https://example.com/a.jpg"})
    err = info.value
    assert err.errcode == 40003 and err.errmsg.startswith("bad *** and *** xxx")
    assert len(err.errmsg) < 1100 and "characters" in err.errmsg
    assert_clean(err, TOKEN, SECRET)
    assert_clean(cloud.value, TOKEN, SECRET)


# == No unbounded memory ===============================================================

HEAD_200MB = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 209715200\r\n\r\n"
)
HEAD_CHUNKED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
)


@pytest.mark.parametrize(
    ("case", "scenario", "timeout"),
    [
        ("200 MB", stream(HEAD_200MB, b"{" * 65536), 30.0),
        ("endless chunked", stream(HEAD_CHUNKED, b" " * 65536, chunked=True), None),
    ],
    ids=["200MB", "endless-chunked"],
)
async def test_a_flood_is_cut_at_the_cap(case: str, scenario: Any, timeout: float | None) -> None:
    async with RawHttpServer(scenario) as server, token_client(server.url, timeout=timeout) as ocr:
        with pytest.raises(wx.BadResponse, match="larger than") as info:
            async with asyncio.timeout(GUARD):
                await ocr.idcard(IMAGE)
    # what the server got out before the client hung up: the cap plus socket buffers
    assert server.bytes_sent < MAX_REPLY_BYTES + 48 * 1024 * 1024, case
    assert_clean(info.value, TOKEN)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
async def test_a_compression_bomb_is_cut_at_the_cap(encoding: str) -> None:
    wire = "deflate" if encoding == "raw-deflate" else encoding
    page = http_reply(
        "200 OK", {"Content-Type": "application/json", "Content-Encoding": wire}, bomb(encoding)
    )
    async with RawHttpServer(reply(page)) as server, token_client(server.url) as ocr:
        with pytest.raises(wx.BadResponse, match=f"larger than {MAX_REPLY_BYTES}"):
            async with asyncio.timeout(GUARD):
                await ocr.idcard(IMAGE)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_compressed_reply_is_read(encoding: str) -> None:
    import gzip
    import zlib

    packed = gzip.compress(OK_IDCARD) if encoding == "gzip" else zlib.compress(OK_IDCARD)
    page = http_reply(
        "200 OK", {"Content-Type": "application/json", "Content-Encoding": encoding}, packed
    )
    async with RawHttpServer(reply(page)) as server, token_client(server.url) as ocr:
        assert (await ocr.idcard(IMAGE)).type == "Front"


async def test_an_unknown_content_encoding_is_a_bad_response() -> None:
    page = http_reply("200 OK", {"Content-Encoding": "br"}, b"\x1b\x00")
    async with RawHttpServer(reply(page)) as server, token_client(server.url) as ocr:
        with pytest.raises(wx.BadResponse, match="Content-Encoding"):
            await ocr.idcard(IMAGE)


# == Every failure is typed, and the right type ========================================

DEEP = b"[" * 100_000 + b"]" * 100_000
ODD_REPLIES = {
    "deep JSON": DEEP,
    "deep errcode": b'{"errcode": ' + DEEP + b"}",
    "errcode 1e400": b'{"errcode": 1e400, "errmsg": "x"}',
    "errcode Infinity": b'{"errcode": Infinity, "errmsg": "x"}',
    "errcode NaN": b'{"errcode": NaN}',
    "errcode 5000 digits": b'{"errcode": ' + b"9" * 5000 + b"}",
    "errcode 0.5": b'{"errcode": 0.5}',
    "errcode false": b'{"errcode": false, "type": "Front"}',
    "errcode true": b'{"errcode": true}',
    "errcode 4_0001": b'{"errcode": "4_0001"}',
    "errcode superscript": '{"errcode": "²"}'.encode(),
    "errcode list": b'{"errcode": [0]}',
    "type is a list": b'{"errcode": 0, "type": [1, 2]}',
}


@pytest.mark.parametrize("case", list(ODD_REPLIES))
async def test_odd_replies_are_bad_responses(emulator: WeChatEmulator, case: str) -> None:
    emulator.push_faults("idcard", Fault.not_json(ODD_REPLIES[case], "application/json"))
    async with wx.OcrClient(
        emulator.appid, emulator.secret, base_url=emulator.base_url, retry=wx.NO_RETRY
    ) as ocr:
        with pytest.raises(wx.BadResponse):
            await ocr.idcard(IMAGE)
        if case == "type is a list":
            return  # the cloud layer returns WeChat's dict as is, as wx-server-sdk does
        emulator.push_faults("idcard", Fault.not_json(ODD_REPLIES[case], "application/json"))
        with pytest.raises(wx.CloudCallError) as cloud:  # the cloud layer: same, wrapped
            await ocr.openapi.ocr.idcard({"imgUrl": emulator.sample_url("idcard_front.png")})
    assert isinstance(cloud.value.__cause__, wx.BadResponse)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_never_followed_nor_a_success(status: int) -> None:
    page = http_reply(
        f"{status} Moved",
        {"Location": f"http://127.0.0.1:{closed_port()}/", "Content-Type": "application/json"},
        OK_IDCARD,
    )
    async with RawHttpServer(reply(page)) as server, token_client(server.url) as ocr:
        with pytest.raises(wx.HTTPStatusError) as info:
            await ocr.idcard(IMAGE)
    assert info.value.status == status and len(server.requests) == 1


@pytest.mark.parametrize(
    "expires_in",
    ['"Infinity"', "1e400", "-5", "0", "true", '"soon"', "null", "[7200]", "9" * 5000],
)
async def test_odd_expires_in_is_a_bad_response(emulator: WeChatEmulator, expires_in: str) -> None:
    body = f'{{"access_token": "tok", "expires_in": {expires_in}}}'.encode()
    emulator.push_faults("stable_token", Fault.not_json(body, "application/json"))
    async with wx.OcrClient(
        emulator.appid, emulator.secret, base_url=emulator.base_url, retry=wx.NO_RETRY
    ) as ocr:
        with pytest.raises(wx.BadResponse):
            await ocr.idcard(IMAGE)


async def test_a_long_expires_in_is_cut_to_two_hours(clock: ManualClock) -> None:
    async with (
        WeChatEmulator(token_lifetime=99_999, clock=clock) as emu,
        wx.OcrClient(emu.appid, emu.secret, base_url=emu.base_url, clock=clock) as ocr,
    ):
        await ocr.idcard(IMAGE)
        clock.advance(7200)  # WeChat's documented lifetime: the cached one is gone
        await ocr.idcard(IMAGE)
        assert emu.stats.token_fetches == 2


@pytest.mark.parametrize(
    "stored",
    [
        b"not json",
        b"[]",
        b'{"value": 5, "expires_at": 1, "refresh_at": 1}',
        b'{"value": "t"}',
        b'{"value": "t", "expires_at": "NaN", "refresh_at": 1}',
        b'{"value": "t", "expires_at": 1e400, "refresh_at": 1}',
        b"\xff\xfe",
    ],
)
async def test_a_corrupt_stored_token_is_fetched_again_and_overwritten(
    emulator: WeChatEmulator, redis_url: str, namespace: str, stored: bytes
) -> None:
    raw = redis.asyncio.Redis.from_url(redis_url)
    key = f"{namespace}:stable_token:{emulator.appid}:token"
    await raw.set(key, stored)
    store = wx.RedisStore.from_url(redis_url, namespace=namespace)
    async with wx.OcrClient(
        emulator.appid, emulator.secret, base_url=emulator.base_url, store=store
    ) as ocr:
        assert (await ocr.idcard(IMAGE)).type == "Front"
    stored_now = await raw.get(key)
    assert isinstance(stored_now, bytes)
    fresh = json.loads(stored_now)
    await raw.aclose()
    assert emulator.is_valid_token(fresh["value"]) and emulator.stats.token_fetches == 1


async def test_a_failing_token_callable_is_a_typed_error(emulator: WeChatEmulator) -> None:
    async def broken() -> str:
        raise KeyError("token")  # a bug of the caller's

    async with wx.OcrClient(token=broken, base_url=emulator.base_url) as ocr:
        with pytest.raises(wx.TokenUnavailable, match="KeyError") as info:
            await ocr.idcard(IMAGE)
    assert isinstance(info.value.__cause__, KeyError)
    assert emulator.stats.total_ocr_calls == 0


async def test_close_ends_waiting_and_in_flight_calls_with_client_closed(
    emulator: WeChatEmulator,
) -> None:
    token_release, token_arrived = asyncio.Event(), asyncio.Event()
    emulator.push_faults("stable_token", Fault.held(token_release, token_arrived))
    ocr = wx.OcrClient(emulator.appid, emulator.secret, base_url=emulator.base_url)
    waiting = [asyncio.ensure_future(ocr.idcard(IMAGE)) for _ in range(5)]
    await asyncio.wait_for(token_arrived.wait(), GUARD)
    await asyncio.wait_for(ocr.close(), GUARD)
    outcomes = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), GUARD)
    assert all(isinstance(o, wx.ClientClosed) for o in outcomes), outcomes
    token_release.set()

    ocr_release, ocr_arrived = asyncio.Event(), asyncio.Event()
    emulator.push_faults("idcard", Fault.held(ocr_release, ocr_arrived))
    ocr = wx.OcrClient(emulator.appid, emulator.secret, base_url=emulator.base_url)
    in_flight = asyncio.ensure_future(ocr.idcard(IMAGE))
    await asyncio.wait_for(ocr_arrived.wait(), GUARD)
    await asyncio.wait_for(ocr.close(), GUARD)
    with pytest.raises(wx.ClientClosed, match="closed during this call"):
        await asyncio.wait_for(in_flight, GUARD)
    ocr_release.set()


async def test_a_caller_cancelling_during_close_still_gets_cancelled(
    emulator: WeChatEmulator,
) -> None:
    release, arrived = asyncio.Event(), asyncio.Event()
    emulator.push_faults("idcard", Fault.held(release, arrived))
    ocr = wx.OcrClient(emulator.appid, emulator.secret, base_url=emulator.base_url)
    call = asyncio.ensure_future(ocr.idcard(IMAGE))
    await asyncio.wait_for(arrived.wait(), GUARD)
    call.cancel()  # the caller's own cancellation, then close()
    await asyncio.wait_for(ocr.close(), GUARD)
    with pytest.raises(asyncio.CancelledError):
        await call
    release.set()


def _run_emulator_in_a_thread() -> tuple[
    WeChatEmulator, asyncio.AbstractEventLoop, threading.Thread
]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    emu = WeChatEmulator()
    asyncio.run_coroutine_threadsafe(emu.start(), loop).result(GUARD)
    return emu, loop, thread


def _stop_emulator(
    emu: WeChatEmulator, loop: asyncio.AbstractEventLoop, thread: threading.Thread
) -> None:
    asyncio.run_coroutine_threadsafe(emu.stop(), loop).result(GUARD)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(GUARD)
    loop.close()


def test_a_module_level_client_works_under_two_asyncio_runs() -> None:
    emu, loop, thread = _run_emulator_in_a_thread()
    try:
        ocr = wx.OcrClient(emu.appid, emu.secret, base_url=emu.base_url, concurrency=4)

        async def recognise() -> str | None:
            results = await asyncio.gather(*(ocr.idcard(IMAGE) for _ in range(8)))
            return results[0].type

        assert asyncio.run(recognise()) == "Front"
        assert asyncio.run(recognise()) == "Front"  # a new loop: a new session, same token
        asyncio.run(ocr.close())
        assert emu.stats.token_fetches == 1 and emu.stats.ocr_results["idcard"] == 16
    finally:
        _stop_emulator(emu, loop, thread)


def test_a_module_level_redis_store_works_under_two_asyncio_runs(
    redis_url: str, namespace: str
) -> None:
    emu, loop, thread = _run_emulator_in_a_thread()
    try:
        store = wx.RedisStore.from_url(redis_url, namespace=namespace)
        ocr = wx.OcrClient(emu.appid, emu.secret, base_url=emu.base_url, store=store, daily_quota=9)

        async def recognise() -> str | None:
            return (await ocr.idcard(IMAGE)).type

        assert asyncio.run(recognise()) == "Front"
        assert asyncio.run(recognise()) == "Front"  # a new loop: a new Redis client
        assert asyncio.run(ocr.quota_remaining("idcard")) == 7
        asyncio.run(ocr.close())
        assert emu.stats.token_fetches == 1
    finally:
        _stop_emulator(emu, loop, thread)


def test_a_callers_session_from_a_closed_loop_is_refused_clearly() -> None:
    async def make_session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    session = asyncio.run(make_session())

    async def call() -> None:
        async with wx.OcrClient(token="t", session=session) as ocr:
            await ocr.idcard(IMAGE)

    try:
        with pytest.raises(wx.InvalidInput, match="closed event loop"):
            asyncio.run(call())
    finally:
        session.detach()  # it cannot be closed on its dead loop; nothing was opened


# == Quota counts what WeChat may bill =================================================


async def test_calls_cancelled_mid_reply_count_what_the_server_received(
    emulator: WeChatEmulator,
) -> None:
    release = asyncio.Event()
    arrived = [asyncio.Event() for _ in range(200)]
    emulator.push_faults("idcard", *(Fault.held(release, a) for a in arrived))
    async with wx.OcrClient(
        emulator.appid, emulator.secret, base_url=emulator.base_url, daily_quota=1000
    ) as ocr:
        calls = asyncio.gather(*(ocr.idcard(IMAGE) for _ in range(200)))
        await asyncio.wait_for(asyncio.gather(*(a.wait() for a in arrived[:100])), GUARD)
        calls.cancel()
        with pytest.raises(asyncio.CancelledError):
            await calls
        received = emulator.stats.ocr_calls["idcard"]
        assert received == 100  # the default concurrency
        assert await ocr.quota_remaining("idcard") == 1000 - received
        release.set()


async def test_refused_connections_do_not_count(emulator: WeChatEmulator) -> None:
    async with token_client(f"http://127.0.0.1:{closed_port()}", daily_quota=10) as ocr:
        for _ in range(3):
            with pytest.raises(wx.ConnectionFailed):
                await ocr.idcard(IMAGE)
        assert await ocr.quota_remaining("idcard") == 10
