"""车牌 (/cv/ocr/platenum): the plate number, without the separator dot."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from wxocr_async.local.extract._cards_util import compact, row_texts
from wxocr_async.local.lines import Line, NothingFound

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
#: the letter after the province is never a digit, I or O
_LETTER = str.maketrans("80521O6", "BDSZIDG")
#: the tail never holds I or O
_TAIL = str.maketrans("OoIl", "0011")
#: a province character the recogniser split or mistook, on a plate's stretched type
#: (鲁 read as 鱼 over 日: "鱼日", "鱼目", or 鱼 alone), longest first
_PROVINCE_MISREADS = (("鱼日", "鲁"), ("鱼目", "鲁"), ("鱼", "鲁"))
_PLATE = re.compile(f"([{PROVINCES}])([A-Z0-9])([A-Z0-9]{{5,6}})")
_GREEN = re.compile(r"[DF][A-HJ-NP-Z0-9]\d{4}|\d{5}[DF]")
_BLUE = re.compile(r"[A-HJ-NP-Z0-9]{5}")


def extract(lines: Sequence[Line], size: tuple[int, int]) -> dict[str, Any]:
    """The most plate-like text (green 8-character plates before 7-character ones, then
    the tallest line); NothingFound when no text reads as a plate."""
    found: list[tuple[int, float, str]] = []
    texts = [(compact(line.text), line.height) for line in lines]
    texts += [(text, max(line.height for line in row)) for text, row in row_texts(lines)]
    for text, height in texts:
        cleaned = re.sub(r"[·•.\-:]", "", text).upper()
        for misread, province in _PROVINCE_MISREADS:
            cleaned = cleaned.replace(misread, province)
        for province, letter, tail in _PLATE.findall(cleaned):
            letter = letter.translate(_LETTER)
            tail = tail.translate(_TAIL)
            if not letter.isalpha() or letter in "IO":
                continue
            if len(tail) == 6 and _GREEN.fullmatch(tail):
                found.append((2, height, province + letter + tail))
            elif _BLUE.fullmatch(tail[:5]):
                found.append((1, height, province + letter + tail[:5]))
    if not found:
        raise NothingFound("no plate number")
    return {"number": max(found)[2]}
