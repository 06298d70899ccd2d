"""The examples in examples/, run against the emulator: both web apps answer the same
statuses for the same cases, the batch job writes its lines, uvicorn serves the app."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer

from examples import aiohttp_app, fastapi_app
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
#: a PNG signature and 4 MB of nothing: the apps read a little over 2 MB of it
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


def secrets_of(emulator: WeChatEmulator) -> set[str]:
    """The appsecret and every access token the emulator issued."""
    tokens = set(emulator._valid_tokens) | set(emulator._current.values())
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
    for name in ("WXOCR_TOKEN", "WXOCR_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in service_env(emulator).items():
        if name.startswith("WXOCR_"):
            monkeypatch.setenv(name, value)
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
        ("/ocr/idcard", {"file": HUGE}, 422, ERRCODE_IMAGE_TOO_LARGE),
        ("/ocr/idcard", {"image": FRONT}, 422, None),
    ],
    ids=["unknown-method", "not-an-image", "empty", "too-large", "no-file-field"],
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
        str(path): {"path": str(path), "status": "ok", "result": wechat_fields(sample)}
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


async def test_uvicorn_serves_the_fastapi_example(emulator: WeChatEmulator) -> None:
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
        env=service_env(emulator),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    try:
        # uvicorn says so once the lifespan has started and the socket listens
        await asyncio.wait_for(_line_containing(proc.stderr, b"Uvicorn running on"), 60)
        async with httpx.AsyncClient(trust_env=False) as http:
            resp = await http.post(
                f"http://127.0.0.1:{port}/ocr/idcard",
                files={"file": ("front.png", FRONT)},
            )
        proc.terminate()
        rest = await asyncio.wait_for(proc.stderr.read(), PROCESS_TIMEOUT)
        await asyncio.wait_for(proc.wait(), PROCESS_TIMEOUT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert (resp.status_code, resp.json()) == (200, wechat_fields("idcard_front.png"))
    assert proc.returncode in (0, -signal.SIGTERM)  # uvicorn >= 0.29 may re-raise the signal
    assert b"Application shutdown complete" in rest  # the lifespan closed the client
    assert [s for s in secrets_of(emulator) if s.encode() in rest] == []
