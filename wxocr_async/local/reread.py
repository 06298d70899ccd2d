"""Second looks: a region the first reading got wrong, cropped and read again.

Each takes the decoded image and the lines of the first reading, and returns those lines
with what the second look read added or put in place; the extractor then runs again. They
cost time only when the first reading found nothing usable (no plate, no card number
passing Luhn).
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from . import model
from .lines import Line

#: a plate read without its province character ("B·F52673"): the detector's box began
#: one character late on the plate's stretched type
_PLATE_TAIL = re.compile(r"[A-Z][·•.]?[A-Z0-9]{5,6}")
#: the large lower row of a two-line plate (trucks, motorcycles): five letters or digits,
#: or four and a special character
_LOWER_ROW = re.compile(r"[A-HJ-NP-Z0-9]{5}|[A-HJ-NP-Z0-9]{4}[警学挂领试超]")
#: a digit run worth a second look on a bank card
_DIGITS = re.compile(r"\d{3,}")


def plates(image: Any, lines: list[Line]) -> list[Line]:
    """Plates read again: one read without its province, from a crop reaching one
    character further left; and the lower row of a two-line plate whose small upper row
    (province and letter) was not read, with that row read from the band above it."""
    out = []
    for line in lines:
        text = line.text.replace(" ", "")
        if _PLATE_TAIL.fullmatch(text):
            line = _province(image, line)
        elif _LOWER_ROW.fullmatch(text):
            out.extend(_upper_row(image, line))
        out.append(line)
    return out


def _province(image: Any, line: Line) -> Line:
    h = line.height
    crop = _crop(image, line.top - 0.1 * h, line.bottom + 0.1 * h, line.left - 1.3 * h, line.right)
    text = model.read_line(crop)[0] if crop is not None else ""
    if text.endswith(line.text[-4:]) and len(text) > len(line.text):
        return attrs.evolve(line, text=text)
    return line


def _upper_row(image: Any, lower: Line) -> list[Line]:
    """The band above a two-line plate's lower row (about half its height, over its
    middle), read as one line, upscaled: its small characters are few pixels."""
    h, w = lower.height, lower.right - lower.left
    top, bottom = lower.top - 0.75 * h, lower.top + 0.05 * h
    crop = _crop(image, top, bottom, lower.left + 0.1 * w, lower.right - 0.1 * w)
    if crop is None:
        return []
    text = model.read_line(_enlarged(crop, 2.0))[0]
    if not text:
        return []
    left, right = lower.left + 0.1 * w, lower.right - 0.1 * w
    return [Line(text, ((left, top), (right, top), (right, bottom), (left, bottom)))]


def card_number(image: Any, lines: list[Line]) -> list[Line]:
    """The bank card's number row read again: the band of the row holding the most digits,
    across the whole image (groups the detector missed lie beside), enlarged and its
    contrast raised (embossed silver digits on a busy background), read as one line and
    added to the lines."""
    digit_lines = [line for line in lines if _DIGITS.search(line.text)]
    if not digit_lines:
        return lines
    best = max(digit_lines, key=lambda line: sum(c.isdigit() for c in line.text))
    row = [
        line
        for line in digit_lines
        if abs(line.center[1] - best.center[1]) < 0.6 * max(line.height, best.height)
    ]
    h = max(line.height for line in row)
    top, bottom = (
        min(line.top for line in row) - 0.3 * h,
        max(line.bottom for line in row) + 0.3 * h,
    )
    left, right = 0.0, float(image.shape[1])  # the whole width: groups may be unread
    crop = _crop(image, top, bottom, left, right)
    if crop is None:
        return lines
    text = model.read_line(_contrasted(_enlarged(crop, 2.0)))[0]
    if not text:
        return lines
    return [*lines, Line(text, ((left, top), (right, top), (right, bottom), (left, bottom)))]


def _crop(image: Any, top: float, bottom: float, left: float, right: float) -> Any | None:
    height, width = image.shape[:2]
    t, b = max(0, int(top)), min(height, int(bottom) + 1)
    lft, r = max(0, int(left)), min(width, int(right) + 1)
    if b - t < 4 or r - lft < 4:
        return None
    return image[t:b, lft:r]


def _enlarged(crop: Any, factor: float) -> Any:
    import cv2

    return cv2.resize(crop, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)


def _contrasted(crop: Any) -> Any:
    """Local contrast raised (CLAHE on the lightness), colour kept for the recogniser."""
    import cv2

    lab = cv2.cvtColor(crop, cv2.COLOR_BGR2LAB)
    lightness, a, b = cv2.split(lab)
    lightness = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(4, 4)).apply(lightness)
    return cv2.cvtColor(cv2.merge((lightness, a, b)), cv2.COLOR_LAB2BGR)
