"""The inspect route, the try-it page's server side and ``--annotate``, abused: the
problems a red-team pass found, each test naming the promise it checks.

The server tests run real ``wxocr serve`` processes on loopback and talk raw HTTP to
them; the ``--annotate`` tests run the real command against the emulator.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import stat
import time
from pathlib import Path

import pytest
from PIL import Image

import wxocr_async as wx
from wxocr_async.annotate import annotated_png
from wxocr_async.emulator import WeChatEmulator
from wxocr_async.inspection import from_wechat_reply
from wxocr_async.local import model_available

from .serving import HANG_GUARD, ServeProcess, server_fixture, serving
from .test_cli import cli

needs_model = pytest.mark.skipif(not model_available(), reason="the [local] extra is missing")

TOKEN = "the-abuse-tests-token-0123456789abcdef"
#: seconds a client has to deliver a request on these servers: a request left waiting
#: for its body is cut after this, unanswered
REQUEST_TIMEOUT = 5
#: the body these requests announce and never send
ANNOUNCED = 1_000_000

#: calls must carry TOKEN; a client that does not deliver its request is cut at 5 s
strict_server = server_fixture(
    "--request-timeout", str(REQUEST_TIMEOUT), env={"WXOCR_TOKEN": TOKEN}
)


def address(server: ServeProcess) -> tuple[str, int]:
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def head_of(method: str, path: str, length: int) -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


async def answer_to_head_alone(server: ServeProcess, method: str, path: str) -> bytes:
    """The head of the server's answer to a request whose 1 MB body never comes; fails
    the test if the server waits for the body instead (and cuts the connection at its
    request timeout, unanswered)."""
    reader, writer = await asyncio.open_connection(*address(server))
    try:
        writer.write(head_of(method, path, ANNOUNCED))
        async with asyncio.timeout(HANG_GUARD):
            try:
                return await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                pytest.fail(
                    f"{method} {path} without a token was not refused from its head: the "
                    "server waited for its body and cut the connection unanswered"
                )
    finally:
        writer.close()


# --- a body is not read before the request is known to be allowed ---------------------------


@needs_model
@pytest.mark.parametrize(
    ("method", "name"),
    [("PUT", "idcard"), ("OPTIONS", "idcard"), ("GET", "idcard"), ("POST", "nothing")],
)
async def test_an_inspect_request_it_will_refuse_is_refused_before_its_body(
    strict_server: ServeProcess, method: str, name: str
) -> None:
    """A POST to /wxocr/inspect/idcard without a token is refused from its head; a PUT,
    an OPTIONS, a GET with a body, or a POST to an endpoint that does not exist, will be
    refused just the same, but today the server first reads (and holds) their body, up to
    2 MB, in one of its 32 reading slots: 33 strangers dripping bodies delay every
    authorised upload by the request timeout."""
    head = await answer_to_head_alone(strict_server, method, f"/wxocr/inspect/{name}")
    assert head.startswith(b"HTTP/1.1 ") and b"Connection: close" in head, head


@needs_model
async def test_a_stranger_hanging_up_mid_body_writes_no_traceback() -> None:
    """The log is not a stranger's to fill: a malformed request is logged at DEBUG by its
    kind alone. A PUT to the inspect route whose client hangs up mid-body is logged today
    at ERROR with a 19-line traceback, for every such connection."""
    with serving("--request-timeout", str(REQUEST_TIMEOUT), env={"WXOCR_TOKEN": TOKEN}) as server:
        for _ in range(3):
            reader, writer = await asyncio.open_connection(*address(server))
            writer.write(head_of("PUT", "/wxocr/inspect/idcard", 100) + b"abc")
            await writer.drain()
            writer.close()
            await writer.wait_closed()
        # a whole request answered after the hang-ups: the server has seen them
        reader, writer = await asyncio.open_connection(*address(server))
        try:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            async with asyncio.timeout(HANG_GUARD):
                assert b" 200 " in await reader.readuntil(b"\r\n\r\n")
        finally:
            writer.close()
    assert "Traceback" not in server.stderr, server.stderr[:3000]


# --- memory: a reply is not a copy of the image for every client that asks --------------------

#: connections each asking for an image by URL and reading nothing of the reply
ASKERS = 400
#: what those connections may cost the server's main process, all together
ASKERS_BOUND = 400 * 1024 * 1024


def blank_png_near_2_mb() -> bytes:
    """A white PNG stored uncompressed: just under WeChat's 2 MB, decoded in no time."""
    out = io.BytesIO()
    Image.new("RGB", (810, 810), "white").save(out, "PNG", compress_level=0)
    data = out.getvalue()
    assert 1_900_000 < len(data) < wx.MAX_IMAGE_BYTES
    return data


@pytest.fixture
def image_host(emulator: WeChatEmulator) -> str:
    """The URL of a PNG of almost 2 MB on a loopback host."""
    return emulator.host(blank_png_near_2_mb(), "i.png")


