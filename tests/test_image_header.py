"""Pixel dimensions from the header alone: real images agree with Pillow, bombs are refused.

Pillow opens only legitimate images here (opening reads the header; small ones are
decoded too); a bomb is never decoded by anything.
"""

from __future__ import annotations

import io
import itertools
import struct
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from wxocr_async.image_header import (
    MAX_IMAGE_PIXELS,
    MAX_IMAGE_SIDE,
    MAX_TIFF_IFDS,
    image_dimensions,
    pixel_problem,
)
from wxocr_async.images import sniff_image_type

from .bombs import (
    bmp_bomb,
    gif_bomb,
    jpeg_bomb,
    png_bomb,
    tiff_bomb,
    tiff_pages,
    webp_bomb,
)
from .conftest import ROOT

SIZES = [(1, 1), (37, 53), (640, 480), (4000, 3000)]
UNREADABLE = "the image's dimensions cannot be read from its header"


def save(image: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def picture(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Not a single colour: a gradient, so encoders cannot shortcut."""
    return Image.linear_gradient("L").resize(size).convert(mode)


def pillow_size(data: bytes) -> tuple[int, int]:
    """The largest width and height over every frame or page, as Pillow reads them."""
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        for frame in range(1, getattr(image, "n_frames", 1)):
            image.seek(frame)
            width, height = max(width, image.size[0]), max(height, image.size[1])
    return width, height


def assert_read(data: bytes, expected: tuple[int, int] | None = None) -> None:
    """image_dimensions agrees with Pillow (and ``expected``), and the image passes."""
    assert sniff_image_type(data) is not None
    size = pillow_size(data)
    assert image_dimensions(data) == size
    if expected is not None:
        assert size == expected
    assert pixel_problem(data) is None


def jpeg_segments(data: bytes) -> list[tuple[int, int]]:
    """(position, marker) of a Pillow JPEG's segments up to SOS (no fill bytes there)."""
    segments, pos = [], 2
    while data[pos + 1] != 0xDA:
        segments.append((pos, data[pos + 1]))
        pos += 2 + struct.unpack_from(">H", data, pos + 2)[0]
    return segments


def sof_position(data: bytes) -> int:
    return next(pos for pos, marker in jpeg_segments(data) if marker in (0xC0, 0xC1, 0xC2))


def sof_end(data: bytes) -> int:
    pos = sof_position(data)
    return pos + 2 + int(struct.unpack_from(">H", data, pos + 2)[0])


# JPEG ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    "params",
    [{}, {"progressive": True}, {"quality": 95, "subsampling": 0}, {"optimize": True}],
    ids=["baseline", "progressive", "q95-444", "optimized"],
)
def test_jpeg(size: tuple[int, int], params: dict[str, Any]) -> None:
    data = save(picture(size), "JPEG", **params)
    assert data[sof_position(data) + 1] == (0xC2 if params.get("progressive") else 0xC0)
    assert_read(data, size)


@pytest.mark.parametrize("mode", ["L", "CMYK"])
def test_jpeg_grey_and_cmyk(mode: str) -> None:
    assert_read(save(picture((37, 53), mode), "JPEG"), (37, 53))


def exif_with_thumbnail(thumbnail: bytes) -> bytes:
    """An APP1 Exif segment: IFD0 empty, IFD1 pointing at an embedded JPEG thumbnail."""
    thumbnail_at = 8 + 6 + 2 + 2 * 12 + 4
    tiff = b"II*\x00" + struct.pack("<IHI", 8, 0, 14)
    tiff += struct.pack("<H", 2)
    tiff += struct.pack("<HHII", 0x0201, 4, 1, thumbnail_at)  # JPEGInterchangeFormat
    tiff += struct.pack("<HHII", 0x0202, 4, 1, len(thumbnail))  # ...Length
    tiff += struct.pack("<I", 0) + thumbnail
    body = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", 2 + len(body)) + body


@pytest.mark.parametrize(("size", "thumbnail"), [((640, 480), (160, 120)), ((37, 53), (640, 480))])
def test_jpeg_exif_thumbnail_is_skipped(size: tuple[int, int], thumbnail: tuple[int, int]) -> None:
    """The thumbnail (with its own SOF, SOS and EOI) lies inside APP1: skipped by length."""
    main = save(picture(size), "JPEG")
    data = main[:2] + exif_with_thumbnail(save(picture(thumbnail), "JPEG")) + main[2:]
    with Image.open(io.BytesIO(data)) as image:
        assert image.info["exif"].startswith(b"Exif\x00\x00II*")
    assert_read(data, size)


def test_jpeg_pillow_exif_and_icc() -> None:
    image = picture((37, 53))
    exif = image.getexif()
    exif[0x010F] = "wxocr"  # Make
    exif[0x0112] = 6  # Orientation: the stored size is what is decoded
    data = save(image, "JPEG", exif=exif, icc_profile=b"\x00" * 2000)
    assert_read(data, (37, 53))


@pytest.mark.parametrize(
    "inserted",
    [b"\xff\xff\xff", b"\xff\xd0", b"\x00\x12", b"\xff\x00"],
    ids=["fill-bytes", "RST0", "garbage", "stuffed-zero"],
)
def test_jpeg_before_the_frame_header(inserted: bytes) -> None:
    """What libjpeg (and Pillow) skip before a marker: fill bytes, RSTn, stray bytes."""
    data = save(picture((37, 53)), "JPEG")
    pos = sof_position(data)
    assert_read(data[:pos] + inserted + data[pos:], (37, 53))


def test_jpeg_standalone_markers() -> None:
    """TEM and a repeated SOI have no length (Pillow does not open TEM: not compared)."""
    data = save(picture((37, 53)), "JPEG")
    pos = sof_position(data)
    assert image_dimensions(data[:pos] + b"\xff\x01\xff\xd8\xff\xd7" + data[pos:]) == (37, 53)


def test_jpeg_without_frame_header() -> None:
    data = save(picture((37, 53)), "JPEG")
    pos, end = sof_position(data), sof_end(data)
    without_sof = data[:pos] + data[end:]
    assert image_dimensions(without_sof) is None  # SOS comes first
    assert image_dimensions(data[:pos] + b"\xff\xd9") is None  # EOI
    assert image_dimensions(data[:pos] + b"\xff\xc4\x00\x01" + data[pos:]) is None  # length 1
    dnl = data[: pos + 5] + b"\x00\x00" + data[pos + 7 :]  # height 0: given later by DNL
    assert image_dimensions(dnl) is None
    assert pixel_problem(dnl) == UNREADABLE


def test_jpeg_first_frame_header_counts() -> None:
    """libjpeg refuses a second SOF (JERR_SOF_DUPLICATE): only the first is allocated for."""
    data, bomb = save(picture((37, 53)), "JPEG"), jpeg_bomb()
    pos, end = sof_position(data), sof_end(data)
    second_sof = bomb[sof_position(bomb) : sof_end(bomb)]
    assert image_dimensions(data[:end] + second_sof + data[end:]) == (37, 53)
    assert image_dimensions(data[:pos] + second_sof + data[pos:]) == (30000, 30000)


def test_jpeg_markers_before_the_frame_header_are_capped() -> None:
    """Real files have tens of segments before the frame header; 10_000 markers, stuffed
    zeros included, is the most read (libjpeg would go on: refusing is the safe side)."""
    bomb = jpeg_bomb()
    assert image_dimensions(bomb[:2] + b"\xff\x01" * 9_000 + bomb[2:]) == (30000, 30000)
    assert image_dimensions(bomb[:2] + b"\xff\x01" * 10_000 + bomb[2:]) is None
    assert image_dimensions(bomb[:2] + b"\xff\x00" * 10_000 + bomb[2:]) is None
    empty_app = b"\xff\xe0\x00\x02"
    assert image_dimensions(bomb[:2] + empty_app * 10_000 + bomb[2:]) is None
    # a long run of fill bytes is one marker
    assert image_dimensions(bomb[:2] + b"\xff" * 100_000 + bomb[2:]) == (30000, 30000)


# PNG ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "mode"),
    [
        *((size, mode) for size in SIZES[:3] for mode in ["RGB", "RGBA", "L", "P", "1"]),
        (SIZES[3], "RGB"),
    ],
)
def test_png(size: tuple[int, int], mode: str) -> None:
    assert_read(save(picture(size, mode), "PNG"), size)


