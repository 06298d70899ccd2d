"""Licence extractors (行驶证, 驾驶证, 营业执照) on recorded OCR lines and hand-made ones."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from wxocr_async.local.checks import date, dates, id_check_char, uscc_check_char, valid_vin
from wxocr_async.local.extract import bizlicense, driving, drivinglicense, extract
from wxocr_async.local.extract._licence_util import Page
from wxocr_async.local.extract.bizlicense import capital, chinese_number
from wxocr_async.local.lines import Line, NothingFound

FIXTURES = Path(__file__).parent / "local_fixtures"
MODULES: dict[str, ModuleType] = {
    "driving": driving,
    "drivinglicense": drivinglicense,
    "bizlicense": bizlicense,
}
CASES = sorted(
    (endpoint, path) for endpoint in MODULES for path in (FIXTURES / endpoint).glob("*.json")
)


def load(path: Path) -> tuple[list[Line], tuple[int, int], dict[str, Any]]:
    data = json.loads(path.read_text())
    lines = [Line.from_json(item) for item in data["lines"]]
    return lines, (data["size"][0], data["size"][1]), data["expected"]


def misreads(path: Path) -> dict[str, Any]:
    """Fields the recogniser misread on this image (the printed truth is in expected)."""
    found: dict[str, Any] = json.loads(path.read_text()).get("ocr_misreads", {})
    return found


def line(text: str, x: float, y: float, width: float | None = None, h: float = 30) -> Line:
    """A level line whose left-top corner is (x, y)."""
    w = width if width is not None else h * len(text)
    return Line(text, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)))


def tilted(lines: list[Line], degrees: float) -> list[Line]:
    """``lines`` rotated about the origin, as in a photo taken askew."""
    a = math.radians(degrees)
    cos, sin = math.cos(a), math.sin(a)
    return [
        Line(ln.text, tuple((x * cos - y * sin, x * sin + y * cos) for x, y in ln.box))  # type: ignore[arg-type]
        for ln in lines
    ]


def test_fixtures_cover_every_endpoint() -> None:
    assert {endpoint for endpoint, _ in CASES} == set(MODULES)
    assert len(CASES) >= 12


@pytest.mark.parametrize(("endpoint", "path"), CASES, ids=lambda v: getattr(v, "stem", v))
def test_recorded_fixture(endpoint: str, path: Path) -> None:
    lines, size, expected = load(path)
    assert extract(endpoint, lines, size) == {**expected, **misreads(path)}


def test_only_misread_fields_differ_from_the_print() -> None:
    """Across all fixtures, every field WeChat would give is exact but those the
    recogniser itself misread (and those are few)."""
    wanted, inexact = 0, []
    for endpoint, path in CASES:
        lines, size, expected = load(path)
        got = extract(endpoint, lines, size)
        wanted += len(expected)
        inexact += [(path.stem, k) for k, v in expected.items() if got.get(k) != v]
        assert all(expected[k] != v for k, v in misreads(path).items())
    assert inexact == [(p.stem, k) for _, p in CASES for k in misreads(p)]
    assert len(inexact) <= wanted // 50


@pytest.mark.parametrize("endpoint", sorted(MODULES))
def test_other_documents_are_not_found(endpoint: str) -> None:
    """Each extractor refuses the other two kinds of document and plain text."""
    for other in MODULES:
        if other == endpoint:
            continue
        lines, size, _ = load(
            FIXTURES / other / sorted(p.name for p in (FIXTURES / other).glob("*.json"))[0]
        )
        with pytest.raises(NothingFound):
            MODULES[endpoint].extract(lines, size)
    with pytest.raises(NothingFound):
        MODULES[endpoint].extract([line("今天天气很好", 10, 10)], (400, 100))
    with pytest.raises(NothingFound):
        MODULES[endpoint].extract([], (400, 100))


# -- dates and capital -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("printed", "wanted"),
    [
        ("2018-05-03", "2018-05-03"),
        ("2018年05月03日", "2018-05-03"),
        ("2018年5月3日", "2018-05-03"),
        ("20180503", "2018-05-03"),
        ("2018.05.03", "2018-05-03"),
        ("2O18-O5-O3", "2018-05-03"),
        ("2018 - 05 - 03", "2018-05-03"),
        ("2018-13-03", None),
        ("长期", None),
    ],
)
def test_date(printed: str, wanted: str | None) -> None:
    assert date(printed) == wanted


def test_dates_of_a_period() -> None:
    assert dates("2016-03-01 至 2022-03-01") == ["2016-03-01", "2022-03-01"]
    assert dates("2016-03-01至长期") == ["2016-03-01"]


@pytest.mark.parametrize(
    ("printed", "wanted"),
    [
        ("300万元", "300万"),
        ("人民币300万元", "300万"),
        ("叁佰万元整", "300万"),
        ("人民币壹仟伍佰万元整", "1500万"),
        ("伍拾万元", "50万"),
        ("50.5万元人民币", "50.5万"),
        ("3000000元", "300万"),
        ("壹亿元", "10000万"),
        ("100万美元", "100万美元"),
        ("300 万元", "300万"),
    ],
)
def test_capital(printed: str, wanted: str) -> None:
    assert capital(printed) == wanted


def test_chinese_number() -> None:
    assert chinese_number("叁佰万") == 3_000_000
    assert chinese_number("一千零五") == 1005
    assert chinese_number("拾万") == 100_000
    assert chinese_number("元整") is None


# -- labels and values -------------------------------------------------------------------


def test_label_and_value_in_one_box_or_split() -> None:
    merged = [line("姓名张三性别男国籍中国", 0, 0)]
    split = [
        line("姓", 0, 0),
        line("名", 45, 0),
        line("张三", 100, 0),
        line("性别", 200, 0),
        line("男", 270, 0),
        line("国籍中国", 340, 0),
    ]
    for lines in (merged, split):
        page = Page(lines, drivinglicense.LABELS)
        values = {h.key: page.value(h) for h in page.hits}
        assert values == {"name": "张三", "sex": "男", "nationality": "中国"}


def test_longest_label_wins() -> None:
    page = Page([line("公司类型有限责任公司", 0, 0)], bizlicense.LABELS)
    assert [(h.key, page.value(h)) for h in page.hits] == [("type_of_enterprise", "有限责任公司")]


def _two_columns() -> list[Line]:
    """A 2016+ licence body: scope wraps on the left while 住所 wraps on the right."""
    return [
        line("名称", 0, 0),
        line("某某科技有限公司", 200, 0),
        line("注册资本", 700, 0),
        line("人民币300万元", 850, 0),
        line("经营范围", 0, 60),
        line("软件开发；技术咨询；", 200, 60),
        line("住所", 700, 60),
        line("深圳市南山区科技园", 850, 60),
        line("数据处理；电子产品", 200, 100),
        line("科苑路15号", 850, 100),
        line("的销售。", 200, 140),
        line("登记机关", 700, 300),
    ]


@pytest.mark.parametrize("degrees", [0.0, 4.0, -4.0])
def test_two_columns_keep_to_their_own_column(degrees: float) -> None:
    got = bizlicense.extract(tilted(_two_columns(), degrees), (1200, 400))
    assert got == {
        "enterprise_name": "某某科技有限公司",
        "registered_capital": "300万",
        "business_scope": "软件开发；技术咨询；数据处理；电子产品的销售。",
        "address": "深圳市南山区科技园科苑路15号",
    }


def test_unread_right_label_still_stops_the_left_value_at_the_column() -> None:
    lines = _two_columns()
    lines[6] = line("任所", 700, 60)  # 住所 misread: the right column's edge still holds
    got = bizlicense.extract(lines, (1200, 400))
    assert got["business_scope"] == "软件开发；技术咨询；数据处理；电子产品的销售。"
    assert "address" not in got


def test_wrapping_stops_at_text_left_of_the_value() -> None:
    """A row starting further left is an unread label, not more address."""
    lines = [
        line("住址", 0, 0),
        line("北京市海淀区中关村大街", 100, 0),
        line("27号院5号楼", 100, 40),
        line("出生目期", 0, 90),  # misread 出生日期
        line("1990-01-01", 150, 90, width=160),
        line("姓名", 0, -60),
    ]
    got = drivinglicense.extract(lines, (600, 200))
    assert got["address"] == "北京市海淀区中关村大街27号院5号楼"
    assert got["birth_date"] == "1990-01-01"  # the label read with one character wrong


def test_a_misread_label_does_not_take_another_documents_label() -> None:
    page = Page([line("发证日期2018-05-10", 0, 0)], drivinglicense.LABELS)
    assert [h.key for h in page.hits] == ["_other"]
    page = Page([line("初次领正日期2010-03-01", 0, 0)], drivinglicense.LABELS)
    assert [(h.key, h.exact, page.value(h)) for h in page.hits] == [
        ("issue_date", False, "2010-03-01")
    ]


def test_older_validity_in_years() -> None:
    lines = [
        line("姓名张三", 0, 0),
        line("有效起始日期", 0, 50),
        line("2010-03-01", 200, 50, width=160),
        line("有效期限", 0, 100),
        line("6年", 200, 100),
    ]
    got = drivinglicense.extract(lines, (600, 200))
    assert (got["valid_from"], got["valid_to"]) == ("2010-03-01", "2016-03-01")


# -- numbers -----------------------------------------------------------------------------


def _id(first17: str) -> str:
    return first17 + id_check_char(first17)


def test_id_number_repairs_lookalikes() -> None:
    good = _id("11010819920128462")
    assert drivinglicense.id_number(good) == good
    assert drivinglicense.id_number(good.replace("0", "O", 1)) == good
    assert drivinglicense.id_number("11O1O8199201284621".replace("1", "l", 1)) == good
    assert drivinglicense.id_number(_id("44030519880612301").lower()) == _id("44030519880612301")


def test_vin_never_holds_i_o_q_and_is_repaired() -> None:
    good = "LSVAM4186C2184810"
    assert valid_vin(good)
    assert driving.vin("LSVAM4186C2I848IO") == good
    assert driving.vin("LSVAM4186C2184B10") == good  # 8 read as B: the check finds it
    assert driving.vin("lsvam4186c2184810") == good


def test_credit_code_repair_and_old_register_number() -> None:
    code = "91440300MA5F3K8Q2" + (uscc_check_char("91440300MA5F3K8Q2") or "")
    assert bizlicense.credit_code(code) == code
    assert bizlicense.credit_code(code.replace("0", "O")) == code
    assert bizlicense.credit_code("统一社会信用代码" + code.replace("5", "S")) == code
    assert bizlicense.reg_number(["330106000123456"]) == "330106000123456"
    assert bizlicense.reg_number(["33O1O6000123456"]) == "330106000123456"


def test_a_number_failing_its_check_is_left_out_not_returned_wrong() -> None:
    """One digit misread as another (0 as 8) is repaired when exactly one change passes
    the check; a number still failing is no answer (#18: real licences came back with a
    wrong ID number, a wrong VIN, a certificate serial for a credit code)."""
    good = _id("11010819920128462")
    month = good[:10] + "8" + good[11:]  # born in month 81: only 01 passes, so repaired
    assert good[10] == "0" and drivinglicense.id_number(month) == good
    region = good[:4] + "8" + good[5:]  # 110188: 110108 and 110183 both pass: no guess
    assert drivinglicense.id_number(region) is None
    assert drivinglicense.id_number("123456789012345678") is None
    assert driving.vin("LS1AM4186C2184810") is None  # V read as 1: no repair passes
    code = "91440300MA5F3K8Q2" + (uscc_check_char("91440300MA5F3K8Q2") or "")
    broken = code[:10] + ("Z" if code[10] != "Z" else "Y") + code[11:]
    serial = "No. 110108012345678"  # the certificate's serial, 15 digits
    assert bizlicense.reg_number([f"统一社会信用代码{broken}", serial]) is None
    assert bizlicense.reg_number([serial]) == "110108012345678"  # an old licence: no code


def test_labels_without_a_single_field_are_nothing_found() -> None:
    """A page with a licence's labels but no value read is 101001, never {} with 0."""
    page = [line("中华人民共和国机动车行驶证", 100, 40), line("号牌号码", 100, 100),
            line("车辆类型", 100, 160), line("所有人", 100, 220)]  # fmt: skip
    with pytest.raises(NothingFound):
        driving.extract(page, (900, 600))


