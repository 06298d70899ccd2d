"""营业执照 (business licence) → WeChat's ``/cv/ocr/bizlicense`` reply fields.

Both layouts: the 2016+ one (统一社会信用代码 top left, two columns: 名称/类型/法定代表人/
经营范围 on the left, 注册资本/成立日期/营业期限/住所 on the right) and the older single
column (注册号 top right); 个体工商户 labels (经营者, 经营场所, 组成形式, 注册日期) too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import attrs

from wxocr_async.local.checks import DIGIT_LOOKALIKES, digits, repairs, valid_uscc
from wxocr_async.local.extract._licence_util import Hit, Page, licence_page
from wxocr_async.local.lines import Line
from wxocr_async.local.reread import Look
from wxocr_async.local.text import clean

LABELS: dict[str, tuple[str, ...]] = {
    "reg_num": ("统一社会信用代码", "社会信用代码", "信用代码", "注册号"),
    "enterprise_name": ("名称", "企业名称"),
    "type_of_enterprise": ("类型", "公司类型", "企业类型"),
    "type_of_organization": ("组成形式",),
    "legal_representative": ("法定代表人", "负责人", "经营者", "投资人", "执行事务合伙人"),
    "address": ("住所", "经营场所", "营业场所", "主要经营场所"),
    "business_scope": ("经营范围",),
    "registered_capital": ("注册资本",),
    "paid_in_capital": ("实收资本",),
    "registered_date": ("成立日期", "注册日期"),
    "valid_period": ("营业期限", "合伙期限", "经营期限"),
    "_stop": ("登记机关", "国家企业信用信息公示系统"),
    # other documents' labels that hold ours (车辆类型 ⊃ 类型): found, so not counted
    "_other": ("车辆类型", "准驾车型", "行驶证", "驾驶证"),
}
#: labels of the right-hand column of the 2016+ layout, and the fields its edge bounds
RIGHT = ("registered_capital", "paid_in_capital", "registered_date", "valid_period", "address")
LEFT = ("enterprise_name", "type_of_enterprise", "type_of_organization",
        "legal_representative", "business_scope")  # fmt: skip
#: how many rows a field may wrap over
WRAP = {"business_scope": 12, "address": 3, "enterprise_name": 2, "type_of_enterprise": 1}

#: where a date value starts: a year ("2015年", "2015-", "2015.")
_DATE_START = re.compile(r"(19|20)\d\d(?=[年.\-/])")

#: letters outside the credit code's alphabet (no I, O, S, V, Z), read as digits
_USCC_NEVER = str.maketrans({"I": "1", "O": "0", "S": "5", "Z": "2", "V": "U"})
_USCC_SWAPS = {k: v for k, v in DIGIT_LOOKALIKES.items() if k in "DQBGT"}


def _windows(text: str, width: int) -> Iterator[str]:
    """Runs of code characters in ``text``, and their ``width``-long windows."""
    for run in re.findall(r"[0-9A-Za-z]+", text):
        run = run.upper()
        for i in range(max(len(run) - width, 0) + 1):
            yield run[i : i + width]


def credit_code(text: str) -> str | None:
    """An 18-character unified social credit code in ``text`` that passes its check
    character (after look-alike repair), or None."""
    for window in _windows(text, 18):
        code = window.translate(_USCC_NEVER)
        found = next(repairs(code, valid_uscc, _USCC_SWAPS), None)
        if found:
            return found
    return None


#: an 18-character run shaped like a unified social credit code (two letters or digits,
#: six digits of region, ten more)
_CODE_SHAPE = re.compile(r"(?<![0-9A-Z])[0-9A-Z]{2}\d{6}[0-9A-Z]{10}(?![0-9A-Z])")


def reg_number(texts: Sequence[str]) -> str | None:
    """注册号: a valid credit code anywhere in ``texts``; None when a code is printed but
    fails its check even repaired (the certificate's serial is no fallback); else an old
    licence's 15-digit number, else the first text's code characters as read."""
    for text in texts:
        if code := credit_code(text):
            return code
    if any(_CODE_SHAPE.search(text.upper()) for text in texts):
        return None  # a credit code that fails its check: not some other long number
    for text in texts:
        for window in _windows(digits(text), 15):
            if len(window) == 15 and window.isdigit():
                return window
    raw = re.sub(r"[^0-9A-Za-z]", "", texts[0]).upper() if texts else ""
    return raw or None


def _reg_texts(page: Page, hit: Hit | None) -> list[str]:
    """Where the number may be: after its label, under it, then anywhere on the page."""
    near = [page.value(hit), page.below(hit)] if hit else []
    return [t for t in near if t] + page.texts


#: a two-character label read with a stray mark between its characters ("住，所")
_SPLIT_LABEL = re.compile(r"^(名|类|住)\s*[，,.、·:：;；'一\-_]\s*(称|型|所)")
#: "：" inside a business scope is a misread "；" (RapidOCR confuses them) unless it ends
#: a heading that introduces a list ("一般项目：", "批发、零售：")
_SCOPE_COLON = re.compile(r"(?<!项目)(?<!零售)(?<!批发)(?<!经营)(?<!范围)[：:]")


#: a spaced two-character label's first character, and the second it waits for
_LABEL_HALVES = {"名": "称", "类": "型", "住": "所"}


def _unsplit(line: Line) -> Line:
    text = _SPLIT_LABEL.sub(r"\1\2", line.text)
    return line if text == line.text else attrs.evolve(line, text=text)


def _unstack(lines: Sequence[Line]) -> list[Line]:
    """Spaced labels' characters in one column read as one tall box ("名类住": 名 over 类
    over 住, or "称型所"), cut into one box per character, each on its own row, for
    :func:`_rejoin` to pair."""
    out: list[Line] = []
    for line in lines:
        text = line.text.strip()
        if not _is_label_stack(line):
            out.append(line)
            continue
        step = (line.bottom - line.top) / len(text)
        for index, char in enumerate(text):
            top, bottom = line.top + index * step, line.top + (index + 1) * step
            box = ((line.left, top), (line.right, top), (line.right, bottom), (line.left, bottom))
            out.append(Line(char, box, line.score))
    return out


def _is_label_stack(line: Line) -> bool:
    text = line.text.strip()
    halves = set(_LABEL_HALVES) | set(_LABEL_HALVES.values())
    return len(text) >= 2 and all(char in halves for char in text) and line.standing


def _rejoin(lines: Sequence[Line]) -> list[Line]:
    """A spaced label read as two boxes ("住" then "所江苏省...") made one box again."""
    out = list(lines)
    for first in [line for line in out if line.text.strip() in _LABEL_HALVES]:
        second_char = _LABEL_HALVES[first.text.strip()]
        nearby = [
            line
            for line in out
            if line is not first
            and line.text.startswith(second_char)
            and abs(line.center[1] - first.center[1]) < 0.5 * first.height
            and first.center[0] < line.left < first.right + 3 * first.height
        ]
        if nearby and first in out:
            second = min(nearby, key=lambda line: line.left)
            # the label spans both characters and the space between; the row's height is
            # the second's (the first may be a piece of a tall box)
            left, right = first.left, max(first.right, second.left)
            label_box = ((left, second.top), (right, second.top),
                         (right, second.bottom), (left, second.bottom))  # fmt: skip
            out[out.index(first)] = Line(first.text.strip() + second_char, label_box, first.score)
            if rest := second.text[1:].strip():  # the value, where it was printed
                out[out.index(second)] = _without_first_char(second, rest)
            else:
                out.remove(second)
    return out


def _without_first_char(line: Line, rest: str) -> Line:
    """``line`` with its first character (and that much of its box) taken away."""
    (lt, rt, rb, lb), share = line.box, 1 / (len(rest) + 1)
    top = (lt[0] + (rt[0] - lt[0]) * share, lt[1] + (rt[1] - lt[1]) * share)
    bottom = (lb[0] + (rb[0] - lb[0]) * share, lb[1] + (rb[1] - lb[1]) * share)
    return Line(rest, (top, rt, rb, bottom), line.score)


def _field(key: str, value: str) -> str | None:
    """A raw value in WeChat's form for ``key`` (None when nothing usable)."""
    value = clean(value)
    if key == "business_scope":  # a label's stray glyph never starts a scope: dropped
        value = _SCOPE_COLON.sub("；", re.sub(r"^[\W\d_]{1,2}(?=[\u4e00-\u9fff])", "", value))
    if key in ("registered_capital", "paid_in_capital"):
        return capital(value) if value else None
    if key == "legal_representative":  # the old licences' label: 法定代表人姓名
        value = value.removeprefix("姓名")
    if key in ("registered_date", "valid_period"):  # from the year on (a label's stray glyph)
        found = _DATE_START.search(value)
        value = value[found.start() :] if found else value
    return value or None


