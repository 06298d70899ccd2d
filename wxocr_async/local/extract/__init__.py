"""Field extraction: recognised lines → WeChat's reply fields, one module per endpoint.

Each module (named like the endpoint: ``idcard``, ``bankcard``, ``driving``,
``drivinglicense``, ``bizlicense``, ``comm``, ``platenum``, ``menu``) has
``extract(lines, size, look=None) -> dict`` and raises
:class:`~wxocr_async.local.lines.NothingFound` when the image holds no such document.
``look`` (:class:`~wxocr_async.local.reread.Look`) lets an extractor have a region of the
image read again when its first reading found nothing usable; the plate and bank card
readers do, the others need no second look. The lines of a mainland document (a card, a
licence, a plate) reach it folded (:func:`~wxocr_async.local.text.fold_document_text`),
and so does what a look reads there; printed text and menus as read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from ..lines import Line
from ..reread import Look
from ..text import MAINLAND_DOCUMENTS, fold_document_text
from . import bankcard, bizlicense, comm, driving, drivinglicense, idcard, menu, platenum

Extractor = Callable[[Sequence[Line], tuple[int, int], Look | None], dict[str, Any]]

#: each endpoint's extractor, by its wire name
EXTRACTORS: dict[str, Extractor] = {
    "idcard": idcard.extract,
    "bankcard": bankcard.extract,
    "driving": driving.extract,
    "drivinglicense": drivinglicense.extract,
    "bizlicense": bizlicense.extract,
    "comm": comm.extract,
    "platenum": platenum.extract,
    "menu": menu.extract,
}


def extract(
    endpoint: str, lines: Sequence[Line], size: tuple[int, int], look: Look | None = None
) -> dict[str, Any]:
    """The reply fields (no errcode/errmsg) ``endpoint`` gives for these lines, with a
    second look at the image where the extractor wants one and ``look`` is given."""
    if endpoint not in EXTRACTORS:
        raise KeyError(f"no extractor for {endpoint!r}")
    if endpoint in MAINLAND_DOCUMENTS:
        lines = [attrs.evolve(line, text=fold_document_text(line.text)) for line in lines]
        if look is not None:
            look = attrs.evolve(look, fold=fold_document_text)
    return EXTRACTORS[endpoint](lines, size, look)
