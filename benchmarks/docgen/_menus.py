"""Menus: the standard one- or two-column card, a narrow-gutter two-column one, a price table."""

from __future__ import annotations

import random
from typing import Any

from ._draw import Box, Canvas, Drawn, font, frame, text_width

DISHES = (
    "宫保鸡丁",
    "鱼香肉丝",
    "麻婆豆腐",
    "回锅肉",
    "水煮鱼",
    "酸菜鱼",
    "红烧肉",
    "糖醋排骨",
    "清蒸鲈鱼",
    "干煸四季豆",
    "地三鲜",
    "西红柿炒鸡蛋",
    "酱鸭",
    "龙虾",
    "芝麻鸭块",
    "皮皮虾",
    "特色辣鸭脚",
    "花甲",
    "蒜蓉西兰花",
    "手撕包菜",
    "小炒黄牛肉",
    "剁椒鱼头",
    "毛血旺",
    "口水鸡",
    "夫妻肺片",
    "凉拌黄瓜",
    "扬州炒饭",
    "牛肉拉面",
    "酸辣粉",
    "担担面",
    "蛋炒饭",
    "米饭",
    "鲜榨橙汁",
    "酸梅汤",
    "柠檬茶",
    "啤酒",
)
RESTAURANTS = (
    "老成都川菜馆",
    "湘味小厨",
    "江南人家",
    "东北饺子馆",
    "粤香茶餐厅",
    "家常菜馆",
    "蜀香园",
)
PAPERS = ((252, 246, 230), (255, 255, 255), (245, 238, 220))
RED = (150, 40, 30)
DOTS = (140, 140, 140)


def _prices(rng: random.Random, count: int) -> list[float]:
    return [
        float(rng.randint(2, 40) * 2) if rng.random() < 0.85 else rng.randint(10, 60) + 0.5
        for _ in range(count)
    ]


def _head(c: Canvas, rng: random.Random) -> None:
    """Border, restaurant name and 菜单, as on every menu."""
    frame(c, (150, 60, 40), 30, 4)
    c.text((c.w / 2, 160), rng.choice(RESTAURANTS), 72, RED, anchor="ms", bold=True)
    c.text((c.w / 2, 235), "菜 单", 44, RED, anchor="ms", tracking=10)


def _dots(c: Canvas, start: float, end: float, y: float) -> None:
    for dx in range(round(start), round(end), 16):
        c.draw.ellipse((dx, y - 6, dx + 4, y - 2), fill=DOTS)


def _truth(dishes: list[str], prices: list[float]) -> dict[str, Any]:
    items = [{"name": d, "price": p} for d, p in zip(dishes, prices, strict=True)]
    return {"content": {"menu_items": items}}


def _row(name: Box, price: Box, column: int, printed: str) -> dict[str, Any]:
    return {"name": name, "price": price, "column": column, "printed": printed}


def menu(rng: random.Random, layout: str = "standard") -> Drawn:
    if layout == "two_column":
        return _two_column(rng)
    if layout == "price_column":
        return _price_column(rng)
    return _standard(rng)


def _standard(rng: random.Random) -> Drawn:
    """6-22 dishes; one column, or two 600 px columns above 11 dishes; one price format."""
    count = rng.randint(6, 22)
    dishes = rng.sample(DISHES, count)
    prices = _prices(rng, count)
    two = count > 11
    c = Canvas((1400 if two else 1100, 1600), rng.choice(PAPERS))
    _head(c, rng)
    style = rng.choice(("¥{}", "{}元", "{}"))
    leader = rng.random() < 0.4
    per_col = (count + 1) // 2 if two else count
    size = 40
    step = min(size * 2.4, (c.h - 380) / per_col)
    col_w = (c.w - 200) / (2 if two else 1)
    rows = []
    for i, (dish, price) in enumerate(zip(dishes, prices, strict=True)):
        col, row = divmod(i, per_col)
        x0, y = 100 + col * col_w, 340 + row * step
        right = x0 + col_w - (60 if two else 0)
        text = style.format(f"{price:g}")
        name_box = c.text((x0, y), dish, size)
        price_box = c.text((right, y), text, size, anchor="rs")
        if leader:
            start = x0 + text_width(dish, size) + 20
            end = right - text_width(text, size) - 20
            _dots(c, start, end, y)
        rows.append(_row(name_box, price_box, col, text))
    return c.image, _truth(dishes, prices), {"rows": rows}


