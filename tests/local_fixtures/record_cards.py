"""Draw fake ID cards, bank cards, plates, pages and menus; record RapidOCR's lines.

Run once (needs pillow and the [local] extra; records what the engine's own model reads):
    .venv/bin/python tests/local_fixtures/record_cards.py
Each case becomes ``<endpoint>/<case>.json`` = {"size", "lines", "expected"}; the
expected reply is the drawn truth, not what the recogniser read.
"""

from __future__ import annotations

import io
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from wxocr_async.local.checks import id_check_char, luhn_valid

HERE = Path(__file__).parent
FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
Box = list[tuple[float, float]]


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT, size)


class Canvas:
    """An image plus the boxes of the text drawn on it (for comm's expected pos)."""

    def __init__(self, w: int, h: int, bg: str = "#d8d4cc") -> None:
        self.img = Image.new("RGB", (w, h), bg)
        self.draw = ImageDraw.Draw(self.img)
        self.texts: list[tuple[str, Box]] = []

    def text(self, xy: tuple[int, int], s: str, size: int, fill: str = "#111") -> int:
        """Draw ``s`` at ``xy``; returns the right edge."""
        f = font(size)
        self.draw.text(xy, s, font=f, fill=fill)
        x0, y0, x1, y1 = self.draw.textbbox(xy, s, font=f)
        self.texts.append((s, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]))
        return int(x1)

    def rotated(self, degrees: float) -> tuple[Image.Image, list[tuple[str, Box]]]:
        """The image turned ``degrees`` counter-clockwise (expanded), and the boxes with it."""
        w, h = self.img.size
        out = self.img.rotate(
            degrees, expand=True, fillcolor="#8a8f96", resample=Image.Resampling.BICUBIC
        )
        nw, nh = out.size
        a = math.radians(degrees)

        def move(p: tuple[float, float]) -> tuple[float, float]:
            dx, dy = p[0] - w / 2, p[1] - h / 2
            return (
                dx * math.cos(a) + dy * math.sin(a) + nw / 2,
                -dx * math.sin(a) + dy * math.cos(a) + nh / 2,
            )

        return out, [(s, [move(p) for p in box]) for s, box in self.texts]


def card(c: Canvas, x: int, y: int, w: int, h: int, fill: str) -> None:
    c.draw.rounded_rectangle((x, y, x + w, y + h), radius=28, fill=fill, outline="#999", width=2)


def id_number(first17: str) -> str:
    return first17 + id_check_char(first17)


def luhn_complete(first: str) -> str:
    return next(first + d for d in "0123456789" if luhn_valid(first + d))


# --- ID card ------------------------------------------------------------------------------


def id_front(p: dict[str, Any]) -> Canvas:
    c = Canvas(1000, 660)
    card(c, 72, 60, 856, 540, "#eef3f6")
    lab, val = "#3a6b8c", "#111"
    x0 = 120
    xv = x0 + p.get("gap", 90)
    c.text((x0, 110), "姓名", 26, lab)
    c.text((xv, 106), p["name"], 34, val)
    c.text((x0, 180), "性别", 26, lab)
    c.text((xv, 178), p["gender"], 30, val)
    c.text((330, 180), "民族", 26, lab)
    c.text((330 + p.get("gap", 90), 178), p["nationality"], 30, val)
    y, m, d = p["birth"].split("-")
    c.text((x0, 250), "出生", 26, lab)
    xx = c.text((xv, 248), y, 30, val)
    xx = c.text((xx + 8, 250), "年", 26, lab)
    xx = c.text((xx + 8, 248), str(int(m)), 30, val)
    xx = c.text((xx + 8, 250), "月", 26, lab)
    xx = c.text((xx + 8, 248), str(int(d)), 30, val)
    c.text((xx + 8, 250), "日", 26, lab)
    c.text((x0, 320), "住址", 26, lab)
    for i, part in enumerate(p["addr_lines"]):
        c.text((xv, 318 + 44 * i), part, 30, val)
    c.text((x0, 500), "公民身份号码", 26, lab)
    c.text((330, 496), p["id"], 36, val)
    c.draw.rectangle((640, 120, 880, 420), fill="#c9ced3")
    return c


