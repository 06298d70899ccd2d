"""Field extractors of idcard, bankcard, platenum, comm and menu: on RapidOCR's lines
of drawn documents (tests/local_fixtures, see record_cards.py) and on hand-made lines."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from wxocr_async.local.checks import id_check_char, luhn_valid, valid_id_number
from wxocr_async.local.extract import bankcard, comm, extract, idcard, menu, platenum
from wxocr_async.local.lines import Line, NothingFound

FIXTURES = Path(__file__).parent / "local_fixtures"
Extract = Callable[[Sequence[Line], tuple[int, int]], dict[str, Any]]
MODULES: dict[str, Extract] = {
    "idcard": idcard.extract,
    "bankcard": bankcard.extract,
    "platenum": platenum.extract,
    "menu": menu.extract,
}
#: cases whose recognised lines lack part of the truth (nothing an extractor can do)
OCR_MISSES = {
    "idcard/front_rough": "PP-OCRv6 read the labels 性制食 and 位元 and the province 广西社族",
    "idcard/back_rough": "PP-OCRv6 read the authority 南宁市公安间青秀分局",
    "menu/one_column_rough": "PP-OCRv6 misread most dish names (言保鸡丁, 水消鱼, 麻酒五房)",
}


def load(path: Path) -> tuple[list[Line], tuple[int, int], dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    w, h = data["size"]
    return [Line.from_json(item) for item in data["lines"]], (w, h), data["expected"]


def cases(*kinds: str, misses: bool = False) -> list[Any]:
    """Fixture params; with ``misses``, the cases the recogniser spoiled are xfail."""
    out = []
    for kind in kinds:
        for path in sorted((FIXTURES / kind).glob("*.json")):
            case = f"{kind}/{path.stem}"
            miss = OCR_MISSES.get(case)
            marks = [pytest.mark.xfail(reason=miss, strict=True)] if miss and misses else []
            out.append(pytest.param(kind, path, id=case, marks=marks))
    return out


@pytest.mark.parametrize(("kind", "path"), cases(*MODULES, misses=True))
def test_fixture_reply_is_the_drawn_truth(kind: str, path: Path) -> None:
    lines, size, expected = load(path)
    assert extract(kind, lines, size) == expected  # the engine's path: folded first


@pytest.mark.parametrize(("kind", "path"), cases("comm"))
def test_comm_fixture_texts_in_order_and_corners_near_the_drawn_ones(kind: str, path: Path) -> None:
    lines, size, expected = load(path)
    got = comm.extract(lines, size)
    assert got["img_size"] == expected["img_size"] == {"w": size[0], "h": size[1]}
    assert [i["text"] for i in got["items"]] == [i["text"] for i in expected["items"]]
    for have, want in zip(got["items"], expected["items"], strict=True):
        for corner, point in want["pos"].items():
            assert type(have["pos"][corner]["x"]) is int
            # the drawn box is the ink's; a detector box trims trailing punctuation
            assert abs(have["pos"][corner]["x"] - point["x"]) <= 18, (have["text"], corner)
            assert abs(have["pos"][corner]["y"] - point["y"]) <= 6, (have["text"], corner)


@pytest.mark.parametrize(("kind", "path"), cases("comm", "menu", "platenum", "bankcard"))
def test_idcard_finds_nothing_on_other_documents(kind: str, path: Path) -> None:
    lines, size, _ = load(path)
    with pytest.raises(NothingFound):
        idcard.extract(lines, size)


@pytest.mark.parametrize(("kind", "path"), cases("idcard", "menu", "comm"))
def test_bankcard_and_plate_find_nothing_on_other_documents(kind: str, path: Path) -> None:
    lines, size, _ = load(path)
    with pytest.raises(NothingFound):
        bankcard.extract(lines, size)
    with pytest.raises(NothingFound):
        platenum.extract(lines, size)


@pytest.mark.parametrize(("kind", "path"), cases("idcard", "bankcard", "platenum"))
def test_menu_finds_nothing_on_cards(kind: str, path: Path) -> None:
    lines, size, _ = load(path)
    with pytest.raises(NothingFound):
        menu.extract(lines, size)


# --- hand-made lines ----------------------------------------------------------------------


def make(
    text: str, x: float, y: float, h: float = 30, tilt: float = 0, w: float | None = None
) -> Line:
    """A line ``text`` with left-top (x, y) on a page then turned ``tilt`` degrees
    (clockwise, about the origin)."""
    width = w if w is not None else h * len(text)
    a = math.radians(tilt)
    corners = [(x, y), (x + width, y), (x + width, y + h), (x, y + h)]
    turned = [
        (px * math.cos(a) - py * math.sin(a), px * math.sin(a) + py * math.cos(a))
        for px, py in corners
    ]
    return Line(text, tuple(turned))  # type: ignore[arg-type]


def front_lines(number: str, tilt: float = 0, birth: str = "1990年7月8日") -> list[Line]:
    rows = [
        [("姓名", 100, 26), ("王小明", 190, 34)],
        [("性别", 100, 26), ("女", 190, 30), ("民族", 320, 26), ("汉", 410, 30)],
        [("出生", 100, 26), (birth, 190, 30)],
        [("住址", 100, 26), ("北京市海淀区中关村大街", 190, 30)],
        [("27号院3号楼1201", 190, 30)],
        [("公民身份号码", 100, 26), (number, 330, 36)],
    ]
    return [
        make(text, x, 100 + 60 * i + (36 - h) / 2, h, tilt)
        for i, row in enumerate(rows)
        for text, x, h in row
    ]


ID = "11010819900708002" + id_check_char("11010819900708002")
FRONT = {"type": "Front", "name": "王小明", "gender": "女", "nationality": "汉",
         "addr": "北京市海淀区中关村大街27号院3号楼1201", "id": ID,
         "birth": "1990-07-08"}  # fmt: skip


def test_id_number_look_alikes_repaired_by_its_check_character() -> None:
    assert valid_id_number(ID)
    misread = ID.replace("0", "O").replace("1", "l")
    assert idcard.extract(front_lines(misread), (800, 600)) == FRONT


def test_id_misread_date_digit_repaired_from_the_written_birth_date() -> None:
    misread = ID[:11] + "0" + ID[12:]  # 1990-07-08 read as 1990-00-08
    assert not valid_id_number(misread)
    assert idcard.extract(front_lines(misread), (800, 600)) == FRONT


def test_id_birth_and_gender_follow_a_valid_number_over_the_printed_row() -> None:
    printed = front_lines(ID, birth="1990年1月8日")
    lines = [ln if ln.text != "女" else Line("男", ln.box) for ln in printed]
    assert idcard.extract(lines, (800, 600)) == FRONT


@pytest.mark.parametrize("tilt", [-7.0, 6.0])
def test_tilted_front_reads_rows_and_wrapped_address(tilt: float) -> None:
    lines = front_lines(ID, tilt)
    assert idcard.extract(list(reversed(lines)), (900, 700)) == FRONT


def test_front_with_labels_merged_into_values() -> None:
    lines = [
        make("姓名王小明", 100, 100),
        make("性别女民族汉", 100, 160),
        make("出生1990年7月8日", 100, 220),
        make("住址北京市海淀区中关村大街", 100, 280),
        make("27号院3号楼1201", 160, 340),
        make("公民身份号码" + ID, 100, 420),
    ]
    assert idcard.extract(lines, (900, 600)) == FRONT


@pytest.mark.parametrize("mark", ["&", "*", "'", "、", "“"])
def test_a_stray_mark_before_the_address_is_trimmed(mark: str) -> None:
    """A speck read as a symbol before the address (a real card read '&辽宁省...')."""
    lines = [
        make("姓名王小明", 100, 100),
        make("性别女民族汉", 100, 160),
        make("出生1990年7月8日", 100, 220),
        make(f"住址{mark}北京市海淀区中关村大街", 100, 280),
        make("27号院3号楼1201", 160, 340),
        make("公民身份号码" + ID, 100, 420),
    ]
    assert idcard.extract(lines, (900, 600)) == FRONT


def test_back_with_long_term_validity_and_merged_labels() -> None:
    lines = [
        make("中华人民共和国", 300, 80, 48),
        make("居民身份证", 320, 160, 56),
        make("签发机关北京市公安局海淀分局", 150, 400),
        make("有效期限2O10.O9.15-长期", 150, 460),
    ]
    want = {"type": "Back", "valid_date": "20100915-长期", "authority": "北京市公安局海淀分局"}
    assert idcard.extract(lines, (900, 600)) == want


def test_idcard_nothing_without_labels() -> None:
    with pytest.raises(NothingFound):
        idcard.extract([make("今日特价", 10, 10), make("12345", 10, 60)], (400, 200))
    with pytest.raises(NothingFound):
        idcard.extract([], (400, 200))


CARD = "6222021234567890128"


def test_bankcard_groups_in_separate_boxes_and_look_alikes() -> None:
    assert luhn_valid(CARD)
    lines = [
        make("中国工商银行", 100, 80, 40),
        make("6222 O2l2", 100, 300, 44),
        make("3456 7B90 128", 330, 300, 44),
        make("客服热线95588", 100, 500, 20),
    ]
    assert bankcard.extract(lines, (900, 600)) == {"number": CARD}


@pytest.mark.parametrize(
    "printed", ["621669-7600000020025", "6216 6976 0000 0020 025", "6216.6976.0000.0020.025"]
)
def test_bankcard_numbers_printed_with_separators_are_one_number(printed: str) -> None:
    lines = [make("中国银行", 100, 60), make(printed, 100, 200)]
    assert bankcard.extract(lines, (900, 600)) == {"number": "6216697600000020025"}


def test_bankcard_without_luhn_gives_the_longest_candidate() -> None:
    wrong = CARD[:-1] + "9"
    lines = [make("6222 0212 3456 7890", 100, 200), make(wrong, 100, 300)]
    assert bankcard.extract(lines, (900, 600)) == {"number": wrong}


def test_bankcard_nothing_without_a_long_number() -> None:
    with pytest.raises(NothingFound):
        bankcard.extract([make("VALID THRU 09/29", 10, 10), make("95588", 10, 60)], (400, 200))


@pytest.mark.parametrize(
    ("texts", "number"),
    [
        (["粤B·12345"], "粤B12345"),
        (["粤B·D12345"], "粤BD12345"),
        (["粤B·12345D"], "粤B12345D"),
        (["沪A", "·K3L08"], "沪AK3L08"),
        (["京N·1O2I5"], "京N10215"),
        (["川A.F0236"], "川AF0236"),
    ],
)
def test_plate_numbers(texts: list[str], number: str) -> None:
    lines = [make(t, 100 + 200 * i, 100, 60, 4) for i, t in enumerate(texts)]
    assert platenum.extract(lines, (700, 400)) == {"number": number}


@pytest.mark.parametrize(
    ("texts", "number"),
    [
        (["鄂F·8888警"], "鄂F8888警"),  # police
        (["沪A·1707领"], "沪A1707领"),  # consulate
        (["琼A·6716学"], "琼A6716学"),  # driving school
        (["粤B·1234挂"], "粤B1234挂"),  # trailer
        (["粤Z·1A23港"], "粤Z1A23港"),  # cross-border (Hong Kong)
        (["粤Z·0D12澳"], "粤Z0D12澳"),  # cross-border (Macao)
        (["使014578"], "使014578"),  # embassy
        (["224016使"], "224016使"),  # embassy, the older order
        (["粤B·D12345"], "粤BD12345"),  # new energy, small car
        (["粤B·12345F"], "粤B12345F"),  # new energy, large vehicle
    ],
)
def test_special_plate_families(texts: list[str], number: str) -> None:
    """The families of GA 36-2018 that end in a character of their own (the real images
    of #18 read 鄂F8888警, 沪A1707领, 琼A6716学 right and answered 101001)."""
    lines = [make(t, 100, 100, 60, 4) for t in texts]
    assert platenum.extract(lines, (700, 400)) == {"number": number}


@pytest.mark.parametrize(
    ("upper", "lower", "number"), [("京E", "12345", "京E12345"), ("粤B", "0O68挂", "粤B0068挂")]
)
def test_two_line_plates_are_joined(upper: str, lower: str, number: str) -> None:
    """Motorcycles, trucks, vans: a small province-and-letter row over a large row."""
    lines = [make(upper, 180, 60, 40, w=120), make(lower, 100, 110, 90, w=300)]
    assert platenum.extract(lines, (500, 300)) == {"number": number}


def test_rows_side_by_side_are_no_two_line_plate() -> None:
    lines = [make("京E", 20, 100, 40, w=80), make("12345", 300, 100, 90, w=300)]
    with pytest.raises(NothingFound):
        platenum.extract(lines, (700, 300))


def test_plate_prefers_the_plate_to_small_print() -> None:
    lines = [make("粤B·D12345", 100, 100, 70), make("粤S12345 4S店", 100, 300, 20)]
    assert platenum.extract(lines, (700, 400)) == {"number": "粤BD12345"}


def test_plate_nothing() -> None:
    with pytest.raises(NothingFound):
        platenum.extract([make("STOP", 10, 10), make("12345", 10, 60)], (400, 200))


@pytest.mark.parametrize(
    ("printed", "name", "price"),
    [
        ("宫保鸡丁 | 28", "宫保鸡丁", 28.0),
        ("宫保鸡丁｜28", "宫保鸡丁", 28.0),
        ("宫保鸡丁28", "宫保鸡丁", 28.0),
        ("酸梅汤6.5元", "酸梅汤", 6.5),
        ("Kung Pao Chicken 28", "Kung Pao Chicken", 28.0),
        ("Mapo  Tofu ¥18", "Mapo Tofu", 18.0),
    ],
)
def test_menu_names_and_prices_in_one_box(printed: str, name: str, price: float) -> None:
    """Real menus print ``NAME | 8`` and ``NAME8``, and English names keep their
    spaces (#18)."""
    reply = menu.extract([make(printed, 100, 100)], (900, 400))
    assert reply == {"content": {"menu_items": [{"name": name, "price": price}]}}


def test_an_address_number_is_no_price() -> None:
    with pytest.raises(NothingFound):
        menu.extract([make("南京市玄武区长江路2104", 100, 100)], (900, 400))


def test_comm_empty_page_and_tilted_order() -> None:
    assert comm.extract([], (640, 480)) == {"items": [], "img_size": {"w": 640, "h": 480}}
    lines = [make("第二行", 100, 200, 30, 5), make("右边", 400, 100, 30, 5)]
    lines.append(make("第一行左边", 100, 100, 30, 5))
    got = comm.extract(lines, (640, 480))
    assert [i["text"] for i in got["items"]] == ["第一行左边", "右边", "第二行"]
    first = got["items"][0]["pos"]
    assert first["left_top"] == {"x": 91, "y": 108}
    assert all(type(v) is int for p in first.values() for v in p.values())


def test_two_column_menu_read_column_by_column() -> None:
    lines = [make("家常小馆", 400, 40, 44), make("热菜", 100, 120), make("饮品", 620, 120)]
    left = [("宫保鸡丁", "38"), ("水煮鱼", "¥68"), ("麻婆豆腐", "28元")]
    right = [("酸梅汤", "8/杯"), ("鲜榨橙汁", "18.5")]
    for col, items in enumerate((left, right)):
        for i, (name, price) in enumerate(items):
            lines.append(make(name, 100 + 520 * col, 180 + 60 * i, tilt=3))
            lines.append(make(price, 400 + 520 * col, 180 + 60 * i, tilt=3))
    lines.append(make("回锅肉 42.0", 100, 360, tilt=3, w=300))
    want = [("宫保鸡丁", 38.0), ("水煮鱼", 68.0), ("麻婆豆腐", 28.0), ("回锅肉", 42.0),
            ("酸梅汤", 8.0), ("鲜榨橙汁", 18.5)]  # fmt: skip
    got = menu.extract(lines, (1100, 500))
    assert got == {"content": {"menu_items": [{"name": n, "price": p} for n, p in want]}}
    assert all(type(i["price"]) is float for i in got["content"]["menu_items"])


def test_menu_nothing_without_prices() -> None:
    with pytest.raises(NothingFound):
        menu.extract([make("菜单", 10, 10), make("热菜", 10, 60)], (400, 200))


def test_bankcard_never_gives_an_id_number() -> None:
    with_x = "11010819900708102X"
    assert valid_id_number(with_x)
    for number in (ID, ID.replace("0", "O"), with_x):
        with pytest.raises(NothingFound):
            bankcard.extract([make("公民身份号码", 10, 10), make(number, 200, 10)], (800, 100))


def test_id_number_ending_in_x() -> None:
    number = "11010819900708102X"
    got = idcard.extract(front_lines(number[:17] + "x"), (800, 600))
    assert got == {**FRONT, "id": number, "gender": "女"}


def test_labels_with_a_misread_character() -> None:
    lines = front_lines(ID)
    lines = [Line({"民族": "民旅", "住址": "住趾"}.get(ln.text, ln.text), ln.box) for ln in lines]
    assert idcard.extract(lines, (800, 600)) == FRONT
    back = [
        make("居民身份证", 320, 160, 56),
        make("美发机", 150, 400),
        make("南宁市公安局青秀分局", 250, 400),
        make("有效期 2019.03.08-2039.03.08", 150, 460),
    ]
    want = {"type": "Back", "valid_date": "20190308-20390308", "authority": "南宁市公安局青秀分局"}
    assert idcard.extract(back, (900, 600)) == want


def test_front_without_labels_still_gives_what_a_valid_number_tells() -> None:
    lines = [make("张三", 190, 100), make(ID, 330, 400, 36)]
    got = idcard.extract(lines, (800, 600))
    assert got == {"type": "Front", "gender": "女", "id": ID, "birth": "1990-07-08"}


def test_menu_price_glued_to_the_next_columns_dish_is_split() -> None:
    from wxocr_async.local.extract.menu import unglue

    box = ((600.0, 360.0), (980.0, 360.0), (980.0, 400.0), (600.0, 400.0))
    price, name = unglue(Line("38小炒黄牛肉", box))
    assert (price.text, name.text) == ("38", "小炒黄牛肉")
    assert price.left == 600 and 600 < price.right == name.left < 700 and name.right == 980
    for text in ("16元", "1990年3月", "48", "红烧肉", "22元/份"):
        assert unglue(Line(text, box)) == [Line(text, box)]


def test_plate_province_split_by_the_recogniser_is_rejoined() -> None:
    left = ((100.0, 100.0), (180.0, 100.0), (180.0, 160.0), (100.0, 160.0))
    right = ((190.0, 100.0), (560.0, 100.0), (560.0, 160.0), (190.0, 160.0))
    lines = [Line("鱼目", left), Line("B·0638X", right)]
    assert platenum.extract(lines, (700, 300)) == {"number": "鲁B0638X"}


def test_a_plate_character_read_in_two_overlapping_boxes_is_kept_once() -> None:
    """The real set's plate-026: a green plate read as "沪A·F" and "F02976", the boxes
    overlapping over the F; boxes side by side that do not overlap keep a repeated
    character (京A·8 and 8888: 京A88888)."""
    left = ((0.0, 0.0), (988.0, 0.0), (988.0, 555.0), (0.0, 555.0))
    right = ((566.0, 0.0), (2562.0, 0.0), (2562.0, 555.0), (566.0, 555.0))
    lines = [Line("沪A·F", left), Line("F02976", right)]
    assert platenum.extract(lines, (2563, 556)) == {"number": "沪AF02976"}
    apart = ((1000.0, 0.0), (2562.0, 0.0), (2562.0, 555.0), (1000.0, 555.0))
    lines = [Line("京A·8", left), Line("8888", apart)]
    assert platenum.extract(lines, (2563, 556)) == {"number": "京A88888"}


def test_menu_leaders_order_boxes_and_phone_lines() -> None:
    """Real menus (the real set's tuning images): dotted leaders read as "·", "……" or
    "mmm" around a price, an order box "□" after it, a dish and the next column's glued
    after a price with its unit, and a phone line that is no dish."""
    lines = [
        make("水煮鱼·", 90, 260), make("mmm", 200, 266, 16), make("·68/斤", 400, 260),
        make("窝头小卤肉", 90, 330), make("……………48/例", 280, 330),
        make("老干妈肚片", 90, 400), make("18元/份□", 300, 400),
        make("姜汁莲菜·22/例爽口香芹", 90, 470, w=600), make("22/例", 850, 470),
        make("订餐热线：186-0000-0000", 150, 600, w=500),
    ]  # fmt: skip
    got = menu.extract(lines, (1000, 700))["content"]["menu_items"]
    assert [(i["name"], i["price"]) for i in got] == [
        ("水煮鱼", 68.0), ("窝头小卤肉", 48.0), ("老干妈肚片", 18.0), ("姜汁莲菜", 22.0),
        ("爽口香芹", 22.0),
    ]  # fmt: skip


def test_a_picture_menus_prices_printed_under_their_names() -> None:
    """The real set's menu-007: a grid of dish photos, each name with its price on the
    row under it (the unit after "元/" too small to read); a heading over a price that
    its own row's dish already took takes nothing."""
    lines = [
        make("湘菜小炒", 300, 20, 40),
        make("腊肉手切笋", 60, 410, 16), make("糖醋里脊", 200, 410, 16),
        make("干锅拆骨肉", 340, 410, 16),
        make("36元/e", 60, 430, 16, w=50), make("29.8元/份", 200, 430, 16, w=70),
        make("39元/", 340, 430, 16, w=50),
        make("酸辣鸡胗35.8元/0", 60, 600, 16, w=140),
        make("香煎鲈鱼", 60, 700, 16), make("59.8元/", 130, 700, 16, w=60),
        make("小炒", 60, 680, 16),
    ]  # fmt: skip
    got = menu.extract(lines, (520, 800))["content"]["menu_items"]
    assert sorted((i["name"], i["price"]) for i in got) == sorted([
        ("腊肉手切笋", 36.0), ("糖醋里脊", 29.8), ("干锅拆骨肉", 39.0), ("酸辣鸡胗", 35.8),
        ("香煎鲈鱼", 59.8),
    ])  # fmt: skip


def test_a_second_reading_of_a_card_number_counts_only_as_a_correction() -> None:
    """Hot-stamped test cards print numbers failing Luhn (the real set's XiaoGuang22
    cards): a Luhn-valid number made of the band's other digits must not replace them."""
    from wxocr_async.local.extract.bankcard import same_number as _same_number

    assert _same_number("6222021234567890123", "6222021234567890128")  # one digit
    assert _same_number("6222021234567890", "6222021234567890128")  # a group added
    assert not _same_number("6210123456789621", "2567896216210123456")  # another number
    assert not _same_number("6210123456789629", "6210987654321098765")


def test_a_price_column_drifting_off_its_names_rows_is_paired_by_rank() -> None:
    """A photo at an angle: the prices far right sit lower and lower against their
    names (here by up to 1.6 line heights): the k-th name takes the k-th price."""
    dishes = [("西红柿炒鸡蛋", "46"), ("扬州炒饭", "¥30"), ("糖醋排骨", "6"), ("米饭", "¥7"),
              ("酱鸭", "23.5"), ("毛血旺", "34")]  # fmt: skip
    lines = [make("湘味小厨", 500, 20, 50)]
    for i, (name, price) in enumerate(dishes):
        lines.append(make(name, 200, 120 + 90 * i))
        lines.append(make(price, 1100, 120 + 90 * i + 10 * i))
    got = menu.extract(lines, (1300, 800))["content"]["menu_items"]
    assert [(i["name"], i["price"]) for i in got] == [(n, float(p.lstrip("¥"))) for n, p in dishes]


def test_comm_gives_a_bracket_pair_read_in_two_widths_one_width() -> None:
    lines = [
        make("使用前请仔细阅读注意事项。(2017年4月）", 100, 100),
        make("(1) 项目(甲方)", 100, 160),
    ]
    got = [i["text"] for i in comm.extract(lines, (1400, 300))["items"]]
    assert got == ["使用前请仔细阅读注意事项。（2017年4月）", "(1) 项目（甲方）"]


def test_comm_gives_a_bracket_whose_partner_is_on_another_line_full_width() -> None:
    """The real set's comm-011: "（碳酸氢钠，…大豆" wraps to "磷脂），碳酸钙"."""
    lines = [
        make("榛仁，蜂蜜，食品添加剂", 100, 100),
        make("(碳酸氢钠，碳酸氢铵，大豆", 100, 160),
        make("磷脂)，碳酸钙", 100, 220),
        make("见说明(A", 100, 280),
    ]
    got = [i["text"] for i in comm.extract(lines, (1400, 400))["items"]]
    assert got == [
        "榛仁，蜂蜜，食品添加剂",
        "（碳酸氢钠，碳酸氢铵，大豆",
        "磷脂），碳酸钙",
        "见说明(A",
    ]
