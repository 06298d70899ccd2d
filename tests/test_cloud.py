"""The wx-server-sdk parity layer against the emulator: every cloud name, errors, options."""

from __future__ import annotations

from typing import Any

import pytest

import wxocr_async as wx
from wxocr_async.emulator import Fault, WeChatEmulator, card_png, sample_image
from wxocr_async.naming import camelize

from .conftest import load_sample

IMAGE = card_png("cloud")

CLOUD_NAMES = {
    "idcard": ("idcard", "idcard/front"),
    "bankcard": ("bankcard", "bankcard/number"),
    "drivingLicense": ("driving", "driving/doc_example"),
    "vehicleLicense": ("driving", "driving/doc_example"),
    "driverLicense": ("drivinglicense", "drivinglicense/doc_example"),
    "businessLicense": ("bizlicense", "bizlicense/doc_example"),
    "printedText": ("comm", "comm/doc_example"),
}


def sdk_result(reply: dict[str, Any], name: str) -> dict[str, Any]:
    """What wx-server-sdk returns for ``reply``, written out independently."""
    body = {k: v for k, v in reply.items() if k not in ("errcode", "errmsg")}
    return {**camelize(body), "errMsg": f"openapi.ocr.{name}:ok", "errCode": 0}


@pytest.mark.parametrize("name", sorted(CLOUD_NAMES))
@pytest.mark.parametrize("how", ["imgUrl", "img"])
async def test_every_cloud_name(
    ocr: wx.OcrClient, emulator: WeChatEmulator, name: str, how: str
) -> None:
    endpoint, case = CLOUD_NAMES[name]
    reply = load_sample(case)
    emulator.set_reply(endpoint, reply)
    if how == "imgUrl":
        params: dict[str, Any] = {"imgUrl": emulator.host(IMAGE, "c.png")}
    else:
        params = {"img": {"contentType": "image/png", "value": IMAGE}}
    result = await getattr(ocr.openapi.ocr, name)(params)
    assert result == sdk_result(reply, name)
    assert result["errCode"] == 0 and result["errMsg"] == f"openapi.ocr.{name}:ok"
    assert emulator.stats.ocr_results[endpoint] == 1


async def test_the_readme_calls(ocr: wx.OcrClient, emulator: WeChatEmulator) -> None:
    url = emulator.sample_url("idcard_back.png")
    res = await ocr.openapi.ocr.idcard({"type": "photo", "imgUrl": url})
    assert res["errCode"] == 0 and res["errMsg"] == "openapi.ocr.idcard:ok"
    assert res["validDate"] == "20171025-20271025"
    assert emulator.stats.seen[-1].query["type"] == "photo"
    data = sample_image("printed_text.png").read_bytes()
    res = await ocr.openapi.ocr.printedText({"img": {"contentType": "image/png", "value": data}})
    assert res["items"][0]["pos"]["leftTop"] == {"x": 575, "y": 519}
    assert res["imgSize"] == {"w": 1280, "h": 720}


async def test_upload_part_is_named_as_the_sdk_names_it(
    ocr: wx.OcrClient, emulator: WeChatEmulator
) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + bytes(32)
    await ocr.openapi.ocr.bankcard(
        {"img": {"contentType": "image/jpeg", "value": jpeg, "fileName": "x.jpg"}}
    )
    await ocr.openapi(convertCase=False).ocr.bankcard(
        {"img": {"contentType": "image/jpeg", "value": jpeg, "fileName": "card.jpg"}}
    )
    converted, unconverted = emulator.stats.seen
    # with conversion on, wx-server-sdk's fileName becomes file_name and is ignored
    assert (converted.part_name, converted.part_filename, converted.part_content_type) == (
        "img",
        "img.jpeg",
        "image/jpeg",
    )
    assert unconverted.part_filename == "card.jpg"