@pytest.mark.parametrize(
    ("read", "value"),
    [
        (drivinglicense.person_name("李柏池Sex"), "李柏池"),
        (drivinglicense.person_name("Name李柏池"), "李柏池"),
        (drivinglicense.person_name("李柏池"), "李柏池"),
        (drivinglicense.nationality("中国CHN"), "中国"),
        (drivinglicense.nationality("CHN"), "中国"),
        (drivinglicense.nationality("Nationality中国"), "中国"),
    ],
)
def test_bilingual_driver_licences(read: str | None, value: str) -> None:
    """Real driver licences print English labels beside the Chinese ones (#18)."""
    assert read == value


def test_car_class() -> None:
    assert drivinglicense.car_class("C1") == "C1"
    assert drivinglicense.car_class("c1e") == "C1E"
    assert drivinglicense.car_class("Cl") == "C1"
    assert drivinglicense.car_class("A2") == "A2"
    assert drivinglicense.car_class("准驾") is None


def test_plate_number() -> None:
    assert driving.plate("粤B3K7N2") == "粤B3K7N2"
    assert driving.plate("粤b·3K7N2") == "粤B3K7N2"
    assert driving.plate("京NO2P6I") == "京N02P61"


def test_a_spaced_label_read_as_two_boxes_is_rejoined() -> None:
    from wxocr_async.local.extract.bizlicense import _rejoin

    h = 30.0

    def box(left: float, right: float, y: float) -> tuple[Any, Any, Any, Any]:
        return ((left, y), (right, y), (right, y + h), (left, y + h))

    lines = [Line("住", box(854, 974, 614)), Line("所江苏省苏州市姑苏区", box(958, 1505, 613))]
    label, value = _rejoin(lines)  # the value stays where it was printed (wraps align on it)
    assert (label.text, value.text) == ("住所", "江苏省苏州市姑苏区")
    assert label.left == 854 and 958 < value.left < 1030 and value.right == 1505
    alone = [Line("住", box(854, 974, 614)), Line("所", box(980, 1010, 614))]
    [label] = _rejoin(alone)  # a lone second half too: the label alone, its value apart
    assert label.text == "住所"


