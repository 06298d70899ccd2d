"""Recognised text lines, what extraction reasons with.

A :class:`Line` is one text line as the recogniser returned it: its text, its four
corners (left-top, right-top, right-bottom, left-bottom, in image pixels) and a score.
Extractors take a sequence of lines and the image size and return WeChat's reply fields;
the page's tilt and rows are :mod:`.geometry`'s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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
    def standing(self) -> bool:
        """The box stands on end: 1.5 times as tall as it is wide across the page (a
        column of characters set vertically, or a sideways line)."""
        return self.height > 1.5 * (self.right - self.left)

    @property
    def center(self) -> Point:
        return (sum(p[0] for p in self.box) / 4, sum(p[1] for p in self.box) / 4)

    @property
    def angle(self) -> float:
        """The slant of the top edge, in radians."""
        (x0, y0), (x1, y1) = self.box[0], self.box[1]
        return math.atan2(y1 - y0, x1 - x0)
