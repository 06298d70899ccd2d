"""身份证 (/cv/ocr/idcard): the front's name, gender, nationality, address, number and
birth date, or the back's issuing authority and validity period."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from wxocr_async.local.checks import (
    DIGIT_LOOKALIKES,
    birth_of,
    date,
    digits,
    id_number,
    valid_id_number,
)
from wxocr_async.local.geometry import row_texts, upright
from wxocr_async.local.lines import Line, NothingFound
from wxocr_async.local.reread import Look
from wxocr_async.local.text import compact

FRONT_LABELS = ("姓名", "性别", "民族", "出生", "住址", "公民身份号码")
BACK_LABELS = ("签发机关", "有效期限")
_LABELS = FRONT_LABELS + BACK_LABELS
_ID_CHARS = "0-9Xx" + re.escape("".join(DIGIT_LOOKALIKES))
_ID_RUN = re.compile(f"[{_ID_CHARS}]{{15,}}")

#: what a value looks like, to trust a label found with a misread character
_PLAUSIBLE = {
    "姓名": r"[\u4e00-\u9fff·]{2,12}",
    "性别": r"[男女].{0,6}",
    "民族": r"[\u4e00-\u9fff]{1,4}",
    "出生": r"\d{4}.{4,8}",
    "住址": r".{4,}",
}
Rows = list[tuple[str, list[Line]]]


def extract(
    lines: Sequence[Line], size: tuple[int, int], look: Look | None = None
) -> dict[str, Any]:
    """The reply fields of the side the labels show; NothingFound when neither side."""
    table = row_texts(lines)
    texts = [text for text, _ in table]
    front = sum(any(fuzzy_find(t, label) >= 0 for t in texts) for label in FRONT_LABELS)
    back = sum(any(fuzzy_find(t, label) >= 0 for t in texts) for label in BACK_LABELS)
    number = find_id(texts, None)
    if (front >= 2 and front >= back) or (number and valid_id_number(number)):
        return read_front(table)
    period = any(_PERIOD.search(digits(t)) for t in texts)
    if back or (period and any("身份证" in t for t in texts)):
        return read_back(table)
    raise NothingFound("no ID card labels")


# --- front --------------------------------------------------------------------------------


def read_front(table: Rows) -> dict[str, Any]:
    texts = [text for text, _ in table]
    name = re.sub(r"[^\u4e00-\u9fff·]", "", value_of(texts, "姓名"))
    written = date(value_of(texts, "出生"))
    number = find_id(texts, written)
    birth = written
    gender = next(iter(re.findall("[男女]", value_of(texts, "性别"))), "")
    if number and valid_id_number(number):
        birth = birth_of(number) or written
        gender = "男" if int(number[16]) % 2 else "女"
    nationality = re.sub(r"[^\u4e00-\u9fff]", "", value_of(texts, "民族") or ethnic(texts))
    fields = {"type": "Front", "name": name, "gender": gender, "nationality": nationality,
              "addr": address(table), "id": number or "", "birth": birth or ""}  # fmt: skip
    return {k: v for k, v in fields.items() if v}


def value_of(texts: Sequence[str], label: str) -> str:
    """What follows ``label`` in its row, up to the next label (a label with a misread
    character is looked for only when no row has it whole)."""
    for loose in (False, True):
        for text in texts:
            end = fuzzy_find(text, label, loose)
            if end < 0:
                continue
            rest = text[end:]
            cuts = [i for other in _LABELS if (i := rest.find(other)) >= 0]
            value = rest[: min(cuts)] if cuts else rest
            if not loose or re.fullmatch(_PLAUSIBLE.get(label, ".+"), value):
                return value
    return ""


def fuzzy_find(text: str, label: str, loose: bool = False) -> int:
    """Index just past ``label`` in ``text``; -1 when absent. A label of four characters or
    more may have one character misread, or lose its first or last one and have another
    misread; with ``loose``, a two-character one may have one misread at the start."""
    at = text.find(label)
    if at >= 0:
        return at + len(label)
    if len(label) == 2:
        half = len(text) > 2 and (text[0] == label[0]) != (text[1] == label[1])
        return 2 if loose and half else -1
    if len(label) < 4:
        return -1
    ends = [
        i + len(shown)
        for shown in (label, label[1:], label[:-1])
        for i in range(len(text) - len(shown) + 1)
        if sum(a != b for a, b in zip(text[i : i + len(shown)], shown, strict=True)) <= 1
    ]
    return min(ends, default=-1)  # of equal guesses, the one leaving the value whole


def ethnic(texts: Sequence[str]) -> str:
    """The nationality after a misread 民族 label, found after the gender in its row."""
    found = (re.search(r"[男女](?:民.|.族)(.+)", text) for text in texts if "性别" in text)
    return next((m.group(1) for m in found if m), "")


def find_id(texts: Sequence[str], birth: str | None) -> str | None:
    """The 18-character ID number: the repair (:func:`~wxocr_async.local.checks.id_number`,
    given the written birth date) of a run of digit-like characters if any, else the
    first run itself."""
    best: str | None = None
    for text in texts:
        for run in _ID_RUN.findall(text):
            if len(run) != 18:
                continue
            if fixed := id_number(run, birth):
                return fixed
            best = best or digits(run[:17]) + run[17].upper()
    return best


def address(table: Rows) -> str:
    """The 住址 value and its wrapped lines below it, until the number's row."""
    labelled = [
        i
        for loose in (False, True)
        for i, (text, _) in enumerate(table)
        if fuzzy_find(text, "住址", loose) >= 0 and value_of([text], "住址")
    ]
    if not labelled:
        return ""
    start = labelled[0]
    parts = [value_of([table[start][0]], "住址")]
    frame = {u.line: u for u in upright([line for _, row in table for line in row])}
    label = next(line for line in table[start][1] if "住" in line.text or "址" in line.text)
    column = frame[label].left + 0.8 * label.height
    last_bottom = max(frame[line].bottom for line in table[start][1])
    for text, row in table[start + 1 :]:
        if fuzzy_find(text, "公民身份号码") >= 0 or re.search(r"\d{15,}", text):
            break
        if frame[row[0]].top - last_bottom > 1.5 * row[0].height:
            break
        parts += [compact(line.text) for line in row if frame[line].left >= column]
        last_bottom = max(frame[line].bottom for line in row)
    return _LEADING_MARKS.sub("", "".join(parts))


