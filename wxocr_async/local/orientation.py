"""A page photographed upside down or sideways, found from how it reads, and its lines
brought back to the image as sent.

The angle classifier is off (it turns single lines, not pages). Read upright, a page of
text gives confident lines laid across it; turned, it gives few lines, low scores, or
tall boxes (RapidOCR reads a tall box turned a quarter, so a sideways line may even read
right, but as a box standing on end). Only a page that reads so is read again turned,
and the turn that reads best is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from .lines import Line, Point

#: quarter turns (clockwise) tried on a page that reads as turned: upside down first
PAGE_TURNS = (2, 1, 3)
#: below this mean score of its lines of two or more characters a page reads as turned
#: (upright pages of the real set: 0.96 and above; the same pages upside down: 0.56-0.76)
CONFIDENT = 0.85


def back(point: Point, turn: int, size: tuple[int, int]) -> Point:
    """``point`` of the image turned ``turn`` quarters clockwise, in the pixels of the
    image as sent (``size``: its width and height)."""
    width, height = size
    x, y = point
    if turn == 1:
        return (y, height - x)
    if turn == 2:
        return (width - x, height - y)
    if turn == 3:
        return (width - y, x)
    return (x, y)


def turned_back(lines: Sequence[Line], turn: int, size: tuple[int, int]) -> list[Line]:
    """``lines`` read in the image turned ``turn`` quarters, placed in the image as sent;
    each box keeps its corners in reading order (its left top is the text's)."""
    if turn == 0:
        return list(lines)
    out = []
    for line in lines:
        lt, rt, rb, lb = (back(p, turn, size) for p in line.box)
        out.append(attrs.evolve(line, box=(lt, rt, rb, lb)))
    return out


def _words(lines: Sequence[Line]) -> list[Line]:
    return [line for line in lines if len(line.text.strip()) >= 2]


def _standing(line: Line) -> bool:
    """A box of three or more characters taller than it is wide."""
    return len(line.text.strip()) >= 3 and line.standing


def looks_turned(lines: Sequence[Line]) -> bool:
    """Nothing of two characters read, a low mean score, or most boxes standing."""
    words = _words(lines)
    if not words:
        return True
    mean = sum(line.score for line in words) / len(words)
    return mean < CONFIDENT or 2 * sum(map(_standing, words)) >= len(words)


def quality(lines: Sequence[Line]) -> tuple[bool, float]:
    """How well a reading reads: most boxes lying down first, then the characters read
    with some confidence, weighted by it."""
    words = _words(lines)
    lying = 2 * sum(map(_standing, words)) < len(words)
    return lying, sum(line.score * len(line.text.strip()) for line in lines if line.score > 0.5)


def upright_reading(
    image: Any, lines: list[Line], read: Callable[[Any, int], list[Line]]
) -> list[Line]:
    """The lines of the quarter turn that reads ``image`` best, placed in the image as
    sent: ``lines`` as they are unless they read as turned and a turn reads better.
    ``read(image, turn)`` reads the image turned ``turn`` quarters clockwise."""
    if not looks_turned(lines):
        return lines
    height, width = image.shape[:2]
    best, best_lines, best_quality = 0, lines, quality(lines)
    for turn in PAGE_TURNS:
        found = read(image, turn)
        if (found_quality := quality(found)) > best_quality:
            best, best_lines, best_quality = turn, found, found_quality
    return turned_back(best_lines, best, (width, height))