def _line(text: str, left: int, top: int, right: int, bottom: int) -> Line:
    return Line(text, ((left, top), (right, top), (right, bottom), (left, bottom)))


def test_spaced_labels_whose_first_characters_were_read_as_one_tall_box() -> None:
    """PP-OCRv6 read 名 over 类 (the spaced labels "名    称", "类    型") as one box "名类",
    and 称, 型 alone: each first character goes back to its row."""
    lines = [
        _line("统一社会信用代码", 106, 124, 321, 157),
        _line("913701024PUEHE009K", 107, 170, 494, 200),
        _line("名类", 99, 406, 146, 522),
        _line("称", 217, 415, 285, 447),
        _line("济南鑫源电子商务有限公司", 272, 414, 616, 447),
        _line("型", 218, 479, 256, 513),
        _line("有限责任公司(自然人独资)", 276, 481, 604, 512),
        _line("法定代表人", 103, 542, 253, 575),
        _line("黄玲", 269, 541, 330, 575),
    ]
    got = extract("bizlicense", lines, (1400, 1000))
    assert got["enterprise_name"] == "济南鑫源电子商务有限公司"
    assert got["type_of_enterprise"] == "有限责任公司(自然人独资)"
    assert got["legal_representative"] == "黄玲"


def test_the_seals_vertical_text_does_not_pull_a_row_apart() -> None:
    """The seal's edge read down ("察支队", taller than wide) between 出生日期 and its date
    put the date on a row of its own."""
    lines = [
        _line("证号", 52, 188, 123, 232), _line("510107198502090656", 249, 186, 753, 224),
        _line("姓名", 51, 273, 120, 318), _line("苏新", 241, 265, 331, 320),
        _line("出生日期", 60, 494, 177, 532), _line("察支队", 200, 500, 232, 562),
        _line("1985-02-09", 246, 492, 447, 529),
    ]  # fmt: skip
    assert extract("drivinglicense", lines, (1100, 800))["birth_date"] == "1985-02-09"


