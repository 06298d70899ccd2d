"""The synthetic document generator: every kind draws, repeatably, with valid numbers in it."""

from __future__ import annotations

import io
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from benchmarks.docgen import KINDS, STYLES, generate
from benchmarks.docgen.__main__ import main
from benchmarks.docgen._fakes import CITIES, capital_words
from benchmarks.docgen.legibility import score, truth_values
from wxocr_async.local.checks import luhn_valid, valid_id_number, valid_uscc, valid_vin

FIELDS = {
    "idcard_front": {"type", "name", "gender", "nationality", "addr", "id", "birth"},
    "idcard_back": {"type", "valid_date", "authority"},
    "bankcard": {"number"},
    "platenum": {"number"},
    "driving": {
        "plate_num", "vehicle_type", "owner", "addr", "use_character", "model", "vin",
        "engine_num", "register_date", "issue_date",
    },
    "drivinglicense": {
        "id_num", "name", "sex", "nationality", "address", "birth_date", "issue_date",
        "car_class", "valid_from", "valid_to",
    },
    "bizlicense": {
        "reg_num", "enterprise_name", "type_of_enterprise", "legal_representative", "address",
        "business_scope", "registered_capital", "registered_date", "valid_period",
    },
    "comm": {"items", "img_size"},
    "menu": {"content"},
}  # fmt: skip
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CN_DATE = re.compile(r"\d{4}年\d{2}月\d{2}日")
PROVINCES = "".join(sorted({c.abbr for c in CITIES}))
PLATE = re.compile(rf"[{PROVINCES}][A-HJ-NP-Z]([A-HJ-NP-Z0-9]{{5}}|[DF]\d{{5}})")


@cache
def made(kind: str, seed: int, style: str) -> tuple[bytes, tuple[int, int], dict[str, Any]]:
    """JPEG bytes (quality 90), size and truth of one document, generated once per session."""
    image, truth = generate(kind, seed, style)
    assert isinstance(image, Image.Image) and image.mode == "RGB"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue(), image.size, truth


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_and_style_draws_a_realistic_image_under_2mb(kind: str, style: str) -> None:
    jpeg, (w, h), truth = made(kind, 0, style)
    assert set(truth) == FIELDS[kind]
    assert len(jpeg) < 2 * 1024 * 1024
    assert 1000 <= w <= 1600 and 500 <= h <= 2400
    assert all(v for v in truth.values()), truth


def test_same_seed_same_image_and_truth_other_seed_other_document() -> None:
    for kind, style in (("idcard_front", "photo"), ("comm", "clean")):
        first = generate(kind, 7, style)
        again = generate(kind, 7, style)
        assert first[0].tobytes() == again[0].tobytes() and first[1] == again[1]
        assert generate(kind, 8, style)[1] != first[1]


def test_clean_and_photo_of_one_seed_show_the_same_document() -> None:
    clean, photo = made("driving", 0, "clean"), made("driving", 0, "photo")
    assert clean[2] == photo[2] and clean[0] != photo[0]


@pytest.mark.parametrize("seed", range(3))
def test_numbers_carry_valid_check_digits(seed: int) -> None:
    front = made("idcard_front", seed, "clean")[2]
    assert valid_id_number(front["id"])
    assert front["id"][6:14] == front["birth"].replace("-", "")
    assert int(front["id"][16]) % 2 == (1 if front["gender"] == "男" else 0)
    card = made("bankcard", seed, "clean")[2]["number"]
    assert luhn_valid(card) and 16 <= len(card) <= 19
    vehicle = made("driving", seed, "clean")[2]
    assert valid_vin(vehicle["vin"]) and len(vehicle["vin"]) == 17
    assert PLATE.fullmatch(vehicle["plate_num"])
    driver = made("drivinglicense", seed, "clean")[2]
    assert valid_id_number(driver["id_num"]) and driver["nationality"] == "中国"
    biz = made("bizlicense", seed, "clean")[2]
    assert valid_uscc(biz["reg_num"])
    assert PLATE.fullmatch(made("platenum", seed, "clean")[2]["number"])