def _two_column(rng: random.Random) -> Drawn:
    """12-20 dishes in two compact columns, name ... price, 40-80 px between the left
    column's prices and the right column's names, so a line finder may join across."""
    count = rng.randint(12, 20)
    dishes = rng.sample(DISHES, count)
    prices = _prices(rng, count)
    size = rng.choice((36, 38, 40, 42))
    style = rng.choice(("¥{}", "{}元", "{}"))
    texts = [style.format(f"{p:g}") for p in prices]
    leader = rng.random() < 0.5
    gutter = rng.randint(40, 80)
    gap = rng.randint(40, 120)  # the least room between a name and its price
    col_w = round(
        max(text_width(d, size) for d in dishes) + gap + max(text_width(t, size) for t in texts)
    )
    width = max(1000, 2 * col_w + gutter + 2 * rng.randint(90, 130))
    per_col = (count + 1) // 2
    step = size * rng.uniform(2.0, 2.5)
    c = Canvas((width, round(340 + (per_col - 1) * step + 200)), rng.choice(PAPERS))
    _head(c, rng)
    left = round((c.w - 2 * col_w - gutter) / 2)
    rows = []
    for i, (dish, text) in enumerate(zip(dishes, texts, strict=True)):
        col, row = divmod(i, per_col)
        x0, y = left + col * (col_w + gutter), 340 + row * step
        right = x0 + col_w
        name_box = c.text((x0, y), dish, size)
        price_box = c.text((right, y), text, size, anchor="rs")
        if leader:
            _dots(c, x0 + text_width(dish, size) + 16, right - text_width(text, size) - 16, y)
        rows.append(_row(name_box, price_box, col, text))
    return c.image, _truth(dishes, prices), {"rows": rows, "gutter": gutter}


HEADINGS = (("菜品", "价格"), ("菜名", "单价"), ("品名", "价格(元)"))


def _price_column(rng: random.Random) -> Drawn:
    """8-16 dishes as a table: names on the left, prices right-aligned far to the right,
    some as ¥12 or 12元; optional …… leaders, heading row and rules."""
    count = rng.randint(8, 16)
    dishes = rng.sample(DISHES, count)
    prices = _prices(rng, count)
    size = rng.choice((36, 38, 40))
    leader = rng.random() < 0.5
    ruled = rng.random() < 0.4
    heading = rng.choice(HEADINGS) if rng.random() < 0.5 else None
    step = size * rng.uniform(2.0, 2.4)
    top = 340 + (size * 2 if heading else 0)
    c = Canvas((rng.choice((1100, 1240)), round(top + count * step + 120)), rng.choice(PAPERS))
    _head(c, rng)
    xn, xp = rng.randint(110, 160), c.w - rng.randint(110, 160)
    if heading:
        c.text((xn, 340), heading[0], size - 2, RED, bold=True)
        c.text((xp, 340), heading[1], size - 2, RED, anchor="rs", bold=True)
        c.draw.line((xn, 362, xp, 362), fill=RED, width=2)
    y = float(top)
    rows = []
    for dish, price in zip(dishes, prices, strict=True):
        number = f"{price:g}"
        text = rng.choice((number, number, number, f"¥{number}", f"{number}元"))
        name_box = c.text((xn, y), dish, size)
        price_box = c.text((xp, y), text, size, anchor="rs")
        if leader:
            start = name_box[2] + 16
            end = price_box[0] - 16
            dot = font(size).getlength("…")
            n = int((end - start) // dot)
            c.draw.text((end - n * dot, y), "…" * n, font=font(size), fill=DOTS, anchor="ls")
        if ruled:
            c.draw.line((xn, y + size * 0.5, xp, y + size * 0.5), fill=(200, 190, 170), width=1)
        rows.append(_row(name_box, price_box, 0, text))
        y += step
    return c.image, _truth(dishes, prices), {"rows": rows}
