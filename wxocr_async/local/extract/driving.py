"""行驶证 (vehicle licence, main page) → WeChat's ``/cv/ocr/driving`` reply fields."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from wxocr_async.local.checks import (
    PROVINCES,
    date,
    plate_serial,
    plate_text,
    single_digit_repair,
    valid_vin,
)
from wxocr_async.local.extract._licence_util import Page, licence_page
from wxocr_async.local.lines import Line, NothingFound
from wxocr_async.local.reread import Look
from wxocr_async.local.text import clean

LABELS: dict[str, tuple[str, ...]] = {
    "plate_num": ("号牌号码", "号牌号"),
    "vehicle_type": (
        "车辆类型",
        "车辆类",
    ),
    "owner": ("所有人",),
    "addr": ("住址",),
    "use_character": ("使用性质",),
    "model": ("品牌型号",),
    "vin": ("车辆识别代号", "车辆识别代码", "识别代号"),
    "engine_num": ("发动机号码", "发动机号"),
    "register_date": ("注册日期",),
    "issue_date": ("发证日期",),
    # the driver licence's labels, so they are not misread as ours (领证日期 ≈ 发证日期)
    "_other": ("初次领证日期", "出生日期", "准驾车型", "有效期限", "驾驶证"),
}
#: labels of the right-hand column, and the fields its edge bounds (others run full width)
RIGHT = ("vehicle_type", "model", "issue_date")
LEFT = ("plate_num", "use_character", "register_date")

#: characters a VIN never holds, and what they were
_VIN_NEVER = str.maketrans({"I": "1", "O": "0", "Q": "0"})
#: look-alikes tried (one or two at a time) when the check character fails
_VIN_SWAPS = {"S": "5", "5": "S", "B": "8", "8": "B", "Z": "2", "2": "Z", "G": "6", "6": "G",
              "D": "0", "0": "D", "T": "7", "U": "V", "V": "U", "1": "L", "L": "1"}  # fmt: skip


def vin(text: str) -> str | None:
    """The VIN in ``text``: upper case, no I/O/Q, look-alikes repaired to pass the check
    character when a swap does it, else one digit misread as another; None when it still
    fails (left out rather than returned wrong). Another length is returned as read."""
    raw = re.sub(r"[^0-9A-Z]", "", text.upper()).translate(_VIN_NEVER)
    if len(raw) != 17 or valid_vin(raw):
        return raw
    spots = [i for i, c in enumerate(raw) if c in _VIN_SWAPS]
    for i in spots:
        candidate = raw[:i] + _VIN_SWAPS[raw[i]] + raw[i + 1 :]
        if valid_vin(candidate):
            return candidate
    return single_digit_repair(raw, valid_vin, 17)


def plate(text: str) -> str:
    """A plate number: the province character, then letters and digits (no I or O);
    anything read before the province character (a label's last glyph) is dropped."""
    text = plate_text(text)
    start = next((i for i, c in enumerate(text) if c in PROVINCES), 0)
    text = text[start:]
    return text[:2] + plate_serial(text[2:])


def _field(key: str, value: str) -> str | None:
    """A raw value in WeChat's form for ``key`` (None when nothing usable)."""
    if key in ("register_date", "issue_date"):
        return date(value)
    if key == "vin":
        return vin(value) or None
    if key == "plate_num":
        return plate(value) or None
    if key == "engine_num":  # printed like a VIN's tail: never I, O or Q
        return re.sub(r"[^0-9A-Za-z]", "", value).upper().translate(_VIN_NEVER) or None
    return clean(value) or None


_ENGINE_NUMBER = re.compile(r"[0-9A-Z]{5,12}")


def _unlabelled_engine_number(page: Page) -> str | None:
    """The engine number when its label went unread: the row right under the VIN's holds
    it, alone (letters and digits, no label)."""
    hit = page.first("vin")
    if hit is None:
        return None
    below = re.sub(r"[^0-9A-Za-z\u4e00-\u9fff]", "", page.below(hit))
    if not _ENGINE_NUMBER.fullmatch(below):
        return None
    return _field("engine_num", below)


def extract(
    lines: Sequence[Line], size: tuple[int, int], look: Look | None = None
) -> dict[str, Any]:
    """Fields of a 行驶证 main page; NothingFound without at least two of its labels."""
    page = licence_page(lines, LABELS, "vehicle licence")
    columns = page.column_starts(RIGHT)
    out: dict[str, Any] = {}
    for key in LABELS:
        hit = page.first(key)
        if hit is None:
            continue
        edges = columns if key in LEFT else ()
        value = _field(key, page.value(hit, edges, wrap=1 if key == "addr" else 0))
        if value:
            out[key] = value
    if "engine_num" not in out and (engine := _unlabelled_engine_number(page)):
        out["engine_num"] = engine
    if not out:  # its labels, but not one field read: no licence to answer with
        raise NothingFound("no vehicle licence fields")
    return out
