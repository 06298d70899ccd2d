"""车牌 (/cv/ocr/platenum): the plate number, without the separator dot.

The families of GA 36-2018: ordinary (province, letter, five letters or digits),
new-energy (six after the letter, D or F first or last), the special ones ending in a
character of their own (警 police, 学 driving school, 领 consulate, 挂 trailer, 港 and 澳
cross-border, 试 test, 超 oversize) after four letters or digits, embassy (使 and six
digits), and two-line plates (a small province-and-letter row over a large row of
five), which are joined.
"""

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
#: the characters special plates end with
SUFFIXES = "警学领挂港澳试超"
_SPECIAL = re.compile(f"([{PROVINCES}])([A-Z0-9])([A-Z0-9]{{4}})([{SUFFIXES}])")
_EMBASSY = re.compile(r"使(\d{6})|(\d{6})使")
#: a two-line plate's rows: the small upper one (province, letter), the large lower one
_UPPER_ROW = re.compile(f"([{PROVINCES}])([A-Z0-9])")
_LOWER_ROW = re.compile(f"[A-HJ-NP-Z0-9]{{5}}|[A-HJ-NP-Z0-9]{{4}}[{SUFFIXES}]")
#: ranks: new-energy over special over ordinary (a plate wins over small print of its kind)
_RANK_GREEN, _RANK_SPECIAL, _RANK_BLUE = 3, 2, 1


def extract(lines: Sequence[Line], size: tuple[int, int]) -> dict[str, Any]:
    """The most plate-like text (green 8-character plates, then special ones, then
    7-character ones; then the tallest line); NothingFound when no text reads as a
    plate."""
    found: list[tuple[int, float, str]] = []
    texts = [(_cleaned(line.text), line.height) for line in lines]
    texts += [(_cleaned(text), max(line.height for line in row)) for text, row in row_texts(lines)]
    texts += _two_line_plates(lines)
    for text, height in texts:
        found += _plates_in(text, height)
    if not found:
        raise NothingFound("no plate number")
    return {"number": max(found)[2]}


def _cleaned(text: str) -> str:
    cleaned = re.sub(r"[·•.\-:]", "", compact(text)).upper()
    for misread, province in _PROVINCE_MISREADS:
        cleaned = cleaned.replace(misread, province)
    return cleaned


def _plates_in(text: str, height: float) -> list[tuple[int, float, str]]:
    found = []
    for province, letter, body, suffix in _SPECIAL.findall(text):
        letter = letter.translate(_LETTER)
        if letter.isalpha() and letter not in "IO":
            found.append(
                (_RANK_SPECIAL, height, province + letter + body.translate(_TAIL) + suffix)
            )
    for before, after in _EMBASSY.findall(text):
        found.append((_RANK_SPECIAL, height, f"使{before}" if before else f"{after}使"))
    for province, letter, tail in _PLATE.findall(text):
        letter = letter.translate(_LETTER)
        tail = tail.translate(_TAIL)
        if not letter.isalpha() or letter in "IO":
            continue
        if len(tail) == 6 and _GREEN.fullmatch(tail):
            found.append((_RANK_GREEN, height, province + letter + tail))
        elif _BLUE.fullmatch(tail[:5]):
            found.append((_RANK_BLUE, height, province + letter + tail[:5]))
    return found


def _two_line_plates(lines: Sequence[Line]) -> list[tuple[str, float]]:
    """A small upper row (province, letter) over a larger lower row of five: the text of
    the plate they make, and the lower row's height."""
    joined = []
    for upper in lines:
        top = _UPPER_ROW.fullmatch(_cleaned(upper.text))
        if top is None:
            continue
        for lower in lines:
            bottom = _cleaned(lower.text).translate(_TAIL)
            below = upper.bottom - 0.3 * upper.height <= lower.top <= upper.bottom + upper.height
            overlaps = lower.left < upper.right and upper.left < lower.right
            if below and overlaps and lower.height > upper.height and _LOWER_ROW.fullmatch(bottom):
                joined.append((top.group(1) + top.group(2) + bottom, lower.height))
    return joined