def test_an_engine_number_whose_label_went_unread_is_the_row_under_the_vin() -> None:
    lines = [
        _line("号牌号码", 55, 200, 177, 240), _line("鲁AF03154", 256, 197, 444, 237),
        _line("车辆识别代号 LFVNPS42XKZ44AJ1X", 55, 549, 608, 590),
        _line("9WT4K76", 257, 639, 420, 675),
        _line("注册日期", 54, 723, 179, 775), _line("2018-01-10", 257, 727, 458, 763),
    ]  # fmt: skip
    got = extract("driving", lines, (1200, 800))
    assert got["engine_num"] == "9WT4K76" and got["register_date"] == "2018-01-10"


def test_an_address_wrapping_beside_the_business_scope_is_followed() -> None:
    """The real set's biz-001: 住 and 所上海市... read apart, and the address's second
    line on the same row as the scope's (left column) second line."""
    lines = [
        _line("经营范围", 485, 2016, 948, 2097),
        _line("许可项目：住宅室内装饰装修；建筑劳务分包；建设工程设计", 974, 2023, 2597, 2090),
        _line("住", 2664, 2004, 2758, 2100),
        _line("所上海市宝山区沪太路6397号1-2层", 3041, 2009, 4222, 2104),
        _line("设备设计；特种设备安装改造修理；各类工程建设活动。", 982, 2080, 2595, 2147),
        _line("A4294室", 3161, 2097, 3447, 2179),
        _line("法定代表人", 475, 1850, 700, 1930), _line("唐林", 980, 1850, 1100, 1930),
    ]  # fmt: skip
    got = extract("bizlicense", lines, (4500, 3000))
    assert got["address"] == "上海市宝山区沪太路6397号1-2层A4294室"


