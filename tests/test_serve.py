"""`wxocr serve` attacked as a stranger on the network would: a real server process on
loopback, the real model, real sockets. Each test names the promise it checks."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import select
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import wxocr_async as wx
from wxocr_async.emulator import DEFAULT_APPID, DEFAULT_SECRET
from wxocr_async.local import model_available
from wxocr_async.retry import NO_RETRY

from . import bombs
from .hostile import bomb as compression_bomb
from .serving import HANG_GUARD, ServeProcess, run_serve, server_fixture, serving

if not model_available():
    if os.environ.get("CI"):
        pytest.fail("rapidocr or onnxruntime is missing: the test extra installs them")
    pytest.skip("the [local] extra is not installed", allow_module_level=True)

PRINTED = Path(__file__).parent / "local_images" / "printed_text.png"
PRINTED_LINE = "微信OCR本地引擎测试页"
TOKEN = "the-servers-own-token-0123456789"
APPID = "wx-serve-test-appid"
SECRET = "serve-test-appsecret-0123456789abcdef"
#: a decoded bomb costs 30000 x 30000 x 3 bytes (2.7 GB) at least; a worker with its
#: model loaded peaks near 0.5 GB
MEMORY_BOUND = 1536 * 1024 * 1024
REQUEST_TIMEOUT = 2


#: calls must carry WXOCR_TOKEN; img_url may not reach private addresses
token_server = server_fixture(env={"WXOCR_TOKEN": TOKEN})
#: tokens are issued to WXOCR_APPID/WXOCR_SECRET alone
pair_server = server_fixture(env={"WXOCR_APPID": APPID, "WXOCR_SECRET": SECRET})
#: no credentials (loopback only), private URLs allowed, slow clients cut at 2 s
open_server = server_fixture("--allow-private-urls", "--request-timeout", str(REQUEST_TIMEOUT))


async def post_image(
    http: aiohttp.ClientSession, url: str, data: bytes, *, endpoint: str = "comm", **query: str
) -> tuple[int, dict[str, Any]]:
    form = aiohttp.FormData()
    form.add_field(
        "img", io.BytesIO(data), filename="image", content_type="application/octet-stream"
    )
    async with http.post(f"{url}/cv/ocr/{endpoint}", params=query, data=form) as resp:
        return resp.status, await resp.json(content_type=None)


async def call(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    async with http.request(method, url, **kwargs) as resp:
        return resp.status, await resp.json(content_type=None)


async def metrics(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(f"{url}/metrics") as resp:
        assert resp.status == 200 and resp.content_type == "text/plain"
        return await resp.text()


def metric(text: str, name: str, **labels: str) -> float:
    """One sample's value from Prometheus text (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}(?:\{{{re.escape(wanted)}\}})? ([0-9.e+-]+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def token_request(base: str, appid: str, secret: str) -> str:
    return f"{base}/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={secret}"


def stable_body(appid: str, secret: str) -> dict[str, str]:
    return {"grant_type": "client_credential", "appid": appid, "secret": secret}


# -- authentication --------------------------------------------------------------------------


