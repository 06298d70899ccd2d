"""The real model end to end on generated documents of every kind: through WeChat's HTTP
API (the emulator's routes with the local backend) and through the command line."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import wxocr_async as wx
from wxocr_async.emulator import WeChatEmulator
from wxocr_async.endpoints import BY_NAME
from wxocr_async.local import LocalBackend, LocalEngine, model_available

from .conftest import ROOT

if not model_available():
    pytest.skip("the [local] extra is not installed", allow_module_level=True)
if not Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc").exists():
    if os.environ.get("CI"):
        pytest.fail("fonts-wqy-zenhei is missing: .ci/run installs it")
    pytest.skip("fonts-wqy-zenhei is not installed", allow_module_level=True)

from benchmarks.docgen import generate

#: generator kind -> (endpoint, seed): one document of each kind, clean scan and photo
#: (seeds where both read exactly with the newest Pillow: a regression guard, not the
#: accuracy figure, which benchmarks/local_engine.py measures on 216 images)
CASES = {
    "idcard_front": ("idcard", 7),
    "idcard_back": ("idcard", 7),
    "bankcard": ("bankcard", 7),
    "driving": ("driving", 7),
    "drivinglicense": ("drivinglicense", 7),
    "bizlicense": ("bizlicense", 21),
    "comm": ("comm", 21),
    "platenum": ("platenum", 7),
    "menu": ("menu", 7),
}


def document(kind: str, style: str) -> tuple[bytes, dict[str, Any]]:
    image, truth = generate(kind, CASES[kind][1], style)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue(), truth


def misses(kind: str, truth: dict[str, Any], reply: dict[str, Any]) -> list[str]:
    """The fields (or lines, or menu items) the reply got wrong."""
    if kind == "comm":  # the text of every line
        got = ["".join(i["text"].split()) for i in reply["items"]]
        wrong = [i["text"] for i in truth["items"] if "".join(i["text"].split()) not in got]
        return wrong + (["img_size"] if reply["img_size"] != truth["img_size"] else [])
    if kind == "menu":
        dishes = {(i["name"], float(i["price"])) for i in reply["content"]["menu_items"]}
        return [
            i["name"]
            for i in truth["content"]["menu_items"]
            if (i["name"], i["price"]) not in dishes
        ]
    return [k for k, v in truth.items() if reply.get(k) != v]


def assert_matches(kind: str, truth: dict[str, Any], reply: dict[str, Any]) -> None:
    """At most one field (line, menu item) wrong: the images are drawn by whatever Pillow
    is installed, and a pixel here or there can cost a character."""
    wrong = misses(kind, truth, reply)
    assert len(wrong) <= 1, (wrong, reply)


@pytest.fixture
async def local_server() -> AsyncIterator[str]:
    """The local backend behind WeChat's routes (recognising in a thread: the model,
    loaded once, stays loaded for the other tests)."""
    async with (
        LocalEngine(workers=0) as engine,
        WeChatEmulator(backend=LocalBackend(engine), require_token=False) as server,
    ):
        yield server.base_url


@pytest.mark.parametrize("style", ["clean", "photo"])
@pytest.mark.parametrize("kind", list(CASES))
async def test_every_kind_through_the_http_api(local_server: str, kind: str, style: str) -> None:
    data, truth = document(kind, style)
    async with wx.OcrClient(base_url=local_server, timeout=120) as ocr:
        reply = await ocr.request_ocr(BY_NAME[CASES[kind][0]], image=data)
    assert_matches(kind, truth, reply)


@pytest.mark.parametrize("kind", ["idcard_back", "driving", "menu"])
def test_the_command_line_reads_generated_documents(kind: str, tmp_path: Path) -> None:
    data, truth = document(kind, "photo")
    path = tmp_path / f"{kind}.jpg"
    path.write_bytes(data)
    command = {"idcard": "idcard", "driving": "vehicle-license", "menu": "menu"}[CASES[kind][0]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WXOCR_")}
    proc = subprocess.run(
        [sys.executable, "-m", "wxocr_async", command, str(path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "recognising locally" in proc.stderr
    assert_matches(kind, truth, json.loads(proc.stdout))


def test_a_plate_whose_province_the_detector_misses_is_read_again() -> None:
    """The detector's box starts one character late on this plate ("B·F52673"): the
    recogniser reads a crop reaching further left and finds the province."""
    from wxocr_async.local import recognizer

    image, truth = generate("platenum", 1_300_000, "clean")  # docgen seed 13, image 0
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    reply = recognizer.recognise("platenum", buffer.getvalue())
    assert reply == {"errcode": 0, "errmsg": "ok", "number": truth["number"]}


@pytest.mark.parametrize(("kind", "turn"), [("idcard_front", 180), ("bankcard", 90)])
def test_a_card_photographed_upside_down_or_sideways_is_read(kind: str, turn: int) -> None:
    """Nothing found in the image as it is: the engine looks again with the image turned
    (upside down; a portrait image sideways first)."""
    from wxocr_async.local import recognizer

    image, truth = generate(kind, CASES[kind][1], "photo")
    buffer = io.BytesIO()
    image.rotate(turn, expand=True).save(buffer, "JPEG", quality=90)
    reply = recognizer.recognise(CASES[kind][0], buffer.getvalue())
    assert reply["errcode"] == 0, reply
    assert_matches(kind, truth, reply)


@pytest.mark.parametrize("turn", [180, 90])
def test_a_printed_page_photographed_upside_down_or_sideways_is_read(turn: int) -> None:
    """Printed text turned: the lines read as the upright page's, each placed where it is
    in the image as sent, with its corners in reading order."""
    from wxocr_async.local import recognizer

    image, _ = generate("comm", CASES["comm"][1], "clean")
    upright = _jpeg(image)
    turned = image.rotate(turn, expand=True)
    want = recognizer.recognise("comm", upright)["items"]
    got = recognizer.recognise("comm", _jpeg(turned))
    assert [i["text"] for i in got["items"]] == [i["text"] for i in want]
    assert got["img_size"] == {"w": turned.width, "h": turned.height}
    width, height = image.size
    for before, after in zip(want, got["items"], strict=True):
        x, y = before["pos"]["left_top"]["x"], before["pos"]["left_top"]["y"]
        # where the upright page's point lies once the page is turned (counter-clockwise)
        expected = {180: (width - x, height - y), 90: (y, width - x), 270: (height - y, x)}[turn]
        corner = after["pos"]["left_top"]
        assert abs(corner["x"] - expected[0]) < 12 and abs(corner["y"] - expected[1]) < 12


def _jpeg(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_a_page_with_no_card_is_still_101001_after_the_turns() -> None:
    from wxocr_async.local import recognizer

    image, _ = generate("menu", 7, "clean")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    assert recognizer.recognise("idcard", buffer.getvalue())["errcode"] == 101001


def _drawn(size: tuple[int, int], texts: list[tuple[str, int, int, int]], paper: str) -> Any:
    """An OpenCV (BGR) image of ``texts`` ((text, x, y, font size)) on ``paper``."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", size, paper)
    draw = ImageDraw.Draw(image)
    for text, x, y, points in texts:
        font = ImageFont.truetype("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", points)
        draw.text((x, y), text, fill="black", font=font)
    return np.asarray(image)[:, :, ::-1].copy()


