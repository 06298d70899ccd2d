"""Every error class, produced through the emulator; the dispatch table itself."""

from __future__ import annotations

import asyncio
import pickle

import aiohttp
import pytest

import wxocr_async as wx
from wxocr_async.emulator import Fault, WeChatEmulator, card_png
from wxocr_async.errors import ERRCODE_CLASSES, error_from_reply
from wxocr_async.retry import NO_RETRY

IMAGE = card_png("errors")


@pytest.mark.parametrize(
    ("errcode", "errmsg", "cls"),
    [
        (-1, "system error", wx.SystemBusy),
        (101000, "invalid image url", wx.InvalidImageUrl),
        (101001, "certificate not found", wx.CertificateNotFound),
        (101002, "decode image failed", wx.InvalidImageData),
        (101003, "not enough market quota", wx.QuotaExceeded),
        (45009, "reach max api daily quota limit", wx.QuotaExceeded),
        (101002, "not enough market quota", wx.QuotaExceeded),  # the quota-flavoured 101002
        (12345, "not enough market quota hint: [x]", wx.QuotaExceeded),
        (45011, "api minute-quota reach limit mustslower retry next minute", wx.RateLimited),
        (48001, "api unauthorized", wx.Unauthorized),
        (61007, "api is unauthorized to component", wx.Unauthorized),
        (41001, "access_token missing", wx.CredentialMissing),
        (99999, "something new", wx.WxOcrError),
    ],
)
async def test_server_errors_map_to_classes(
    ocr: wx.OcrClient, emulator: WeChatEmulator, errcode: int, errmsg: str, cls: type
) -> None:
    emulator.push_faults("idcard", Fault.error(errcode, errmsg))
    with pytest.raises(wx.WxOcrError) as info:
        await ocr.idcard(IMAGE)
    err = info.value
    assert type(err) is cls
    assert err.errcode == errcode
    assert err.errmsg.startswith(errmsg)
    assert err.endpoint == "cv/ocr/idcard"
    assert str(errcode) in str(err) and "cv/ocr/idcard" in str(err)


async def test_errcode_as_string_error_is_mapped(
    ocr: wx.OcrClient, emulator: WeChatEmulator
) -> None:
    emulator.set_reply("bankcard", {"errcode": "101001", "errmsg": "certificate not found"})
    with pytest.raises(wx.CertificateNotFound) as info:
        await ocr.bankcard(IMAGE)
    assert info.value.errcode == 101001


async def test_emulator_decides_101000_for_an_unfetchable_url(
    ocr: wx.OcrClient, emulator: WeChatEmulator
) -> None:
    with pytest.raises(wx.InvalidImageUrl):
        await ocr.idcard(img_url=emulator.base_url + "/_emulator/files/none/missing.png")


async def test_emulator_decides_101002_for_a_fetched_non_image(
    ocr: wx.OcrClient, emulator: WeChatEmulator
) -> None:
    url = emulator.host(b"<html>not an image</html>", "page.html", "text/html")
    with pytest.raises(wx.InvalidImageData):
        await ocr.printed_text(img_url=url)


async def test_emulator_decides_101003_when_its_quota_is_spent(clock: object) -> None:
    async with (
        WeChatEmulator(daily_quota=2) as emu,
        wx.OcrClient(emu.appid, emu.secret, base_url=emu.base_url) as ocr,
    ):
        await ocr.plate_number(IMAGE)
        await ocr.plate_number(IMAGE)
        with pytest.raises(wx.QuotaExceeded) as info:
            await ocr.plate_number(IMAGE)
        assert info.value.errcode == 101003
        assert (await ocr.menu(IMAGE)).content is not None  # other endpoints go on


async def test_http_5xx_with_html_body(ocr: wx.OcrClient, emulator: WeChatEmulator) -> None:
    emulator.push_faults("comm", Fault.http(502))
    with pytest.raises(wx.HTTPStatusError) as info:
        await ocr.printed_text(IMAGE)
    err = info.value
    assert err.status == 502 and err.retryable
    assert err.errcode == wx.errors.ERRCODE_HTTP_STATUS
    assert "HTTP 502" in str(err) and "HTML" in str(err)
    assert isinstance(err, wx.TransportError)


async def test_html_page_with_status_200_is_bad_response(
    ocr: wx.OcrClient, emulator: WeChatEmulator
) -> None:
    emulator.push_faults(
        "comm", Fault.not_json(b"<html><body>captive portal</body></html>", "text/html")
    )
    with pytest.raises(wx.BadResponse, match=r"not JSON.*HTML page") as info:
        await ocr.printed_text(IMAGE)
    assert info.value.errcode == wx.errors.ERRCODE_BAD_RESPONSE


async def test_plain_text_body_is_bad_response(ocr: wx.OcrClient, emulator: WeChatEmulator) -> None:
    emulator.push_faults("comm", Fault.not_json())
    with pytest.raises(wx.BadResponse, match="not JSON"):
        await ocr.printed_text(IMAGE)