def test_a_value_printed_off_its_labels_row_is_taken_by_that_label() -> None:
    """The real set's biz-004: the address printed half a row above its letter-spaced
    住所, so close under the type that rows put it on a row of its own."""
    lines = [
        _line("名称", 575, 1776, 961, 1870),
        _line("科沃电子(杭州)有限公司", 1011, 1776, 1759, 1849),
        _line("类型", 575, 1882, 965, 1975),
        _line("有限责任公司(自然人独资)", 1007, 1882, 1735, 1955),
        _line("浙江省杭州市下城区新天地街124号", 1011, 1959, 1866, 2020),
        _line("住所", 575, 1990, 965, 2081),
        _line("法定代表人", 585, 2101, 963, 2183), _line("汪忠权", 1005, 2093, 1210, 2170),
    ]  # fmt: skip
    got = extract("bizlicense", lines, (3024, 4032))
    assert got["type_of_enterprise"] == "有限责任公司(自然人独资)"
    assert got["address"] == "浙江省杭州市下城区新天地街124号"
    assert got["legal_representative"] == "汪忠权"


def test_labels_in_a_licences_printed_notices_are_not_its_fields() -> None:
    """The real set's biz-005: an old 企业法人营业执照 with its 须知 printed right of the
    fields: "住所" inside a notice, a notice on the name's row, the name printed high."""
    lines = [
        _line("3.《企业法人营业执照》正本应当置于住所的醒目位置。", 2100, 500, 2990, 560),
        _line("天津波鸿树脂科技有限公司", 686, 640, 1380, 720),
        _line("名", 221, 660, 330, 780), _line("称", 560, 660, 660, 780),
        _line("6.每年三月一日至六月三十日，应当参加年度检验。", 2100, 700, 2937, 760),
        _line("住", 221, 800, 330, 920), _line("所", 560, 800, 660, 920),
        _line("东丽区津塘公路务本一村", 686, 810, 1320, 880),
        _line("8.办理注销登记，应当交回《企业法人营业执照》正本和副本。", 2100, 820, 3110, 880),
        _line("法定代表人姓名", 232, 950, 660, 1050), _line("刘在胜", 686, 960, 880, 1030),
    ]  # fmt: skip
    got = extract("bizlicense", lines, (3510, 2550))
    assert got["enterprise_name"] == "天津波鸿树脂科技有限公司"
    assert got["address"] == "东丽区津塘公路务本一村"
    assert got["legal_representative"] == "刘在胜"


def test_an_address_wraps_past_a_label_word_inside_brackets() -> None:
    """The real set's biz-002: "…北面1" / "3号（住所申报）" — the bracketed 住所 is words of
    the address, not the next label."""
    lines = [
        _line("住所", 2400, 1000, 2560, 1080),
        _line("佛山市禅城区江湾路北侧、槎湾路西侧A", 2600, 1000, 4190, 1080),
        _line("B座之佛山市石湾卫浴城A馆三层北面1", 2600, 1090, 4189, 1170),
        _line("3号（住所申报）", 2600, 1180, 3528, 1260),
        _line("名称", 500, 800, 660, 880), _line("某某建材有限公司", 700, 800, 1400, 880),
    ]  # fmt: skip
    got = extract("bizlicense", lines, (4600, 3400))
    assert (
        got["address"]
        == "佛山市禅城区江湾路北侧、槎湾路西侧AB座之佛山市石湾卫浴城A馆三层北面13号(住所申报)"
    )


def test_a_left_value_runs_to_the_label_beside_it_not_another_rows_column() -> None:
    """The real set's drv-001: the right column begins further left on the top rows
    (车辆类型) than on the dates' row; 注册日期's value runs to 发证日期 on its own row."""
    lines = [
        _line("号牌号码", 109, 195, 216, 232), _line("京AA5599", 213, 192, 365, 232),
        _line("车辆类型", 442, 194, 548, 228), _line("小型轿车", 578, 186, 728, 230),
        _line("注册日期2018-06-14", 311, 582, 604, 621),
        _line("发证日期2018-06-14", 603, 577, 893, 619),
    ]  # fmt: skip
    got = extract("driving", lines, (1000, 700))
    assert got["register_date"] == "2018-06-14" and got["issue_date"] == "2018-06-14"
    assert got["plate_num"] == "京AA5599"
