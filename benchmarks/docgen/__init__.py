"""Synthetic Chinese documents with their exact WeChat OCR replies, for measuring a local engine.

``generate(kind, seed, style)`` draws one fake document of ``kind`` and returns the RGB image
and the reply fields (snake_case, no errcode/errmsg) a perfect recogniser returns for it.
The same seed gives the same document in both styles: "clean" is a flat scan, "photo" puts it
on a desk, tilted, in perspective, blurred, noisy and dimly lit.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from . import _cards, _papers
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

Renderer = Callable[[random.Random], tuple[Image.Image, dict[str, Any]]]
_RENDERERS: dict[str, Renderer] = {
    "idcard_front": _cards.idcard_front,
    "idcard_back": _cards.idcard_back,
    "bankcard": _cards.bankcard,
    "platenum": _cards.platenum,
    "driving": _papers.driving,
    "drivinglicense": _papers.drivinglicense,
    "bizlicense": _papers.bizlicense,
    "comm": _papers.comm,
    "menu": _papers.menu,
}


def generate(kind: str, seed: int, style: str = "clean") -> tuple[Image.Image, dict[str, Any]]:
    """One document of ``kind`` and its truth; deterministic in (kind, seed, style)."""
    if kind not in _RENDERERS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; expected clean or photo")
    image, truth = _RENDERERS[kind](random.Random(f"docgen:{kind}:{seed}"))
    if style == "photo":
        rng = random.Random(f"docgen:{kind}:{seed}:photo")
        np_rng = np.random.default_rng(rng.getrandbits(64))
        image, forward = photograph(image, rng, np_rng, scene=kind == "platenum")
        move_positions(truth, forward, image.size)
    return image.convert("RGB"), truth


__all__ = ["KINDS", "STYLES", "generate"]