_CN_DIGITS = {**dict.fromkeys("零〇", 0), **dict.fromkeys("一壹", 1), **dict.fromkeys("二贰两", 2),
              **dict.fromkeys("三叁", 3), **dict.fromkeys("四肆", 4), **dict.fromkeys("五伍", 5),
              **dict.fromkeys("六陆", 6), **dict.fromkeys("七柒", 7), **dict.fromkeys("八捌", 8),
              **dict.fromkeys("九玖", 9)}  # fmt: skip
_CN_UNITS = {
    **dict.fromkeys("十拾", 10),
    **dict.fromkeys("百佰", 100),
    **dict.fromkeys("千仟", 1000),
}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}


def chinese_number(text: str) -> int | None:
    """叁佰万 → 3000000; None when ``text`` holds no Chinese numeral."""
    total = section = digit = 0
    seen = False
    for char in text:
        if char in _CN_DIGITS:
            digit, seen = _CN_DIGITS[char], True
        elif char in _CN_UNITS:
            section += (digit or 1) * _CN_UNITS[char]
            digit, seen = 0, True
        elif char in _CN_BIG and seen:
            total = (total + section + digit) * _CN_BIG[char]
            section = digit = 0
    return total + section + digit if seen else None


def _wan(yuan: float) -> str:
    """An amount in yuan as WeChat writes it: in 万, without trailing zeros."""
    return f"{yuan / 10_000:.6f}".rstrip("0").rstrip(".") + "万"


