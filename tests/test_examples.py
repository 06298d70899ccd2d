"""The examples in examples/, run against the emulator: both web apps answer the same
statuses for the same cases, the batch job writes its lines, uvicorn serves the app, and
both apps, served on loopback, refuse a body over the cap without reading it."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from examples import aiohttp_app, fastapi_app
from examples.body_limit import MAX_BODY_BYTES
from wxocr_async.emulator import SAMPLE_REPLIES, Fault, WeChatEmulator, sample_image
from wxocr_async.errors import (
    ERRCODE_BAD_RESPONSE,
    ERRCODE_CONNECTION,
    ERRCODE_HTTP_STATUS,
    ERRCODE_IMAGE_TOO_LARGE,
    ERRCODE_INVALID_INPUT,
)
from wxocr_async.images import MAX_IMAGE_BYTES

from .conftest import ROOT, _free_port

EXAMPLES = ROOT / "examples"
#: a hang guard for subprocesses, not a timing assertion
PROCESS_TIMEOUT = 120
FRONT = sample_image("idcard_front.png").read_bytes()
BACK_VALID = SAMPLE_REPLIES["idcard_back.png"]["valid_date"]
#: a PNG signature and 2 MiB of nothing: over WeChat's limit, within the body cap
TOO_LARGE = b"\x89PNG" + bytes(MAX_IMAGE_BYTES)
#: a PNG signature and 4 MiB of nothing: over the body cap
HUGE = b"\x89PNG" + bytes(2 * MAX_IMAGE_BYTES)


def wechat_fields(sample: str) -> dict[str, Any]:
    """What ``to_dict()`` gives for a shipped sample: WeChat's reply less errcode/errmsg."""
    reply = SAMPLE_REPLIES[sample]
    return {k: v for k, v in reply.items() if k not in ("errcode", "errmsg")}


def service_env(emulator: WeChatEmulator) -> dict[str, str]:
    """The environment the examples read, pointed at the emulator (nothing else WXOCR_)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WXOCR_")}
    env.update(
        WXOCR_APPID=emulator.appid, WXOCR_SECRET=emulator.secret, WXOCR_BASE_URL=emulator.base_url
    )
    return env


def use_service_env(monkeypatch: pytest.MonkeyPatch, emulator: WeChatEmulator) -> None:
    """This process's environment as :func:`service_env` makes it, for in-process apps."""
    for name in ("WXOCR_TOKEN", "WXOCR_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in service_env(emulator).items():
        if name.startswith("WXOCR_"):
            monkeypatch.setenv(name, value)


def secrets_of(emulator: WeChatEmulator) -> set[str]:
    """The appsecret and every access token the emulator issued."""
    tokens = set(emulator.issued_tokens())
    assert emulator.stats.tokens_issued == 0 or tokens
    return {emulator.secret, *tokens}


def _lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


@attrs.frozen
class Reply:
    status: int
    #: names in lower case
    headers: dict[str, str] = attrs.field(converter=_lower_keys)
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


#: post(path, {field: bytes}) sends the fields as a multipart form
Post = Callable[[str, Mapping[str, bytes]], Awaitable[Reply]]


@contextlib.asynccontextmanager
async def fastapi_post() -> AsyncIterator[Post]:
    """The FastAPI app in process through httpx's ASGI transport, its lifespan run."""
    app = fastapi_app.app
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):

        async def post(path: str, fields: Mapping[str, bytes]) -> Reply:
            files = {name: ("upload.png", data) for name, data in fields.items()}
            resp = await client.post(path, files=files)
            return Reply(resp.status_code, resp.headers, resp.text)

        yield post


@contextlib.asynccontextmanager
async def aiohttp_post() -> AsyncIterator[Post]:
    """The aiohttp app on a loopback port through aiohttp's test client."""
    async with TestClient(TestServer(aiohttp_app.make_app())) as client:

        async def post(path: str, fields: Mapping[str, bytes]) -> Reply:
            form = aiohttp.FormData()
            for name, data in fields.items():
                form.add_field(name, io.BytesIO(data), filename="upload.png")
            async with client.post(path, data=form) as resp:
                return Reply(resp.status, resp.headers, await resp.text())

        yield post


@pytest.fixture(params=["fastapi", "aiohttp"])
async def post(
    request: pytest.FixtureRequest, emulator: WeChatEmulator, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Post]:
    """Each example app, configured from the environment as it starts."""
    use_service_env(monkeypatch, emulator)
    serve = fastapi_post if request.param == "fastapi" else aiohttp_post
    async with serve() as send:
        yield send