def test_png_ihdr_must_come_first() -> None:
    data = save(picture((37, 53)), "PNG")
    chunk = struct.pack(">I", 4) + b"tEXt" + b"a\x00bc" + b"\x00" * 4
    assert image_dimensions(data[:8] + chunk + data[8:]) is None
    assert image_dimensions(data[:12] + b"IHDX" + data[16:]) is None
    assert image_dimensions(data[:8] + struct.pack(">I", 14) + data[12:]) is None


# GIF ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_gif(size: tuple[int, int]) -> None:
    assert_read(save(picture(size, "P"), "GIF"), size)


def test_gif87a_and_local_colour_tables() -> None:
    data = save(picture((37, 53), "P"), "GIF")
    assert_read(b"GIF87a" + data[6:], (37, 53))
    frames = [picture((64, 48)), Image.new("RGB", (64, 48), "red"), picture((64, 48), "L")]
    animated = save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    assert pillow_size(animated) == (64, 48)
    assert_read(animated, (64, 48))


def test_gif_animated_frames_beyond_the_screen() -> None:
    """Pillow grows the image to hold a frame placed beyond the screen; so do we."""
    one_frame = gif_bomb(40, 30, where="screen")  # a 1×1 frame on a 40×30 screen
    frame = one_frame[one_frame.index(b"\x2c\x00\x00\x00\x00\x01\x00") : -1]
    moved = frame[:1] + struct.pack("<HH", 45, 29) + frame[5:]
    data = one_frame[:-1] + moved + frame + b";"
    with Image.open(io.BytesIO(data)) as image:
        assert getattr(image, "n_frames", 1) == 3
    assert_read(data, (46, 30))


