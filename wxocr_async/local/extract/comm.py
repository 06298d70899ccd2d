"""通用印刷体 (/cv/ocr/comm): every line's text and corners, in reading order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wxocr_async.local.geometry import rows
from wxocr_async.local.lines import Line, Point
from wxocr_async.local.reread import Look

_CORNERS = ("left_top", "right_top", "right_bottom", "left_bottom")


def extract(
    lines: Sequence[Line], size: tuple[int, int], look: Look | None = None
) -> dict[str, Any]:
    """All lines (an empty page gives no items; never NothingFound)."""
    items = [
        {
            "text": paired_brackets(line.text),
            "pos": dict(zip(_CORNERS, map(point, line.box), strict=True)),
        }
        for row in rows(lines)
        for line in (u.line for u in row)
        if line.text.strip()
    ]
    return {"items": items, "img_size": {"w": int(size[0]), "h": int(size[1])}}


#: the two forms of each bracket: half width, full width
_BRACKETS = {"(": ("(", ")"), ")": ("(", ")"), "（": ("（", "）"), "）": ("（", "）")}


def paired_brackets(text: str) -> str:
    """Brackets as Chinese print sets them (GB/T 15834): full width around Chinese text;
    the recogniser reads them half width, or one of a pair in each width ("(2017年4月）").
    A bracket whose partner is on another line is full width beside Chinese text. A
    half-width pair around Latin text or digits alone ("(1)") is left alone."""
    chars, opened = list(text), []
    for index, char in enumerate(chars):
        if char in "(（":
            opened.append(index)
        elif char in ")）" and opened:
            start = opened.pop()
            inside = chars[start + 1 : index]
            if _BRACKETS[chars[start]] != _BRACKETS[char] or any(map(_is_han, inside)):
                chars[start], chars[index] = "（", "）"
        elif char == ")" and index and _is_han(chars[index - 1]):
            chars[index] = "）"  # its opening bracket is on the line before
    for start in opened:  # closed on the line after
        if chars[start] == "(" and _is_han("".join(chars[start + 1 : start + 2]) or " "):
            chars[start] = "（"
    return "".join(chars)


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def point(p: Point) -> dict[str, int]:
    return {"x": round(p[0]), "y": round(p[1])}