async def test_convert_case_false_takes_and_returns_snake(
    ocr: wx.OcrClient, emulator: WeChatEmulator
) -> None:
    res = await ocr.openapi(convertCase=False).ocr.driverLicense(
        {"img_url": emulator.sample_url("driver_license.png")}
    )
    assert res["id_num"] == "660601xxxxxxxx1234" and res["birth_date"] == "1990-12-21"
    assert res["errCode"] == 0 and res["errMsg"] == "openapi.ocr.driverLicense:ok"
    assert "errcode" not in res and "idNum" not in res


async def test_bankcard_cloud_result_is_the_raw_reply(
    ocr: wx.OcrClient, emulator: WeChatEmulator
) -> None:
    emulator.set_reply("bankcard", load_sample("bankcard/id_instead_of_number"))
    res = await ocr.openapi.ocr.bankcard({"img": {"contentType": "image/png", "value": IMAGE}})
    assert res == {"id": "622213XXXXXXXXX", "errMsg": "openapi.ocr.bankcard:ok", "errCode": 0}


async def test_server_error_becomes_cloud_call_error(
    ocr: wx.OcrClient, emulator: WeChatEmulator
) -> None:
    emulator.push_faults("idcard", Fault.error(101001, "certificate not found"))
    with pytest.raises(wx.CloudCallError) as info:
        await ocr.openapi.ocr.idcard({"img": {"contentType": "image/png", "value": IMAGE}})
    err = info.value
    assert err.errCode == 101001 and err.errcode == 101001
    assert err.errMsg == "openapi.ocr.idcard:fail certificate not found"
    assert str(err) == "errCode: 101001 | errMsg: openapi.ocr.idcard:fail certificate not found"
    assert isinstance(err, wx.WxOcrError) and isinstance(err.__cause__, wx.CertificateNotFound)


async def test_local_failures_become_cloud_call_errors(
    ocr: wx.OcrClient, emulator: WeChatEmulator
) -> None:
    emulator.push_faults("comm", Fault.http(502))
    with pytest.raises(wx.CloudCallError, match=r"openapi\.ocr\.printedText:fail HTTP 502") as info:
        await ocr.openapi.ocr.printedText({"imgUrl": emulator.sample_url("printed_text.png")})
    assert info.value.errCode == wx.errors.ERRCODE_HTTP_STATUS
    with pytest.raises(wx.CloudCallError, match="exactly one of") as info:
        await ocr.openapi.ocr.idcard({})
    assert info.value.errCode == wx.errors.ERRCODE_INVALID_INPUT
    with pytest.raises(wx.CloudCallError, match="unknown parameter"):
        await ocr.openapi.ocr.idcard({"imgURL": "https://a/b.png"})
    with pytest.raises(wx.CloudCallError, match="contentType"):
        await ocr.openapi.ocr.idcard({"img": {"value": IMAGE}})
    assert emulator.stats.total_ocr_calls == 1


@pytest.mark.parametrize("name", ["menu", "plateNumber", "licensePlate", "vehicle"])
async def test_names_without_a_cloud_api(
    ocr: wx.OcrClient, emulator: WeChatEmulator, name: str
) -> None:
    with pytest.raises(wx.CloudCallError) as info:
        await getattr(ocr.openapi.ocr, name)({"imgUrl": "https://a/b.png"})
    assert info.value.errCode == -604100
    assert info.value.errMsg == f"openapi.ocr.{name}:fail API not found"
    assert emulator.stats.total_ocr_calls == 0


async def test_shares_the_clients_token(ocr: wx.OcrClient, emulator: WeChatEmulator) -> None:
    await ocr.idcard(IMAGE)
    await ocr.openapi.ocr.idcard({"img": {"contentType": "image/png", "value": IMAGE}})
    await ocr.openapi(convertCase=False).ocr.idcard(
        {"img": {"contentType": "image/png", "value": IMAGE}}
    )
    assert emulator.stats.token_fetches == 1


def test_namespace_lists_the_cloud_names() -> None:
    names = dir(wx.OcrClient(token="t").openapi.ocr)
    assert names == sorted(CLOUD_NAMES)
