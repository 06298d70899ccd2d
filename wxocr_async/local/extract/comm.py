"""通用印刷体 (/cv/ocr/comm): every line's text and corners, in reading order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wxocr_async.local.extract._cards_util import page_rows
from wxocr_async.local.lines import Line, Point

_CORNERS = ("left_top", "right_top", "right_bottom", "left_bottom")


def extract(lines: Sequence[Line], size: tuple[int, int]) -> dict[str, Any]:
    """All lines (an empty page gives no items; never NothingFound)."""
    items = [
        {"text": line.text, "pos": dict(zip(_CORNERS, map(point, line.box), strict=True))}
        for row in page_rows(lines)
        for line in (u.line for u in row)
        if line.text.strip()
    ]
    return {"items": items, "img_size": {"w": int(size[0]), "h": int(size[1])}}


def point(p: Point) -> dict[str, int]:
    return {"x": round(p[0]), "y": round(p[1])}
