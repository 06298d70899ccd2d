"""All eight endpoints, by upload and by img_url, against the emulator, every field."""

from __future__ import annotations

import io
from typing import Any

import pytest

import wxocr_async as wx
from wxocr_async.emulator import WeChatEmulator, card_png, sample_image
from wxocr_async.endpoints import BY_NAME

from .conftest import all_sample_cases, load_sample

METHOD = {
    "idcard": "idcard",
    "bankcard": "bankcard",
    "driving": "vehicle_license",
    "drivinglicense": "driver_license",
    "bizlicense": "business_license",
    "comm": "printed_text",
    "platenum": "plate_number",
    "menu": "menu",
}
IMAGE = card_png("test image")


async def recognise(
    ocr: wx.OcrClient, emu: WeChatEmulator, endpoint: str, reply: dict[str, Any], how: str
) -> Any:
    """Script ``reply`` for ``endpoint`` and recognise an image by upload or by URL."""
    emu.set_reply(endpoint, reply)
    method = getattr(ocr, METHOD[endpoint])
    if how == "upload":
        return await method(IMAGE)
    return await method(img_url=emu.host(IMAGE, "card.png"))


def expected_dict(reply: dict[str, Any]) -> dict[str, Any]:
    """What to_dict() must give back: the reply less its envelope, menu content decoded."""
    import json

    out = {k: v for k, v in reply.items() if k not in ("errcode", "errmsg")}
    if isinstance(out.get("content"), str):
        out["content"] = json.loads(out["content"])
    return out


@pytest.mark.parametrize("how", ["upload", "img_url"])
@pytest.mark.parametrize("case", all_sample_cases())
async def test_every_sample_round_trips_through_the_client(
    ocr: wx.OcrClient, emulator: WeChatEmulator, case: str, how: str
) -> None:
    endpoint = case.split("/")[0]
    reply = load_sample(case)
    result = await recognise(ocr, emulator, endpoint, reply, how)
    assert isinstance(result, BY_NAME[endpoint].result_type)
    assert result.to_dict() == expected_dict(reply)
    assert emulator.stats.ocr_results[endpoint] == 1


@pytest.mark.parametrize("how", ["upload", "img_url"])
async def test_idcard_front(ocr: wx.OcrClient, emulator: WeChatEmulator, how: str) -> None:
    card = await recognise(ocr, emulator, "idcard", load_sample("idcard/front"), how)
    assert card == wx.IdCardResult(
        type="Front",
        name="张三",
        id="123456789012345678",
        addr="广东省广州市XXX",
        gender="男",
        nationality="汉",
    )
    assert card.valid_date is None and card.extras == {}


@pytest.mark.parametrize("how", ["upload", "img_url"])
async def test_idcard_front_with_string_errcode(
    ocr: wx.OcrClient, emulator: WeChatEmulator, how: str
) -> None:
    card = await recognise(ocr, emulator, "idcard", load_sample("idcard/front_string_errcode"), how)
    assert (card.type, card.name, card.id, card.addr, card.gender, card.nationality) == (
        "Front",
        "张三",
        "2345678",
        "广东省广州市",
        "男",
        "汉",
    )


@pytest.mark.parametrize("how", ["upload", "img_url"])
async def test_idcard_back(ocr: wx.OcrClient, emulator: WeChatEmulator, how: str) -> None:
    card = await recognise(ocr, emulator, "idcard", load_sample("idcard/back"), how)
    assert card == wx.IdCardResult(type="Back", valid_date="20171025-20271025")
    assert card.name is None


async def test_idcard_undocumented_fields_are_typed(
    ocr: wx.OcrClient, emulator: WeChatEmulator
) -> None:
    front = await recognise(
        ocr, emulator, "idcard", load_sample("idcard/front_undocumented"), "upload"
    )
    assert front.birth == "1994-09-20"
    assert front.card_property == 4 and type(front.card_property) is int
    back = await recognise(
        ocr, emulator, "idcard", load_sample("idcard/back_undocumented"), "upload"
    )
    assert (back.type, back.valid_date, back.authority, back.card_property) == (
        "Back",
        "20160711-20260711",
        "洛阳市公安局洞西分局",
        4,
    )