def assert_no_secrets(reply: Reply, emulator: WeChatEmulator) -> None:
    shown = [reply.text, *reply.headers.values()]
    leaked = [s for s in secrets_of(emulator) if any(s in text for text in shown)]
    assert leaked == []


@pytest.mark.parametrize(
    ("path", "sample", "expected"),
    [
        ("/ocr/idcard", "idcard_front.png", wechat_fields("idcard_front.png")),
        ("/ocr/idcard?naming=camel", "idcard_back.png", {"type": "Back", "validDate": BACK_VALID}),
        ("/ocr/vehicle_license", "vehicle_license.png", wechat_fields("vehicle_license.png")),
        # the wire name and the dashed method name name it too
        ("/ocr/driving", "vehicle_license.png", wechat_fields("vehicle_license.png")),
        ("/ocr/printed-text", "printed_text.png", wechat_fields("printed_text.png")),
        ("/ocr/platenum", "plate_number.png", wechat_fields("plate_number.png")),
    ],
)
async def test_recognised(
    post: Post, emulator: WeChatEmulator, path: str, sample: str, expected: dict[str, Any]
) -> None:
    reply = await post(path, {"file": sample_image(sample).read_bytes()})
    assert (reply.status, reply.json()) == (200, expected)
    assert reply.headers["content-type"].startswith("application/json")
    assert_no_secrets(reply, emulator)


#: (faults pushed on cv/ocr/idcard, status, errcode); retried errors get one per attempt
FAULT_CASES = [
    ([Fault.error(45009)], 429, 45009),
    ([Fault.error(101001)], 422, 101001),
    ([Fault.error(101002)], 422, 101002),
    ([Fault.error(-1)] * 3, 503, -1),
    ([Fault.http(502)] * 3, 503, ERRCODE_HTTP_STATUS),
    ([Fault.connection_reset()] * 3, 503, ERRCODE_CONNECTION),
    ([Fault.error(48001)], 502, 48001),
    ([Fault.not_json()] * 3, 502, ERRCODE_BAD_RESPONSE),
]


@pytest.mark.parametrize(
    ("faults", "status", "errcode"), FAULT_CASES, ids=[str(c[2]) for c in FAULT_CASES]
)
async def test_errors_answer_their_status(
    post: Post, emulator: WeChatEmulator, faults: list[Fault], status: int, errcode: int
) -> None:
    emulator.push_faults("idcard", *faults)
    reply = await post("/ocr/idcard", {"file": FRONT})
    assert emulator.pending_faults("idcard") == 0
    assert reply.status == status
    body = reply.json()
    assert set(body) == {"errcode", "errmsg"} and body["errcode"] == errcode
    if status == 429:
        assert 0 < int(reply.headers["retry-after"]) <= 86400
    else:
        assert "retry-after" not in reply.headers
    assert_no_secrets(reply, emulator)


@pytest.mark.parametrize(
    ("path", "fields", "status", "errcode"),
    [
        ("/ocr/passport", {"file": FRONT}, 404, ERRCODE_INVALID_INPUT),
        ("/ocr/idcard", {"file": b"hello, not an image"}, 422, ERRCODE_INVALID_INPUT),
        ("/ocr/idcard", {"file": b""}, 422, ERRCODE_INVALID_INPUT),
        ("/ocr/idcard", {"file": TOO_LARGE}, 422, ERRCODE_IMAGE_TOO_LARGE),
        ("/ocr/idcard", {"file": HUGE}, 413, ERRCODE_IMAGE_TOO_LARGE),
        ("/ocr/idcard", {"image": FRONT}, 422, None),
    ],
    ids=["unknown-method", "not-an-image", "empty", "too-large", "over-the-cap", "no-file-field"],
)
async def test_bad_requests_are_refused_before_wechat(
    post: Post,
    emulator: WeChatEmulator,
    path: str,
    fields: dict[str, bytes],
    status: int,
    errcode: int | None,
) -> None:
    reply = await post(path, fields)
    assert reply.status == status
    body = reply.json()
    if errcode is not None:  # FastAPI answers a missing field with its own validation body
        assert body["errcode"] == errcode
    assert sum(emulator.stats.ocr_calls.values()) == 0


async def test_unknown_method_is_404_without_an_upload(post: Post) -> None:
    reply = await post("/ocr/passport", {})
    assert reply.status == 404
    assert reply.json()["errcode"] == ERRCODE_INVALID_INPUT


