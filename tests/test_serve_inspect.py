"""``wxocr serve``'s try-it page and its inspect route, on a real server process: the
same authentication as WeChat's routes, WeChat's replies left exactly WeChat's, and a
page that can only run its own script and talk to its own server."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDictProxy
from PIL import Image

from wxocr_async.emulator import WeChatEmulator
from wxocr_async.local import model_available
from wxocr_async.server import tryit

from .serving import HANG_GUARD, ServeProcess, server_fixture

if not model_available():
    if os.environ.get("CI"):
        pytest.fail("rapidocr or onnxruntime is missing: the test extra installs them")
    pytest.skip("the [local] extra is not installed", allow_module_level=True)

TOKEN = "the-inspect-token-0123456789abcdef"
PRINTED = (Path(__file__).parent / "local_images" / "printed_text.png").read_bytes()


token_server = server_fixture(env={"WXOCR_TOKEN": TOKEN})
open_server = server_fixture("--allow-private-urls")


async def post(
    http: aiohttp.ClientSession, url: str, data: bytes | None = None, **query: str
) -> tuple[int, dict[str, Any], CIMultiDictProxy[str]]:
    form = None
    if data is not None:
        form = aiohttp.FormData()
        form.add_field("img", io.BytesIO(data), filename="i", content_type="image/png")
    async with http.post(url, params=query, data=form) as resp:
        return resp.status, await resp.json(content_type=None), resp.headers


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def test_inspect_gives_wechats_reply_and_what_it_was_read_from(
    token_server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    base = token_server.base_url
    status, plain, _ = await post(http, f"{base}/cv/ocr/comm", PRINTED, access_token=TOKEN)
    assert status == 200 and set(plain) == {"errcode", "errmsg", "items", "img_size"}
    status, found, headers = await post(
        http, f"{base}/wxocr/inspect/comm", PRINTED, access_token=TOKEN
    )
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert found["reply"] == plain  # exactly what WeChat's route answers
    assert found["cloud"]["imgSize"] == plain["img_size"] and found["message"] is None
    assert found["cloud"]["errMsg"] == "openapi.ocr.printedText:ok"  # as the cloud call
    assert found["seconds"] > 0 and found["image"] is None
    assert found["size"] == {"w": plain["img_size"]["w"], "h": plain["img_size"]["h"]}
    assert [line["text"] for line in found["lines"]] == [i["text"] for i in plain["items"]]
    boxed = [f for f in found["fields"] if f["box"] is not None]
    assert len(boxed) == len(plain["items"]) and boxed[0]["snake"] == "items[0].text"


async def test_inspect_is_under_the_same_authentication(
    token_server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    url = f"{token_server.base_url}/wxocr/inspect/comm"
    for query, code, said in (
        ({}, 41001, "needs a token"),
        ({"access_token": "guess"}, 40001, "was refused"),
    ):
        status, found, _ = await post(http, url, PRINTED, **query)
        assert status == 200 and found["reply"]["errcode"] == code
        assert said in found["message"] and found["lines"] == [] and found["fields"] == []
    # refused from the head alone: a 1 MB body announced and never sent is not waited for
    host, port = token_server.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            b"POST /wxocr/inspect/idcard?access_token=guess HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n\r\n"
        )
        async with asyncio.timeout(HANG_GUARD):
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200") and b"Connection: close" in head
    finally:
        writer.close()


async def test_errors_come_with_a_sentence(
    token_server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    base = token_server.base_url
    blank = png(Image.new("RGB", (400, 250), "white"))
    _, found, _ = await post(http, f"{base}/wxocr/inspect/idcard", blank, access_token=TOKEN)
    assert found["reply"]["errcode"] == 101001
    assert found["message"] == "No ID card was found in the image."
    _, found, _ = await post(http, f"{base}/wxocr/inspect/idcard", b"GIF89a", access_token=TOKEN)
    assert found["reply"]["errcode"] == 101002
    assert found["message"].startswith("The image could not be read")
    async with http.get(f"{base}/wxocr/inspect/nothing") as resp:
        assert resp.status == 404
    async with http.get(f"{base}/wxocr/inspect/comm", params={"access_token": TOKEN}) as resp:
        assert (await resp.json(content_type=None))["reply"]["errcode"] == 43002


def test_a_timeout_and_a_busy_server_are_told_apart() -> None:
    assert tryit.sentence("idcard", {"errcode": -1}, timed_out=120.0) == (
        "The recognition took longer than 120 s and was given up."
    )
    assert "busy" in (tryit.sentence("idcard", {"errcode": -1}) or "")
    assert tryit.sentence("menu", {"errcode": 0}) is None
    assert tryit.sentence("menu", {"errcode": 9, "errmsg": "odd rid: 1-2-3"}) == "errcode 9: odd"


async def test_an_image_fetched_by_url_comes_back_to_draw_on(
    open_server: ServeProcess, http: aiohttp.ClientSession, emulator: WeChatEmulator
) -> None:
    url = f"{open_server.base_url}/wxocr/inspect/comm"
    _, found, _ = await post(http, url, img_url=emulator.host(PRINTED, "page.png"))
    assert found["reply"]["errcode"] == 0 and found["lines"]
    prefix = "data:image/png;base64,"
    assert found["image"].startswith(prefix)
    assert base64.b64decode(found["image"].removeprefix(prefix)) == PRINTED


async def test_the_page_runs_only_its_own_script_and_talks_only_to_its_server(
    token_server: ServeProcess, open_server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{token_server.base_url}/") as resp:
        assert resp.status == 200 and resp.content_type == "text/html"
        page, policy = await resp.text(), resp.headers["Content-Security-Policy"]
    for tag, directive in (("script", "script-src"), ("style", "style-src")):
        (block,) = re.findall(rf"<{tag}>(.*?)</{tag}>", page, re.DOTALL)
        digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}';" in policy
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert not re.search(r"(?:src|href)=[\"'](?:https?:)?//", page)  # nothing from elsewhere
    async with http.get(f"{token_server.base_url}/wxocr/about") as resp:
        about = await resp.json()
    assert about["needs_token"] is True and about["issues_tokens"] is False
    assert {e["name"] for e in about["endpoints"]} == {
        "idcard", "bankcard", "driving", "drivinglicense", "bizlicense", "comm", "platenum",
        "menu",
    }  # fmt: skip
    async with http.get(f"{open_server.base_url}/wxocr/about") as resp:
        assert (await resp.json())["needs_token"] is False


async def test_an_open_server_answers_only_requests_named_for_loopback(
    open_server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    """A web page whose name was pointed at 127.0.0.1 (DNS rebinding) would send its own
    name as Host: an open server on loopback refuses it, whatever the route."""
    base = open_server.base_url
    port = base.rsplit(":", 1)[1]
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.nip.io", "10.0.0.1"):
        for method, path in (("GET", "/wxocr/about"), ("POST", "/wxocr/inspect/comm")):
            async with http.request(method, base + path, headers={"Host": host}) as resp:
                assert resp.status == 403, (host, path)
                assert "loopback" in (await resp.json(content_type=None))["errmsg"]
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "LOCALHOST", f"[::1]:{port}"):
        async with http.get(base + "/wxocr/about", headers={"Host": host}) as resp:
            assert resp.status == 200, host
