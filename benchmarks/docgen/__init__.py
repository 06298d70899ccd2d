"""Synthetic Chinese documents with their exact WeChat OCR replies, for measuring a local engine.

``generate(kind, seed, style, layout)`` draws one fake document of ``kind`` and returns the RGB
image and the reply fields (snake_case, no errcode/errmsg) a perfect recogniser returns for it.
The same seed gives the same document in both styles: "clean" is a flat scan, "photo" puts it
on a desk, tilted, in perspective, blurred, noisy and dimly lit.

``layout`` picks a variation of the kind (``LAYOUTS`` lists them; every kind has "standard",
the default, whose output never changes). Each other layout draws from its own random stream,
so (kind, seed, layout) is one document, unrelated to the standard one of that seed:

- menu "two_column": 12-20 dishes in two compact columns, name ... price, with a narrow
  gutter (40-80 px) between the left column's prices and the right column's names.
- menu "price_column": a table, names on the left and prices right-aligned in a column far
  to the right, optional …… leaders, heading and rules; some prices printed ¥12 or 12元
  (the truth price is the number).
- idcard_front, driving, drivinglicense, bizlicense "wrapped_address": an address (with
  street and community) long enough to print over two lines (three on the ID card) of its
  field, continuation lines under the value's first character; the truth holds it whole.

``render`` returns the same image and truth plus debug facts about the drawing, no part of
the reply: "address_lines" (the text and ink box of each printed address line) for the four
kinds above, "rows" (name and price ink boxes, column, printed price) for menus. Boxes are in
the flat document's pixels, also for the photo style.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from PIL import Image

from . import _cards, _menus, _papers
from ._draw import Drawn
from ._photo import move_positions, photograph

KINDS = (
    "idcard_front",
    "idcard_back",
    "bankcard",
    "driving",
    "drivinglicense",
    "bizlicense",
    "comm",
    "platenum",
    "menu",
)
STYLES = ("clean", "photo")
STANDARD = "standard"
LAYOUTS: dict[str, tuple[str, ...]] = {
    "idcard_front": (STANDARD, "wrapped_address"),
    "idcard_back": (STANDARD,),
    "bankcard": (STANDARD,),
    "driving": (STANDARD, "wrapped_address"),
    "drivinglicense": (STANDARD, "wrapped_address"),
    "bizlicense": (STANDARD, "wrapped_address"),
    "comm": (STANDARD,),
    "platenum": (STANDARD,),
    "menu": (STANDARD, "two_column", "price_column"),
}

Renderer = Callable[[random.Random, str], Drawn]


def _standard_only(
    draw: Callable[[random.Random], tuple[Image.Image, dict[str, Any]]],
) -> Renderer:
    def render(rng: random.Random, layout: str) -> Drawn:
        image, truth = draw(rng)
        return image, truth, {}

    return render


_RENDERERS: dict[str, Renderer] = {
    "idcard_front": _cards.idcard_front,
    "idcard_back": _standard_only(_cards.idcard_back),
    "bankcard": _standard_only(_cards.bankcard),
    "platenum": _standard_only(_cards.platenum),
    "driving": _papers.driving,
    "drivinglicense": _papers.drivinglicense,
    "bizlicense": _papers.bizlicense,
    "comm": _standard_only(_papers.comm),
    "menu": _menus.menu,
}


class Document(NamedTuple):
    image: Image.Image
    truth: dict[str, Any]
    debug: dict[str, Any]


def render(kind: str, seed: int, style: str = "clean", layout: str = STANDARD) -> Document:
    """One document of ``kind`` in ``layout``, its truth and debug facts about the drawing;
    deterministic in (kind, seed, style, layout)."""
    if kind not in _RENDERERS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; expected clean or photo")
    if layout not in LAYOUTS[kind]:
        raise ValueError(
            f"unknown layout {layout!r} for {kind}; expected one of {', '.join(LAYOUTS[kind])}"
        )
    stream = f"docgen:{kind}:{seed}" if layout == STANDARD else f"docgen:{kind}:{seed}:{layout}"
    image, truth, debug = _RENDERERS[kind](random.Random(stream), layout)
    if style == "photo":
        rng = random.Random(f"{stream}:photo")
        np_rng = np.random.default_rng(rng.getrandbits(64))
        image, forward = photograph(image, rng, np_rng, scene=kind == "platenum")
        move_positions(truth, forward, image.size)
    return Document(image.convert("RGB"), truth, debug)


def generate(
    kind: str, seed: int, style: str = "clean", layout: str = STANDARD
) -> tuple[Image.Image, dict[str, Any]]:
    """One document of ``kind`` and its truth; deterministic in (kind, seed, style, layout)."""
    image, truth, _ = render(kind, seed, style, layout)
    return image, truth


__all__ = ["KINDS", "LAYOUTS", "STANDARD", "STYLES", "Document", "generate", "render"]
