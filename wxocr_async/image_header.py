"""An image's pixel dimensions read from its header alone, to refuse decompression bombs.

A 692-byte JPEG can claim 30000×30000 pixels, and the decoder allocates for the claim
before reading a single pixel (5.9 GB). :func:`pixel_problem` reads the claim without
decoding and refuses images above :data:`MAX_IMAGE_PIXELS` or :data:`MAX_IMAGE_SIDE`,
and JPEGs of more than :data:`MAX_JPEG_SCANS` scans (each scan a pass over the image).

Formats: JPEG, PNG, GIF, BMP, TIFF and WEBP. HEIC is not read (it is not decoded here
either). Every reader checks each offset against the data: any bytes give a size or
None, never an exception, and every loop advances through the data or is capped.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterator
from typing import Literal

#: the most pixels an image may have (width * height): a 40 MP phone photo is the largest
#: document photo we accept; exactly this many is allowed
MAX_IMAGE_PIXELS = 40_000_000
#: the longest side in pixels; exactly this long is allowed
MAX_IMAGE_SIDE = 16_000
#: the most TIFF image file directories (pages) followed; a longer chain is not read
MAX_TIFF_IFDS = 64
#: the most scans a JPEG may have: a progressive photo has about ten, and each scan
#: costs a pass over every coefficient (8 000 repeated refinement scans in a 677 KB file
#: of 8000x5000 pixels kept a worker busy for three minutes)
MAX_JPEG_SCANS = 100

_Order = Literal["little", "big"]
_Size = tuple[int, int]

_UNREADABLE = "the image's dimensions cannot be read from its header"


class _Unreadable(Exception):
    """The header ends early or contradicts itself."""


def image_dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) the decoder would allocate for, read from the header only; None when
    the header cannot be read (unknown format, truncated, inconsistent) or claims a zero side.
    """
    size = _claimed_size(data)
    if size is None or min(size) <= 0:
        return None
    return size


def pixel_problem(data: bytes) -> str | None:
    """None when the image may be decoded; otherwise a short sentence saying why not.

    Allowed: at most :data:`MAX_IMAGE_PIXELS` pixels and :data:`MAX_IMAGE_SIDE` a side
    (both inclusive).
    """
    size = _claimed_size(data)
    if size is None:
        return _UNREADABLE
    width, height = size
    if width <= 0 or height <= 0:
        return f"the image claims {width}×{height} pixels: it has no pixels to decode"
    pixels = width * height
    if pixels <= MAX_IMAGE_PIXELS and max(width, height) <= MAX_IMAGE_SIDE:
        scans = jpeg_scans(data)
        if scans > MAX_JPEG_SCANS:
            return f"the JPEG has {scans} scans; at most {MAX_JPEG_SCANS} are decoded"
        return None
    return (
        f"the image claims {width}×{height} pixels ({_megapixels(pixels)} MP); at most "
        f"{_megapixels(MAX_IMAGE_PIXELS)} MP and {MAX_IMAGE_SIDE} px a side are decoded"
    )


def _megapixels(pixels: int) -> str:
    """Exact, without trailing zeros: 900, 40.005, 0.1."""
    whole, part = divmod(pixels, 1_000_000)
    return f"{whole}.{part:06d}".rstrip("0") if part else str(whole)


def _claimed_size(data: bytes) -> _Size | None:
    """The header's (width, height), which may include a zero; None if unreadable."""
    reader = _reader_for(data)
    if reader is None:
        return None
    try:
        return reader(data)
    except _Unreadable:
        return None


def _reader_for(data: bytes) -> Callable[[bytes], _Size | None] | None:
    """The reader for the format :func:`wxocr_async.images.sniff_image_type` would name."""
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png
    if data.startswith((b"GIF87a", b"GIF89a")):
        return _gif
    if data.startswith(b"BM"):
        return _bmp
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return _tiff
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp
    return None  # HEIC and anything else


def _uint(data: bytes, pos: int, size: int, order: _Order = "big", signed: bool = False) -> int:
    """The integer of ``size`` bytes at ``pos``; raises :class:`_Unreadable` past the end."""
    end = pos + size
    if pos < 0 or end > len(data):
        raise _Unreadable
    return int.from_bytes(data[pos:end], order, signed=signed)


# JPEG ---------------------------------------------------------------------------------