async def test_unknown_fields_are_kept(ocr: wx.OcrClient, emulator: WeChatEmulator) -> None:
    card = await recognise(ocr, emulator, "idcard", load_sample("idcard/unknown_fields"), "upload")
    assert card.name == "张三"
    assert card.extras == {
        "head_portrait": {"pos": {"left_top": {"x": 1, "y": 2}}, "score_value": 0.93},
        "warn_list": ["copy_warn"],
    }


@pytest.mark.parametrize("how", ["upload", "img_url"])
async def test_bankcard_number(ocr: wx.OcrClient, emulator: WeChatEmulator, how: str) -> None:
    card = await recognise(ocr, emulator, "bankcard", load_sample("bankcard/number"), how)
    assert card.number == "622213XXXXXXXXX" and card.id is None


@pytest.mark.parametrize("how", ["upload", "img_url"])
async def test_bankcard_id_instead_of_number_fills_number(
    ocr: wx.OcrClient, emulator: WeChatEmulator, how: str
) -> None:
    card = await recognise(
        ocr, emulator, "bankcard", load_sample("bankcard/id_instead_of_number"), how
    )
    assert card.number == "622213XXXXXXXXX"
    assert card.id == "622213XXXXXXXXX"
    assert card.to_dict() == {"id": "622213XXXXXXXXX"}  # as WeChat sent it


async def test_bankcard_reply_without_errcode_is_success(
    ocr: wx.OcrClient, emulator: WeChatEmulator
) -> None:
    card = await recognise(ocr, emulator, "bankcard", load_sample("bankcard/no_errcode"), "upload")
    assert card.number == "6217000010012345678"


def corners(
    lt: tuple[int, int], rt: tuple[int, int], rb: tuple[int, int], lb: tuple[int, int]
) -> wx.Corners:
    return wx.Corners(
        left_top=wx.Point(x=lt[0], y=lt[1]),
        right_top=wx.Point(x=rt[0], y=rt[1]),
        right_bottom=wx.Point(x=rb[0], y=rb[1]),
        left_bottom=wx.Point(x=lb[0], y=lb[1]),
    )


@pytest.mark.parametrize("how", ["upload", "img_url"])
async def test_vehicle_license(ocr: wx.OcrClient, emulator: WeChatEmulator, how: str) -> None:
    lic = await recognise(ocr, emulator, "driving", load_sample("driving/doc_example"), how)
    assert lic == wx.VehicleLicenseResult(
        plate_num="粤xxxxx",
        vehicle_type="小型普通客车",
        owner="东莞市xxxxx机械厂",
        addr="广东省东莞市xxxxx号",
        use_character="非营运",
        model="江淮牌HFCxxxxxxx",
        vin="LJ166xxxxxxxx51",
        engine_num="J3xxxxx3",
        register_date="2018-07-06",
        issue_date="2018-07-01",
        plate_num_b="粤xxxxx",
        record="441xxxxxx3",
        passengers_num="7人",
        total_quality="2700kg",
        prepare_quality="1995kg",
        overall_size="4582x1795x1458mm",
        card_position_front=wx.CardPosition(
            pos=corners((119, 2925), (1435, 2887), (1435, 3793), (119, 3831))
        ),
        card_position_back=wx.CardPosition(
            pos=corners((1523, 2849), (2898, 2887), (2927, 3831), (1523, 3831))
        ),
        img_size=wx.ImageSize(w=3120, h=4208),
    )
    assert lic.card_position_front is not None and lic.card_position_front.pos is not None
    assert lic.card_position_front.pos.left_top is not None
    assert type(lic.card_position_front.pos.left_top.x) is int