@pytest.mark.parametrize("where", ["screen", "frame", "offset"])
def test_gif_builders_agree_with_pillow(where: Literal["screen", "frame", "offset"]) -> None:
    data = gif_bomb(48, 36, where=where)
    assert_read(data, (48, 36))


def test_gif_truncated_or_malformed_keeps_what_was_read() -> None:
    """A malformed stream stops the walk: the frames read so far count (the decoder
    cannot reach the later ones); without a whole screen descriptor, nothing is read."""
    small = save(picture((8, 8), "P"), "GIF")
    assert small.endswith(b";")
    bomb = gif_bomb(where="frame")
    second_frame = bomb[bomb.index(struct.pack("<BHHHH", 0x2C, 0, 0, 30000, 30000)) :]
    assert image_dimensions(small[:-1] + second_frame) == (30000, 30000)
    assert image_dimensions(small[:-1] + b"\x99" + second_frame) == (8, 8)
    assert image_dimensions(small[:-1] + b"\x21\xfe\x05abc" + second_frame) == (8, 8)
    assert image_dimensions(small[:13]) == (8, 8)
    assert image_dimensions(small[:12]) is None
    # a descriptor cut short does not count
    assert image_dimensions(small[:-1] + second_frame[:9]) == (8, 8)
    assert image_dimensions(small[:-1] + second_frame[:10]) == (30000, 30000)


def test_gif_zero_screen() -> None:
    data = gif_bomb(0, 0, where="screen")
    assert image_dimensions(data) == (1, 1)  # the frame's extent
    empty = data[:13] + b";"
    assert image_dimensions(empty) is None
    assert pixel_problem(empty) == "the image claims 0×0 pixels: it has no pixels to decode"


# BMP ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "mode"),
    [*((size, mode) for size in SIZES[:3] for mode in ["RGB", "P", "1"]), (SIZES[3], "1")],
)
def test_bmp(size: tuple[int, int], mode: str) -> None:
    assert_read(save(picture(size, mode), "BMP"), size)


@pytest.mark.parametrize("size", SIZES[:3])
def test_bmp_top_down(size: tuple[int, int]) -> None:
    data = save(picture(size), "BMP")
    (height,) = struct.unpack_from("<i", data, 22)
    top_down = data[:22] + struct.pack("<i", -height) + data[26:]
    with Image.open(io.BytesIO(top_down)) as image:
        args = image.tile[0][3]  # a tuple in Pillow 10, a named tuple since (.args)
        assert args is not None and args[-1] == 1  # top-down
    assert_read(top_down, size)


