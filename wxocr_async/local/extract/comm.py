"""Printed text (``cv/ocr/comm``): every line, in reading order, with its four corners."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..lines import Line, reading_order

_CORNERS = ("left_top", "right_top", "right_bottom", "left_bottom")


def extract(lines: Sequence[Line], size: tuple[int, int]) -> dict[str, Any]:
    items = [
        {
            "text": line.text,
            "pos": {
                corner: {"x": round(x), "y": round(y)}
                for corner, (x, y) in zip(_CORNERS, line.box, strict=True)
            },
        }
        for line in reading_order(lines)
    ]
    return {"items": items, "img_size": {"w": size[0], "h": size[1]}}