async def test_vehicle_license_front_only(ocr: wx.OcrClient, emulator: WeChatEmulator) -> None:
    lic = await recognise(ocr, emulator, "driving", load_sample("driving/front_only"), "upload")
    assert lic.vehicle_type == "小型普通客⻋"  # U+2EE4, as WeChat's own example has it
    assert lic.card_position_back is None and lic.vin is None
    assert lic.img_size == wx.ImageSize(w=1080, h=1920)


@pytest.mark.parametrize("how", ["upload", "img_url"])
async def test_driver_license(ocr: wx.OcrClient, emulator: WeChatEmulator, how: str) -> None:
    lic = await recognise(
        ocr, emulator, "drivinglicense", load_sample("drivinglicense/doc_example"), how
    )
    assert lic == wx.DriverLicenseResult(
        id_num="660601xxxxxxxx1234",
        name="张三",
        sex="男",
        nationality="中国",
        address="广东省东莞市xxxxx号",
        birth_date="1990-12-21",
        issue_date="2012-12-21",
        car_class="C1",
        valid_from="2018-07-06",
        valid_to="2020-07-01",
        official_seal="xx市公安局公安交通管理局",
    )


@pytest.mark.parametrize("how", ["upload", "img_url"])
async def test_business_license(ocr: wx.OcrClient, emulator: WeChatEmulator, how: str) -> None:
    lic = await recognise(ocr, emulator, "bizlicense", load_sample("bizlicense/doc_example"), how)
    assert lic == wx.BusinessLicenseResult(
        reg_num="123123",
        serial="123123",
        legal_representative="张三",
        enterprise_name="XX饮食店",
        type_of_organization="个人经营",
        address="XX市XX区XX路XX号",
        type_of_enterprise="xxx",
        business_scope="中型餐馆(不含凉菜、不含裱花蛋糕,不含生食海产品)。",
        registered_capital="200万",
        paid_in_capital="200万",
        valid_period="2019年1月1日",
        registered_date="2018年1月1日",
        cert_position=wx.CardPosition(pos=corners((155, 191), (725, 157), (743, 512), (164, 525))),
        img_size=wx.ImageSize(w=966, h=728),
    )


async def test_business_license_partial(ocr: wx.OcrClient, emulator: WeChatEmulator) -> None:
    lic = await recognise(ocr, emulator, "bizlicense", load_sample("bizlicense/partial"), "upload")
    assert lic == wx.BusinessLicenseResult(
        reg_num="91440300MA5XXXXXXX",
        enterprise_name="深圳市某某科技有限公司",
        legal_representative="王五",
    )


@pytest.mark.parametrize("how", ["upload", "img_url"])
async def test_printed_text(ocr: wx.OcrClient, emulator: WeChatEmulator, how: str) -> None:
    text = await recognise(ocr, emulator, "comm", load_sample("comm/doc_example"), how)
    assert text == wx.PrintedTextResult(
        items=[
            wx.TextItem(text="腾讯", pos=corners((575, 519), (744, 519), (744, 532), (573, 532))),
            wx.TextItem(
                text="微信团队", pos=corners((670, 516), (762, 517), (762, 532), (670, 531))
            ),
        ],
        img_size=wx.ImageSize(w=1280, h=720),
    )


async def test_printed_text_with_no_items(ocr: wx.OcrClient, emulator: WeChatEmulator) -> None:
    text = await recognise(ocr, emulator, "comm", load_sample("comm/empty_items"), "upload")
    assert text.items == [] and text.img_size == wx.ImageSize(w=640, h=480)


@pytest.mark.parametrize("how", ["upload", "img_url"])
async def test_plate_number(ocr: wx.OcrClient, emulator: WeChatEmulator, how: str) -> None:
    plate = await recognise(ocr, emulator, "platenum", load_sample("platenum/doc_example"), how)
    assert plate == wx.PlateNumberResult(number="粤A123456")