async def ask_without_reading(server: ServeProcess, path: str) -> asyncio.StreamWriter:
    """Send ``path`` a POST on a connection that takes in 4 KB at most, and wait for the
    head of its answer alone."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, address(server))
    reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
    writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n".encode())
    await reader.readuntil(b"\r\n\r\n")
    return writer


@needs_model
async def test_replies_to_clients_not_reading_them_hold_no_image_each(image_host: str) -> None:
    """/cv/ocr/comm?img_url= answered to 400 clients that read nothing costs the server
    the 100 fetches in flight at once (~200 MB). The inspect route puts the fetched image
    in every reply, busy ones (-1) included, as 2.7 MB of base64 that waits in the
    server for the client to read it: 400 requests of 100 bytes hold over 1 GB, and the
    server takes 1000 connections."""
    with serving("--allow-private-urls") as server:
        before = server.peak_memory()[server.proc.pid]
        writers: list[asyncio.StreamWriter] = []
        try:
            async with asyncio.timeout(HANG_GUARD):
                writers = await asyncio.gather(
                    *(
                        ask_without_reading(server, f"/wxocr/inspect/comm?img_url={image_host}")
                        for _ in range(ASKERS)
                    )
                )
            grown = server.peak_memory()[server.proc.pid] - before
        finally:
            for writer in writers:
                writer.close()
    assert grown < ASKERS_BOUND, f"{ASKERS} unread replies held {grown / 2**20:.0f} MB"


# --- --annotate --------------------------------------------------------------------------------


def page_png(folder: Path) -> Path:
    source = folder / "page.png"
    Image.new("RGB", (400, 300), "white").save(source)
    return source


async def test_a_long_annotate_name_is_written_and_one_too_long_refused_before_any_call(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    """A name of 250 characters is a name like any other: the drawing is written (its
    temporary file beside it has a short name of its own). One of 300, over NAME_MAX,
    is refused before the call, as a usage error, not a traceback."""
    source = page_png(tmp_path)
    fits = tmp_path / ("a" * 246 + ".png")
    run = await cli("printed-text", str(source), "--annotate", str(fits), emu=emulator)
    assert run.returncode == 0 and fits.is_file(), run.stderr
    assert [name for name in os.listdir(tmp_path) if name.startswith(".")] == []
    calls = emulator.stats.ocr_calls.get("comm", 0)
    too_long = tmp_path / ("a" * 296 + ".png")
    run = await cli("printed-text", str(source), "--annotate", str(too_long), emu=emulator)
    assert run.returncode == 2 and "--annotate" in run.stderr, run.stderr
    assert emulator.stats.ocr_calls.get("comm", 0) == calls


async def test_an_annotated_image_has_the_mode_any_new_file_gets(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    """The drawing is written to a temporary file (mkstemp: mode 0600) then renamed, so
    a new annotated image is readable by its owner alone whatever the umask, and one
    replaced loses the mode it had (a 0644 image becomes 0600)."""
    source = page_png(tmp_path)
    umask = os.umask(0o022)
    os.umask(umask)
    fresh = tmp_path / "fresh.png"
    run = await cli("printed-text", str(source), "--annotate", str(fresh), emu=emulator)
    assert run.returncode == 0 and "drew " in run.stderr, run.stderr
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask
    kept = tmp_path / "kept.png"
    kept.write_bytes(b"an earlier drawing")
    kept.chmod(0o644)
    run = await cli("printed-text", str(source), "--annotate", str(kept), emu=emulator)
    assert run.returncode == 0 and "drew " in run.stderr, run.stderr
    assert kept.read_bytes() != b"an earlier drawing"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o644


def test_drawing_a_box_far_outside_the_image_is_bounded() -> None:
    """Boxes come from the endpoint's reply (WeChat, or whatever WXOCR_BASE_URL names):
    a position two billion pixels out costs Pillow seconds of CPU per box today (1e9:
    3 s, 2.1e9: 7 s), unbounded by --timeout, which covers the call alone."""
    out = io.BytesIO()
    Image.new("RGB", (300, 200), "white").save(out, "PNG")
    far = 2.1e9
    corners = {"left_top": (0, 0), "right_top": (far, 0), "right_bottom": (far, far),
               "left_bottom": (0, far)}  # fmt: skip
    pos = {name: {"x": x, "y": y} for name, (x, y) in corners.items()}
    reply = {"errcode": 0, "errmsg": "ok", "items": [{"text": "a", "pos": pos}] * 3,
             "img_size": {"w": 300, "h": 200}}  # fmt: skip
    found = from_wechat_reply("comm", reply)
    assert found.drawable
    started = time.process_time()
    png = annotated_png(out.getvalue(), found)
    spent = time.process_time() - started
    assert png.startswith(b"\x89PNG")
    assert spent < 2.0, f"three boxes took {spent:.1f} s of CPU to draw"
