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


def load(image: object, *, shrink: bool = False) -> PreparedImage:
    """Read and check an image given as a path, bytes or a binary file object.

    Blocking for paths (the client calls it in a thread). With ``shrink``, an image of
    2 MB or more is re-encoded to fit (see :mod:`wxocr_async.shrink`) instead of refused.
    """
    data, name, source = _read(image, max_bytes=None if shrink else MAX_IMAGE_BYTES)
    if shrink and len(data) >= MAX_IMAGE_BYTES:
        from .shrink import shrink_to_fit

        stem = os.path.splitext(os.path.basename(name))[0] if name else "image"
        return check_image(shrink_to_fit(data), f"{stem}.jpg", source)
    return check_image(data, name, source)


def is_path(image: object) -> bool:
    return isinstance(image, (str, os.PathLike))


def _read(image: object, *, max_bytes: int | None) -> tuple[bytes, str | None, str]:
    if isinstance(image, (bytes, bytearray, memoryview)):
        return bytes(image), None, "image data"
    if is_path(image):
        return _read_path(Path(image), max_bytes)  # type: ignore[arg-type]
    read = getattr(image, "read", None)
    if callable(read):
        data = read()
        if not isinstance(data, (bytes, bytearray)):
            raise InvalidInput("image file object must be opened in binary mode ('rb')")
        name = getattr(image, "name", None)
        return bytes(data), name if isinstance(name, str) else None, "image file object"
    raise InvalidInput(
        f"image must be a path, bytes or a binary file object, not {type(image).__name__}"
    )


def _read_path(p: Path, max_bytes: int | None) -> tuple[bytes, str, str]:
    source = f"image file {str(p)!r}"
    try:
        if p.is_dir():
            raise InvalidInput(f"image path {str(p)!r} is a directory, not an image file")
        size = p.stat().st_size
        if max_bytes is not None and size >= max_bytes:  # refuse before reading a huge file
            raise _too_large(size, source)
        data = p.read_bytes()
    except FileNotFoundError as exc:
        raise InvalidInput(f"image file not found: {str(p)!r}") from exc
    except PermissionError as exc:
        raise InvalidInput(f"image file {str(p)!r} cannot be read: permission denied") from exc
    except OSError as exc:
        raise InvalidInput(f"image file {str(p)!r} cannot be read: {exc.strerror}") from exc
    return data, p.name, source