@pytest.mark.parametrize("how", ["upload", "img_url"])
async def test_menu_content_as_json_string(
    ocr: wx.OcrClient, emulator: WeChatEmulator, how: str
) -> None:
    menu = await recognise(ocr, emulator, "menu", load_sample("menu/content_string"), how)
    assert menu.content is not None and menu.content.menu_items is not None
    items = menu.content.menu_items
    assert len(items) == 30
    assert items[0] == wx.MenuItem(name="酱鸭", price=48.0)
    assert items[24] == wx.MenuItem(name="鸭舌", price=138.0)
    assert items[-1] == wx.MenuItem(name="盐菜", price=12.0)
    assert all(isinstance(i.price, float) for i in items)


@pytest.mark.parametrize("how", ["upload", "img_url"])
async def test_menu_content_as_object(
    ocr: wx.OcrClient, emulator: WeChatEmulator, how: str
) -> None:
    menu = await recognise(ocr, emulator, "menu", load_sample("menu/content_object"), how)
    assert menu.content == wx.MenuContent(
        menu_items=[wx.MenuItem(name="酱鸭", price=48.0), wx.MenuItem(name="鸭头", price=5)]
    )
    assert menu.content is not None and menu.content.menu_items is not None
    assert type(menu.content.menu_items[1].price) is int  # numbers stay as sent


async def test_shipped_samples_are_recognised(ocr: wx.OcrClient, emulator: WeChatEmulator) -> None:
    front = await ocr.idcard(sample_image("idcard_front.png"))
    back = await ocr.idcard(sample_image("idcard_back.png"))
    assert (front.type, front.name, back.type) == ("Front", "张三", "Back")
    by_url = await ocr.idcard(img_url=emulator.sample_url("idcard_back.png"))
    assert by_url == back


async def test_image_inputs_path_str_bytes_file_object(
    ocr: wx.OcrClient, emulator: WeChatEmulator, tmp_path: Any
) -> None:
    path = tmp_path / "back.png"
    data = sample_image("idcard_back.png").read_bytes()
    path.write_bytes(data)
    results = [
        await ocr.idcard(path),
        await ocr.idcard(str(path)),
        await ocr.idcard(data),
        await ocr.idcard(bytearray(data)),
        await ocr.idcard(memoryview(data)),
        await ocr.idcard(io.BytesIO(data)),
    ]
    with path.open("rb") as fh:
        results.append(await ocr.idcard(fh))
    assert all(r.type == "Back" for r in results)
    assert emulator.stats.ocr_results["idcard"] == 7


async def test_legacy_mode_is_sent_as_type(ocr: wx.OcrClient, emulator: WeChatEmulator) -> None:
    card = await ocr.idcard(IMAGE, mode="photo")
    assert card.type == "Front"
    with pytest.raises(wx.InvalidInput, match="'photo' or 'scan'"):
        await ocr.idcard(IMAGE, mode="color")  # type: ignore[arg-type]


async def test_upload_is_one_img_part_with_filename_and_sniffed_type(
    ocr: wx.OcrClient, emulator: WeChatEmulator, tmp_path: Any
) -> None:
    path = tmp_path / "scan.jpeg"
    path.write_bytes(
        b"\xff\xd8\xff\xe0" + b"\0" * 64
    )  # JPEG magic; content is the server's problem
    await ocr.bankcard(path)
    await ocr.bankcard(IMAGE)
    named, unnamed = emulator.stats.seen
    assert (named.part_name, named.part_filename, named.part_content_type) == (
        "img",
        "scan.jpeg",
        "image/jpeg",
    )
    assert (unnamed.part_filename, unnamed.part_content_type) == ("image.png", "image/png")
    assert named.method == "POST" and named.content_type == "multipart/form-data"
    assert "img_url" not in named.query and named.query["access_token"] == "<token>"


async def test_img_url_is_percent_encoded_with_an_empty_body(
    ocr: wx.OcrClient, emulator: WeChatEmulator
) -> None:
    url = emulator.host(IMAGE, "a card.png") + "?size=big&x=1"
    await ocr.idcard(img_url=url, mode="scan")
    (seen,) = emulator.stats.seen
    assert seen.query["img_url"] == url  # decoded back to exactly what we sent
    assert seen.query["type"] == "scan"
    assert seen.body_length == 0 and seen.part_name is None
