"""Decompression bombs: small images whose headers claim huge pixel dimensions.

Each builder returns bytes that :func:`wxocr_async.images.sniff_image_type` recognises and
that are a valid small image but for the claimed size (a decoder would allocate for the
claim). Any size can be asked for, so they also make legitimate headers (4000×3000).
Never decode one with Pillow or OpenCV: that allocation is what they are for.
"""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache
from typing import Literal

from PIL import Image

BOMB_WIDTH = BOMB_HEIGHT = 30_000


@cache
def _small(fmt: str, mode: str = "RGB", size: tuple[int, int] = (8, 8), **params: object) -> bytes:
    """A small image saved by Pillow (half transparent in RGBA)."""
    out = io.BytesIO()
    Image.new(mode, size, (255, 255, 255, 128)[: len(mode)]).save(out, fmt, **params)
    return out.getvalue()


def _patch(data: bytes, pos: int, fmt: str, *values: int) -> bytes:
    return data[:pos] + struct.pack(fmt, *values) + data[pos + struct.calcsize(fmt) :]


def jpeg_bomb(width: int = BOMB_WIDTH, height: int = BOMB_HEIGHT) -> bytes:
    """An 8×8 baseline JPEG from Pillow whose SOF0 claims ``width``×``height`` (~630 bytes)."""
    data = _small("JPEG")
    pos = 2
    while data[pos + 1] != 0xC0:  # Pillow's segments: no fill bytes, SOF0 before SOS
        pos += 2 + struct.unpack_from(">H", data, pos + 2)[0]
    return _patch(data, pos + 5, ">HH", height, width)


def png_bomb(width: int = BOMB_WIDTH, height: int = BOMB_HEIGHT) -> bytes:
    """An 8×8 PNG from Pillow whose IHDR (with its CRC recomputed) claims the size."""
    data = _patch(_small("PNG"), 16, ">II", width, height)
    return _patch(data, 29, ">I", zlib.crc32(data[12:29]))


def gif_bomb(
    width: int = BOMB_WIDTH,
    height: int = BOMB_HEIGHT,
    *,
    where: Literal["screen", "frame", "offset"] = "frame",
) -> bytes:
    """A 1×1 one-frame GIF from Pillow claiming ``width``×``height`` (at most 65535 each)
    by its logical screen (``"screen"``), by its frame descriptor (``"frame"``), or by
    placing its 1×1 frame at (width-1, height-1) (``"offset"``); the rest stays 1×1."""
    data = _small("GIF", size=(1, 1))
    pos = data.index(struct.pack("<BHHHH", 0x2C, 0, 0, 1, 1))  # the image descriptor
    if where == "screen":
        return _patch(data, 6, "<HH", width, height)
    if where == "frame":
        return _patch(data, pos + 5, "<HH", width, height)
    return _patch(data, pos + 1, "<HH", width - 1, height - 1)


def bmp_bomb(
    width: int = BOMB_WIDTH, height: int = BOMB_HEIGHT, *, top_down: bool = False
) -> bytes:
    """An 8×8 BMP (BITMAPINFOHEADER) from Pillow claiming the size; ``top_down``: the
    height is stored negative."""
    return _patch(_small("BMP"), 18, "<ii", width, -height if top_down else height)


def tiff_pages(
    sizes: list[tuple[int, int]], *, byte_order: Literal["<", ">"] = "<", short: bool = False
) -> bytes:
    """A classic TIFF with one 8-bit grey page per (width, height), each with a single
    8-byte strip whatever its claimed size; ``short``: sizes as SHORT rather than LONG."""
    pixels = b"\x80" * 8
    mark = b"II" if byte_order == "<" else b"MM"
    out = bytearray(struct.pack(f"{byte_order}2sHI", mark, 42, 8))
    for index, (width, height) in enumerate(sizes):
        ifd = len(out)
        entries = [
            (256, 3 if short else 4, width),
            (257, 3 if short else 4, height),
            (258, 3, 8),  # BitsPerSample
            (259, 3, 1),  # Compression: none
            (262, 3, 1),  # PhotometricInterpretation: black is zero
            (273, 4, ifd + 2 + 12 * 9 + 4),  # StripOffsets: just after this IFD
            (277, 3, 1),  # SamplesPerPixel
            (278, 4, height),  # RowsPerStrip
            (279, 4, len(pixels)),  # StripByteCounts
        ]
        out += struct.pack(f"{byte_order}H", len(entries))
        for tag, kind, value in entries:
            packed = struct.pack(f"{byte_order}{'H' if kind == 3 else 'I'}", value)
            out += struct.pack(f"{byte_order}HHI", tag, kind, 1) + packed.ljust(4, b"\0")
        last = index == len(sizes) - 1
        out += struct.pack(f"{byte_order}I", 0 if last else ifd + 2 + 12 * 9 + 4 + len(pixels))
        out += pixels
    return bytes(out)


def tiff_bomb(
    width: int = BOMB_WIDTH, height: int = BOMB_HEIGHT, *, byte_order: Literal["<", ">"] = "<"
) -> bytes:
    """A two-page TIFF: a 1×1 first page, and a second page claiming the size."""
    return tiff_pages([(1, 1), (width, height)], byte_order=byte_order)


def webp_bomb(
    width: int = BOMB_WIDTH,
    height: int = BOMB_HEIGHT,
    *,
    kind: Literal["extended", "lossy", "lossless"] = "extended",
) -> bytes:
    """An 8×8 WEBP from Pillow claiming the size: in its VP8X canvas (``"extended"``, up to
    2**24 a side; the 8×8 bitstream inside is left as it is), its VP8 keyframe
    (``"lossy"``, up to 16383) or its VP8L header (``"lossless"``, up to 16384)."""
    if kind == "extended":
        data = _small("WEBP", "RGBA")
        assert data[12:16] == b"VP8X"
        canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        return data[:24] + canvas + data[30:]
    if kind == "lossy":
        data = _small("WEBP")
        assert data[12:16] == b"VP8 " and max(width, height) < 2**14
        return _patch(data, 26, "<HH", width, height)
    data = _small("WEBP", lossless=True)
    assert data[12:16] == b"VP8L" and max(width, height) <= 2**14
    bits = struct.unpack_from("<I", data, 21)[0] & ~((1 << 28) - 1)
    return _patch(data, 21, "<I", bits | (width - 1) | (height - 1) << 14)


def jpeg_scan_bomb(width: int = 64, height: int = 64, scans: int = 500) -> bytes:
    """A progressive JPEG of allowed dimensions whose last scan is repeated until it has
    about ``scans`` scans: each is another pass over every coefficient (a decoder's time,
    not its memory)."""
    data = _small("JPEG", "L", (width, height), progressive=True)
    end = data.rindex(b"\xff\xd9")
    last = data.rindex(b"\xff\xda", 0, end)
    have = data.count(b"\xff\xda")
    return data[:end] + data[last:end] * max(0, scans - have) + data[end:]
