"""The "photo" style: the document on a desk, tilted, in perspective, blurred, noisy, dim."""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFilter

MAX_WIDTH = 1600
Points = npt.NDArray[np.float64]


def homography(src: Points, dst: Points) -> Points:
    """The 3x3 matrix taking the four ``src`` points to the four ``dst`` points."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    h = np.linalg.solve(np.array(rows, dtype=np.float64), np.array(rhs, dtype=np.float64))
    return np.append(h, 1.0).reshape(3, 3)


def apply(h: Points, points: Points) -> Points:
    pts = np.hstack([points, np.ones((len(points), 1))]) @ h.T
    out: Points = pts[:, :2] / pts[:, 2:3]
    return out


def desk(rng: random.Random, np_rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """A wood-grain or cloth-like texture."""
    w, h = size
    base = np.array(
        rng.choice(
            ((150, 110, 75), (120, 85, 60), (185, 170, 150), (90, 95, 100), (200, 195, 185))
        ),
        dtype=np.float64,
    )
    coarse = (
        np.asarray(
            Image.fromarray(
                (np_rng.random((max(2, h // 60), max(2, w // 8))) * 255).astype(np.uint8)
            ).resize((w, h), Image.Resampling.BICUBIC),
            dtype=np.float64,
        )
        / 255.0
    )
    ys = np.arange(h, dtype=np.float64)[:, None]
    grain = np.sin(ys / rng.uniform(6, 14) + coarse * rng.uniform(4, 10))
    fine = np_rng.normal(0, 1, (h, w))
    shade = 1.0 + 0.10 * grain + 0.06 * (coarse - 0.5) + 0.03 * fine
    arr = np.clip(base[None, None, :] * shade[:, :, None], 0, 255).astype(np.uint8)
    return Image.fromarray(arr, "RGB")


def photograph(
    doc: Image.Image, rng: random.Random, np_rng: np.random.Generator, *, scene: bool = False
) -> tuple[Image.Image, Points]:
    """Place ``doc`` on a desk; returns the photo and the matrix from document to photo pixels.
    A ``scene`` (a street view, not a sheet) is instead zoomed to fill the frame, no desk."""
    w, h = doc.size
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    angle = math.radians(rng.uniform(-8, 8))
    jitter = np.array(
        [[rng.uniform(-0.035, 0.035) * w, rng.uniform(-0.035, 0.035) * h] for _ in range(4)]
    )
    centred = src - [w / 2, h / 2] + jitter
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    quad = centred @ rot.T
    if scene:
        return _lighting(_fill_frame(doc, src, quad), rng, np_rng), _fill_forward(doc, src, quad)
    lo, hi = quad.min(axis=0), quad.max(axis=0)
    margin = (hi - lo) * np.array([rng.uniform(0.06, 0.16), rng.uniform(0.06, 0.16)])
    canvas = (hi - lo) + 2 * margin
    scale = min(1.0, MAX_WIDTH / canvas[0])
    quad = (quad - lo + margin) * scale
    out_size = (round(canvas[0] * scale), round(canvas[1] * scale))
    forward = homography(src, quad)
    back = np.linalg.inv(forward)
    back /= back[2, 2]
    coeffs = tuple(float(v) for v in back.flatten()[:8])
    warped = doc.transform(out_size, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC)
    mask = Image.new("L", doc.size, 255).transform(
        out_size, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR
    )
    photo = desk(rng, np_rng, out_size)
    shadow = mask.filter(ImageFilter.GaussianBlur(14)).point(lambda v: int(v * 0.55))
    offset = (rng.randint(4, 16), rng.randint(6, 20))
    photo.paste(Image.new("RGB", out_size, (20, 20, 20)), offset, shadow)
    photo.paste(warped, (0, 0), mask)
    return _lighting(photo, rng, np_rng), forward


def _fill_forward(doc: Image.Image, src: Points, quad: Points) -> Points:
    """The document-to-photo matrix of a scene zoomed by 1.3 about the frame's centre."""
    return homography(src, quad * 1.3 + [doc.width / 2, doc.height / 2])


def _fill_frame(doc: Image.Image, src: Points, quad: Points) -> Image.Image:
    back = np.linalg.inv(_fill_forward(doc, src, quad))
    back /= back[2, 2]
    coeffs = tuple(float(v) for v in back.flatten()[:8])
    return doc.transform(doc.size, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC)


def _lighting(photo: Image.Image, rng: random.Random, np_rng: np.random.Generator) -> Image.Image:
    """Dim uneven light, a soft glare spot, slight blur and sensor noise."""
    photo = photo.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.2)))
    arr = np.asarray(photo, dtype=np.float64)
    h, w = arr.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    dx, dy = rng.uniform(-1, 1), rng.uniform(-1, 1)
    light = rng.uniform(0.68, 0.88) + 0.12 * ((xs / w - 0.5) * dx + (ys / h - 0.5) * dy)
    gx, gy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    sigma = rng.uniform(0.08, 0.18) * max(w, h)
    glare = rng.uniform(0.25, 0.45) * np.exp(-((xs - gx) ** 2 + (ys - gy) ** 2) / (2 * sigma**2))
    warm = np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.86, 0.97)])
    arr = arr * light[:, :, None] * warm + glare[:, :, None] * 255
    arr += np_rng.normal(0, rng.uniform(3, 6), arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def move_positions(truth: dict[str, Any], forward: Points, size: tuple[int, int]) -> None:
    """Carry every item's ``pos`` (and ``img_size``) of ``truth`` into the photo's pixels."""
    for item in truth.get("items", ()):
        pos = item["pos"]
        names = ("left_top", "right_top", "right_bottom", "left_bottom")
        pts = apply(
            forward, np.array([[pos[n]["x"], pos[n]["y"]] for n in names], dtype=np.float64)
        )
        for n, (x, y) in zip(names, pts, strict=True):
            pos[n] = {"x": round(float(x)), "y": round(float(y))}
    if "img_size" in truth:
        truth["img_size"] = {"w": size[0], "h": size[1]}