def core_bmp(width: int, height: int) -> bytes:
    """An OS/2 1.x bitmap: BITMAPCOREHEADER with 16-bit sizes, 24 bits a pixel."""
    row = (width * 3 + 3) // 4 * 4
    header = struct.pack("<IHHHH", 12, width, height, 1, 24)
    pixels = b"\x40" * (row * height)
    return b"BM" + struct.pack("<IHHI", 26 + len(pixels), 0, 0, 26) + header + pixels


@pytest.mark.parametrize("size", [(1, 1), (37, 53), (300, 2)])
def test_bmp_core_header(size: tuple[int, int]) -> None:
    assert_read(core_bmp(*size), size)


def test_bmp_inconsistent() -> None:
    data = save(picture((37, 53)), "BMP")
    assert image_dimensions(data[:14] + struct.pack("<I", 8) + data[18:]) is None
    assert image_dimensions(data[:14] + struct.pack("<I", 10**6) + data[18:]) is None
    assert image_dimensions(data[:18] + struct.pack("<i", -37) + data[22:]) is None


# TIFF ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("compression", [None, "tiff_lzw", "tiff_deflate"])
def test_tiff_little_endian(size: tuple[int, int], compression: str | None) -> None:
    data = save(picture(size), "TIFF", compression=compression)
    assert data.startswith(b"II*\x00")
    assert_read(data, size)


@pytest.mark.parametrize("size", SIZES[:3])
def test_tiff_big_endian(size: tuple[int, int]) -> None:
    data = save(picture(size, "I;16B"), "TIFF")
    assert data.startswith(b"MM\x00*")
    assert_read(data, size)


