"""The geometry of a page's lines: its tilt taken out, and its lines grouped into rows.

A photo is seldom level. Every extractor that reasons about rows and columns works in
the page's own frame: each line's box turned back by the page's tilt (:func:`upright`),
then lines whose middles lie within half a line height of each other make one row
(:func:`rows`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs

from .lines import Line
from .text import compact


def page_slant(lines: Sequence[Line]) -> float:
    """The page's tilt in radians: the median slant of the long lines (a short line's box
    is often drawn level whatever the tilt), of all lines when none is long."""
    if not lines:
        return 0.0
    long = [line for line in lines if math.dist(line.box[0], line.box[1]) > 3 * line.height]
    angles = sorted(line.angle for line in long or lines)
    return angles[len(angles) // 2]


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


def rows(lines: Sequence[Line]) -> list[list[Upright]]:
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
    """Each row's compacted text (its lines' joined left to right), and its lines."""
    return [
        ("".join(compact(u.line.text) for u in row), [u.line for u in row]) for row in rows(lines)
    ]
