"""Shared helpers of the card, plate, page and menu extractors."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import attrs

from wxocr_async.local.lines import Line

_WIDTH = str.maketrans(
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＳＴＵＶＷＸＹＺ．－：，（）／",
    "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ.-:,()/",
)


def compact(text: str) -> str:
    """Text without spaces and with full-width digits/letters/punctuation made ASCII."""
    return re.sub(r"\s+", "", text).translate(_WIDTH)


def spaced(text: str) -> str:
    """:func:`compact`, but one space kept between Latin words ("Kung Pao Chicken")."""
    text = re.sub(r"\s+", " ", text.translate(_WIDTH)).strip()
    return re.sub(r" (?![A-Za-z0-9])|(?<![A-Za-z0-9.,']) ", "", text)


@attrs.frozen
class Upright:
    """A line's extent in the page's own frame (a tilted photo turned back level)."""

    line: Line
    left: float
    right: float
    top: float
    bottom: float

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


def page_slant(lines: Sequence[Line]) -> float:
    """The page's tilt in radians: the median slant of the long lines (a short line's box
    is often drawn level whatever the tilt), of all lines when none is long."""
    if not lines:
        return 0.0
    long = [line for line in lines if math.dist(line.box[0], line.box[1]) > 3 * line.height]
    angles = sorted(line.angle for line in long or lines)
    return angles[len(angles) // 2]


def upright(lines: Sequence[Line]) -> list[Upright]:
    """Each line's box rotated back by the page's tilt."""
    slant = page_slant(lines)
    cos, sin = math.cos(-slant), math.sin(-slant)
    out = []
    for line in lines:
        xs = [x * cos - y * sin for x, y in line.box]
        ys = [x * sin + y * cos for x, y in line.box]
        out.append(Upright(line, min(xs), max(xs), min(ys), max(ys)))
    return out


def page_rows(lines: Sequence[Line]) -> list[list[Upright]]:
    """Lines grouped into rows in the page's own frame, top to bottom, each left to right:
    a line joins a row when its middle is within half a line height of the row's."""
    grouped: list[list[Upright]] = []
    for part in sorted(upright(lines), key=lambda u: u.middle):
        if grouped:
            row = grouped[-1]
            middle = sum(u.middle for u in row) / len(row)
            if abs(part.middle - middle) < 0.5 * min(part.line.height, row[-1].line.height):
                row.append(part)
                continue
        grouped.append([part])
    return [sorted(row, key=lambda u: u.left) for row in grouped]


def row_texts(lines: Sequence[Line]) -> list[tuple[str, list[Line]]]:
    """Each row's lines and their compacted texts joined left to right."""
    return [
        ("".join(compact(u.line.text) for u in row), [u.line for u in row])
        for row in page_rows(lines)
    ]


def fuzzy_find(text: str, label: str, loose: bool = False) -> int:
    """Index just past ``label`` in ``text``; -1 when absent. A label of four characters or
    more may have one character misread, or lose its first or last one and have another
    misread; with ``loose``, a two-character one may have one misread at the start."""
    at = text.find(label)
    if at >= 0:
        return at + len(label)
    if len(label) == 2:
        half = len(text) > 2 and (text[0] == label[0]) != (text[1] == label[1])
        return 2 if loose and half else -1
    if len(label) < 4:
        return -1
    ends = [
        i + len(shown)
        for shown in (label, label[1:], label[:-1])
        for i in range(len(text) - len(shown) + 1)
        if sum(a != b for a, b in zip(text[i : i + len(shown)], shown, strict=True)) <= 1
    ]
    return min(ends, default=-1)  # of equal guesses, the one leaving the value whole