async def _run(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), PROCESS_TIMEOUT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_batch_job_writes_one_line_per_image(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    for name in ("idcard_front.png", "idcard_back.png"):
        shutil.copy(sample_image(name), scans / name)
    (scans / "notes.txt").write_text("not an image", encoding="utf-8")
    (scans / ".hidden.png").write_bytes(b"left out")
    single = tmp_path / "single.png"
    shutil.copy(sample_image("idcard_front.png"), single)
    out = tmp_path / "results.jsonl"

    status, stdout, stderr = await _run(
        sys.executable,
        str(EXAMPLES / "batch_job.py"),
        str(scans),
        str(single),
        "--out",
        str(out),
        "--concurrency",
        "2",
        env=service_env(emulator),
        cwd=tmp_path,
    )

    assert (status, stdout) == (1, f"3 ok, 1 error, 0 not attempted; results in {out}\n")
    lines = {line["path"]: line for line in map(json.loads, out.read_text("utf-8").splitlines())}
    bad = lines.pop(str(scans / "notes.txt"))
    assert bad["status"] == "error" and bad["error"]["errcode"] == ERRCODE_INVALID_INPUT
    assert lines == {
        str(path): {
            "path": str(path),
            "endpoint": "idcard",
            "status": "ok",
            "result": wechat_fields(sample),
        }
        for path, sample in [
            (scans / "idcard_front.png", "idcard_front.png"),
            (scans / "idcard_back.png", "idcard_back.png"),
            (single, "idcard_front.png"),
        ]
    }
    assert emulator.stats.ocr_calls["idcard"] == 3
    shown = stdout + stderr + out.read_text("utf-8")
    assert [s for s in secrets_of(emulator) if s in shown] == []


async def _line_containing(stream: asyncio.StreamReader, text: bytes) -> bytes:
    """The first line holding ``text``; raises at the end of the stream."""
    while line := await stream.readline():
        if text in line:
            return line
    raise AssertionError(f"the stream ended without a line holding {text!r}")


@attrs.frozen
class Uvicorn:
    """uvicorn serving the FastAPI example in a subprocess."""

    port: int
    proc: asyncio.subprocess.Process
    #: what it writes to stderr after it started, as it comes
    log: bytearray
    drain: asyncio.Task[None]

    async def stop(self) -> bytes:
        """Terminate it; what it wrote to stderr after it started."""
        self.proc.terminate()
        await asyncio.wait_for(self.proc.wait(), PROCESS_TIMEOUT)
        await asyncio.wait_for(self.drain, PROCESS_TIMEOUT)
        return bytes(self.log)


@contextlib.asynccontextmanager
async def uvicorn_example(env: dict[str, str]) -> AsyncIterator[Uvicorn]:
    """uvicorn serving ``examples.fastapi_app:app`` on a free loopback port with ``env``,
    once it listens; killed on the way out if still running."""
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "uvicorn",
        "examples.fastapi_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--lifespan",
        "on",
        "--no-access-log",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    stderr = proc.stderr
    assert stderr is not None
    log = bytearray()

    async def drain() -> None:  # a full pipe would stall the server
        while chunk := await stderr.read(65536):
            log.extend(chunk)

    try:
        # uvicorn says so once the lifespan has started and the socket listens
        await asyncio.wait_for(_line_containing(stderr, b"Uvicorn running on"), 60)
        draining = asyncio.create_task(drain())
        try:
            yield Uvicorn(port, proc, log, draining)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            await asyncio.wait_for(draining, PROCESS_TIMEOUT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_uvicorn_serves_the_fastapi_example(emulator: WeChatEmulator) -> None:
    async with uvicorn_example(service_env(emulator)) as server:
        async with httpx.AsyncClient(trust_env=False) as http:
            resp = await http.post(
                f"http://127.0.0.1:{server.port}/ocr/idcard",
                files={"file": ("front.png", FRONT)},
            )
        rest = await server.stop()
    assert (resp.status_code, resp.json()) == (200, wechat_fields("idcard_front.png"))
    assert server.proc.returncode in (0, -signal.SIGTERM)  # uvicorn >= 0.29 may re-raise it
    assert b"Application shutdown complete" in rest  # the lifespan closed the client
    assert [s for s in secrets_of(emulator) if s.encode() in rest] == []


# A body over the cap, served on loopback: each app refuses it having read little of it.

#: what the huge requests offer to send
HUGE_BODY = 500 * 1024 * 1024
#: the most of a refused body the client may get to write: the cap and the socket buffers
ACCEPTED_AT_MOST = 8 * 1024 * 1024
CHUNK = 64 * 1024
#: the client's socket send buffer: small, so that what the client counts as sent is what
#: reached the server (Linux would otherwise let it grow to megabytes)
SEND_BUFFER = 64 * 1024
#: a hang guard for each wait on a server, not a timing assertion
HANG_GUARD = 60
BOUNDARY = "b0undary"
FORM_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


@attrs.frozen
class Server:
    """An example app serving on a loopback port."""

    port: int
    #: where it spools uploads (its TMPDIR), if it is a process of its own
    spool: Path | None


@pytest.fixture(params=["fastapi", "aiohttp"])
async def server(
    request: pytest.FixtureRequest,
    emulator: WeChatEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> AsyncIterator[Server]:
    """The FastAPI app under uvicorn (TMPDIR a fresh directory), or the aiohttp app on an
    ``AppRunner`` in this process."""
    if request.param == "fastapi":
        spool = tmp_path / "spool"
        spool.mkdir()
        async with uvicorn_example({**service_env(emulator), "TMPDIR": str(spool)}) as served:
            yield Server(served.port, spool)
        return
    use_service_env(monkeypatch, emulator)
    runner = web.AppRunner(aiohttp_app.make_app())
    await asyncio.wait_for(runner.setup(), HANG_GUARD)
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await asyncio.wait_for(site.start(), HANG_GUARD)
        yield Server(runner.addresses[0][1], None)
    finally:
        await asyncio.wait_for(runner.cleanup(), HANG_GUARD)


def form_part(name: str, data: bytes) -> bytes:
    """One file part of a ``FORM_TYPE`` form, its delimiter first."""
    return (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; "
        f'name="{name}"; filename="{name}.png"\r\nContent-Type: image/png\r\n\r\n'
    ).encode() + data


def form(size: int, image: bytes = FRONT) -> bytes:
    """A form of exactly ``size`` bytes: ``image`` in the field ``file``, then a part of
    padding."""
    head = form_part("file", image) + b"\r\n" + form_part("padding", b"")
    end = f"\r\n--{BOUNDARY}--\r\n".encode()
    assert size >= len(head) + len(end)
    return head + bytes(size - len(head) - len(end)) + end


def huge_form(size: int) -> Iterator[bytes]:
    """A form of ``size`` bytes made as it is sent: a PNG signature and zeros in ``file``."""
    head = form_part("file", b"\x89PNG\r\n\x1a\n")
    end = f"\r\n--{BOUNDARY}--\r\n".encode()
    yield head
    left = size - len(head) - len(end)
    zeros = bytes(CHUNK)
    while left > 0:
        yield zeros[: min(left, CHUNK)]
        left -= CHUNK
    yield end


def pieces(data: bytes) -> Iterator[bytes]:
    return (data[i : i + CHUNK] for i in range(0, len(data), CHUNK))


@attrs.frozen
class Exchange:
    """What a raw client saw of one request."""

    status: int
    #: names in lower case
    headers: dict[str, str]
    body: bytes
    #: body bytes drawn and written (or being written) when the reply began to arrive
    sent_before_reply: int
    #: body bytes drawn and written in all, until the body ended or a write failed
    sent: int

    def json(self) -> Any:
        return json.loads(self.body)


async def exchange(
    port: int,
    body: Iterator[bytes],
    *,
    length: int | None,
    extra_headers: Mapping[str, str] | None = None,
) -> Exchange:
    """POST ``body`` to ``/ocr/idcard`` over a raw socket, with ``Content-Length: length``
    or else chunked, drawing each piece as the socket takes it (so a server that stops
    reading stops the client), and reading the reply at the same time, until the server
    closes the connection.

    Plain non-blocking socket calls, not ``asyncio.open_connection``: a write failing on
    the server's reset would tear its transport down with the reply unread in the socket.
    """
    loop = asyncio.get_running_loop()
    framing = {"Content-Length": str(length)} if length is not None else {}
    headers = {
        "Host": f"127.0.0.1:{port}",
        "Content-Type": FORM_TYPE,
        **(framing or {"Transfer-Encoding": "chunked"}),
        **(extra_headers or {}),
    }
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    received = bytearray()
    sent = 0
    sent_before_reply: int | None = None

    async def send(sock: socket.socket) -> None:
        nonlocal sent
        with contextlib.suppress(ConnectionError):  # the server closed the connection
            await loop.sock_sendall(sock, f"POST /ocr/idcard HTTP/1.1\r\n{head}\r\n".encode())
            for chunk in body:
                sent += len(chunk)
                framed = chunk if length is not None else b"%x\r\n%b\r\n" % (len(chunk), chunk)
                await loop.sock_sendall(sock, framed)
            if length is None:
                await loop.sock_sendall(sock, b"0\r\n\r\n")

    async def receive(sock: socket.socket) -> None:
        nonlocal sent_before_reply
        with contextlib.suppress(ConnectionResetError):  # closed with a body unread
            while chunk := await loop.sock_recv(sock, 65536):
                if sent_before_reply is None:
                    sent_before_reply = sent
                received.extend(chunk)

    with socket.socket() as sock:
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", port)), HANG_GUARD)
        sending = asyncio.create_task(send(sock))
        try:
            await asyncio.wait_for(receive(sock), HANG_GUARD)  # until the server closes
            await asyncio.wait_for(sending, HANG_GUARD)  # until a write fails, if not before
        finally:
            sending.cancel()
            await asyncio.wait({sending})
    reply_head, _, reply_body = bytes(received).partition(b"\r\n\r\n")
    assert sent_before_reply is not None, "the connection closed without a reply"
    status_line, *header_lines = reply_head.decode("latin-1").split("\r\n")
    reply_headers = dict(line.split(": ", 1) for line in header_lines)
    return Exchange(
        int(status_line.split()[1]),
        _lower_keys(reply_headers),
        reply_body,
        sent_before_reply,
        sent,
    )


def assert_refused(reply: Exchange) -> None:
    """413 in the ``http_errors`` shape, naming the cap once, closing the connection."""
    assert reply.status == 413
    assert reply.headers["connection"] == "close"
    assert reply.headers["content-type"].startswith("application/json")
    assert len(reply.body) == int(reply.headers["content-length"])
    body = reply.json()
    assert set(body) == {"errcode", "errmsg"} and body["errcode"] == ERRCODE_IMAGE_TOO_LARGE
    assert body["errmsg"].count(str(MAX_BODY_BYTES)) == 1 and "OcrClient" not in body["errmsg"]


def spooled(server: Server) -> int:
    """Bytes in the files under the server's TMPDIR (0 when it has none of its own)."""
    if server.spool is None:
        return 0
    return sum(f.stat().st_size for f in server.spool.rglob("*") if f.is_file())


async def test_a_huge_declared_body_is_refused_before_it_is_read(server: Server) -> None:
    reply = await exchange(server.port, huge_form(HUGE_BODY), length=HUGE_BODY)
    assert_refused(reply)
    assert reply.sent_before_reply <= reply.sent < ACCEPTED_AT_MOST
    assert spooled(server) < 1024 * 1024


async def test_a_huge_chunked_body_is_refused_at_the_cap(server: Server) -> None:
    reply = await exchange(server.port, huge_form(HUGE_BODY), length=None)
    assert_refused(reply)
    assert MAX_BODY_BYTES < reply.sent_before_reply <= reply.sent < ACCEPTED_AT_MOST
    assert spooled(server) < 1024 * 1024


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_body_filling_the_cap_is_recognised(server: Server, chunked: bool) -> None:
    body = form(MAX_BODY_BYTES)
    # the client asks to close: the reply's end is where the connection ends
    reply = await exchange(
        server.port,
        pieces(body),
        length=None if chunked else len(body),
        extra_headers={"Connection": "close"},
    )
    assert (reply.status, reply.json()) == (200, wechat_fields("idcard_front.png"))
    assert reply.sent == MAX_BODY_BYTES


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_body_one_byte_over_the_cap_is_refused(
    server: Server, emulator: WeChatEmulator, chunked: bool
) -> None:
    body = form(MAX_BODY_BYTES + 1)
    reply = await exchange(server.port, pieces(body), length=None if chunked else len(body))
    assert_refused(reply)
    assert sum(emulator.stats.ocr_calls.values()) == 0


async def test_a_form_nested_a_thousand_deep_is_refused(server: Server) -> None:
    """Parts nested a thousand deep are no image: 422, nothing recursed into."""
    nested = b"".join(
        b"--n%d\r\nContent-Type: multipart/mixed; boundary=n%d\r\n\r\n" % (i, i + 1)
        for i in range(1000)
    )
    head = form_part("file", b"").replace(b"image/png", b"multipart/mixed; boundary=n0")
    body = head + nested + f"\r\n--{BOUNDARY}--\r\n".encode()
    reply = await exchange(
        server.port, pieces(body), length=len(body), extra_headers={"Connection": "close"}
    )
    assert reply.status == 422
    assert reply.json()["errcode"] == ERRCODE_INVALID_INPUT
