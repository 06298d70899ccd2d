"""Field extraction: recognised lines → WeChat's reply fields, one module per endpoint.

Each module (named like the endpoint: ``idcard``, ``bankcard``, ``driving``,
``drivinglicense``, ``bizlicense``, ``comm``, ``platenum``, ``menu``) has
``extract(lines, size) -> dict`` and raises :class:`~wxocr_async.local.lines.NothingFound`
when the image holds no such document. The lines of a mainland document (a card, a
licence, a plate) reach it folded (:mod:`..glyphs`); printed text and menus as read.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import attrs

from ...endpoints import BY_NAME
from ..glyphs import MAINLAND_DOCUMENTS, fold_document_text
from ..lines import Line

#: the wire names of the eight endpoints, one extractor module each
ENDPOINT_NAMES = tuple(BY_NAME)


def extract(endpoint: str, lines: Sequence[Line], size: tuple[int, int]) -> dict[str, Any]:
    """The reply fields (no errcode/errmsg) ``endpoint`` gives for these lines."""
    if endpoint not in ENDPOINT_NAMES:
        raise KeyError(f"no extractor for {endpoint!r}")
    if endpoint in MAINLAND_DOCUMENTS:
        lines = [attrs.evolve(line, text=fold_document_text(line.text)) for line in lines]
    module = importlib.import_module(f"{__name__}.{endpoint}")
    fields: dict[str, Any] = module.extract(lines, size)
    return fields