def id_back(p: dict[str, Any]) -> Canvas:
    c = Canvas(1000, 660)
    card(c, 72, 60, 856, 540, "#f4efe6")
    c.draw.ellipse((120, 100, 240, 220), outline="#c33", width=6)
    c.text((330, 120), "中华人民共和国", 48, "#222")
    c.text((360, 220), "居民身份证", 56, "#222")
    c.text((180, 430), "签发机关", 26, "#333")
    c.text((330, 426), p["authority"], 30, "#111")
    c.text((180, 500), "有效期限", 26, "#333")
    c.text((330, 496), p["valid"], 30, "#111")
    return c


FRONTS: dict[str, tuple[float, dict[str, Any]]] = {
    "front_clean": (
        0.0,
        {"name": "张伟", "gender": "男", "nationality": "汉", "birth": "1985-03-12",
         "addr_lines": ["广东省深圳市南山区科技", "园南区高新南七道88号"],
         "id": id_number("44030519850312123")},
    ),
    "front_tilt": (
        3.5,
        {"name": "李秀英", "gender": "女", "nationality": "汉", "birth": "1992-11-05",
         "addr_lines": ["浙江省杭州市西湖区文三", "路478号华星科技大厦", "1506室"],
         "id": id_number("33010619921105004")},
    ),
    "front_hui": (
        -4.0,
        {"name": "马建国", "gender": "男", "nationality": "回", "birth": "1978-07-23",
         "addr_lines": ["宁夏回族自治区银川市兴庆", "区解放西街16号"],
         "id": id_number("64010419780723001")},
    ),
    "front_tight_lowres": (
        2.0,
        {"name": "陈思远", "gender": "男", "nationality": "汉", "birth": "2001-01-30",
         "addr_lines": ["四川省成都市武侯区人民南", "路四段12号6栋2单元301号"],
         "id": id_number("51010720010130003"), "gap": 60},
    ),
    "front_rough": (
        -7.0,
        {"name": "欧阳娜", "gender": "女", "nationality": "壮", "birth": "1969-10-01",
         "addr_lines": ["广西壮族自治区南宁市青秀", "区民族大道136号5栋", "2单元802号"],
         "id": id_number("45010319691001008"), "gap": 70},
    ),
}  # fmt: skip
BACKS = {
    "back_clean": (0.0, "深圳市公安局南山分局", "2015.06.01-2035.06.01"),
    "back_longterm": (-3.0, "杭州市公安局西湖分局", "2010.09.15-长期"),
    "back_rough": (6.0, "南宁市公安局青秀分局", "2019.03.08-2039.03.08"),
}


def id_cases() -> dict[str, tuple[Canvas, float, dict[str, Any]]]:
    out: dict[str, tuple[Canvas, float, dict[str, Any]]] = {}
    for case, (deg, p) in FRONTS.items():
        want = {"type": "Front", "name": p["name"], "gender": p["gender"],
                "nationality": p["nationality"], "addr": "".join(p["addr_lines"]),
                "id": p["id"], "birth": p["birth"]}  # fmt: skip
        out[case] = (id_front(p), deg, want)
    for case, (deg, authority, valid) in BACKS.items():
        date = valid.replace(".", "")
        out[case] = (
            id_back({"authority": authority, "valid": valid}),
            deg,
            {"type": "Back", "valid_date": date, "authority": authority},
        )
    return out


# --- bank card ----------------------------------------------------------------------------


def bank(bank_name: str, number: str, holder: str, fill: str) -> Canvas:
    c = Canvas(1000, 660, "#6d6a66")
    card(c, 72, 60, 856, 540, fill)
    c.text((120, 100), bank_name, 40, "#fff")
    c.draw.rectangle((130, 220, 230, 290), fill="#d9b65a")
    groups = [number[i : i + 4] for i in range(0, len(number), 4)]
    c.text((120, 340), " ".join(groups), 50 if len(number) <= 16 else 44, "#fff")
    c.text((470, 430), "VALID THRU 09/29", 24, "#eee")
    c.text((120, 500), holder, 30, "#fff")
    c.text((760, 500), "银联", 34, "#fff")
    c.text((120, 560), "客服热线 95588", 20, "#ddd")
    return c


def bank_cases() -> dict[str, tuple[Canvas, float, dict[str, Any]]]:
    data = {
        "icbc_19": (0.0, "中国工商银行", "622202123456789012", "ZHANG WEI", "#9b1c22"),
        "cmb_16_tilt": (4.0, "招商银行", "622588012345678", "LI XIUYING", "#1f3f7a"),
        "abc_19_tilt": (-3.0, "中国农业银行", "621700001234567890", "MA JIANGUO", "#1d6b4f"),
        "boc_16_lowres": (2.0, "中国银行", "456351001234567", "CHEN SIYUAN", "#8a1538"),
        "ccb_19_rough": (-6.0, "中国建设银行", "621700288001234567", "OUYANG NA", "#234a8f"),
    }
    return {
        case: (
            bank(name, luhn_complete(first), holder, fill),
            deg,
            {"number": luhn_complete(first)},
        )
        for case, (deg, name, first, holder, fill) in data.items()
    }