async def test_json_of_the_wrong_shape_is_bad_response(
    ocr: wx.OcrClient, emulator: WeChatEmulator
) -> None:
    emulator.push_faults("comm", Fault.not_json(b"[1, 2]", "application/json"))
    with pytest.raises(wx.BadResponse, match="not an object"):
        await ocr.printed_text(IMAGE)
    emulator.set_reply("comm", {"errcode": 0, "items": "not a list"})
    with pytest.raises(wx.BadResponse, match="documented shape"):
        await ocr.printed_text(IMAGE)


async def test_connection_reset(ocr: wx.OcrClient, emulator: WeChatEmulator) -> None:
    emulator.push_faults("idcard", Fault.connection_reset())
    with pytest.raises(wx.ConnectionFailed) as info:
        await ocr.idcard(IMAGE)
    assert info.value.errcode == wx.errors.ERRCODE_CONNECTION
    assert isinstance(info.value.__cause__, aiohttp.ClientError)


async def test_connection_refused() -> None:
    async with WeChatEmulator() as emu:
        base_url = emu.base_url  # a port nobody listens on once the emulator stops
    async with wx.OcrClient(token="t", base_url=base_url, retry=NO_RETRY) as ocr:
        with pytest.raises(wx.ConnectionFailed):
            await ocr.idcard(IMAGE)


async def test_timeout_per_call_and_client_default(emulator: WeChatEmulator) -> None:
    release = asyncio.Event()
    emulator.push_faults("idcard", Fault.held(release), Fault.held(release))
    async with wx.OcrClient(
        emulator.appid, emulator.secret, base_url=emulator.base_url, timeout=0.05
    ) as ocr:
        with pytest.raises(wx.RequestTimeout) as info:
            await ocr.idcard(IMAGE)  # the client default
        assert info.value.errcode == wx.errors.ERRCODE_TIMEOUT
        assert "0.05" in str(info.value)
    async with wx.OcrClient(emulator.appid, emulator.secret, base_url=emulator.base_url) as ocr:
        with pytest.raises(wx.RequestTimeout, match=r"0\.02"):
            await ocr.idcard(IMAGE, timeout=0.02)  # a per-call override
        release.set()
        assert (await ocr.idcard(IMAGE, timeout=None)).type == "Front"  # None: no limit


async def test_token_endpoint_errors_name_the_cause(emulator: WeChatEmulator) -> None:
    cases = [
        (
            wx.OcrClient("wx_wrong", emulator.secret, base_url=emulator.base_url),
            wx.BadAppCredentials,
            40013,
        ),
        (
            wx.OcrClient(emulator.appid, "wrong", base_url=emulator.base_url),
            wx.BadAppCredentials,
            40125,
        ),
    ]
    for client, cls, code in cases:
        async with client as ocr:
            with pytest.raises(cls) as info:
                await ocr.idcard(IMAGE)
            assert info.value.errcode == code
            assert info.value.endpoint == "cgi-bin/stable_token"
    emulator.ip_whitelist = frozenset({"10.0.0.1"})
    async with wx.OcrClient(emulator.appid, emulator.secret, base_url=emulator.base_url) as ocr:
        with pytest.raises(wx.IpNotWhitelisted, match=r"127\.0\.0\.1.*not in whitelist"):
            await ocr.idcard(IMAGE)
    emulator.ip_whitelist = None
    emulator.push_faults("stable_token", Fault.error(-1))
    async with wx.OcrClient(
        emulator.appid, emulator.secret, base_url=emulator.base_url, retry=wx.NO_RETRY
    ) as ocr:
        with pytest.raises(wx.SystemBusy):
            await ocr.idcard(IMAGE)
        assert (await ocr.idcard(IMAGE)).type == "Front"  # a failed fetch is not cached
    assert emulator.stats.ocr_results["idcard"] == 1


async def test_second_token_rejection_raises(ocr: wx.OcrClient, emulator: WeChatEmulator) -> None:
    emulator.push_faults("idcard", Fault.error(40001), Fault.error(42001))
    with pytest.raises(wx.InvalidCredential) as info:
        await ocr.idcard(IMAGE)
    assert info.value.errcode == 42001
    assert emulator.stats.ocr_calls["idcard"] == 2  # one retry, no more


def test_dispatch_table_and_fallback() -> None:
    for code, cls in ERRCODE_CLASSES.items():
        err = error_from_reply(code, "x", "cv/ocr/idcard")
        assert type(err) is cls and err.errcode == code
    assert type(error_from_reply(7, "x")) is wx.WxOcrError


def test_errors_pickle_with_their_data() -> None:
    for err in (
        wx.CertificateNotFound(101001, "certificate not found", endpoint="cv/ocr/idcard"),
        wx.HTTPStatusError(503, "HTTP 503", endpoint="cv/ocr/comm"),
        wx.ImageTooLarge("too big"),
    ):
        copy = pickle.loads(pickle.dumps(err))
        assert type(copy) is type(err) and copy.errcode == err.errcode and str(copy) == str(err)
    assert pickle.loads(pickle.dumps(wx.HTTPStatusError(503, "x"))).status == 503


def test_input_errors_are_value_errors() -> None:
    assert issubclass(wx.InvalidInput, ValueError) and issubclass(wx.ImageTooLarge, wx.InvalidInput)
    assert issubclass(wx.InvalidInput, wx.WxOcrError)