@pytest.mark.parametrize("seed", range(3))
def test_field_formats_follow_wechat(seed: int) -> None:
    front = made("idcard_front", seed, "clean")[2]
    assert front["type"] == "Front" and ISO_DATE.fullmatch(front["birth"])
    assert front["gender"] in ("男", "女")
    back = made("idcard_back", seed, "clean")[2]
    assert back["type"] == "Back"
    assert re.fullmatch(r"\d{8}-(\d{8}|长期)", back["valid_date"])
    vehicle = made("driving", seed, "clean")[2]
    assert ISO_DATE.fullmatch(vehicle["register_date"]) and ISO_DATE.fullmatch(
        vehicle["issue_date"]
    )
    assert vehicle["register_date"] <= vehicle["issue_date"]
    driver = made("drivinglicense", seed, "clean")[2]
    for key in ("birth_date", "issue_date", "valid_from", "valid_to"):
        assert ISO_DATE.fullmatch(driver[key])
    assert driver["valid_from"] < driver["valid_to"]
    biz = made("bizlicense", seed, "clean")[2]
    assert re.fullmatch(r"\d+万", biz["registered_capital"])
    assert CN_DATE.fullmatch(biz["registered_date"])
    assert re.fullmatch(
        rf"{biz['registered_date']}至(长期|\d{{4}}年\d{{2}}月\d{{2}}日)", biz["valid_period"]
    )
    items = made("menu", seed, "clean")[2]["content"]["menu_items"]
    assert items and all(isinstance(i["price"], float) and i["name"] for i in items)


@pytest.mark.parametrize("style", STYLES)
def test_comm_positions_lie_inside_the_image(style: str) -> None:
    _, (w, h), truth = made("comm", 0, style)
    assert truth["img_size"] == {"w": w, "h": h}
    assert 8 <= len(truth["items"]) <= 20
    for item in truth["items"]:
        assert item["text"] == item["text"].strip() and item["text"]
        pos = item["pos"]
        assert list(pos) == ["left_top", "right_top", "right_bottom", "left_bottom"]
        for point in pos.values():
            assert isinstance(point["x"], int) and 0 <= point["x"] < w
            assert isinstance(point["y"], int) and 0 <= point["y"] < h
        assert pos["right_top"]["x"] > pos["left_top"]["x"]
        assert pos["left_bottom"]["y"] > pos["left_top"]["y"]
        if style == "clean":
            assert pos["left_top"]["y"] == pos["right_top"]["y"]


def test_command_writes_the_same_files_for_the_same_seed(tmp_path: Path) -> None:
    args = ["--count", "1", "--seed", "3", "--kinds", "platenum,idcard_back"]
    assert main([str(tmp_path / "a"), *args]) == 0
    assert main([str(tmp_path / "b"), *args, "--styles", "photo,clean"]) == 0
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    assert [str(f) for f in files] == [
        f"{k}/{s}/0000.{e}"
        for k in ("idcard_back", "platenum")
        for s in ("clean", "photo")
        for e in ("jpg", "json")
    ]
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    with Image.open(tmp_path / "a/platenum/photo/0000.jpg") as img:
        assert img.format == "JPEG"


def test_unknown_kind_or_style_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        generate("passport", 0, "clean")
    with pytest.raises(ValueError, match="unknown style"):
        generate("comm", 0, "scan")


@pytest.mark.parametrize(
    ("wan", "words"),
    [(10, "壹拾万元整"), (300, "叁佰万元整"), (1200, "壹仟贰佰万元整"), (1005, "壹仟零伍万元整")],
)
def test_capital_in_financial_numerals(wan: int, words: str) -> None:
    assert capital_words(wan) == words


def test_legibility_score_counts_verbatim_and_wrapped_values() -> None:
    truth = {"type": "Front", "addr": "北京市朝阳区建国路88号院3号楼", "birth": "1985-05-29"}
    values = list(truth_values(truth))
    assert values == ["北京市朝阳区建国路88号院3号楼", "1985-05-29"]
    texts = ["住址北京市朝阳区", "性别男", "建国路88号院3号楼", "出生1985年5月29日"]
    assert score(texts, values) == (0, 2)
    assert score(["1985-05-29"], ["1985-05-29"]) == (1, 1)
