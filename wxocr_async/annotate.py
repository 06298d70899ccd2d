"""An image with what was read drawn on it: ``wxocr ENDPOINT IMAGE --annotate OUT.png``.

Every recognised line's box is drawn thin in blue, every field's box (the part of its
lines it was read from) in orange with the field's name beside it, as ``wxocr serve``'s
try-it page draws them. Needs Pillow (the ``[images]`` extra).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from .errors import InvalidInput
from .image_header import pixel_problem
from .inspection import Inspection, Quad
from .naming import Naming

if TYPE_CHECKING:
    from PIL import ImageFont

LINE_COLOUR = (37, 99, 235)
FIELD_COLOUR = (234, 88, 12)
REREAD_COLOUR = (124, 58, 237)


def annotated_png(image: bytes, found: Inspection, naming: Naming = "snake") -> bytes:
    """``image`` (the bytes recognised) with ``found``'s lines and field boxes drawn, as
    PNG bytes. The image is turned as its EXIF orientation says, as the engine and a
    browser read it, so that the boxes fall where they were read."""
    try:
        from PIL import Image, ImageDraw, ImageOps
    except ImportError:
        raise InvalidInput(
            "drawing an annotated image needs Pillow: pip install 'wxocr_async[images]'"
        ) from None
    problem = pixel_problem(image)
    if problem is not None:  # bounded before decoding, as everywhere else
        raise InvalidInput(f"cannot draw on the image: {problem}")
    try:
        with Image.open(io.BytesIO(image)) as opened:
            picture = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidInput(f"cannot draw on the image: {exc}") from None
    # a reply's positions are not trusted: far outside the image they cost Pillow seconds
    limit = 2 * max(picture.size)

    def inside(box: Quad) -> list[tuple[float, float]]:
        return [(min(max(x, -limit), limit), min(max(y, -limit), limit)) for x, y in box]

    scale = max(picture.size) / 1000
    thin, thick = max(1, round(1.5 * scale)), max(2, round(3 * scale))
    font = _font(max(12, round(18 * scale)))
    draw = ImageDraw.Draw(picture)
    for line in found.lines:
        colour = REREAD_COLOUR if line.reread else LINE_COLOUR
        draw.polygon(inside(line.box), outline=colour, width=thin)
    for field in found.fields:
        if field.box is None:
            continue
        box = inside(field.box)
        draw.polygon(box, outline=FIELD_COLOUR, width=thick)
        name = field.camel_path if naming == "camel" else field.path
        x = box[0][0]  # above its left-top corner
        y = min(p[1] for p in box)
        left, top, right, bottom = draw.textbbox((0, 0), name, font=font)
        height = bottom - top + 2 * thin
        at = (x, max(0.0, y - height - thin))
        draw.rectangle(
            (at[0], at[1], at[0] + right - left + 2 * thin, at[1] + height), fill=FIELD_COLOUR
        )
        draw.text((at[0] + thin - left, at[1] + thin - top), name, fill="white", font=font)
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont | Any:
    """Pillow's own font at ``size`` pixels (Pillow before 10.1 has one size only)."""
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:
        return ImageFont.load_default()


__all__ = ["annotated_png"]