def capital(text: str) -> str:
    """Registered capital in WeChat's form ("300万") from "300万元", "叁佰万元整",
    "人民币300万元" or "3000000元"; other currencies keep their name ("50万美元")."""
    text = clean(text)
    currency = next((c for c in ("美元", "港元", "欧元", "日元") if c in text), "")
    m = re.search(r"(\d+(?:\.\d+)?)(万|亿)?", digits(text))
    if m:
        amount = float(m.group(1)) * {"万": 10_000, "亿": 100_000_000, None: 1}[m.group(2)]
    else:
        number = chinese_number(text)
        if number is None:
            return text
        amount = float(number)
    return _wan(amount) + currency


def extract(
    lines: Sequence[Line], size: tuple[int, int], look: Look | None = None
) -> dict[str, Any]:
    """Fields of a 营业执照; NothingFound without at least two of its labels."""
    page = licence_page(
        [_unsplit(line) for line in _rejoin(_unstack(lines))], LABELS, "business licence"
    )
    columns = page.column_starts(RIGHT)
    out: dict[str, Any] = {}
    reg = reg_number(_reg_texts(page, page.first("reg_num")))
    if reg and (page.first("reg_num") or credit_code(reg)):
        out["reg_num"] = reg
    for key in LABELS:
        hit = page.first(key)
        if hit is None or key.startswith("_") or key == "reg_num":
            continue
        edges = columns if key in LEFT else ()
        if value := _field(key, page.value(hit, edges, wrap=WRAP.get(key, 0))):
            out[key] = value
    return out
