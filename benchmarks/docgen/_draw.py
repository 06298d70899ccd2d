"""Drawing helpers: fonts, text that remembers where it went, backgrounds, seals, boxes."""

from __future__ import annotations

import math
import random
from functools import lru_cache
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]  # x0, y0, x1, y1
INK: RGB = (25, 25, 25)
# what a renderer returns: the image, the reply fields, and debug facts about the drawing
# (ink boxes in the flat document's pixels) that are no part of the reply
Drawn = tuple[Image.Image, dict[str, Any], dict[str, Any]]


@lru_cache(maxsize=256)
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT_PATH, size)


def text_width(text: str, size: int, tracking: float = 0.0) -> float:
    return font(size).getlength(text) + tracking * max(len(text) - 1, 0)


def wrap(text: str, size: int, width: float) -> list[str]:
    """Greedy character wrap of ``text`` into lines no wider than ``width`` pixels."""
    lines: list[str] = []
    line = ""
    for c in text:
        if line and text_width(line + c, size) > width:
            lines.append(line)
            line = ""
        line += c
    if line:
        lines.append(line)
    return lines


class Canvas:
    """An RGB page that records the text drawn on it and its ink boxes."""

    def __init__(self, size: tuple[int, int], bg: RGB) -> None:
        self.image = Image.new("RGB", size, bg)
        self.draw = ImageDraw.Draw(self.image)
        self.lines: list[tuple[str, Box]] = []

    @property
    def w(self) -> int:
        return self.image.width

    @property
    def h(self) -> int:
        return self.image.height

    def text(
        self,
        xy: tuple[float, float],
        text: str,
        size: int,
        fill: RGB = INK,
        *,
        tracking: float = 0.0,
        bold: bool = False,
        anchor: str = "ls",
    ) -> Box:
        """Draw ``text`` with its baseline at ``xy`` (anchor "ls"), "ms" centres it, "rs"
        right-aligns it; ``tracking`` adds pixels between characters. Returns the ink box."""
        f = font(size)
        width = text_width(text, size, tracking)
        x, y = xy
        if anchor[0] == "m":
            x -= width / 2
        elif anchor[0] == "r":
            x -= width
        stroke = max(1, size // 28) if bold else 0
        boxes = []
        if tracking:
            for c in text:
                self.draw.text(
                    (x, y), c, font=f, fill=fill, anchor="ls", stroke_width=stroke, stroke_fill=fill
                )
                boxes.append(self.draw.textbbox((x, y), c, font=f, anchor="ls"))
                x += f.getlength(c) + tracking
        else:
            self.draw.text(
                (x, y), text, font=f, fill=fill, anchor="ls", stroke_width=stroke, stroke_fill=fill
            )
            boxes.append(self.draw.textbbox((x, y), text, font=f, anchor="ls"))
        box = (
            math.floor(min(b[0] for b in boxes)) - stroke,
            math.floor(min(b[1] for b in boxes)) - stroke,
            math.ceil(max(b[2] for b in boxes)) + stroke,
            math.ceil(max(b[3] for b in boxes)) + stroke,
        )
        self.lines.append((text, box))
        return box

    def paragraph(
        self,
        xy: tuple[float, float],
        text: str,
        size: int,
        width: float,
        leading: float = 1.4,
        fill: RGB = INK,
    ) -> float:
        """Wrap ``text`` into ``width``, first baseline at ``xy``; returns the last baseline."""
        x, y = xy
        lines = wrap(text, size, width)
        for i, line in enumerate(lines):
            self.text((x, y + i * size * leading), line, size, fill)
        return y + max(len(lines) - 1, 0) * size * leading


def lines_since(canvas: Canvas, start: int) -> list[dict[str, Any]]:
    """The text lines ``canvas`` drew after its first ``start`` ones, with their ink boxes."""
    return [{"text": text, "box": box} for text, box in canvas.lines[start:]]


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def gradient(size: tuple[int, int], top: RGB, bottom: RGB, horizontal: bool = False) -> Image.Image:
    """A linear two-colour gradient."""
    w, h = size
    strip = Image.new("RGB", (1, 256))
    for i in range(256):
        strip.putpixel((0, i), mix(top, bottom, i / 255))
    if horizontal:
        return strip.rotate(90, expand=True).transpose(Image.Transpose.FLIP_LEFT_RIGHT).resize(size)
    return strip.resize((w, h))


def guilloche(canvas: Canvas, rng: random.Random, colour: RGB, count: int = 28) -> None:
    """Light interlaced wavy lines, like the security print on cards."""
    w, h = canvas.w, canvas.h
    step = max(4, w // 300)
    for k in range(count):
        base = h * (k + 0.5) / count
        amp1, amp2 = rng.uniform(h * 0.02, h * 0.08), rng.uniform(h * 0.01, h * 0.04)
        per1, per2 = rng.uniform(w * 0.2, w * 0.6), rng.uniform(w * 0.05, w * 0.15)
        ph1, ph2 = rng.uniform(0, 6.3), rng.uniform(0, 6.3)
        wave = [
            (
                float(x),
                base
                + amp1 * math.sin(x / per1 * 6.283 + ph1)
                + amp2 * math.sin(x / per2 * 6.283 + ph2),
            )
            for x in range(0, w + step, step)
        ]
        canvas.draw.line(wave, fill=colour, width=1)
    for k in range(count // 3):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(h * 0.15, h * 0.5)
        petals = rng.choice((7, 9, 11))
        pts: list[tuple[float, float]] = []
        for t in range(0, 361, 2):
            a = math.radians(t)
            rr = r * (1 + 0.12 * math.sin(a * petals + k))
            pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
        canvas.draw.line(pts, fill=colour, width=1)


def frame(canvas: Canvas, colour: RGB, inset: int, width: int = 2) -> None:
    canvas.draw.rectangle(
        (inset, inset, canvas.w - inset, canvas.h - inset), outline=colour, width=width
    )


def seal(
    canvas: Canvas,
    centre: tuple[float, float],
    radius: int,
    ring_text: str,
    rng: random.Random,
    bottom_text: str = "",
) -> None:
    """A translucent red round seal: ring, star, text along the upper arc."""
    size = radius * 2 + 8
    layer = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(layer)
    c = size / 2
    d.ellipse((4, 4, size - 4, size - 4), outline=255, width=max(3, radius // 16))
    star = [
        (
            c + (radius * (0.28 if i % 2 == 0 else 0.11)) * math.sin(i * math.pi / 5),
            c - (radius * (0.28 if i % 2 == 0 else 0.11)) * math.cos(i * math.pi / 5),
        )
        for i in range(10)
    ]
    d.polygon(star, fill=255)
    fsize = max(10, int(radius * 0.24))
    span = min(240.0, 22.0 * len(ring_text) * 24 / max(fsize, 1) * fsize / 24)
    for i, ch in enumerate(ring_text):
        ang = -span / 2 + span * (i + 0.5) / len(ring_text)
        glyph = Image.new("L", (fsize * 2, fsize * 2), 0)
        ImageDraw.Draw(glyph).text((fsize, fsize), ch, font=font(fsize), fill=255, anchor="mm")
        glyph = glyph.rotate(-ang, resample=Image.Resampling.BICUBIC)
        r = radius * 0.72
        gx = c + r * math.sin(math.radians(ang)) - fsize
        gy = c - r * math.cos(math.radians(ang)) - fsize
        layer.paste(glyph, (round(gx), round(gy)), glyph)
    if bottom_text:
        d.text((c, c + radius * 0.55), bottom_text, font=font(fsize), fill=255, anchor="mm")
    layer = layer.rotate(rng.uniform(-15, 15), resample=Image.Resampling.BICUBIC)
    layer = layer.filter(ImageFilter.GaussianBlur(0.6)).point(lambda v: int(v * 0.62))
    red = Image.new("RGB", (size, size), (215, 30, 35))
    canvas.image.paste(red, (round(centre[0] - c), round(centre[1] - c)), layer)


def photo_box(canvas: Canvas, box: Box, bg: RGB = (222, 226, 232)) -> None:
    """A portrait placeholder: a pale box with a head-and-shoulders silhouette."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    tile = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(tile)
    shade = mix(bg, (90, 95, 105), 0.45)
    d.ellipse((w * 0.3, h * 0.16, w * 0.7, h * 0.6), fill=shade)
    d.ellipse((w * 0.08, h * 0.62, w * 0.92, h * 1.35), fill=shade)
    canvas.image.paste(tile, (x0, y0))


def emblem(canvas: Canvas, centre: tuple[float, float], radius: int) -> None:
    """A national-emblem placeholder: red disc, gold ring and stars."""
    cx, cy = centre
    gold, red = (222, 170, 40), (200, 30, 30)
    canvas.draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=gold)
    r2 = radius * 0.85
    canvas.draw.ellipse((cx - r2, cy - r2, cx + r2, cy + r2), fill=red)
    for i, (dx, dy, s) in enumerate(
        (
            (0, -0.35, 0.28),
            (-0.42, -0.05, 0.1),
            (-0.2, 0.22, 0.1),
            (0.2, 0.22, 0.1),
            (0.42, -0.05, 0.1),
        )
    ):
        sx, sy, sr = cx + dx * radius, cy + dy * radius, s * radius
        pts = [
            (
                sx + sr * (1 if j % 2 == 0 else 0.4) * math.sin(j * math.pi / 5 + i),
                sy - sr * (1 if j % 2 == 0 else 0.4) * math.cos(j * math.pi / 5 + i),
            )
            for j in range(10)
        ]
        canvas.draw.polygon(pts, fill=gold)
    canvas.draw.rectangle(
        (cx - radius * 0.45, cy + radius * 0.45, cx + radius * 0.45, cy + radius * 0.6), fill=gold
    )


def qr_block(canvas: Canvas, rng: random.Random, box: Box) -> None:
    """A QR-code-like block of random modules with three finder squares."""
    x0, y0, x1, _ = box
    n = 25
    cell = (x1 - x0) / n
    for i in range(n):
        for j in range(n):
            if rng.random() < 0.5:
                canvas.draw.rectangle(
                    (x0 + i * cell, y0 + j * cell, x0 + (i + 1) * cell, y0 + (j + 1) * cell),
                    fill=INK,
                )
    for fi, fj in ((0, 0), (n - 7, 0), (0, n - 7)):
        fx, fy = x0 + fi * cell, y0 + fj * cell
        canvas.draw.rectangle((fx, fy, fx + 7 * cell, fy + 7 * cell), fill=(255, 255, 255))
        canvas.draw.rectangle((fx, fy, fx + 7 * cell, fy + 7 * cell), fill=INK)
        canvas.draw.rectangle(
            (fx + cell, fy + cell, fx + 6 * cell, fy + 6 * cell), fill=(255, 255, 255)
        )
        canvas.draw.rectangle(
            (fx + 2 * cell, fy + 2 * cell, fx + 5 * cell, fy + 5 * cell), fill=INK
        )