#: markers without a length: TEM, RST0-7, SOI
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8), 0xD8})
#: frame headers: SOF0-15 but DHT (C4), JPG (C8) and DAC (CC)
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_EOI, _JPEG_SOS = 0xD9, 0xDA
_NOT_FF = re.compile(rb"[^\xff]")
#: the most markers (and stuffed zeros) read before the frame header; real files have tens
_JPEG_MAX_MARKERS = 10_000


def _jpeg(data: bytes) -> _Size | None:
    """The first frame header's size, segments skipped by their lengths (as libjpeg)."""
    frame = _jpeg_frame(data)
    return None if frame is None else frame[0]


def _jpeg_frame(data: bytes) -> tuple[_Size, int] | None:
    """The first frame header's size, and where the header ends."""
    pos = 2  # after SOI
    for _ in range(_JPEG_MAX_MARKERS):
        marker, pos = _next_jpeg_marker(data, pos)
        if marker == 0 or marker in _JPEG_STANDALONE:
            continue
        if marker in (_JPEG_EOI, _JPEG_SOS):  # no frame header before the image data
            return None
        length = _uint(data, pos, 2)
        end = pos + length
        if length < 2 or end > len(data):
            return None
        if marker in _JPEG_SOF:
            if length < 8:  # length, precision, height, width, components
                return None
            height, width = _uint(data, pos + 3, 2), _uint(data, pos + 5, 2)
            return None if height == 0 else ((width, height), end)  # 0: set later by DNL
        pos = end
    return None


def jpeg_scans(data: bytes) -> int:
    """How many scans (SOS markers) follow a JPEG's frame header; 0 for anything else.
    Exact: in the entropy-coded data an 0xFF byte is always followed by a stuffed 0x00."""
    if not data.startswith(b"\xff\xd8"):
        return 0
    try:
        frame = _jpeg_frame(data)
    except _Unreadable:
        return 0
    return 0 if frame is None else data.count(b"\xff\xda", frame[1])


def _next_jpeg_marker(data: bytes, pos: int) -> tuple[int, int]:
    """(marker, position after it), as libjpeg's ``next_marker``: bytes before 0xFF are
    skipped as garbage, then 0xFF fill bytes. Marker 0 is a stuffed FF 00, not a marker:
    the caller goes on looking."""
    pos = data.find(b"\xff", pos)
    found = _NOT_FF.search(data, pos) if pos >= 0 else None
    if found is None:
        raise _Unreadable
    return data[found.start()], found.start() + 1


# PNG ----------------------------------------------------------------------------------


def _png(data: bytes) -> _Size | None:
    """IHDR, which must be the first chunk (13 bytes of data)."""
    if _uint(data, 8, 4) != 13 or data[12:16] != b"IHDR":
        return None
    _uint(data, 28, 1)  # the whole IHDR data is there
    return _uint(data, 16, 4), _uint(data, 20, 4)


# GIF ----------------------------------------------------------------------------------


def _gif(data: bytes) -> _Size | None:
    """The largest of the logical screen and every frame's extent (left+width, top+height).

    The screen descriptor must be complete. Frame descriptors are read until the trailer,
    the end of the data or a malformed block: a truncated or malformed stream gives the
    largest over the frames before it (the decoder cannot reach frames past it either).
    """
    width, height = _uint(data, 6, 2, "little"), _uint(data, 8, 2, "little")
    flags = _uint(data, 10, 1)
    _uint(data, 12, 1)  # the whole screen descriptor is there
    for right, bottom in _gif_frame_extents(data, 13 + _gif_colour_table(flags)):
        width, height = max(width, right), max(height, bottom)
    return width, height


def _gif_frame_extents(data: bytes, pos: int) -> Iterator[_Size]:
    """(left+width, top+height) of each whole image descriptor from ``pos``, until the
    trailer, the end of the data or a malformed block. Indexes ``data`` directly, not
    with _uint: a 64 MB GIF may hold tens of millions of blocks."""
    end = len(data)
    while pos < end:
        introducer = data[pos]
        if introducer == 0x2C:  # image descriptor: then a local colour table, LZW code size
            if pos + 10 > end:
                return
            left, top, width, height, flags = struct.unpack_from("<HHHHB", data, pos + 1)
            yield left + width, top + height
            pos += 10 + _gif_colour_table(flags) + 1
        elif introducer == 0x21:  # extension: introducer, label
            pos += 2
        else:  # the trailer (3B), or not a GIF block: decoding stops here
            return
        while pos < end and (size := data[pos]):  # data sub-blocks, to the empty one
            pos += 1 + size
        pos += 1


