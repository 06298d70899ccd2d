"""Recognised text lines and the geometry field extraction reasons with.

A :class:`Line` is one text line as the recogniser returned it: its text, its four
corners (left-top, right-top, right-bottom, left-bottom, in image pixels) and a score.
Extractors take a sequence of lines and the image size and return WeChat's reply fields.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

Point = tuple[float, float]


class NothingFound(Exception):
    """No document (card, plate, text) of the wanted kind in the image: errcode 101001."""


@attrs.frozen
class Line:
    """One recognised text line."""

    text: str
    #: left-top, right-top, right-bottom, left-bottom
    box: tuple[Point, Point, Point, Point]
    score: float = 1.0

    @classmethod
    def from_rapidocr(cls, item: Sequence[Any]) -> Line:
        """From RapidOCR's ``[box, text, score]``."""
        box, text, score = item
        corners = tuple((float(x), float(y)) for x, y in box)
        return cls(str(text), corners, float(score))  # type: ignore[arg-type]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Line:
        return cls(data["text"], tuple(tuple(p) for p in data["box"]), data.get("score", 1.0))  # type: ignore[arg-type]

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "box": [list(p) for p in self.box], "score": self.score}

    @property
    def left(self) -> float:
        return min(p[0] for p in self.box)

    @property
    def right(self) -> float:
        return max(p[0] for p in self.box)

    @property
    def top(self) -> float:
        return min(p[1] for p in self.box)

    @property
    def bottom(self) -> float:
        return max(p[1] for p in self.box)

    @property
    def height(self) -> float:
        """The line's height along its own slant (the text size)."""
        (x0, y0), _, _, (x3, y3) = self.box
        return math.hypot(x3 - x0, y3 - y0) or (self.bottom - self.top)

    @property
    def center(self) -> Point:
        return (sum(p[0] for p in self.box) / 4, sum(p[1] for p in self.box) / 4)

    @property
    def angle(self) -> float:
        """The slant of the top edge, in radians."""
        (x0, y0), (x1, y1) = self.box[0], self.box[1]
        return math.atan2(y1 - y0, x1 - x0)


def reading_order(lines: Iterable[Line]) -> list[Line]:
    """Lines top to bottom, left to right within a row (rows judged in the page's own
    frame: a tilted photo is rotated back by the lines' median slant first)."""
    items = list(lines)
    if not items:
        return []
    slant = sorted(line.angle for line in items)[len(items) // 2]
    cos, sin = math.cos(-slant), math.sin(-slant)

    def upright(line: Line) -> Point:
        x, y = line.center
        return (x * cos - y * sin, x * sin + y * cos)

    placed = sorted(((upright(line), line) for line in items), key=lambda t: t[0][1])
    rows: list[list[tuple[Point, Line]]] = []
    for point, line in placed:
        if rows:
            last_point, last_line = rows[-1][-1]
            if abs(point[1] - last_point[1]) < 0.5 * min(line.height, last_line.height):
                rows[-1].append((point, line))
                continue
        rows.append([(point, line)])
    return [line for row in rows for _, line in sorted(row, key=lambda t: t[0][0])]


def rows(lines: Iterable[Line]) -> list[list[Line]]:
    """Lines grouped into rows (same rule as :func:`reading_order`), each left to right."""
    ordered = reading_order(lines)
    grouped: list[list[Line]] = []
    for line in ordered:
        if grouped:
            prev = grouped[-1][-1]
            if abs(line.center[1] - prev.center[1]) < 0.5 * min(line.height, prev.height) and (
                line.center[0] > prev.center[0]
            ):
                grouped[-1].append(line)
                continue
        grouped.append([line])
    return grouped
