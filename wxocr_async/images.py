"""Turning what the caller gives (a path, bytes, a binary file object) into an upload."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, TypeAlias

import attrs

from .errors import ImageTooLarge, InvalidInput

#: WeChat refuses images of 2 MB or more ("文件大小限制：小于2M")
MAX_IMAGE_BYTES = 2 * 1024 * 1024

ImageInput: TypeAlias = "str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]"

# magic bytes -> (MIME type, file extension)
_SIGNATURES: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", "png"),
    (b"GIF87a", 0, "image/gif", "gif"),
    (b"GIF89a", 0, "image/gif", "gif"),
    (b"BM", 0, "image/bmp", "bmp"),
    (b"II*\x00", 0, "image/tiff", "tif"),
    (b"MM\x00*", 0, "image/tiff", "tif"),
)


@attrs.frozen
class PreparedImage:
    """Image bytes ready to upload, with the filename and MIME type to send."""

    data: bytes = attrs.field(repr=lambda d: f"<{len(d)} bytes>")
    filename: str
    content_type: str


def sniff_image_type(data: bytes) -> tuple[str, str] | None:
    """``(MIME type, extension)`` from the first bytes, or None if not a known image format."""
    for magic, offset, mime, ext in _SIGNATURES:
        if data.startswith(magic, offset):
            return mime, ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1"):
        return "image/heic", "heic"
    return None


def check_image(data: bytes, filename: str | None, source: str) -> PreparedImage:
    """Validate bytes as an image WeChat will accept; ``source`` names it in errors."""
    if not data:
        raise InvalidInput(f"{source} is empty: there is no image to recognise")
    if len(data) >= MAX_IMAGE_BYTES:
        raise _too_large(len(data), source)
    sniffed = sniff_image_type(data)
    if sniffed is None:
        raise InvalidInput(
            f"{source} is not an image WeChat can read "
            "(expected JPEG, PNG, GIF, BMP, TIFF, WEBP or HEIC data)"
        )
    mime, ext = sniffed
    return PreparedImage(data, _safe_filename(filename, ext), mime)


def _too_large(size: int, source: str) -> ImageTooLarge:
    return ImageTooLarge(
        f"{source} is {size} bytes; WeChat accepts images under 2 MB "
        f"({MAX_IMAGE_BYTES} bytes): shrink or re-encode it first"
    )


def _safe_filename(name: str | None, ext: str) -> str:
    base = os.path.basename(name) if name else ""
    if base and base.isascii() and base.isprintable() and not any(c in base for c in '"\\;'):
        return base
    return f"image.{ext}"


def read_path(path: str | os.PathLike[str]) -> PreparedImage:
    """Read and check an image file (blocking: the client calls it in a thread)."""
    p = Path(path)
    source = f"image file {str(p)!r}"
    try:
        if p.is_dir():
            raise InvalidInput(f"image path {str(p)!r} is a directory, not an image file")
        size = p.stat().st_size
        if size >= MAX_IMAGE_BYTES:  # refuse before reading a huge file
            raise _too_large(size, source)
        data = p.read_bytes()
    except FileNotFoundError as exc:
        raise InvalidInput(f"image file not found: {str(p)!r}") from exc
    except PermissionError as exc:
        raise InvalidInput(f"image file {str(p)!r} cannot be read: permission denied") from exc
    except OSError as exc:
        raise InvalidInput(f"image file {str(p)!r} cannot be read: {exc.strerror}") from exc
    return check_image(data, p.name, source)


def read_object(image: object) -> PreparedImage | None:
    """Check in-memory bytes or a binary file object; None if ``image`` is a path."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        return check_image(bytes(image), None, "image data")
    read = getattr(image, "read", None)
    if callable(read):
        data = read()
        if not isinstance(data, (bytes, bytearray)):
            raise InvalidInput("image file object must be opened in binary mode ('rb')")
        name = getattr(image, "name", None)
        return check_image(
            bytes(data), name if isinstance(name, str) else None, "image file object"
        )
    if isinstance(image, (str, os.PathLike)):
        return None
    raise InvalidInput(
        f"image must be a path, bytes or a binary file object, not {type(image).__name__}"
    )
