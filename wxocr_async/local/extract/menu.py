"""菜单 (/cv/ocr/menu): dish names paired with their prices, column by column."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import attrs

from wxocr_async.local.geometry import Upright, rows, upright
from wxocr_async.local.lines import Line, NothingFound
from wxocr_async.local.reread import Look
from wxocr_async.local.text import compact, spaced

#: "48", "48.0", "¥48", "48元", "48/份", "48元/份"; after "元/" any two marks (a unit too
#: small to read: "35.8元/0")
_PRICE = r"[¥￥$]?(\d{1,4}(?:\.\d{1,2})?)(?:元/\S{0,2}|元|/[\u4e00-\u9fff]{1,2})?"
_ONLY_PRICE = re.compile(_PRICE)
#: a dish and its price in one box, kept apart by a space, leader dots or a dash or a
#: middle dot (one "." is a decimal point), a bar ("NAME | 8") or a currency sign
_NAME_THEN_PRICE = re.compile(
    r"(.*?[\u4e00-\u9fffA-Za-z].*?)"
    r"(?:\s+|\s*(?:\.{2,}|[·…_:：\-—]+)\s*|\s*[|｜丨]\s*|(?=[¥￥$]))" + _PRICE
)
#: a short Chinese dish name with its price glued on ("宫保鸡丁28"): at most three digits,
#: so that an address's house number is no price
_GLUED = re.compile(
    r"([\u4e00-\u9fff]{2,12})(\d{1,3}(?:\.\d{1,2})?)(?:元/\S{0,2}|元|/[\u4e00-\u9fff])?"
)
_NAME_CHAR = re.compile(r"[\u4e00-\u9fffA-Za-z]")


@attrs.frozen
class Item:
    name: str
    price: float
    left: float
    right: float
    top: float


def extract(
    lines: Sequence[Line], size: tuple[int, int], look: Look | None = None
) -> dict[str, Any]:
    """Every priced dish, columns left to right, top to bottom within a column; rows
    without a price (titles, headings) are skipped. NothingFound when no dish."""
    lines = [part for line in lines for part in unglue(line)]
    items, names, prices = [], [], []
    for row in rows(lines):
        paired, unpaired, free = pair_row(row)
        items += paired
        names += unpaired
        prices += free
    items += stacked_pairs(names, prices)
    in_columns = column_pairs(lines)
    if len(in_columns) > len(items):
        items = in_columns
    if not items:
        raise NothingFound("no priced dish")
    ordered = [item for column in columns(items) for item in sorted(column, key=top)]
    return {"content": {"menu_items": [{"name": i.name, "price": i.price} for i in ordered]}}


#: a price glued before the next column's dish ("38小炒黄牛肉": the detector joined them)
_PRICE_THEN_NAME = re.compile(
    r"([¥￥$]?\d{1,4}(?:\.\d{1,2})?元?)(?![元年月日号份岁栋楼室层])([\u4e00-\u9fff]{2,}\D*)"
)


#: a dish's price (its unit too: "22/例") with the next column's dish glued after it
_DISH_THEN_NEXT = re.compile(
    r"(.*?[\u4e00-\u9fff][^\d]*?[¥￥$]?\d{1,4}(?:\.\d{1,2})?元?(?:/[\u4e00-\u9fff])?)"
    r"(?![元年月日号份岁栋楼室层\d./])[^\u4e00-\u9fff\d.]{0,2}([\u4e00-\u9fff]{2,}.*)"
)


def unglue(line: Line) -> list[Line]:
    """``line`` split where a price runs straight into a dish name ("38小炒黄牛肉", and
    "姜汁莲菜·22/例爽口香芹": one dish, then the next column's), the box divided by the
    characters' widths (a digit about half a Chinese character)."""
    text = compact(line.text)
    if found := _PRICE_THEN_NAME.fullmatch(text):
        return _cut(line, *found.groups())
    if found := _DISH_THEN_NEXT.fullmatch(text):
        first, rest = _cut(line, *found.groups())
        return [first, *unglue(rest)]
    return [line]


def _cut(line: Line, head: str, tail: str) -> list[Line]:
    widths = [0.55 if c.isascii() else 1.0 for c in head + tail]
    cut = sum(widths[: len(head)]) / sum(widths)
    lt, rt, rb, lb = line.box
    top_cut = (lt[0] + (rt[0] - lt[0]) * cut, lt[1] + (rt[1] - lt[1]) * cut)
    bottom_cut = (lb[0] + (rb[0] - lb[0]) * cut, lb[1] + (rb[1] - lb[1]) * cut)
    return [
        Line(head, (lt, top_cut, bottom_cut, lb), line.score),
        Line(tail, (top_cut, rt, rb, bottom_cut), line.score),
    ]


def column_pairs(lines: Sequence[Line]) -> list[Item]:
    """A menu of one name column and one price column far to its right, paired by rank
    (the k-th name with the k-th price, top to bottom) when both hold the same number of
    rows: in a photo taken at an angle the far price drifts off its name's row. Empty
    when the page is not such a menu."""
    parts = upright(lines)
    prices = [u for u in parts if _ONLY_PRICE.fullmatch(compact(_trim(u.line.text)))]
    if len(prices) < 3:
        return []
    height = sorted(u.line.height for u in prices)[len(prices) // 2]
    centre = sorted((u.left + u.right) / 2 for u in prices)[len(prices) // 2]
    column = sorted(
        (u for u in prices if abs((u.left + u.right) / 2 - centre) < 3 * height),
        key=lambda u: u.middle,
    )
    first, last = column[0].middle - 1.5 * height, column[-1].middle + 1.5 * height
    names = sorted(
        (
            u
            for u in parts
            if u not in prices
            and _NAME_CHAR.search(u.line.text)
            and not _LEADERS_ONLY.fullmatch(compact(u.line.text))
            and u.right < min(p.left for p in column) - 2 * height
            and first <= u.middle <= last
        ),
        key=lambda u: u.middle,
    )
    if len(column) < 3 or len(names) != len(column):
        return []
    out = []
    for name, price in zip(names, column, strict=True):
        value = _ONLY_PRICE.fullmatch(compact(_trim(price.line.text)))
        found = dish([name], price, value.group(1)) if value else None
        if found is not None:
            out.append(found)
    return out


def top(item: Item) -> float:
    return item.top


def pair_row(row: Sequence[Upright]) -> tuple[list[Item], list[Upright], list[Upright]]:
    """A row left to right: names gather until a price closes them into a dish. The
    dishes, then the names no price closed and the prices that closed no name."""
    out: list[Item] = []
    names: list[Upright] = []
    free: list[Upright] = []
    for part in row:
        if _LEADERS_ONLY.fullmatch(compact(part.line.text)):
            continue
        part = attrs.evolve(part, line=attrs.evolve(part.line, text=_trim(part.line.text)))
        text = compact(part.line.text)
        both = _NAME_THEN_PRICE.fullmatch(part.line.text.strip()) or _GLUED.fullmatch(text)
        if (price := _ONLY_PRICE.fullmatch(text)) and names:
            found = dish(names, part, price.group(1))
            names = []
        elif both and not names:
            found = dish([part], part, both.group(2), spaced(both.group(1)))
        else:
            found = None
            if price:
                free.append(part)
            elif _NAME_CHAR.search(text):
                names.append(part)
        if found is not None:
            out.append(found)
    return out, names, free


def stacked_pairs(names: Sequence[Upright], prices: Sequence[Upright]) -> list[Item]:
    """A picture menu's dishes: each name left unpaired on its row, with the free price
    printed right under it (starting under the name, the next row down), nearest first."""
    out: list[Item] = []
    left = list(prices)
    for name in sorted(names, key=lambda u: (u.middle, u.left)):
        height = name.bottom - name.top
        under = [
            p
            for p in left
            if name.middle < p.top < name.bottom + height
            and name.left - height < p.left < name.right - height
        ]
        if not under:
            continue
        price = min(under, key=lambda p: (p.top - name.bottom, abs(p.left - name.left)))
        value = _ONLY_PRICE.fullmatch(compact(_trim(price.line.text)))
        if value and (found := dish([name], price, value.group(1))) is not None:
            out.append(found)
            left.remove(price)
    return out


#: a box of dotted leaders alone: the recogniser reads them as dots, ellipses or "mmm"
_LEADERS_ONLY = re.compile(r"[m.·…_\-—。]+")
#: leader dots and order boxes at either end of a box ("·68/斤", "水煮鱼·", "……48/例",
#: "18元/份□"): anything but a letter, digit, character, currency sign or bracket
_LEADER_ENDS = re.compile(r"^[^\w¥￥$(（]+|[^\w)）]+$")


def _trim(text: str) -> str:
    trimmed = _LEADER_ENDS.sub("", text)
    return trimmed or text


#: what a menu prints beside its dishes that reads like one ("订餐热线：186...")
_NOT_A_DISH = re.compile(r"热线|电话|地址|订餐|微信|扫码|营业时间|TEL|Tel")


def dish(names: Sequence[Upright], price: Upright, value: str, name: str = "") -> Item | None:
    text = name or spaced(" ".join(part.line.text for part in names))
    if _NOT_A_DISH.search(text):
        return None
    return Item(text, float(value), names[0].left, price.right, min(p.top for p in names))


def columns(items: Sequence[Item]) -> list[list[Item]]:
    """Dishes whose spans (name's left to price's right) overlap form one column."""
    out: list[list[Item]] = []
    for item in sorted(items, key=lambda i: i.left):
        if out and item.left < max(i.right for i in out[-1]):
            out[-1].append(item)
        else:
            out.append([item])
    return out
