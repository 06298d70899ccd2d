"""Turning what the caller gives (a path, bytes, a binary file object) into an upload."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
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
        raise _too_large(source, len(data))
    sniffed = sniff_image_type(data)
    if sniffed is None:
        raise InvalidInput(
            f"{source} is not an image WeChat can read "
            "(expected JPEG, PNG, GIF, BMP, TIFF, WEBP or HEIC data)"
        )
    mime, ext = sniffed
    return PreparedImage(data, _safe_filename(filename, ext), mime)


def _too_large(source: str, size: int | None, cap: int = MAX_IMAGE_BYTES) -> ImageTooLarge:
    """``size``: the image's size, or None where reading stopped past ``cap``."""
    if cap > MAX_IMAGE_BYTES:
        amount = f"{size} bytes" if size is not None else f"more than {cap // 2**20} MB"
        return ImageTooLarge(f"{source} is {amount}; shrink_images reads at most {cap} bytes")
    amount = f"{size} bytes" if size is not None else "2 MB or more"
    # the message fits any reader (an HTTP reply, the CLI adds --shrink); the Python fix
    # is a note, shown with a traceback
    error = ImageTooLarge(
        f"{source} is {amount}; WeChat accepts images under 2 MB ({MAX_IMAGE_BYTES} bytes)"
    )
    error.add_note("OcrClient(shrink_images=True) re-encodes such an image to fit")
    return error


def _safe_filename(name: str | None, ext: str) -> str:
    base = os.path.basename(name) if name else ""
    if base and base.isascii() and base.isprintable() and not any(c in base for c in '"\\;'):
        return base
    return f"image.{ext}"


#: the most read from any source when ``shrink_images=True`` (re-encoded to fit WeChat)
MAX_SHRINK_INPUT_BYTES = 64 * 1024 * 1024
_READ_CHUNK = 1024 * 1024
_BYTES_LIKE = (bytes, bytearray, memoryview)


def load(image: object, *, shrink: bool = False) -> PreparedImage:
    """Read and check an image given as a path, bytes or a binary file object.

    Blocking for paths and file objects (the client calls it in a thread). Never reads
    more than the limit plus one byte: 2 MB, or :data:`MAX_SHRINK_INPUT_BYTES` with
    ``shrink``, where an image of 2 MB or more is re-encoded to fit (see
    :mod:`wxocr_async.shrink`) instead of refused.
    """
    cap = MAX_SHRINK_INPUT_BYTES if shrink else MAX_IMAGE_BYTES
    data, name, source = _read(image, cap)
    if len(data) > cap:  # read whole only if it was given as bytes
        raise _too_large(source, len(data) if isinstance(image, _BYTES_LIKE) else None, cap)
    if shrink and len(data) >= MAX_IMAGE_BYTES:
        from .shrink import shrink_to_fit

        stem = os.path.splitext(os.path.basename(name))[0] if name else "image"
        return check_image(shrink_to_fit(data), f"{stem}.jpg", source)
    return check_image(data, name, source)


def is_path(image: object) -> bool:
    return isinstance(image, (str, os.PathLike))


def is_file_object(image: object) -> bool:
    return not isinstance(image, _BYTES_LIKE) and callable(getattr(image, "read", None))


def _read(image: object, cap: int) -> tuple[bytes, str | None, str]:
    """``(data, filename, source)``; ``data`` is at most ``cap + 1`` bytes (one more than
    allowed: enough for check_image to refuse it as too large)."""
    if isinstance(image, _BYTES_LIKE):
        return bytes(image), None, "image data"
    if is_path(image):
        return _read_path(os.fspath(image), cap)  # type: ignore[call-overload]
    if is_file_object(image):
        name = getattr(image, "name", None)
        data = _read_file_object(image, cap)
        return data, name if isinstance(name, str) else None, "image file object"
    raise InvalidInput(
        f"image must be a path, bytes or a binary file object, not {type(image).__name__}"
    )


def _read_path(path: str | bytes, cap: int) -> tuple[bytes, str, str]:
    shown = os.fsdecode(path)
    source = f"image file {shown!r}"
    if "\0" in shown:
        raise InvalidInput(f"image path {shown!r} contains a NUL byte")
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; only regular files are read
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise InvalidInput(f"image file not found: {shown!r}") from exc
    except IsADirectoryError as exc:
        raise InvalidInput(f"image path {shown!r} is a directory, not an image file") from exc
    except PermissionError as exc:
        raise InvalidInput(f"image file {shown!r} cannot be read: permission denied") from exc
    except OSError as exc:
        raise InvalidInput(f"image file {shown!r} cannot be read: {exc.strerror}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInput(f"image path {shown!r} is {_kind(info.st_mode)}, not a regular file")
        if info.st_size > cap:  # refuse before reading a huge file
            raise _too_large(source, info.st_size, cap)
        with os.fdopen(fd, "rb", buffering=0, closefd=False) as f:  # no read-ahead
            data = _read_capped(f.read, cap)
    except OSError as exc:
        reason = exc.strerror or exc
        raise InvalidInput(f"image file {shown!r} cannot be read: {reason}") from exc
    finally:
        os.close(fd)
    return data, os.path.basename(shown), source


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _read_file_object(f: object, cap: int) -> bytes:
    read = f.read  # type: ignore[attr-defined]
    try:
        return _read_capped(read, cap)
    except InvalidInput:
        raise
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise InvalidInput(f"image file object cannot be read: {reason}") from exc
    except TypeError as exc:  # read() without a size: it could only be read unboundedly
        raise InvalidInput(
            f"image file object cannot be read with read(size), as a binary file can: {exc}"
        ) from exc
    except Exception as exc:  # ValueError on a closed file; anything its read() raises
        raise InvalidInput(
            f"image file object cannot be read: {str(exc) or type(exc).__name__}"
        ) from exc


def _read_capped(read: Callable[[int], object], cap: int) -> bytes:
    """At most ``cap + 1`` bytes from ``read`` (short reads are read again)."""
    parts: list[bytes] = []
    total = 0
    while total <= cap:
        chunk = read(min(_READ_CHUNK, cap + 1 - total))
        if chunk is None:  # a non-blocking source with nothing to give now
            raise InvalidInput("image file object is non-blocking and had no data ready")
        if not isinstance(chunk, _BYTES_LIKE):
            raise InvalidInput("image file object must be opened in binary mode ('rb')")
        if not chunk:
            break
        parts.append(bytes(chunk))
        total += len(chunk)
    return b"".join(parts)