def test_tiff_pages_of_different_sizes() -> None:
    """Every page is read: the largest width and the largest height (maybe not one page's)."""
    pages = [picture((37, 53)), picture((640, 20)), picture((10, 480))]
    data = save(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    with Image.open(io.BytesIO(data)) as image:
        assert getattr(image, "n_frames", 1) == 3
    assert_read(data, (640, 480))


@pytest.mark.parametrize("byte_order", ["<", ">"])
@pytest.mark.parametrize("short", [False, True])
def test_tiff_builder_agrees_with_pillow(byte_order: Any, short: bool) -> None:
    data = tiff_pages([(37, 53), (60, 2)], byte_order=byte_order, short=short)
    assert_read(data, (60, 53))


def test_tiff_ifd_chain_is_capped() -> None:
    data = tiff_pages([(8, 8)] * MAX_TIFF_IFDS)
    assert image_dimensions(data) == (8, 8)
    assert image_dimensions(tiff_pages([(8, 8)] * (MAX_TIFF_IFDS + 1))) is None


def test_tiff_ifd_loop() -> None:
    data = bytearray(tiff_pages([(8, 8), (9, 9)]))
    second = struct.unpack_from("<I", data, 8 + 2 + 9 * 12)[0]
    struct.pack_into("<I", data, second + 2 + 9 * 12, second)  # the second points at itself
    assert image_dimensions(bytes(data)) is None
    struct.pack_into("<I", data, second + 2 + 9 * 12, 8)  # back to the first
    assert image_dimensions(bytes(data)) is None


def test_tiff_inconsistent() -> None:
    data = tiff_pages([(37, 53)])
    assert image_dimensions(data[:4] + struct.pack("<I", 0) + data[8:]) is None  # no IFD
    assert image_dimensions(data[:4] + struct.pack("<I", 4) + data[8:]) is None  # in header
    assert image_dimensions(data[:4] + struct.pack("<I", 10**6) + data[8:]) is None  # past end
    for field, value in [(2, 5), (4, 2)]:  # RATIONAL; two values
        entry = 10 + 12  # ImageLength
        patched = data[: entry + field] + struct.pack("<H" if field == 2 else "<I", value)
        assert image_dimensions(patched + data[len(patched) :]) is None
    missing = data[:10] + struct.pack("<H", 300) + data[12:]  # ImageWidth renamed
    assert image_dimensions(missing) is None
    big_tiff = b"II+\x00" + data[4:]
    assert image_dimensions(big_tiff) is None


# WEBP ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    ("mode", "params", "chunk"),
    [
        ("RGB", {}, b"VP8 "),
        ("RGB", {"lossless": True}, b"VP8L"),
        ("RGBA", {}, b"VP8X"),
        ("RGB", {"exif": b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x00\x00"}, b"VP8X"),
    ],
    ids=["lossy", "lossless", "alpha", "exif"],
)
def test_webp(size: tuple[int, int], mode: str, params: dict[str, Any], chunk: bytes) -> None:
    image = picture(size, mode)
    if mode == "RGBA":
        image.putalpha(128)
    data = save(image, "WEBP", **params)
    assert data[12:16] == chunk
    assert_read(data, size)


def test_webp_animated() -> None:
    frames = [picture((64, 48)), Image.new("RGB", (64, 48), "blue")]
    data = save(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=40)
    assert data[12:16] == b"VP8X"
    assert_read(data, (64, 48))


@pytest.mark.parametrize("kind", ["extended", "lossy", "lossless"])
def test_webp_builders_agree_with_pillow(kind: Literal["extended", "lossy", "lossless"]) -> None:
    assert_read(webp_bomb(8, 8, kind=kind), (8, 8))


def test_webp_inconsistent() -> None:
    lossy = save(picture((37, 53)), "WEBP")
    assert image_dimensions(lossy[:20] + b"\x01" + lossy[21:]) is None  # not a keyframe
    assert image_dimensions(lossy[:23] + b"\x9d\x01\x2b" + lossy[26:]) is None
    lossless = save(picture((37, 53)), "WEBP", lossless=True)
    assert image_dimensions(lossless[:20] + b"\x2e" + lossless[21:]) is None
    assert image_dimensions(lossy[:12] + b"ALPH" + lossy[16:]) is None


# HEIC and others ----------------------------------------------------------------------


def test_heic_is_not_read() -> None:
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 100
    assert sniff_image_type(heic) == ("image/heic", "heic")
    assert image_dimensions(heic) is None
    assert pixel_problem(heic) == UNREADABLE


@pytest.mark.parametrize("data", [b"", b"\xff\xd8", b"not an image", b"RIFF\0\0\0\0WEBX"])
def test_unknown(data: bytes) -> None:
    assert image_dimensions(data) is None
    assert pixel_problem(data) == UNREADABLE


# the project's own images -------------------------------------------------------------

PROJECT_IMAGES = sorted(
    [
        *(ROOT / "wxocr_async/emulator/samples").glob("*.png"),
        *(ROOT / "wxocr_async/local/samples").glob("*"),
        *(ROOT / "tests/local_images").glob("*"),
    ]
)


@pytest.mark.parametrize("path", PROJECT_IMAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_project_images(path: Path) -> None:
    assert_read(path.read_bytes())


def test_project_images_found() -> None:
    assert len(PROJECT_IMAGES) >= 11


# bombs and limits ---------------------------------------------------------------------

Builder = Callable[[int, int], bytes]
BOMBS: dict[str, Builder] = {
    "jpeg": jpeg_bomb,
    "png": png_bomb,
    "gif-frame": gif_bomb,
    "gif-screen": lambda w, h: gif_bomb(w, h, where="screen"),
    "gif-offset": lambda w, h: gif_bomb(w, h, where="offset"),
    "bmp": bmp_bomb,
    "bmp-top-down": lambda w, h: bmp_bomb(w, h, top_down=True),
    "tiff-le": tiff_bomb,
    "tiff-be": lambda w, h: tiff_bomb(w, h, byte_order=">"),
    "webp-extended": webp_bomb,
}
#: sizes up to 16383 a side only
SMALL_BOMBS: dict[str, Builder] = {
    **BOMBS,
    "webp-lossy": lambda w, h: webp_bomb(w, h, kind="lossy"),
    "webp-lossless": lambda w, h: webp_bomb(w, h, kind="lossless"),
}
#: 32-bit sizes
WIDE_BOMBS = {name: BOMBS[name] for name in ("png", "bmp", "tiff-le", "tiff-be", "webp-extended")}


@pytest.mark.parametrize("build", BOMBS.values(), ids=BOMBS.keys())
def test_bombs_are_refused(build: Builder) -> None:
    data = build(30000, 30000)
    assert sniff_image_type(data) is not None
    assert len(data) < 1000
    assert image_dimensions(data) == (30000, 30000)
    assert pixel_problem(data) == (
        "the image claims 30000×30000 pixels (900 MP); at most 40 MP and 16000 px a side "
        "are decoded"
    )


def test_jpeg_bomb_defaults() -> None:
    data = jpeg_bomb()
    assert 500 < len(data) < 800 and image_dimensions(data) == (30000, 30000)


@pytest.mark.parametrize("build", SMALL_BOMBS.values(), ids=SMALL_BOMBS.keys())
def test_limits(build: Builder) -> None:
    assert pixel_problem(build(4000, 3000)) is None  # a 12 MP phone photo
    assert pixel_problem(build(3000, 4000)) is None
    assert pixel_problem(build(8000, 5000)) is None  # exactly MAX_IMAGE_PIXELS
    assert pixel_problem(build(16000, 2500)) is None  # ... and MAX_IMAGE_SIDE
    assert pixel_problem(build(2500, 16000)) is None
    assert pixel_problem(build(1, 1)) is None
    over_pixels = pixel_problem(build(3015, 13267))  # 40_000_005: each side allowed
    assert over_pixels is not None and "(40.000005 MP)" in over_pixels
    assert pixel_problem(build(8001, 5000)) is not None
    for width, height in [(16001, 1), (1, 16001), (5, 16001), (5, 16383)]:
        problem = pixel_problem(build(width, height))
        assert problem is not None and f"{width}×{height}" in problem


@pytest.mark.parametrize("build", WIDE_BOMBS.values(), ids=WIDE_BOMBS.keys())
def test_limits_wide(build: Builder) -> None:
    """40_000_001 = 53 × 754717: no pair of allowed sides makes it, so the side refuses."""
    assert pixel_problem(build(5, 20000)) is not None  # a strip: 0.1 MP, but too long
    assert pixel_problem(build(53, 754717)) is not None
    assert pixel_problem(build(754717, 53)) is not None
    assert pixel_problem(build(2**24, 2**24)) is not None


def test_limit_constants() -> None:
    assert (MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE) == (40_000_000, 16_000)
    assert MAX_IMAGE_PIXELS + 5 == 3015 * 13267 and MAX_IMAGE_PIXELS + 1 == 53 * 754717


def test_zero_dimension() -> None:
    for data in (
        png_bomb(0, 5),
        bmp_bomb(5, 0),
        tiff_pages([(0, 0)]),
        webp_bomb(0, 5, kind="lossy"),
    ):
        assert image_dimensions(data) is None
        problem = pixel_problem(data)
        assert problem is not None and "no pixels" in problem


# robustness ---------------------------------------------------------------------------


def small_images() -> dict[str, bytes]:
    image = picture((37, 53))
    alpha = picture((37, 53), "RGBA")
    alpha.putalpha(128)
    frames = [image, Image.new("RGB", (37, 53), "red")]
    return {
        "jpeg": save(image, "JPEG"),
        "jpeg-progressive": save(image, "JPEG", progressive=True),
        "png": save(image, "PNG"),
        "gif": save(image.convert("P"), "GIF"),
        "gif-animated": save(image, "GIF", save_all=True, append_images=frames[1:]),
        "bmp": save(image, "BMP"),
        "bmp-core": core_bmp(37, 53),
        "tiff": save(image, "TIFF"),
        "tiff-be": save(picture((37, 53), "I;16B"), "TIFF"),
        "tiff-pages": save(image, "TIFF", save_all=True, append_images=[picture((60, 2))]),
        "webp-lossy": save(image, "WEBP"),
        "webp-lossless": save(image, "WEBP", lossless=True),
        "webp-alpha": save(alpha, "WEBP"),
        **{f"bomb-{name}": build(30000, 30000) for name, build in BOMBS.items()},
    }


SMALL_IMAGES = small_images()
#: where the header ends: a shorter prefix cannot be read, a longer one reads it all
HEADER_ENDS = {
    "png": 29,
    "bmp": 14 + 40,
    "bmp-core": 14 + 12,
    "webp-lossy": 30,
    "webp-lossless": 25,
    "webp-alpha": 30,
}


def prefix_results(data: bytes) -> list[tuple[int, int] | None]:
    """image_dimensions of every prefix, checked to be None or positive, with pixel_problem
    agreeing on which can be read."""
    results = []
    for n in range(len(data) + 1):
        size = image_dimensions(data[:n])
        assert size is None or (min(size) > 0 and all(type(v) is int for v in size))
        assert (size is None) == (pixel_problem(data[:n]) == UNREADABLE)
        results.append(size)
    return results


@pytest.mark.parametrize("name", [n for n in SMALL_IMAGES if not n.startswith(("gif", "bomb-gif"))])
def test_every_truncation(name: str) -> None:
    """Below the header's end: None; from it on, the whole size."""
    data = SMALL_IMAGES[name]
    results = prefix_results(data)
    expected = results[-1]
    assert expected is not None
    end = results.index(expected)
    assert all(size is None for size in results[:end])
    assert all(size == expected for size in results[end:])
    if name in HEADER_ENDS:
        assert end == HEADER_ENDS[name]
    if name.startswith("jpeg"):
        assert end == sof_end(data)


@pytest.mark.parametrize("name", [n for n in SMALL_IMAGES if n.startswith(("gif", "bomb-gif"))])
def test_every_gif_truncation(name: str) -> None:
    """Below the screen descriptor's end: None; from it on, what the frames read so far
    claim, growing to the whole size."""
    data = SMALL_IMAGES[name]
    results = prefix_results(data)
    assert all(size is None for size in results[:13])
    sizes = [size for size in results[13:] if size is not None]
    assert len(sizes) == len(data) + 1 - 13
    for earlier, later in itertools.pairwise(sizes):
        assert earlier[0] <= later[0] and earlier[1] <= later[1]
    assert sizes[0] == struct.unpack_from("<HH", data, 6)
    assert sizes[-1] == ((30000, 30000) if "bomb" in name else pillow_size(data))


MAGICS = [
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR",
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"RIFF\x00\x00\x00\x00WEBPVP8L",
    b"RIFF\x00\x00\x00\x00WEBPVP8X",
    b"\x00\x00\x00\x18ftypheic",
]


def check_never_raises(data: bytes) -> None:
    size = image_dimensions(data)
    assert size is None or (len(size) == 2 and min(size) > 0)
    problem = pixel_problem(data)
    if problem is None:  # only what can be read may be decoded
        assert size is not None
    else:
        assert isinstance(problem, str)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.builds(bytes.__add__, st.sampled_from(MAGICS), st.binary(max_size=300)),
    )
)
def test_arbitrary_bytes(data: bytes) -> None:
    check_never_raises(data)


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(sorted(SMALL_IMAGES)),
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=8),
    cut=st.integers(min_value=0),
)
def test_corrupted_images(name: str, edits: Sequence[tuple[int, int]], cut: int) -> None:
    """Real images with bytes overwritten (most likely in the header) and cut short."""
    data = bytearray(SMALL_IMAGES[name])
    for index, value in edits:
        data[index % min(len(data), 64)] = value
    check_never_raises(bytes(data[: len(data) - cut % len(data)]))


def test_a_jpeg_of_too_many_scans_is_refused() -> None:
    from wxocr_async.image_header import MAX_JPEG_SCANS, jpeg_scans

    from .bombs import jpeg_scan_bomb

    bomb = jpeg_scan_bomb(scans=MAX_JPEG_SCANS + 1)
    assert jpeg_scans(bomb) == MAX_JPEG_SCANS + 1 and image_dimensions(bomb) == (64, 64)
    assert pixel_problem(bomb) == f"the JPEG has 101 scans; at most {MAX_JPEG_SCANS} are decoded"
    allowed = jpeg_scan_bomb(scans=MAX_JPEG_SCANS)
    assert pixel_problem(allowed) is None
    photo = save(picture((640, 480)), "JPEG", progressive=True)
    assert 1 < jpeg_scans(photo) < 20 and pixel_problem(photo) is None
    assert jpeg_scans(save(picture((64, 64)), "JPEG")) == 1  # baseline: one scan
    assert jpeg_scans(save(picture((64, 64)), "PNG")) == 0