def _box(left: float, top: float, right: float, bottom: float) -> Any:
    return ((left, top), (right, top), (right, bottom), (left, bottom))


def test_a_two_line_plates_upper_row_is_read_from_the_band_above_its_lower_row() -> None:
    """A truck's plate: the small 京E over the large 12345. Given only the lower row, the
    second look reads the band above it, and the two rows make the plate."""
    from wxocr_async.local.extract import extract, platenum
    from wxocr_async.local.lines import Line
    from wxocr_async.local.reread import Look

    image = _drawn((440, 240), [("京 E", 150, 20, 56), ("12345", 40, 100, 110)], "#f2c500")
    lower = Line("12345", _box(40, 112, 330, 210))
    lines = platenum.read_again([lower], Look(image))
    assert len(lines) == 2 and lines[0].bottom <= lower.top + 0.1 * lower.height
    assert extract("platenum", lines, (440, 240)) == {"number": "京E12345"}


def test_a_bank_card_number_row_is_read_again_whole() -> None:
    """The first reading had the number in fragments that pass no Luhn check; the second
    look reads the row as one line, and that number passes."""
    from wxocr_async.local.extract import bankcard, extract
    from wxocr_async.local.lines import Line
    from wxocr_async.local.reread import Look

    number = "6222021234567890128"
    image = _drawn((900, 300), [("中国工商银行", 40, 30, 40), (number, 60, 150, 48)], "#d8d8e0")
    fragments = [
        Line("62220212", _box(60, 150, 300, 200)),
        Line("3456789", _box(320, 150, 520, 200)),
    ]
    lines = bankcard.read_again(fragments, Look(image))
    assert extract("bankcard", lines, (900, 300)) == {"number": number}


def test_every_endpoint_has_an_extractor() -> None:
    from wxocr_async.endpoints import BY_NAME
    from wxocr_async.local.extract import EXTRACTORS

    assert set(EXTRACTORS) == set(BY_NAME)