#: marks before an address ("&辽宁省..."): a speck of the card read as a symbol
_LEADING_MARKS = re.compile(r"^[^\w\u4e00-\u9fff]+")


# --- back ---------------------------------------------------------------------------------

_PERIOD = re.compile(r"(\d{4})\D?(\d{2})\D?(\d{2})\D{0,3}?(?:(\d{4})\D?(\d{2})\D?(\d{2})|(长期))")


def read_back(table: Rows) -> dict[str, Any]:
    texts = [text for text, _ in table]
    issuer = value_of(texts, "签发机关") or next((t for t in texts if "公安" in t), "")
    authority = re.sub(r"[^\u4e00-\u9fff]", "", issuer)
    fields = {"type": "Back", "valid_date": valid_date(texts), "authority": authority}
    return {k: v for k, v in fields.items() if v}


def valid_date(texts: Sequence[str]) -> str:
    """ "2015.06.01-2035.06.01" as "20150601-20350601" ("-长期" kept)."""
    labelled = value_of(texts, "有效期限")
    for text in [labelled, *texts]:
        found = _PERIOD.search(digits(text))
        if found:
            g = found.groups()
            return f"{g[0]}{g[1]}{g[2]}-" + (g[6] or f"{g[3]}{g[4]}{g[5]}")
    return ""