async def test_a_token_server_wants_exactly_its_token(
    token_server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    url, image = token_server.base_url, PRINTED.read_bytes()
    assert (await post_image(http, url, image))[1]["errcode"] == 41001
    assert (await post_image(http, url, image, access_token="x" + TOKEN))[1]["errcode"] == 40001
    assert (await post_image(http, url, image, access_token=TOKEN[:-1]))[1]["errcode"] == 40001
    # the emulator's conveniences are not there: no cloudbase token, no open door
    assert (await post_image(http, url, image, cloudbase_access_token=TOKEN))[1]["errcode"] == 41001
    async with wx.OcrClient(token=TOKEN, base_url=url) as ocr:
        result = await ocr.printed_text(PRINTED)
    assert PRINTED_LINE in [item.text for item in result.items or ()]


@pytest.mark.parametrize(
    ("appid", "secret", "errcode"),
    [
        ("wx-anyone", "any-secret-0123456789", 40013),
        (DEFAULT_APPID, DEFAULT_SECRET, 40013),  # the emulator's pair is nobody's here
        (APPID, SECRET, 40013),
        ("", "s", 41002),
    ],
)
async def test_a_token_server_issues_no_token_to_anyone(
    token_server: ServeProcess, http: aiohttp.ClientSession, appid: str, secret: str, errcode: int
) -> None:
    base = token_server.base_url
    _, got = await call(http, "GET", token_request(base, appid, secret))
    _, stable = await call(
        http, "POST", f"{base}/cgi-bin/stable_token", json=stable_body(appid, secret)
    )
    assert got["errcode"] == stable["errcode"] == errcode
    assert "access_token" not in got and "access_token" not in stable


async def test_a_pair_server_issues_tokens_to_its_pair_alone(
    pair_server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    base = pair_server.base_url
    for appid, secret, errcode in [
        ("wx-other", SECRET, 40013),
        (APPID, SECRET + "x", 40125),
        (APPID, "", 41004),
        (DEFAULT_APPID, DEFAULT_SECRET, 40013),
    ]:
        _, got = await call(http, "GET", token_request(base, appid, secret))
        _, stable = await call(
            http, "POST", f"{base}/cgi-bin/stable_token", json=stable_body(appid, secret)
        )
        assert got["errcode"] == stable["errcode"] == errcode, (appid, got, stable)
    # WeChat's rules: a new /cgi-bin/token token, the previous still valid in its grace;
    # stable_token hands back its current one
    _, first = await call(http, "GET", token_request(base, APPID, SECRET))
    _, second = await call(http, "GET", token_request(base, APPID, SECRET))
    assert first["access_token"] != second["access_token"] and first["expires_in"] == 7200
    stable_url = f"{base}/cgi-bin/stable_token"
    _, s1 = await call(http, "POST", stable_url, json=stable_body(APPID, SECRET))
    _, s2 = await call(http, "POST", stable_url, json=stable_body(APPID, SECRET))
    assert s1["access_token"] == s2["access_token"]
    image = PRINTED.read_bytes()
    for token in (first["access_token"], second["access_token"], s1["access_token"]):
        assert (await post_image(http, base, image, access_token=token))[1]["errcode"] == 0
    assert (await post_image(http, base, image))[1]["errcode"] == 41001
    assert (await post_image(http, base, image, access_token="made-up"))[1]["errcode"] == 40001


async def test_an_unmodified_client_with_the_pair_works(pair_server: ServeProcess) -> None:
    async with wx.OcrClient(APPID, SECRET, base_url=pair_server.base_url) as ocr:
        result = await ocr.printed_text(PRINTED)
    assert PRINTED_LINE in [item.text for item in result.items or ()]
    async with wx.OcrClient(APPID, "wrong-secret-0123456789", base_url=pair_server.base_url) as ocr:
        with pytest.raises(wx.BadAppCredentials):
            await ocr.printed_text(PRINTED)


async def test_a_million_token_requests_do_not_grow_the_table(
    pair_server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    """1 500 over HTTP (the table keeps 1 000 at most; tests/test_surface.py issues a
    million to the table itself)."""
    url = token_request(pair_server.base_url, APPID, SECRET)

    async def fetch_many(count: int) -> None:
        for _ in range(count):
            async with http.get(url) as resp:
                assert "access_token" in await resp.json(content_type=None)

    await asyncio.gather(*(fetch_many(150) for _ in range(10)))
    live = metric(await metrics(http, pair_server.base_url), "wxocr_tokens_live")
    assert 1 <= live <= 1000


async def test_an_open_server_needs_no_token_and_issues_none(
    open_server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    async with wx.OcrClient(base_url=open_server.base_url) as ocr:  # no credentials at all
        result = await ocr.printed_text(PRINTED)
    assert PRINTED_LINE in [item.text for item in result.items or ()]
    _, got = await call(http, "GET", token_request(open_server.base_url, APPID, SECRET))
    assert got["errcode"] == 40013 and "access_token" not in got


def test_an_open_server_will_not_listen_beyond_loopback() -> None:
    code, out, err = run_serve("--host", "0.0.0.0", "--port", "0")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "refusing to serve on 0.0.0.0" in err, err
    assert "--no-auth" in err


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("--no-auth",), {"WXOCR_TOKEN": TOKEN}, "--no-auth contradicts"),
        ((), {"WXOCR_APPID": APPID}, "WXOCR_APPID is set but WXOCR_SECRET is not"),
        (("--request-timeout", "0"), {}, "must be a positive number"),
    ],
)
def test_serve_configuration_errors_are_one_line(
    args: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    code, _, err = run_serve("--port", "0", *args, env=env)
    assert code in (1, 2) and message in err, err
    assert TOKEN not in err and "Traceback" not in err


async def test_no_auth_serves_beyond_loopback_when_the_operator_means_it(
    http: aiohttp.ClientSession,
) -> None:
    with serving("--host", "0.0.0.0", "--no-auth") as server:
        port = server.base_url.rsplit(":", 1)[1]
        status, body = await call(http, "GET", f"http://127.0.0.1:{port}/healthz")
    assert status == 200 and body == {"status": "ok"}


def watch(pids: list[int]) -> dict[int, int]:
    """A pidfd for each of ``pids`` still there (taken now, so that a pid used again later
    by another process is not mistaken for it)."""
    fds = {}
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            fds[pid] = os.pidfd_open(pid)
    return fds


def still_running(fds: dict[int, int], within: float = HANG_GUARD) -> list[int]:
    """The watched processes that have not exited ``within`` seconds from now (a worker
    looks at its parent every second; a loaded machine makes that late, not wrong)."""
    deadline = time.monotonic() + within
    left = []
    try:
        for pid, fd in fds.items():
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                left.append(pid)
    finally:
        for fd in fds.values():
            os.close(fd)
    return left


def test_sigterm_while_the_models_load_ends_cleanly() -> None:
    server = ServeProcess()
    server.wait_stderr("listening on")
    workers = watch(server.pids()[1:])
    assert server.stop() == 0, server.stderr
    assert "Traceback" not in server.stderr
    assert still_running(workers) == []  # no worker outlives the server


# -- the surface ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nothing/here"),
        ("POST", "/wxocr/inspect/selfie"),
        ("POST", "/cv/ocr/selfie"),
        ("GET", "/_emulator/stats"),
        ("GET", "/_emulator/samples/idcard_front.png"),
    ],
)
async def test_unknown_paths_answer_json_404(
    token_server: ServeProcess, http: aiohttp.ClientSession, method: str, path: str
) -> None:
    async with http.request(method, token_server.base_url + path) as resp:
        assert resp.status == 404 and resp.content_type == "application/json"
        body = await resp.json()
    assert body["errcode"] == 404 and "not found" in body["errmsg"]


