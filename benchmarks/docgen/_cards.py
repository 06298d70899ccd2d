"""Card-sized documents: ID card (both sides), bank card, licence plate."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

from . import _fakes as fk
from ._draw import (
    Canvas,
    Drawn,
    emblem,
    font,
    gradient,
    guilloche,
    lines_since,
    mix,
    photo_box,
    wrap,
)

CARD = (1200, 757)  # 85.6 x 54 mm
LABEL_BLUE = (40, 100, 170)
STREETS = (
    "城关街道",
    "新华街道",
    "东湖街道",
    "长安街道",
    "粤海街道",
    "湖滨街道",
    "南湖街道",
    "龙华街道",
    "五里墩街道",
    "高新技术产业开发区",
    "城南镇",
    "经济技术开发区",
)
COMMUNITIES = ("幸福社区", "和平社区", "阳光社区", "丰收村", "新村社区", "桂花社区", "向阳村")


def long_address(
    rng: random.Random, city: fk.City, district: str, size: int, width: float, lines: range
) -> str:
    """A full address with street (and community) that wraps into a number of ``lines``
    of ``width`` pixels at font ``size``: what makes real documents print it over lines."""
    head = (city.name if city.province == city.name else city.province + city.name) + district
    for _ in range(1000):
        tail = fk.address(rng, city, district).removeprefix(head)
        middle = rng.choice(STREETS) + (rng.choice(COMMUNITIES) if rng.random() < 0.6 else "")
        addr = head + middle + tail
        printed = wrap(addr, size, width)
        if len(printed) in lines and len(printed[-1]) >= 4:  # no lone "7" on the last line
            return addr
    raise RuntimeError(f"no address of {lines} lines at {size}px in {width}px")  # pragma: no cover


def _card_base(
    rng: random.Random, top: tuple[int, int, int], bottom: tuple[int, int, int]
) -> Canvas:
    canvas = Canvas(CARD, top)
    canvas.image.paste(gradient(CARD, top, bottom))
    guilloche(canvas, rng, mix(top, (120, 160, 200), 0.35))
    return canvas


ID_VALUE, ID_ADDRESS_WIDTH = 42, CARD[0] * 0.445


def idcard_front(rng: random.Random, layout: str = "standard") -> Drawn:
    """The photo side; "wrapped_address" prints an address of three lines."""
    gender = rng.choice(("男", "女"))
    person = fk.name(rng, gender)
    nation = fk.nationality(rng)
    city, district, region = fk.place(rng)
    if layout == "wrapped_address":
        addr = long_address(rng, city, district, ID_VALUE, ID_ADDRESS_WIDTH, range(3, 4))
    else:
        addr = fk.address(rng, city, district)
    birth = fk.date_between(rng, dt.date(1950, 1, 1), dt.date(2006, 12, 31))
    number = fk.id_number(rng, region, birth, gender)

    c = _card_base(rng, (246, 244, 236), (232, 238, 242))
    w, h = c.w, c.h
    lab, val = 34, ID_VALUE
    x_lab, x_val = w * 0.075, w * 0.185
    c.text((x_lab, h * 0.17), "姓 名", lab, LABEL_BLUE, tracking=0)
    c.text((x_val, h * 0.17), person, val + 4)
    c.text((x_lab, h * 0.31), "性 别", lab, LABEL_BLUE)
    c.text((x_val, h * 0.31), gender, val)
    c.text((w * 0.36, h * 0.31), "民 族", lab, LABEL_BLUE)
    c.text((w * 0.465, h * 0.31), nation, val)
    c.text((x_lab, h * 0.45), "出 生", lab, LABEL_BLUE)
    x = x_val
    for part, unit in ((f"{birth.year}", "年"), (f"{birth.month}", "月"), (f"{birth.day}", "日")):
        c.text((x, h * 0.45), part, val)
        x += font(val).getlength(part) + 10
        c.text((x, h * 0.45), unit, lab, LABEL_BLUE)
        x += font(lab).getlength(unit) + 22
    c.text((x_lab, h * 0.59), "住 址", lab, LABEL_BLUE)
    first_line = len(c.lines)
    c.paragraph((x_val, h * 0.59), addr, val, ID_ADDRESS_WIDTH, leading=1.3)
    address_lines = lines_since(c, first_line)
    c.text((x_lab, h * 0.86), "公民身份号码", lab, LABEL_BLUE)
    c.text((w * 0.37, h * 0.86), number, 46, tracking=5)
    photo_box(c, (round(w * 0.655), round(h * 0.11), round(w * 0.93), round(h * 0.72)))
    truth = {
        "type": "Front",
        "name": person,
        "gender": gender,
        "nationality": nation,
        "addr": addr,
        "id": number,
        "birth": f"{birth:%Y-%m-%d}",
    }
    return c.image, truth, {"address_lines": address_lines, "drawn": list(c.lines)}


def idcard_back(rng: random.Random) -> tuple[Image.Image, dict[str, Any]]:
    city, district, _ = fk.place(rng)
    if city.province == city.name or rng.random() < 0.5:
        authority = f"{city.name}公安局{district.rstrip('区').removesuffix('新')}分局"
    else:
        authority = f"{city.name}公安局"
    age = rng.randint(16, 70)
    start = fk.date_between(rng, dt.date(2008, 1, 1), dt.date(2025, 6, 30))
    years = 10 if age < 26 else 20 if age < 46 else 0
    end = f"{fk.add_years(start, years):%Y%m%d}" if years else "长期"
    printed_end = f"{fk.add_years(start, years):%Y.%m.%d}" if years else "长期"

    c = _card_base(rng, (240, 244, 246), (246, 242, 232))
    w, h = c.w, c.h
    emblem(c, (w * 0.16, h * 0.27), round(h * 0.17))
    c.text((w * 0.36, h * 0.26), "中华人民共和国", 62, (30, 30, 30), tracking=14, bold=True)
    c.text((w * 0.33, h * 0.45), "居民身份证", 86, (30, 30, 30), tracking=22, bold=True)
    lab, val = 34, 40
    c.text((w * 0.19, h * 0.72), "签发机关", lab, LABEL_BLUE)
    c.text((w * 0.37, h * 0.72), authority, val)
    c.text((w * 0.19, h * 0.86), "有效期限", lab, LABEL_BLUE)
    c.text((w * 0.37, h * 0.86), f"{start:%Y.%m.%d}-{printed_end}", val)
    return c.image, {"type": "Back", "valid_date": f"{start:%Y%m%d}-{end}", "authority": authority}


BANK_COLOURS = (
    ((20, 60, 130), (40, 110, 180)),
    ((150, 20, 30), (200, 60, 50)),
    ((20, 100, 80), (40, 150, 110)),
    ((40, 40, 50), (90, 90, 110)),
)


def bankcard(rng: random.Random) -> tuple[Image.Image, dict[str, Any]]:
    bank, english, prefixes, lengths = rng.choice(fk.BANKS)
    prefix = rng.choice(prefixes)
    number = fk.luhn_number(rng, prefix, rng.choice(lengths))
    top, bottom = rng.choice(BANK_COLOURS)
    c = Canvas(CARD, top)
    c.image.paste(gradient(CARD, top, bottom, horizontal=True))
    guilloche(c, rng, mix(top, (255, 255, 255), 0.18), count=22)
    w, h = c.w, c.h
    white, silver = (250, 250, 250), (225, 228, 232)
    c.draw.ellipse((w * 0.05, h * 0.07, w * 0.05 + 70, h * 0.07 + 70), outline=white, width=6)
    c.text((w * 0.05 + 90, h * 0.07 + 50), bank, 50, white, bold=True)
    c.text((w * 0.05 + 92, h * 0.07 + 90), english, 24, silver)
    c.draw.rounded_rectangle(
        (w * 0.09, h * 0.36, w * 0.09 + 130, h * 0.36 + 100),
        12,
        fill=(214, 184, 110),
        outline=(150, 120, 60),
        width=2,
    )
    groups = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    size = 64 if len(number) <= 16 else 56
    x, y = w * 0.07, h * 0.68
    c.draw.text((x + 3, y + 3), groups, font=font(size), fill=mix(top, (0, 0, 0), 0.5), anchor="ls")
    c.text((x, y), groups, size, silver)
    month, year = rng.randint(1, 12), rng.randint(26, 35)
    c.text((w * 0.38, h * 0.81), "VALID", 18, silver)
    c.text((w * 0.38, h * 0.84), "THRU", 18, silver)
    c.text((w * 0.44, h * 0.84), f"{month:02d}/{year}", 36, white)
    logo = (round(w * 0.76), round(h * 0.72), round(w * 0.95), round(h * 0.93))
    third = (logo[2] - logo[0]) // 3
    for i, col in enumerate(((220, 40, 40), (20, 60, 150), (20, 130, 110))):
        c.draw.rounded_rectangle(
            (logo[0] + i * third, logo[1], logo[0] + (i + 1) * third + 8, logo[3]), 10, fill=col
        )
    c.text(((logo[0] + logo[2]) / 2, logo[1] + 62), "银联", 46, white, anchor="ms", bold=True)
    c.text(((logo[0] + logo[2]) / 2, logo[3] - 14), "UnionPay", 26, white, anchor="ms")
    return c.image, {"number": number}


PLATE_STYLES = {
    "blue": ((16, 64, 170), (16, 64, 170), (245, 245, 245)),
    "yellow": ((240, 190, 20), (240, 190, 20), (20, 20, 20)),
    "green": ((235, 250, 235), (70, 180, 90), (20, 20, 20)),
}


def plate_image(number: str, colour: str, width: int) -> Image.Image:
    """A plate of ``width`` pixels with tall characters and a dot after the 2nd one."""
    top, bottom, ink = PLATE_STYLES[colour]
    height = round(width * (140 / 440 if len(number) == 7 else 140 / 480))
    img = gradient((width, height), top, bottom)
    d = ImageDraw.Draw(img)
    d.rounded_rectangle(
        (4, 4, width - 5, height - 5), height // 10, outline=ink, width=max(2, height // 45)
    )
    n = len(number)
    gap, dot = width * 0.022, width * 0.05
    slot = (width * 0.9 - dot - gap * (n - 1)) / n
    x = width * 0.05
    char_h = round(height * 0.66)
    for i, ch in enumerate(number):
        glyph = Image.new("L", (200, 200), 0)
        ImageDraw.Draw(glyph).text((100, 100), ch, font=font(150), fill=255, anchor="mm")
        bbox = glyph.getbbox() or (0, 0, 200, 200)
        glyph = glyph.crop(bbox)
        gw = round(slot * 0.95) if ch.isascii() else round(slot)
        glyph = glyph.resize((gw, char_h), Image.Resampling.LANCZOS)
        img.paste(
            Image.new("RGB", glyph.size, ink),
            (round(x + (slot - gw) / 2), (height - char_h) // 2),
            glyph,
        )
        x += slot + gap
        if i == 1:
            r = height * 0.04
            d.ellipse(
                (
                    x + dot / 2 - r - gap / 2,
                    height / 2 - r,
                    x + dot / 2 + r - gap / 2,
                    height / 2 + r,
                ),
                fill=ink,
            )
            x += dot
    return img


def platenum(rng: random.Random) -> tuple[Image.Image, dict[str, Any]]:
    number, colour = fk.plate(rng)
    if rng.random() < 0.35:  # close-up: the plate on a bumper
        size = (1100, 560)
        body = rng.choice(((200, 200, 205), (30, 30, 35), (150, 20, 25), (240, 240, 240)))
        img = gradient(size, mix(body, (255, 255, 255), 0.2), mix(body, (0, 0, 0), 0.3))
        plate = plate_image(number, colour, 820)
        img.paste(plate, ((size[0] - plate.width) // 2, (size[1] - plate.height) // 2))
        return img, {"number": number}
    img = _car_scene(rng)
    plate = plate_image(number, colour, rng.randint(360, 460))
    img.paste(
        plate, ((img.width - plate.width) // 2 + rng.randint(-20, 20), round(img.height * 0.68))
    )
    return img, {"number": number}


def _car_scene(rng: random.Random) -> Image.Image:
    """A front view of a car-ish shape on a road, 1200 x 900."""
    size = (1200, 900)
    img = gradient(size, (170, 190, 210), (110, 110, 105))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 560, 1200, 900), fill=(95, 95, 92))
    body = rng.choice(
        ((200, 200, 205), (30, 30, 35), (150, 20, 25), (240, 240, 240), (30, 60, 120))
    )
    dark = mix(body, (0, 0, 0), 0.45)
    d.ellipse((150, 740, 330, 880), fill=(25, 25, 25))
    d.ellipse((870, 740, 1050, 880), fill=(25, 25, 25))
    d.polygon([(300, 170), (900, 170), (1000, 380), (200, 380)], fill=dark)
    d.polygon([(330, 190), (870, 190), (950, 360), (250, 360)], fill=(120, 150, 175))
    d.rounded_rectangle((120, 360, 1080, 820), 70, fill=body)
    d.rounded_rectangle((170, 430, 370, 520), 30, fill=(235, 235, 220))
    d.rounded_rectangle((830, 430, 1030, 520), 30, fill=(235, 235, 220))
    d.rounded_rectangle((420, 440, 780, 560), 20, fill=dark)
    for y in range(455, 550, 18):
        d.line((430, y, 770, y), fill=mix(dark, (200, 200, 200), 0.3), width=4)
    d.rectangle((120, 590, 1080, 600), fill=mix(body, (0, 0, 0), 0.2))
    return img.filter(ImageFilter.SMOOTH)


__all__ = ["bankcard", "idcard_back", "idcard_front", "long_address", "platenum"]