def _gif_colour_table(flags: int) -> int:
    """The size in bytes of the colour table a descriptor's flags announce."""
    return 3 << ((flags & 0x07) + 1) if flags & 0x80 else 0


# BMP ----------------------------------------------------------------------------------


def _bmp(data: bytes) -> _Size | None:
    """BITMAPCOREHEADER (16-bit sizes) or a later info header (signed 32-bit sizes; a
    negative height is a top-down bitmap). The whole info header must be there."""
    header_size = _uint(data, 14, 4, "little")
    _uint(data, 14 + header_size - 1, 1)  # the whole info header is there
    if header_size == 12:
        return _uint(data, 18, 2, "little"), _uint(data, 20, 2, "little")
    if header_size < 16:
        return None
    width = _uint(data, 18, 4, "little", signed=True)
    height = _uint(data, 22, 4, "little", signed=True)
    return None if width < 0 else (width, abs(height))


# TIFF ---------------------------------------------------------------------------------

_TIFF_WIDTH, _TIFF_LENGTH = 256, 257
_TIFF_SHORT, _TIFF_LONG = 3, 4


def _tiff(data: bytes) -> _Size | None:
    """The largest width and the largest height over every page (IFD) of a classic TIFF.

    At most :data:`MAX_TIFF_IFDS` IFDs are followed: a longer chain, or one that loops,
    is unreadable. Every page must have its ImageWidth and ImageLength.
    """
    order: _Order = "little" if data.startswith(b"II") else "big"
    offset = _uint(data, 4, 4, order)
    seen: set[int] = set()
    width = height = 0
    while offset != 0:
        if offset < 8 or offset in seen or len(seen) == MAX_TIFF_IFDS:
            return None
        seen.add(offset)
        page_width, page_height, offset = _tiff_ifd(data, offset, order)
        width, height = max(width, page_width), max(height, page_height)
    return (width, height) if seen else None


def _tiff_ifd(data: bytes, pos: int, order: _Order) -> tuple[int, int, int]:
    """(width, height, next IFD offset) of the IFD at ``pos``."""
    count = _uint(data, pos, 2, order)
    entries = pos + 2
    next_offset = _uint(data, entries + 12 * count, 4, order)  # every entry is there
    found: dict[int, int] = {}
    layout = "<HHI4s" if order == "little" else ">HHI4s"  # tag, type, count, value
    for tag, kind, values, value in struct.iter_unpack(
        layout, data[entries : entries + 12 * count]
    ):
        if tag in (_TIFF_WIDTH, _TIFF_LENGTH):  # a repeated tag: the largest value
            found[tag] = max(found.get(tag, 0), _tiff_size_value(kind, values, value, order))
    if _TIFF_WIDTH not in found or _TIFF_LENGTH not in found:
        raise _Unreadable
    return found[_TIFF_WIDTH], found[_TIFF_LENGTH], next_offset


def _tiff_size_value(kind: int, count: int, value: bytes, order: _Order) -> int:
    """The single SHORT or LONG value of an IFD entry."""
    if count != 1 or kind not in (_TIFF_SHORT, _TIFF_LONG):
        raise _Unreadable
    return _uint(value, 0, 2 if kind == _TIFF_SHORT else 4, order)


# WEBP ---------------------------------------------------------------------------------


def _webp(data: bytes) -> _Size | None:
    """The first chunk: VP8X (canvas), VP8 (lossy keyframe) or VP8L (lossless)."""
    chunk = data[12:16]
    if chunk == b"VP8X":  # flags, 3 reserved bytes, 24-bit canvas width-1 and height-1
        return _uint(data, 24, 3, "little") + 1, _uint(data, 27, 3, "little") + 1
    if chunk == b"VP8 ":  # 3-byte frame tag (bit 0: 0 for a keyframe), start code
        if _uint(data, 20, 1) & 1 or data[23:26] != b"\x9d\x01\x2a":
            return None
        return _uint(data, 26, 2, "little") & 0x3FFF, _uint(data, 28, 2, "little") & 0x3FFF
    if chunk == b"VP8L":  # signature, then 14-bit width-1 and height-1
        if _uint(data, 20, 1) != 0x2F:
            return None
        bits = _uint(data, 21, 4, "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None
