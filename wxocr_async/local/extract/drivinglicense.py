"""驾驶证 (driver licence) → WeChat's ``/cv/ocr/drivinglicense`` reply fields."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from wxocr_async.local import checks
from wxocr_async.local.checks import date, dates
from wxocr_async.local.extract._licence_util import licence_page
from wxocr_async.local.lines import Line, NothingFound
from wxocr_async.local.reread import Look
from wxocr_async.local.text import clean

LABELS: dict[str, tuple[str, ...]] = {
    "id_num": ("证号", "身份证号码"),
    "name": ("姓名",),
    "sex": ("性别",),
    "nationality": ("国籍",),
    "address": ("住址", "地址"),
    "birth_date": ("出生日期",),
    "issue_date": ("初次领证日期", "初次领证日", "领证日期"),
    "car_class": ("准驾车型",),
    "valid_from": ("有效起始日期", "起始日期"),
    "valid_period": ("有效期限", "有效期至"),
    "_stop": ("档案编号", "记录"),
    # the vehicle licence's labels, so they are not misread as ours (发证日期 ≈ 领证日期)
    "_other": ("发证日期", "注册日期", "车辆类型", "使用性质", "行驶证"),
}
#: the reply's keys in WeChat's order
FIELDS = ("id_num", "name", "sex", "nationality", "address", "birth_date", "issue_date",
          "car_class", "valid_from", "valid_to")  # fmt: skip

_CLASS = re.compile(r"(?:[ABC][1-6]|[DEFMNP])+")


def id_number(text: str) -> str | None:
    """The 18-character ID number in ``text``, look-alikes repaired against its check
    character, then one digit misread as another (0 as 8); None when it still fails (a
    number that fails its check is left out rather than returned wrong). Another length
    is returned as read (a foreign licence's number has no GB 11643 check)."""
    raw = re.sub(r"[^0-9A-Za-z|]", "", text)
    if len(raw) != 18:
        return raw[:17] + raw[17:].upper()
    return checks.id_number(raw)


def car_class(text: str) -> str | None:
    """The licence class(es), e.g. C1, A2, C1E; 1-like letters read as 1."""
    text = re.sub(r"(?<=[ABCabc])[lIi|]", "1", re.sub(r"\s+", "", text)).upper()
    m = _CLASS.search(text)
    return m.group(0) if m else None


def _validity(period: str, start: str | None) -> dict[str, str]:
    """有效期限 "2016-03-01至2022-03-01" / "…至长期" → valid_from, valid_to; the older
    "6年" counts from 有效起始日期 (``start``)."""
    found = dates(period)
    out = dict(zip(("valid_from", "valid_to"), found, strict=False))
    if "长期" in period and len(found) < 2:
        out["valid_to"] = "长期"
    years = re.search(r"(\d+)年", period)
    if not found and years and start:
        out["valid_to"] = f"{int(start[:4]) + int(years.group(1)):04d}{start[4:]}"
    return out


def _field(key: str, value: str) -> str | None:
    """A raw value in WeChat's form for ``key`` (None when nothing usable)."""
    if key in ("birth_date", "issue_date", "valid_from"):
        return date(value)
    if key == "id_num":
        return id_number(value) or None
    if key == "sex":
        return next((c for c in value if c in "男女"), None)
    if key == "car_class":
        return car_class(value)
    if key == "name":
        return person_name(value)
    if key == "nationality":
        return nationality(value)
    return clean(value) or None


#: English words around a Chinese value on the bilingual licences ("Name", "Sex", ...)
_ENGLISH = re.compile(
    r"^[A-Za-z][A-Za-z .:/]*(?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff])[A-Za-z][A-Za-z .:/]*$"
)


def person_name(text: str) -> str | None:
    """姓名 without the English label a bilingual licence prints beside it ("李柏池Sex")."""
    return _ENGLISH.sub("", clean(text)) or None


#: the country codes a nationality may be printed as, beside or instead of its name
_COUNTRY_CODES = {"CHN": "中国"}


def nationality(text: str) -> str | None:
    """国籍 as WeChat writes it, in Chinese: "中国" from "中国", "中国CHN", "CHN" or
    "Nationality中国"."""
    chinese = "".join(re.findall(r"[\u4e00-\u9fff]+", text))
    if chinese:
        return chinese
    code = re.search(r"[A-Z]{3}", text.upper())
    return _COUNTRY_CODES.get(code.group(0)) if code else None


def extract(
    lines: Sequence[Line], size: tuple[int, int], look: Look | None = None
) -> dict[str, Any]:
    """Fields of a 驾驶证 main page; NothingFound without at least two of its labels."""
    page = licence_page(lines, LABELS, "driver licence")
    found: dict[str, str] = {}
    for key in LABELS:
        hit = page.first(key)
        if hit is None or key.startswith("_"):
            continue
        text = page.value(hit, wrap=2 if key == "address" else 0)
        if key == "valid_period":
            for k, v in _validity(text, found.get("valid_from")).items():
                found.setdefault(k, v)
        elif value := _field(key, text):
            found[key] = value
    if not found:  # its labels, but not one field read: no licence to answer with
        raise NothingFound("no driver licence fields")
    return {key: found[key] for key in FIELDS if key in found}
