"""What a recognition saw: field provenance, ``OcrClient.inspect``, ``--annotate``.

The provenance rules are checked on lines written here; the real engine on generated
documents, whose drawing records where each value's ink is (``Document.debug["drawn"]``);
WeChat's side against the emulator; ``--annotate`` as a real process.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import wxocr_async as wx
from wxocr_async.annotate import FIELD_COLOUR, annotated_png
from wxocr_async.emulator import WeChatEmulator, sample_image
from wxocr_async.inspection import Quad, SeenLine, from_wechat_reply, leaf_fields
from wxocr_async.local import model_available
from wxocr_async.local.provenance import trace_fields
from wxocr_async.local.text import fold_forms

from .test_cli import cli

Box = tuple[float, float, float, float]


def line(text: str, left: float, top: float, right: float, bottom: float) -> SeenLine:
    return SeenLine(text, ((left, top), (right, top), (right, bottom), (left, bottom)))


def traced(reply: dict[str, Any], lines: Sequence[SeenLine], **kw: Any) -> dict[str, Any]:
    return {field.path: field for field in trace_fields(reply, lines, **kw)}


def extent(box: Quad) -> Box:
    xs, ys = [p[0] for p in box], [p[1] for p in box]
    return (min(xs), min(ys), max(xs), max(ys))


def centre(box: Box) -> tuple[float, float]:
    return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


def inside(point: tuple[float, float], box: Box, margin: float = 0.0) -> bool:
    x, y = point
    return box[0] - margin <= x <= box[2] + margin and box[1] - margin <= y <= box[3] + margin


# --- provenance, on lines written here ----------------------------------------------------


def test_a_value_after_its_label_is_boxed_without_the_label() -> None:
    lines = [line("姓名张三丰", 0, 0, 500, 50), line("性别男", 0, 100, 300, 150)]
    fields = traced({"errcode": 0, "name": "张三丰", "gender": "男"}, lines)
    assert fields["name"].lines == (0,) and fields["gender"].lines == (1,)
    name = extent(fields["name"].box)
    assert name[0] == pytest.approx(200) and name[2] == pytest.approx(500)  # 3 of 5 glyphs


def test_a_wrapped_address_has_both_lines_and_one_box_around_them() -> None:
    lines = [
        line("住址北京市海淀区中关村", 0, 0, 550, 50),
        line("大街27号", 100, 60, 350, 110),
        line("公民身份号码", 0, 200, 300, 250),
    ]
    fields = traced({"addr": "北京市海淀区中关村大街27号"}, lines)
    assert fields["addr"].lines == (0, 1)
    assert extent(fields["addr"].box) == pytest.approx((100, 0, 550, 110))


def test_a_repaired_value_still_finds_its_line() -> None:
    lines = [line("公民身份号码 11O1O5199OO3O7OO19", 0, 0, 900, 50), line("2024", 0, 80, 90, 120)]
    fields = traced({"id": "110105199003070019"}, lines)
    assert fields["id"].lines == (0,)


def test_a_price_comes_from_its_own_row_not_an_equal_price_beside_it() -> None:
    lines = [
        line("麻婆豆腐", 0, 0, 200, 40), line("68", 400, 0, 450, 40),  # left column
        line("酸菜鱼", 600, 0, 750, 40), line("68", 1000, 0, 1050, 40),  # right column
    ]  # fmt: skip
    reply = {"content": {"menu_items": [
        {"name": "麻婆豆腐", "price": 68.0}, {"name": "酸菜鱼", "price": 68.0},
    ]}}  # fmt: skip
    fields = traced(reply, lines)
    assert fields["content.menu_items[0].price"].lines == (1,)
    assert fields["content.menu_items[1].price"].lines == (3,)
    assert fields["content.menu_items[1].price"].camel_path == "content.menuItems[1].price"


def test_a_glued_price_is_its_dishs_and_digits_in_a_name_are_not_a_price() -> None:
    lines = [
        line("菜品027号", 0, 0, 300, 40), line("28元", 500, 0, 600, 40),
        line("菜品028号", 0, 60, 300, 100), line("28元", 500, 60, 600, 100),
        line("宫保鸡丁28", 0, 120, 300, 160),
    ]  # fmt: skip
    reply = {"content": {"menu_items": [
        {"name": "菜品027号", "price": 28.0}, {"name": "菜品028号", "price": 28.0},
        {"name": "宫保鸡丁", "price": 28.0},
    ]}}  # fmt: skip
    fields = traced(reply, lines)
    items = [(fields[f"content.menu_items[{i}].name"].lines,
              fields[f"content.menu_items[{i}].price"].lines) for i in range(3)]  # fmt: skip
    assert items == [((0,), (1,)), ((2,), (3,)), ((4,), (4,))]


def test_a_character_one_field_came_from_is_not_anothers() -> None:
    lines = [line("出生1990年3月7日", 0, 0, 400, 40), line("110105199003070019", 0, 100, 600, 140)]
    fields = traced({"id": "110105199003070019", "birth": "1990-03-07"}, lines)
    assert fields["id"].lines == (1,) and fields["birth"].lines == (0,)


def test_two_equal_dates_come_from_two_lines() -> None:
    lines = [line("2011-01-08", 0, 0, 200, 40), line("2011-01-08", 500, 0, 700, 40)]
    fields = traced({"register_date": "2011-01-08", "issue_date": "2011-01-08"}, lines)
    assert {fields["register_date"].lines, fields["issue_date"].lines} == {(0,), (1,)}


def test_a_field_not_read_from_any_line_has_no_box() -> None:
    lines = [line("中华人民共和国", 0, 0, 400, 50), line("男", 0, 60, 40, 100)]
    fields = traced({"type": "Front", "gender": "女", "name": "李四"}, lines)
    assert all(fields[k].lines == () and fields[k].box is None for k in ("type", "gender", "name"))


def test_a_folded_character_matches_what_was_printed() -> None:
    lines = [line("民族漢", 0, 0, 150, 50)]
    assert traced({"nationality": "汉"}, lines)["nationality"].lines == ()
    assert traced({"nationality": "汉"}, lines, fold=fold_forms)["nationality"].lines == (0,)


def test_printed_text_items_are_their_own_lines_even_when_repeated() -> None:
    lines = [line("1", 0, 0, 20, 20), line("1", 0, 100, 20, 120)]
    pos = [{"left_top": {"x": 0, "y": y}, "right_top": {"x": 20, "y": y},
            "right_bottom": {"x": 20, "y": y + 20}, "left_bottom": {"x": 0, "y": y + 20}}
           for y in (0, 100)]  # fmt: skip
    reply = {"items": [{"text": "1", "pos": pos[0]}, {"text": "1", "pos": pos[1]}]}
    fields = traced(reply, lines)
    assert fields["items[0].text"].lines == (0,) and fields["items[1].text"].lines == (1,)


def test_a_page_too_dense_to_trace_leaves_its_later_fields_untraced() -> None:
    text = "宫保鸡丁鱼香肉丝麻婆豆腐回锅肉水煮鱼糖醋里脊红烧排骨清蒸鲈鱼" * 3
    lines = [line(text, 0, 20 * i, 300, 20 * i + 18) for i in range(1000)]
    reply = {"content": {"menu_items": [{"name": text[:40], "price": 28}] * 500}}
    fields = trace_fields(reply, lines)  # 10^10 pairs if traced whole: bounded by budget
    assert len(fields) == 1000 and fields[0].lines != ()
    assert fields[-1].lines == () and fields[-1].box is None
    assert trace_fields(reply, lines, budget=0)[0].lines == ()


def test_the_fields_listed_are_the_replys_leaves() -> None:
    reply = {"errcode": 0, "errmsg": "ok", "img_size": {"w": 1, "h": 2}, "number": "1",
             "cert_position": {"pos": {}}, "content": {"menu_items": [{"name": "a", "price": 8}]},
             "flag": True, "empty": ""}  # fmt: skip
    assert list(leaf_fields(reply)) == [
        ("number", "1"), ("content.menu_items[0].name", "a"), ("content.menu_items[0].price", "8"),
    ]  # fmt: skip


# --- WeChat's positions ---------------------------------------------------------------------


async def test_from_wechat_the_positions_its_reply_gives(ocr: wx.OcrClient) -> None:
    text = await ocr.inspect("comm", sample_image("printed_text.png"))
    assert text.engine == "wechat" and text.drawable and text.image is not None
    assert len(text.lines) == len(text.reply["items"]) > 0
    first = next(f for f in text.fields if f.path == "items[0].text")
    assert first.lines == (0,) and first.box == text.lines[0].box
    licence = await ocr.inspect("business_license", sample_image("business_license.png"))
    boxed = {f.path for f in licence.fields if f.box is not None}
    assert boxed == {"cert_position"}
    card = await ocr.inspect("idcard", sample_image("idcard_front.png"))
    assert not card.drawable and {f.path for f in card.fields} >= {"name", "id"}
    assert card.reply["name"] == "张三"


def test_a_malformed_position_is_not_drawn() -> None:
    reply = {"errcode": 0, "items": [{"text": "a", "pos": {"left_top": "x"}}, "junk"],
             "cert_position": {"pos": {"left_top": {"x": float("nan"), "y": 0}}}}  # fmt: skip
    found = from_wechat_reply("comm", reply)
    assert found.lines == () and not found.drawable


# --- the real engine on generated documents --------------------------------------------------

needs_model = pytest.mark.skipif(not model_available(), reason="the [local] extra is missing")


def recognised(endpoint: str, image: Image.Image) -> wx.Inspection:
    from wxocr_async.local import recognizer

    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    outcome = recognizer.run(endpoint, buffer.getvalue(), inspect=True)
    assert outcome.seen is not None, outcome.reply
    seen = outcome.seen
    return wx.Inspection(endpoint, outcome.reply, "local", seen.lines, seen.fields, seen.size)


def drawn_box(drawn: Sequence[tuple[str, Box]], text: str) -> Box:
    return next(box for printed, box in drawn if printed == text)


@needs_model
def test_each_id_card_field_is_boxed_where_its_ink_is() -> None:
    from benchmarks.docgen import render

    document = render("idcard_front", 3, "clean", "wrapped_address")
    found = recognised("idcard", document.image)
    truth, drawn = document.truth, document.debug["drawn"]
    fields = {f.path: f for f in found.fields}
    assert fields["type"].box is None
    # a field read wrong is no test of its box (the drawing differs a little between
    # Pillow versions, and with it what the engine reads): most must be read right
    read_right = [k for k in ("name", "gender", "nationality", "id", "addr") if
                  found.reply.get(k) == truth[k]]  # fmt: skip
    assert len(read_right) >= 4, found.reply
    for key in set(read_right) - {"addr"}:
        box = fields[key].box
        assert box is not None, key
        ink = drawn_box(drawn, truth[key])
        assert inside(centre(extent(box)), ink, margin=5), (key, box, ink)
        assert inside(centre(ink), extent(box), margin=5), (key, box, ink)
    if "addr" in read_right:
        address = extent(fields["addr"].box)  # type: ignore[arg-type]
        assert len(fields["addr"].lines) == len(document.debug["address_lines"]) >= 3
        for part in document.debug["address_lines"]:
            assert inside(centre(part["box"]), address), (part, address)


@needs_model
def test_a_page_found_turned_is_drawn_on_the_image_as_sent() -> None:
    from benchmarks.docgen import render

    document = render("driving", 4, "clean")
    height = document.image.height
    turned = document.image.transpose(Image.Transpose.ROTATE_270)  # a quarter clockwise
    found = recognised("driving", turned)
    assert found.size == turned.size
    fields = {f.path: f for f in found.fields}
    read_right = [k for k in ("owner", "plate_num", "vin", "engine_num")
                  if found.reply.get(k) == document.truth[k]]  # fmt: skip
    assert len(read_right) >= 3, found.reply
    for key in read_right:
        left, top, right, bottom = drawn_box(document.debug["drawn"], document.truth[key])
        ink = (height - bottom, left, height - top, right)  # where it is once turned
        box = fields[key].box
        assert box is not None and inside(centre(extent(box)), ink, margin=5), (key, box, ink)


@needs_model
def test_a_photo_turned_by_its_exif_tag_is_drawn_as_it_is_shown() -> None:
    """The engine, a browser and --annotate all turn a JPEG as its EXIF orientation says:
    the boxes are in the pixels of the image as shown."""
    from benchmarks.docgen import render
    from wxocr_async.local import recognizer

    document = render("idcard_front", 3, "clean")
    stored = document.image.transpose(Image.Transpose.ROTATE_90)  # the camera's pixels
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned a quarter clockwise: upright
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", quality=92, exif=exif.tobytes())
    outcome = recognizer.run("idcard", buffer.getvalue(), inspect=True)
    assert outcome.reply["id"] == document.truth["id"] and outcome.seen is not None
    assert outcome.seen.size == document.image.size
    number = next(f for f in outcome.seen.fields if f.path == "id")
    ink = drawn_box(document.debug["drawn"], document.truth["id"])
    assert number.box is not None and inside(centre(extent(number.box)), ink, margin=5)
    found = wx.Inspection("idcard", outcome.reply, "local", outcome.seen.lines, (number,))
    with Image.open(io.BytesIO(annotated_png(buffer.getvalue(), found))) as drawn:
        assert drawn.size == document.image.size
        width, raw = drawn.width, drawn.convert("RGB").tobytes()
    orange = [
        divmod(i // 3, width)[::-1]
        for i in range(0, len(raw), 3)
        if tuple(raw[i : i + 3]) == FIELD_COLOUR
    ]
    left, top, right, bottom = extent(number.box)
    assert len(orange) > 100  # the box, and its label just above it
    assert all(left - 5 <= x <= right + 60 and top - 40 <= y <= bottom + 5 for x, y in orange)


@needs_model
def test_nothing_found_still_shows_the_lines_read() -> None:
    image = Image.new("RGB", (800, 300), "white")
    from PIL import ImageDraw

    from benchmarks.docgen._draw import font

    ImageDraw.Draw(image).text((40, 100), "今天天气很好", font=font(60), fill="black")
    found = recognised("bankcard", image)
    assert found.reply["errcode"] == 101001
    assert [seen.text for seen in found.lines] == ["今天天气很好"] and found.fields == ()


# --- --annotate ----------------------------------------------------------------------------


def field_pixels(png: bytes) -> int:
    with Image.open(io.BytesIO(png)) as image:
        raw = image.convert("RGB").tobytes()
    return sum(1 for i in range(0, len(raw), 3) if tuple(raw[i : i + 3]) == FIELD_COLOUR)


def test_annotating_draws_boxes_and_refuses_a_bomb() -> None:
    image = Image.new("RGB", (300, 200), "white")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    found = wx.Inspection(
        "comm",
        {"errcode": 0},
        "local",
        (line("a", 10, 10, 100, 40),),
        (wx.FieldSource("items[0].text", "a", (0,), line("a", 10, 10, 100, 40).box),),
    )
    png = annotated_png(buffer.getvalue(), found)
    assert field_pixels(png) > 50
    with Image.open(io.BytesIO(png)) as out:
        assert out.size == (300, 200)
    from .bombs import png_bomb

    with pytest.raises(wx.InvalidInput, match="cannot draw"):
        annotated_png(png_bomb(), found)


@needs_model
async def test_annotate_offline_draws_each_field(tmp_path: Path) -> None:
    from benchmarks.docgen import generate

    image, truth = generate("idcard_back", 2, "clean")
    source, out = tmp_path / "back.png", tmp_path / "back-annotated.png"
    image.save(source)
    run = await cli("idcard", str(source), "--annotate", str(out), emu=None)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["valid_date"] == truth["valid_date"]
    assert "drew " in run.stderr and "2 fields" in run.stderr
    png = out.read_bytes()
    with Image.open(io.BytesIO(png)) as drawn:
        assert drawn.size == image.size
    assert field_pixels(png) > 200


async def test_annotate_with_wechat_draws_what_its_reply_places(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    source = tmp_path / "page.png"
    Image.new("RGB", (1200, 900), "white").save(source)
    out = tmp_path / "drawn.png"
    run = await cli("printed-text", str(source), "--annotate", str(out), emu=emulator)
    assert run.returncode == 0, run.stderr
    assert field_pixels(out.read_bytes()) > 50
    nothing = tmp_path / "nothing.png"
    run = await cli("idcard", str(source), "--annotate", str(nothing), emu=emulator)
    assert run.returncode == 0 and json.loads(run.stdout)["name"] == "张三"
    assert "nothing to draw" in run.stderr and not nothing.exists()
    url = emulator.sample_url("printed_text.png")
    run = await cli("printed-text", url, "--annotate", str(nothing), emu=emulator)
    assert run.returncode == 0 and "by URL" in run.stderr and not nothing.exists()


async def test_an_unwritable_annotate_path_is_refused_before_any_call(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    source = tmp_path / "page.png"
    Image.new("RGB", (100, 100), "white").save(source)
    for out, said in (
        (tmp_path / "missing" / "x.png", "no folder"),
        (tmp_path, "not a regular file"),
        (source, "the image itself"),
    ):
        run = await cli("printed-text", str(source), "--annotate", str(out), emu=emulator)
        assert run.returncode == 2 and said in run.stderr, run.stderr
    assert emulator.stats.ocr_calls.get("comm", 0) == 0
    assert source.stat().st_size > 0
