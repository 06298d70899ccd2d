"""车牌 (/cv/ocr/platenum): the plate number, without the separator dot.

The families of GA 36-2018: ordinary (province, letter, five letters or digits),
new-energy (six after the letter, D or F first or last), the special ones ending in a
character of their own (警 police, 学 driving school, 领 consulate, 挂 trailer, 港 and 澳
cross-border, 试 test, 超 oversize) after four letters or digits, embassy (使 and six
digits), and two-line plates (a small province-and-letter row over a large row of
five), which are joined. A plate read without its province, or a two-line plate's lower
row alone, is given a second look (:func:`read_again`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import attrs

from wxocr_async.local.checks import PROVINCES, plate_serial, plate_text
from wxocr_async.local.geometry import row_texts
from wxocr_async.local.lines import Line, NothingFound
from wxocr_async.local.reread import Look

#: the letter after the province is never a digit, I or O
_LETTER = str.maketrans("80521O6", "BDSZIDG")
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


def extract(
    lines: Sequence[Line], size: tuple[int, int], look: Look | None = None
) -> dict[str, Any]:
    """The most plate-like text (green 8-character plates, then special ones, then
    7-character ones; then the tallest line), after a second look when the first reading
    has none; NothingFound when no text reads as a plate."""
    try:
        return {"number": _plate(lines)}
    except NothingFound:
        if look is None:
            raise
    return {"number": _plate(read_again(lines, look))}


def _plate(lines: Sequence[Line]) -> str:
    found: list[tuple[int, float, str]] = []
    texts = [(plate_text(line.text), line.height) for line in lines]
    texts += [(_joined(row), max(line.height for line in row)) for _, row in row_texts(lines)]
    texts += _two_line_plates(lines)
    for text, height in texts:
        found += _plates_in(text, height)
    if not found:
        raise NothingFound("no plate number")
    return max(found)[2]


def _joined(row: Sequence[Line]) -> str:
    """A row's boxes as one plate text; where two boxes overlap and the second begins
    with the character the first ends with ("沪A·F" and "F02976"), that character was
    read twice and is kept once."""
    text, last = "", None
    for line in row:
        part = plate_text(line.text)
        if last is not None and line.left < last.right and part[:1] == text[-1:]:
            part = part[1:]
        text, last = text + part, line
    return text


def _plates_in(text: str, height: float) -> list[tuple[int, float, str]]:
    found = []
    for province, letter, body, suffix in _SPECIAL.findall(text):
        letter = letter.translate(_LETTER)
        if letter.isalpha() and letter not in "IO":
            found.append((_RANK_SPECIAL, height, province + letter + plate_serial(body) + suffix))
    for before, after in _EMBASSY.findall(text):
        found.append((_RANK_SPECIAL, height, f"使{before}" if before else f"{after}使"))
    for province, letter, tail in _PLATE.findall(text):
        letter = letter.translate(_LETTER)
        tail = plate_serial(tail)
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
        top = _UPPER_ROW.fullmatch(plate_text(upper.text))
        if top is None:
            continue
        for lower in lines:
            bottom = plate_serial(plate_text(lower.text))
            below = upper.bottom - 0.3 * upper.height <= lower.top <= upper.bottom + upper.height
            overlaps = lower.left < upper.right and upper.left < lower.right
            if below and overlaps and lower.height > upper.height and _LOWER_ROW.fullmatch(bottom):
                joined.append((top.group(1) + top.group(2) + bottom, lower.height))
    return joined


#: a plate read without its province character ("B·F52673"): the detector's box began
#: one character late on the plate's stretched type
_NO_PROVINCE = re.compile(r"[A-Z][·•.]?[A-Z0-9]{5,6}")


def read_again(lines: Sequence[Line], look: Look) -> list[Line]:
    """The lines with plates read again: one read without its province, from a region
    reaching one character further left; and the lower row of a two-line plate whose
    small upper row (province and letter) was not read, with that row read from the band
    above it."""
    out = []
    for line in lines:
        text = line.text.replace(" ", "")
        if _NO_PROVINCE.fullmatch(text):
            line = _with_province(line, look)
        elif _LOWER_ROW.fullmatch(text):
            out.extend(_upper_row(line, look))
        out.append(line)
    return out


#: how far left of the line the province character is looked for, in line heights: the
#: recogniser reads a blurred character in one crop and not in another
_PROVINCE_REACH = (1.3, 1.6, 2.0)


def _with_province(line: Line, look: Look) -> Line:
    """``line`` read again reaching further left, until a reading starts with a province."""
    h, longer = line.height, None
    top, bottom = line.top - 0.1 * h, line.bottom + 0.1 * h
    for reach in _PROVINCE_REACH:
        wider = look.read(top, bottom, line.left - reach * h, line.right)
        if wider and wider.text.endswith(line.text[-4:]) and len(wider.text) > len(line.text):
            if plate_text(wider.text)[:1] in set(PROVINCES):
                return attrs.evolve(line, text=wider.text)
            longer = longer or wider.text
    return attrs.evolve(line, text=longer) if longer else line


def _upper_row(lower: Line, look: Look) -> list[Line]:
    """The band above a two-line plate's lower row (about half its height, over its
    middle), read as one line, enlarged: its small characters are few pixels."""
    h, w = lower.height, lower.right - lower.left
    top, bottom = lower.top - 0.75 * h, lower.top + 0.05 * h
    upper = look.read(top, bottom, lower.left + 0.1 * w, lower.right - 0.1 * w, enlarge=2.0)
    return [upper] if upper else []
