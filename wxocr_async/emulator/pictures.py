"""Small PNG images made without any imaging library: the emulator's samples, and
test or benchmark images of a chosen size."""

from __future__ import annotations

import random
import struct
import zlib
from importlib import resources
from pathlib import Path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(width: int, height: int, rows: list[bytes], *, level: int = 9) -> bytes:
    """An 8-bit RGB PNG from ``height`` rows of ``3 * width`` bytes each."""
    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, level))
        + _chunk(b"IEND", b"")
    )


def card_png(seed: str, width: int = 342, height: int = 216) -> bytes:
    """A card-like picture: a tinted card with a border and bars of "text"."""
    rng = random.Random(seed)
    bg = bytes(rng.randrange(170, 250) for _ in range(3))
    ink = bytes(rng.randrange(10, 80) for _ in range(3))
    bars = [
        (rng.randrange(16, 120), rng.randrange(20, height - 20), rng.randrange(60, width - 140))
        for _ in range(6)
    ]
    rows = []
    for y in range(height):
        row = bytearray(bg * width)
        for x0, y0, length in bars:
            if y0 <= y < y0 + 8:
                row[3 * x0 : 3 * (x0 + length)] = ink * length
        if y < 4 or y >= height - 4:
            row[:] = ink * width
        else:
            row[0:12] = ink * 4
            row[-12:] = ink * 4
        rows.append(bytes(row))
    return encode_png(width, height, rows)


def noise_png(size: int, seed: int = 0) -> bytes:
    """A PNG of random pixels, about ``size`` bytes long (noise does not compress)."""
    rng = random.Random(seed)
    width = 256
    height = max(1, size // (3 * width + 1))
    rows = [rng.randbytes(3 * width) for _ in range(height)]
    return encode_png(width, height, rows, level=0)


def sample_image(name: str) -> Path:
    """The path of a shipped sample image, e.g. ``sample_image("idcard_front.png")``."""
    path = Path(str(resources.files("wxocr_async.emulator") / "samples" / name))
    if not path.is_file():
        raise FileNotFoundError(f"no shipped sample image named {name!r}")
    return path
