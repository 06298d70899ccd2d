"""The emulator's own behaviour: token issuing as WeChat does it, counters, faults."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

import wxocr_async as wx
from wxocr_async.emulator import Fault, WeChatEmulator, card_png, sample_image
from wxocr_async.emulator.replies import SAMPLE_ENDPOINTS, SAMPLE_REPLIES

from .conftest import ManualClock


async def get_json(session: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> Any:
    async with session.request(method, url, **kw) as resp:
        return await resp.json(content_type=None)


async def test_stable_token_hands_back_the_current_token(clock: ManualClock) -> None:
    async with WeChatEmulator(clock=clock) as emu, aiohttp.ClientSession() as s:
        body = {"grant_type": "client_credential", "appid": emu.appid, "secret": emu.secret}
        url = f"{emu.base_url}/cgi-bin/stable_token"
        first = await get_json(s, "POST", url, json=body)
        clock.advance(7200 - 345)
        again = await get_json(s, "POST", url, json=body)
        assert again == {"access_token": first["access_token"], "expires_in": 345}
        forced = await get_json(s, "POST", url, json={**body, "force_refresh": True})
        assert forced["access_token"] != first["access_token"] and forced["expires_in"] == 7200
        assert emu.is_valid_token(first["access_token"])  # still valid for the grace period
        clock.advance(300)
        assert not emu.is_valid_token(first["access_token"])
        assert emu.is_valid_token(forced["access_token"])
        assert (await get_json(s, "GET", url))["errcode"] == 43002


async def test_cgi_bin_token_issues_a_new_token_each_time(clock: ManualClock) -> None:
    async with WeChatEmulator(clock=clock) as emu, aiohttp.ClientSession() as s:
        url = (
            f"{emu.base_url}/cgi-bin/token?grant_type=client_credential"
            f"&appid={emu.appid}&secret={emu.secret}"
        )
        a = (await get_json(s, "GET", url))["access_token"]
        b = (await get_json(s, "GET", url))["access_token"]
        assert a != b and emu.stats.tokens_issued == 2
        clock.advance(299)
        assert emu.is_valid_token(a) and emu.is_valid_token(b)
        clock.advance(1)
        assert not emu.is_valid_token(a) and emu.is_valid_token(b)
        clock.advance(7200)
        assert not emu.is_valid_token(b)


@pytest.mark.parametrize(
    ("query", "errcode"),
    [
        ("grant_type=password&appid=a&secret=b", 40002),
        ("grant_type=client_credential&secret=b", 41002),
        ("grant_type=client_credential&appid=nope&secret=b", 40013),
        ("grant_type=client_credential&appid={appid}", 41004),
        ("grant_type=client_credential&appid={appid}&secret=wrong", 40125),
    ],
)
async def test_token_errors(query: str, errcode: int) -> None:
    async with WeChatEmulator() as emu, aiohttp.ClientSession() as s:
        url = f"{emu.base_url}/cgi-bin/token?" + query.format(appid=emu.appid)
        reply = await get_json(s, "GET", url)
        assert reply["errcode"] == errcode and " rid: " in reply["errmsg"]


async def test_expired_token_gets_42001(clock: ManualClock) -> None:
    async with WeChatEmulator(clock=clock, token_lifetime=10) as emu, aiohttp.ClientSession() as s:
        url = (
            f"{emu.base_url}/cgi-bin/token?grant_type=client_credential"
            f"&appid={emu.appid}&secret={emu.secret}"
        )
        token = (await get_json(s, "GET", url))["access_token"]
        clock.advance(10)
        reply = await get_json(
            s, "POST", f"{emu.base_url}/cv/ocr/idcard?access_token={token}&img_url=http://x/"
        )
        assert reply["errcode"] == 42001 and emu.stats.expired_tokens == 1


async def test_faults_are_consumed_in_order_and_per_endpoint() -> None:
    async with WeChatEmulator(require_token=False) as emu, aiohttp.ClientSession() as s:
        emu.push_faults("comm", Fault.error(-1), Fault.error(45011))
        emu.push_faults("*", Fault.error(48001))
        url = f"{emu.base_url}/cv/ocr/"
        codes = [
            (await get_json(s, "POST", url + name))["errcode"]
            for name in ("comm", "comm", "menu", "comm")
        ]
        assert codes == [-1, 45011, 48001, 41005]  # the last: no image at all
        assert emu.pending_faults("comm") == 0 and emu.stats.ocr_calls["comm"] == 3
        with pytest.raises(KeyError):
            emu.push_faults("nonsense", Fault.error(-1))


async def test_cloudbase_token_and_unknown_endpoint() -> None:
    async with WeChatEmulator(cloudbase_tokens=("cb-1",)) as emu, aiohttp.ClientSession() as s:
        base = f"{emu.base_url}/cv/ocr/"
        ok = await get_json(
            s, "POST", base + "idcard?cloudbase_access_token=cb-1&img_url=http://127.0.0.1:9/x"
        )
        assert ok["errcode"] == 101000  # past the token check; the URL is unreachable
        bad = await get_json(s, "POST", base + "idcard?cloudbase_access_token=cb-2")
        assert bad["errcode"] == 40001
        async with s.post(base + "selfie") as resp:
            assert resp.status == 404


@pytest.mark.parametrize(
    ("sample", "endpoint", "method"),
    [
        ("plate_number.png", "platenum", "plate_number"),
        ("plate_number.png", "idcard", "idcard"),
        ("idcard_front.png", "bankcard", "bankcard"),
        ("menu.png", "comm", "printed_text"),
    ],
)
async def test_replies_are_chosen_per_endpoint(
    ocr: wx.OcrClient, emulator: WeChatEmulator, sample: str, endpoint: str, method: str
) -> None:
    result = await getattr(ocr, method)(sample_image(sample))
    own = SAMPLE_ENDPOINTS[sample] == endpoint
    expected = SAMPLE_REPLIES[sample] if own else emulator.replies[endpoint]
    assert result.to_dict() == {k: v for k, v in expected.items() if k not in ("errcode", "errmsg")}
    if not own:  # e.g. an ID card endpoint never answers with a plate number
        assert result.extras == {}


async def test_recognise_for_one_endpoint_only(ocr: wx.OcrClient, emulator: WeChatEmulator) -> None:
    data = card_png("only-bankcard")
    emulator.register_reply(
        data, {"errcode": 0, "errmsg": "ok", "number": "6222"}, endpoint="bankcard"
    )
    assert (await ocr.bankcard(data)).number == "6222"
    assert (await ocr.idcard(data)).type == "Front"  # the idcard default, not the bank card
    with pytest.raises(KeyError):
        emulator.register_reply(data, {}, endpoint="selfie")


async def test_a_recognised_reply_may_be_empty() -> None:
    data = card_png("empty-reply")
    async with WeChatEmulator(require_token=False) as emu, aiohttp.ClientSession() as s:
        emu.register_reply(data, {"errcode": 0, "errmsg": "ok", "type": "Back"})
        emu.register_reply(data, {}, endpoint="idcard")  # an odd reply, still this endpoint's own
        body, content_type = _multipart([("img", "a.png", "image/png", b"IMAGE")], data)
        url = f"{emu.base_url}/cv/ocr/idcard"
        async with s.post(url, data=body, headers={"Content-Type": content_type}) as resp:
            assert await resp.json(content_type=None) == {}


#: a multipart part: (name, filename, Content-Type, data); data b"IMAGE" stands for an image
Part = tuple[str, str | None, str | None, bytes]


def _multipart(parts: list[Part], image: bytes = b"") -> tuple[bytes, str]:
    boundary = "b0undary"
    body = b""
    for name, filename, part_type, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        body += f"Content-Type: {part_type}\r\n".encode() if part_type else b""
        body += b"\r\n" + (image if data == b"IMAGE" else data) + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


PHOTO_FIELD: Part = ("type", None, None, b"photo")  # a form field, as requests sends one
TEXT_FIELD: Part = ("type", None, "text/plain; charset=utf-8", b"photo")  # as aiohttp does


@pytest.mark.parametrize(
    ("parts", "part_name"),
    [
        ([("file", "a.png", "image/png", b"IMAGE")], "file"),  # WxJava's name
        ([("img", None, None, b"IMAGE")], "img"),  # no filename
        ([PHOTO_FIELD, ("upload", "a.png", None, b"IMAGE")], "upload"),
        ([TEXT_FIELD, ("media", None, "application/octet-stream", b"IMAGE")], "media"),
        ([("media", None, "image/png", b"IMAGE"), ("img", "a.png", None, b"IMAGE")], "img"),
    ],
    ids=["file", "no-filename", "other-name", "no-filename-other-name", "img-first-choice"],
)
async def test_any_file_part_is_accepted(parts: list[Part], part_name: str) -> None:
    image = card_png("any-part")
    body, content_type = _multipart(parts, image)
    async with WeChatEmulator(require_token=False) as emu, aiohttp.ClientSession() as s:
        url = f"{emu.base_url}/cv/ocr/idcard"
        async with s.post(url, data=body, headers={"Content-Type": content_type}) as resp:
            reply = await resp.json(content_type=None)
        assert reply["errcode"] == 0 and reply["type"] == "Front"
        seen = emu.stats.seen[-1]
        chosen = next(p for p in parts if p[0] == part_name)
        assert (seen.part_name, seen.part_filename, seen.part_content_type) == chosen[:3]


@pytest.mark.parametrize(
    "parts",
    [[], [PHOTO_FIELD], [TEXT_FIELD, PHOTO_FIELD]],
    ids=["no-part", "only-a-form-field", "only-text-fields"],
)
async def test_41005_only_without_a_file_part(parts: list[Part]) -> None:
    body, content_type = _multipart(parts)
    async with WeChatEmulator(require_token=False) as emu, aiohttp.ClientSession() as s:
        url = f"{emu.base_url}/cv/ocr/idcard"
        async with s.post(url, data=body, headers={"Content-Type": content_type}) as resp:
            assert (await resp.json(content_type=None))["errcode"] == 41005
        assert emu.stats.seen[-1].part_name is None