async def test_health_and_metrics_need_no_token_and_show_no_secret(
    token_server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    url = token_server.base_url
    assert await call(http, "GET", f"{url}/healthz") == (200, {"status": "ok"})
    await post_image(http, url, PRINTED.read_bytes(), access_token=TOKEN)
    await post_image(http, url, PRINTED.read_bytes())  # 41001
    text = await metrics(http, url)
    assert metric(text, "wxocr_requests_total", endpoint="comm", errcode="0") >= 1
    assert metric(text, "wxocr_requests_total", endpoint="comm", errcode="41001") >= 1
    assert metric(text, "wxocr_recognition_seconds_count", endpoint="comm") >= 1
    for name in ("wxocr_queue_depth", "wxocr_worker_restarts_total", "wxocr_connections"):
        assert re.search(rf"^{name} ", text, re.MULTILINE), name
    assert TOKEN not in text


async def test_an_oversized_body_is_413_in_wechats_shape(
    open_server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    status, body = await post_image(http, open_server.base_url, bytes(3 * 1024 * 1024))
    assert status == 413 and body["errcode"] == 101002 and "too large" in body["errmsg"]


# -- images that cost more than a document --------------------------------------------------

BOMBS: dict[str, Callable[[], bytes]] = {
    "jpeg": bombs.jpeg_bomb,
    "png": bombs.png_bomb,
    "gif": bombs.gif_bomb,
    "bmp": bombs.bmp_bomb,
    "tiff": bombs.tiff_bomb,
    "webp": bombs.webp_bomb,
}


async def test_bombs_are_refused_before_decoding_and_cost_no_memory(
    token_server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    url = token_server.base_url
    refused_before = metric(await metrics(http, url), "wxocr_images_refused_total")
    for kind, make in BOMBS.items():
        data = make()
        assert len(data) < 1024 * 1024
        status, reply = await post_image(http, url, data, access_token=TOKEN)
        assert status == 200 and reply["errcode"] == 101002, (kind, reply)
        assert "pixels" in reply["errmsg"], (kind, reply)
    refused = metric(await metrics(http, url), "wxocr_images_refused_total")
    assert refused - refused_before == len(BOMBS)  # refused by their header: never decoded
    peaks = token_server.peak_memory()
    assert len(peaks) >= 2 and max(peaks.values()) < MEMORY_BOUND, peaks


async def test_a_legitimate_request_beside_two_bombs_is_answered(
    token_server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    url = token_server.base_url
    first, legit, second = await asyncio.gather(
        post_image(http, url, bombs.png_bomb(), access_token=TOKEN),
        post_image(http, url, PRINTED.read_bytes(), access_token=TOKEN),
        post_image(http, url, bombs.jpeg_bomb(), access_token=TOKEN),
    )
    assert first[1]["errcode"] == second[1]["errcode"] == 101002
    assert legit[1]["errcode"] == 0
    assert PRINTED_LINE in [item["text"] for item in legit[1]["items"]]


def strip_png(width: int, height: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, "PNG")
    return buffer.getvalue()


async def test_an_image_the_model_cannot_process_is_101002_and_logged(
    token_server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    """A 5 x 15000 strip passes the pixel bound but RapidOCR cannot resize it: the same
    image would fail again, so not -1 (which asks for a retry); the traceback is logged."""
    status, reply = await post_image(
        http, token_server.base_url, strip_png(5, 15000), access_token=TOKEN
    )
    assert status == 200 and reply["errcode"] == 101002, reply
    assert "could not process" in reply["errmsg"]
    token_server.wait_stderr("ResizeImgError")  # the pipe is read by a thread: wait for it
    log = token_server.stderr
    assert "ERROR" in log and "Traceback" in log, log[-2000:]
    assert TOKEN not in log


# -- img_url ---------------------------------------------------------------------------------


class Listener:
    """A loopback HTTP listener counting connections, answering with ``respond``."""

    def __init__(self, respond: Callable[[asyncio.StreamWriter], Awaitable[None]]) -> None:
        self.respond = respond
        self.connections = 0
        self.bytes_sent = 0
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> Listener:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), 10)

    def url(self, host: str = "127.0.0.1", path: str = "/image.png") -> str:
        return f"http://{host}:{self.port}{path}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HANG_GUARD)
            await self.respond(writer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            writer.close()


def answer(head: bytes, body: bytes = b"") -> Callable[[asyncio.StreamWriter], Awaitable[None]]:
    async def respond(writer: asyncio.StreamWriter) -> None:
        writer.write(head + body)
        await writer.drain()

    return respond


def endless(listener_box: list[Listener]) -> Callable[[asyncio.StreamWriter], Awaitable[None]]:
    async def respond(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n")
        chunk = b"\x89PNG\r\n\x1a\n" + bytes(64 * 1024 - 8)
        for _ in range(100_000):  # a bound of its own: 6 GB
            writer.write(chunk)
            listener_box[0].bytes_sent += len(chunk)
            await writer.drain()

    return respond


def ok_image(data: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n" % len(data)
    ) + data


async def ocr_url(
    http: aiohttp.ClientSession, base: str, img_url: str, **query: str
) -> dict[str, Any]:
    _, body = await call(http, "POST", f"{base}/cv/ocr/comm", params={"img_url": img_url, **query})
    return body


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "2130706433"])
async def test_img_url_into_loopback_reaches_nothing(
    token_server: ServeProcess, http: aiohttp.ClientSession, host: str
) -> None:
    async with Listener(answer(ok_image(PRINTED.read_bytes()))) as listener:
        reply = await ocr_url(http, token_server.base_url, listener.url(host), access_token=TOKEN)
    assert reply["errcode"] == 101000, reply
    assert listener.connections == 0


async def test_img_url_with_private_urls_allowed_fetches_redirects_and_caps(
    open_server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    base = open_server.base_url
    async with Listener(answer(ok_image(PRINTED.read_bytes()))) as target:
        reply = await ocr_url(http, base, target.url())
        assert reply["errcode"] == 0 and target.connections == 1  # allowed: fetched

        redirect = answer(
            b"HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n"
            % target.url().encode()
        )
        async with Listener(redirect) as redirecting:
            reply = await ocr_url(http, base, redirecting.url())
        assert reply["errcode"] == 101000 and "redirect" in reply["errmsg"], reply
        assert redirecting.connections == 1 and target.connections == 1  # not followed

    box: list[Listener] = []
    async with Listener(endless(box)) as stream:
        box.append(stream)
        reply = await ocr_url(http, base, stream.url())
    assert reply["errcode"] == 101002, reply
    assert stream.bytes_sent < 32 * 1024 * 1024  # cut near 2 MB (plus socket buffers)

    bomb = compression_bomb("gzip")  # 512 MB of zeros in ~500 KB
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb)
    async with Listener(answer(head, bomb)) as zipped:
        reply = await ocr_url(http, base, zipped.url())
    assert reply["errcode"] == 101002, reply
    peaks = open_server.peak_memory()
    assert max(peaks.values()) < MEMORY_BOUND, peaks


# -- slow clients ----------------------------------------------------------------------------


async def drip(port: int, first: bytes, then: bytes, every: float = 0.2) -> str:
    """Send ``first``, then ``then`` a byte at a time every ``every`` seconds, until the
    server closes the connection ("closed") or 60 s of bytes have gone ("open")."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(first)
        await writer.drain()
        for i in range(int(60 / every)):
            with contextlib.suppress(TimeoutError):
                if await asyncio.wait_for(reader.read(1024), every) == b"":
                    return "closed"
            if then:
                writer.write(then[i % len(then) : i % len(then) + 1])
                await writer.drain()
        return "open"
    except ConnectionError:
        return "closed"
    finally:
        writer.close()


async def test_slow_clients_are_dropped_while_others_are_answered(
    open_server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    port = int(open_server.base_url.rsplit(":", 1)[1])
    before = metric(await metrics(http, open_server.base_url), "wxocr_slow_clients_dropped_total")
    head = b"POST /cv/ocr/comm HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    slowloris = [drip(port, head, b"X-a: b\r\n") for _ in range(20)]
    slow_body = [
        drip(port, head + b"Content-Length: 100000\r\nContent-Type: image/png\r\n\r\n", b"\0")
        for _ in range(4)
    ]
    idle = [drip(port, b"", b"")]
    attack = asyncio.gather(*slowloris, *slow_body, *idle)
    async with wx.OcrClient(base_url=open_server.base_url, retry=NO_RETRY) as ocr:
        answered = [await ocr.printed_text(PRINTED) for _ in range(3)]
    outcomes = await asyncio.wait_for(attack, HANG_GUARD)
    assert outcomes == ["closed"] * 25
    assert all(PRINTED_LINE in [i.text for i in r.items or ()] for r in answered)
    after = metric(await metrics(http, open_server.base_url), "wxocr_slow_clients_dropped_total")
    assert after - before >= 25


# -- what the red team found --------------------------------------------------------------


async def raw_exchange(port: int, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """Send ``head`` (and ``body``), read until the server closes or a whole reply with
    a Content-Length is in: (status, reply bytes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head + body)
        await writer.drain()
        reply = await asyncio.wait_for(read_reply(reader), HANG_GUARD)
    finally:
        writer.close()
    status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else 0
    return status, reply


async def read_reply(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    while head.startswith(b"HTTP/1.1 100 "):  # an interim reply: the real one follows
        head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"(?i)content-length: *(\d+)", head)
    body = await reader.readexactly(int(length.group(1))) if length else await reader.read()
    return head + body


def port_of(server: ServeProcess) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


async def test_an_ocr_call_without_its_token_is_answered_before_its_body(
    token_server: ServeProcess,
) -> None:
    """No token, 2 MB announced and none sent: answered at once, the body never read (a
    stranger cannot make the server hold 2 MB per connection)."""
    head = (
        b"POST /cv/ocr/comm HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
        b"Content-Length: 2000000\r\n\r\n"
    )
    status, reply = await raw_exchange(port_of(token_server), head)
    assert status == 200 and b'"errcode": 41001' in reply and b"Connection: close" in reply
    wrong = head.replace(b"/cv/ocr/comm", b"/cv/ocr/comm?access_token=wrong-token-0123")
    status, reply = await raw_exchange(port_of(token_server), wrong)
    assert b'"errcode": 40001' in reply
    huge = head.replace(b"2000000", b"100000000000").replace(
        b"/cv/ocr/comm", f"/cv/ocr/comm?access_token={TOKEN}".encode()
    )
    status, reply = await raw_exchange(port_of(token_server), huge)
    assert status == 413 and b'"errcode": 101002' in reply


@pytest.mark.parametrize(
    "request_line",
    [
        f"GET /cgi-bin/token?grant_type=client_credential&appid=a&secret={SECRET} HTTP/9.9",
        f"POST /cv/ocr/comm?access_token={TOKEN}&img_url=http://x/{'a' * 9000} HTTP/1.1",
        f"G\x01T /cv/ocr/comm?access_token={TOKEN} HTTP/1.1",
    ],
    ids=["bad-version", "long-url", "bad-method"],
)
async def test_a_malformed_request_is_answered_in_json_without_its_text(
    token_server: ServeProcess, request_line: str
) -> None:
    status, reply = await raw_exchange(port_of(token_server), f"{request_line}\r\n\r\n".encode())
    assert status == 400 and b'"errcode": 400' in reply and b"application/json" in reply
    for secret in (TOKEN, SECRET):
        assert secret.encode() not in reply and secret not in token_server.stderr


async def test_token_requests_are_small_and_never_crash_the_parser(
    pair_server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    url = f"{pair_server.base_url}/cgi-bin/stable_token"
    assert await call(http, "POST", url, data=b"[" * 100_000) == (
        413,
        {"errcode": 101002, "errmsg": ANY_TEXT},
    )
    status, reply = await call(http, "POST", url, data=b"[" * 4000)  # nested past recursion
    assert status == 200 and reply["errcode"] == -1
    assert "Traceback" not in pair_server.stderr


class _AnyText(str):
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str)

    __hash__ = str.__hash__


ANY_TEXT = _AnyText()


async def test_a_jpeg_of_thousands_of_scans_is_refused(
    token_server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    status, reply = await post_image(
        http, token_server.base_url, bombs.jpeg_scan_bomb(scans=5000), access_token=TOKEN
    )
    assert status == 200 and reply["errcode"] == 101002 and "scans" in reply["errmsg"]


async def test_replies_name_no_versions(
    token_server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{token_server.base_url}/healthz") as resp:
        assert resp.headers["Server"] == "wxocr"


async def test_connections_past_the_cap_are_closed_at_once() -> None:
    with serving("--max-connections", "3") as server:
        port = port_of(server)
        held = []
        for _ in range(3):  # each known to the server: it answered on it
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert b" 200 " in await asyncio.wait_for(read_reply(reader), HANG_GUARD)
            held.append(writer)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            with contextlib.suppress(ConnectionError):
                assert await asyncio.wait_for(reader.read(), HANG_GUARD) == b""
        finally:
            writer.close()
        held.pop().close()  # room again
        async with aiohttp.ClientSession() as http:
            text = await metrics(http, server.base_url)
        assert metric(text, "wxocr_connections_refused_total") >= 1
        for writer in held:
            writer.close()


def wait_for_connections(server: ServeProcess, count: int) -> None:
    """Until the server counts ``count`` client connections besides the one asking."""
    import urllib.request

    deadline = time.monotonic() + HANG_GUARD
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{server.base_url}/metrics", timeout=HANG_GUARD) as resp:
            if metric(resp.read().decode(), "wxocr_connections") >= count + 1:
                return
        time.sleep(0.05)
    raise AssertionError(f"the server never had {count} connections")


def test_sigterm_does_not_wait_for_a_client_half_way_through_a_request() -> None:
    """A client 3 bytes into a 100-byte body, a --request-timeout of 10 minutes: SIGTERM
    closes its connection instead of waiting (the hang guard here is 20 s)."""
    import socket
    import subprocess

    server = ServeProcess("--request-timeout", "600")
    server.wait_ready()
    with socket.create_connection(("127.0.0.1", port_of(server))) as sock:
        sock.sendall(
            b"POST /cv/ocr/comm HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nabc"
        )
        wait_for_connections(server, 1)
        server.proc.terminate()
        try:
            code = server.proc.wait(20)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            raise
        finally:
            server.stop()
    assert code == 0, server.stderr


def test_workers_end_when_the_server_is_killed() -> None:
    server = ServeProcess()
    server.wait_ready()
    workers = watch(server.pids()[1:])
    assert workers
    server.proc.kill()
    server.stop()
    assert still_running(workers) == []


def test_the_commands_defaults_are_the_servers() -> None:
    from wxocr_async import cli
    from wxocr_async.server import app, watchdog

    assert cli.DEFAULT_REQUEST_TIMEOUT == app.DEFAULT_REQUEST_TIMEOUT
    assert cli.DEFAULT_MAX_CONNECTIONS == watchdog.MAX_CONNECTIONS


def test_a_short_token_is_warned_about_without_showing_it() -> None:
    code, _, err = run_serve("--port", "0", "--no-auth", env={"WXOCR_TOKEN": "tok-1"})
    assert code == 1 and "WXOCR_TOKEN has 5 characters" in err and "tok-1" not in err