# --- plates -------------------------------------------------------------------------------


def plate(text: str, bg: str, fg: str, green: bool = False) -> Canvas:
    c = Canvas(720, 360, "#5a5f66")
    c.draw.rectangle((40, 60, 680, 300), fill="#2b2f36")
    if green:
        for i in range(40):
            shade = 235 - i * 3
            c.draw.line((110, 110 + i * 3.5, 610, 110 + i * 3.5), fill=(shade, 250, shade), width=4)
        c.draw.rectangle((110, 110, 610, 250), outline="#222", width=3)
    else:
        c.draw.rectangle((110, 110, 610, 250), fill=bg, outline=fg, width=4)
    c.text((140, 135), text, 78 if len(text) < 10 else 70, fg)
    return c


def plate_cases() -> dict[str, tuple[Canvas, float, dict[str, Any]]]:
    data = {
        "blue": (0.0, "粤B·12345", "#1747a6", "#fff", False),
        "yellow_tilt": (-5.0, "京N·6B835", "#f2c200", "#111", False),
        "green_tilt": (4.0, "粤B·D12345", "", "#111", True),
        "blue_lowres": (-2.0, "沪A·K3L08", "#1747a6", "#fff", False),
        "green_rough": (7.0, "桂A·FG8216", "", "#111", True),
    }
    return {
        case: (plate(text, bg, fg, green), deg, {"number": text.replace("·", "")})
        for case, (deg, text, bg, fg, green) in data.items()
    }


# --- comm (printed text) ------------------------------------------------------------------


def page(lines: list[tuple[int, int, str, int]]) -> Canvas:
    c = Canvas(900, 640, "#fbfaf6")
    for x, y, s, size in lines:
        c.text((x, y), s, size)
    return c


PAGE_A = [
    (300, 40, "关于年度体检的通知", 36),
    (60, 120, "各部门同事：", 26),
    (100, 170, "公司定于2024年5月20日至24日组织年度体检，", 26),
    (60, 215, "请各位按部门顺序前往体检中心。", 26),
    (100, 260, "体检前一晚十点后请勿进食。", 26),
    (60, 340, "地点：科技园南区8栋3楼", 26),
    (500, 340, "联系人：王敏", 26),
    (60, 385, "电话：0755-86013388", 26),
    (560, 520, "行政部", 26),
    (520, 565, "2024年5月10日", 26),
]
PAGE_B = [
    (60, 60, "第二季度会议纪要", 34),
    (60, 140, "1.项目进度：后端接口已完成80%。", 26),
    (60, 190, "2.下周一发布测试版本v1.3.2。", 26),
    (60, 240, "3.预算：￥12,500，由财务部审批。", 26),
    (60, 330, "参会人：张伟、李娜、陈强", 26),
]


def comm_cases() -> dict[str, tuple[Canvas, float, dict[str, Any]]]:
    return {
        "notice": (page(PAGE_A), 0.0, {}),
        "notes_tilt": (page(PAGE_B), 3.0, {}),
    }


# --- menu ---------------------------------------------------------------------------------


def menu_one(title: str, sections: list[tuple[str, list[tuple[str, str, float]]]]) -> Canvas:
    c = Canvas(760, 200 + 60 * sum(len(s[1]) + 1 for s in sections), "#fff8ea")
    c.text((250, 40), title, 44, "#7a1d12")
    y = 130
    for head, items in sections:
        c.text((80, y), head, 32, "#7a1d12")
        y += 60
        for name, price, _ in items:
            c.text((100, y), name, 30)
            c.text((520, y), price, 30)
            y += 60
    return c


def menu_two(
    title: str, left: list[tuple[str, str, float]], right: list[tuple[str, str, float]]
) -> Canvas:
    c = Canvas(1100, 200 + 64 * max(len(left), len(right)), "#f6f1e4")
    c.text((420, 40), title, 44, "#222")
    for col, items in ((0, left), (1, right)):
        for i, (name, price, _) in enumerate(items):
            c.text((80 + 520 * col, 140 + 64 * i), name, 30)
            c.text((380 + 520 * col, 140 + 64 * i), price, 30)
    return c


