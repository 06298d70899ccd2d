"""Second looks: a region of the image that the first reading got wrong, read again.

The recogniser hands every extractor a :class:`Look` at the image (the extractor
contract, :mod:`.extract`). An extractor whose first reading found nothing usable (the
plate reader, when no plate; the bank card reader, when no number passing Luhn) names a
region in image pixels and gets back what the recogniser reads there as one line. A look
costs a recognition, so an extractor asks only when its first reading failed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from . import model
from .lines import Line


def _as_read(text: str) -> str:
    return text


@attrs.frozen
class Look:
    """Reads regions of ``image`` (an OpenCV BGR array) again; ``fold`` is applied to what
    it reads, as to the first reading's lines (:func:`.text.fold_document_text` on a
    mainland document)."""

    image: Any
    fold: Callable[[str], str] = _as_read
    #: every line read again, in order (shared by a look and its evolved copies)
    seen: list[Line] = attrs.field(factory=list, eq=False, repr=False)

    @property
    def width(self) -> float:
        return float(self.image.shape[1])

    def read(
        self,
        top: float,
        bottom: float,
        left: float,
        right: float,
        *,
        enlarge: float = 1.0,
        contrast: bool = False,
    ) -> Line | None:
        """The region read as one line (a box of the region); ``enlarge`` scales it up
        first (small type), ``contrast`` raises its local contrast (embossed digits on a
        busy background). None when the region is a sliver or nothing is read there."""
        crop = _crop(self.image, top, bottom, left, right)
        if crop is None:
            return None
        if enlarge != 1.0:
            crop = _enlarged(crop, enlarge)
        if contrast:
            crop = _contrasted(crop)
        read, score = model.read_line(crop)
        text = self.fold(read)
        if not text:
            return None
        line = Line(text, ((left, top), (right, top), (right, bottom), (left, bottom)), score)
        self.seen.append(line)
        return line


def _crop(image: Any, top: float, bottom: float, left: float, right: float) -> Any | None:
    height, width = image.shape[:2]
    t, b = max(0, int(top)), min(height, int(bottom) + 1)
    lft, r = max(0, int(left)), min(width, int(right) + 1)
    if b - t < 4 or r - lft < 4:
        return None
    return image[t:b, lft:r]


def _enlarged(crop: Any, factor: float) -> Any:
    import cv2

    return cv2.resize(crop, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)


def _contrasted(crop: Any) -> Any:
    """Local contrast raised (CLAHE on the lightness), colour kept for the recogniser."""
    import cv2

    lab = cv2.cvtColor(crop, cv2.COLOR_BGR2LAB)
    lightness, a, b = cv2.split(lab)
    lightness = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(4, 4)).apply(lightness)
    return cv2.cvtColor(cv2.merge((lightness, a, b)), cv2.COLOR_LAB2BGR)
