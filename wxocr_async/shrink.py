"""Opt-in: re-encode (and if needed downscale) an image of 2 MB or more so WeChat takes it.

Needs Pillow (``pip install 'wxocr_async[images]'``). The result is a JPEG of quality
at least 60, scaled down in steps of 3/4 only as far as needed, so text stays readable.
"""

from __future__ import annotations

import io

from .errors import ImageTooLarge, InvalidInput
from .images import MAX_IMAGE_BYTES

QUALITIES = (90, 80, 70, 60)
MIN_SIDE = 320


def pillow_available() -> bool:
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        return False
    return True


def shrink_to_fit(data: bytes, limit: int = MAX_IMAGE_BYTES) -> bytes:
    """JPEG bytes under ``limit`` showing the same picture (blocking: run it in a thread)."""
    try:
        from PIL import Image, ImageOps
    except ImportError as exc:
        raise InvalidInput(
            "shrinking images needs Pillow: pip install 'wxocr_async[images]'"
        ) from exc
    try:
        opened = Image.open(io.BytesIO(data))
        opened.load()
    except Exception as exc:  # Pillow raises many kinds for unreadable data
        raise InvalidInput(f"image data cannot be decoded to shrink it: {exc}") from exc
    picture: Image.Image = ImageOps.exif_transpose(opened)
    if picture.mode not in ("RGB", "L"):
        picture = picture.convert("RGB")
    scaled = picture
    while True:
        for quality in QUALITIES:
            out = io.BytesIO()
            scaled.save(out, format="JPEG", quality=quality, optimize=True)
            if out.tell() < limit:
                return out.getvalue()
        width, height = scaled.size
        if min(width, height) * 3 // 4 < MIN_SIDE:
            raise ImageTooLarge(
                f"image could not be shrunk under 2 MB without going below {MIN_SIDE} px"
            )
        scaled = picture.resize((width * 3 // 4, height * 3 // 4), Image.Resampling.LANCZOS)
        picture = scaled