MENU_A = [
    ("热菜", [("宫保鸡丁", "38", 38.0), ("水煮鱼", "¥68", 68.0), ("麻婆豆腐", "28元", 28.0),
              ("回锅肉", "42.0", 42.0)]),
    ("凉菜", [("拍黄瓜", "12/份", 12.0), ("夫妻肺片", "36", 36.0)]),
]  # fmt: skip
MENU_L = [
    ("酱鸭", "48", 48.0),
    ("龙虾", "80", 80.0),
    ("芝麻鸭块", "48", 48.0),
    ("皮皮虾", "70", 70.0),
]
MENU_R = [
    ("特色辣鸭脚", "46", 46.0),
    ("花甲", "30", 30.0),
    ("小鸭翅", "46", 46.0),
    ("八宝粥", "10.5", 10.5),
]
MENU_TL = [("菠萝油", "12", 12.0), ("西多士", "¥18", 18.0), ("咖喱鱼蛋", "15元", 15.0)]
MENU_TR = [("丝袜奶茶", "16", 16.0), ("冻柠茶", "14.5", 14.5), ("鸳鸯", "16/杯", 16.0)]
MENU_C = [("主食", [("扬州炒饭", "¥22", 22.0), ("牛肉面", "26元", 26.0), ("葱油饼", "8/份", 8.0)])]


def menu_cases() -> dict[str, tuple[Canvas, float, dict[str, Any]]]:
    def want(items: list[tuple[str, str, float]]) -> dict[str, Any]:
        return {"content": {"menu_items": [{"name": n, "price": p} for n, _, p in items]}}

    return {
        "one_column": (
            menu_one("老张家常菜", MENU_A),
            0.0,
            want([i for _, s in MENU_A for i in s]),
        ),
        "two_column": (menu_two("鸭脖王", MENU_L, MENU_R), 0.0, want(MENU_L + MENU_R)),
        "staples_tilt": (menu_one("面馆", MENU_C), 3.0, want(MENU_C[0][1])),
        "one_column_rough": (
            menu_one("老张家常菜", MENU_A),
            -6.0,
            want([i for _, s in MENU_A for i in s]),
        ),
        "two_column_lowres": (menu_two("茶餐厅", MENU_TL, MENU_TR), -2.0, want(MENU_TL + MENU_TR)),
    }


# --- record -------------------------------------------------------------------------------

KINDS: dict[str, Callable[[], dict[str, tuple[Canvas, float, dict[str, Any]]]]] = {
    "idcard": id_cases,
    "bankcard": bank_cases,
    "platenum": plate_cases,
    "comm": comm_cases,
    "menu": menu_cases,
}


def comm_expected(texts: list[tuple[str, Box]], size: tuple[int, int]) -> dict[str, Any]:
    names = ("left_top", "right_top", "right_bottom", "left_bottom")
    items = [
        {
            "text": s,
            "pos": {
                n: {"x": round(x), "y": round(y)} for n, (x, y) in zip(names, box, strict=True)
            },
        }
        for s, box in texts
    ]
    return {"items": items, "img_size": {"w": size[0], "h": size[1]}}


def lowres(img: Image.Image, scale: float = 0.55, blur: float = 0.7, q: int = 35) -> Image.Image:
    """A small, soft, JPEG-compressed copy: what a phone photo sent over chat looks like."""
    small = img.resize(
        (round(img.width * scale), round(img.height * scale)), Image.Resampling.BILINEAR
    )
    small = small.filter(ImageFilter.GaussianBlur(blur))
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=q)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def main(only: list[str]) -> None:
    import numpy as np

    from wxocr_async.local import model

    for kind, make in KINDS.items():
        if only and kind not in only:
            continue
        (HERE / kind).mkdir(parents=True, exist_ok=True)
        for case, (canvas, deg, expected) in make().items():
            img, texts = canvas.rotated(deg) if deg else (canvas.img, canvas.texts)
            if kind == "comm":
                expected = comm_expected(texts, img.size)
            if case.endswith("_lowres"):
                img = lowres(img)
            if case.endswith("_rough"):
                img = lowres(img, 0.4, 1.1, 25)
            lines = [line.to_json() for line in model.read_page(np.asarray(img)[:, :, ::-1])]
            data = {"size": list(img.size), "lines": lines, "expected": expected}
            path = HERE / kind / f"{case}.json"
            path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            print(kind, case, [ln["text"] for ln in lines])


if __name__ == "__main__":
    main(sys.argv[1:])
