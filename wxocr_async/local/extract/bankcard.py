"""银行卡 (/cv/ocr/bankcard): the card number."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from wxocr_async.local.checks import DIGIT_LOOKALIKES, luhn_valid, repairs, valid_id_number
from wxocr_async.local.extract._cards_util import compact, row_texts
from wxocr_async.local.lines import Line, NothingFound

_RUN = re.compile("[0-9" + re.escape("".join(DIGIT_LOOKALIKES)) + "]{16,}[Xx]?")
#: separators printed between a number's groups ("621669-7600000020025", "6222·0212")
_SEPARATOR = re.compile(r"(?<=[0-9])[-‐–—·•.:/](?=[0-9])")
#: two dates run together (an ID card's validity "2019.03.08-2039.03.08"): no card number
_DATE = r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_TWO_DATES = re.compile(_DATE * 2)


def extract(lines: Sequence[Line], size: tuple[int, int]) -> dict[str, Any]:
    """The longest 16-19 digit number passing Luhn (look-alikes repaired), else the
    longest 16-19 digit number; never a resident ID number. A number printed with
    separators counts only if it passes Luhn (a validity period "20190308-20390308" is
    no card number). NothingFound when none."""
    passing: list[str] = []
    others: list[str] = []
    for run, separated in runs(lines):
        if any(repairs(run[:17] + run[17:].upper(), valid_id_number, DIGIT_LOOKALIKES)):
            continue  # a resident ID number (on an ID card, say), not a card number
        for number in windows(run.rstrip("Xx")):
            fixed = next(repairs(number, luhn_valid, DIGIT_LOOKALIKES), None)
            if fixed:
                passing.append(fixed)
            elif not separated:
                others.append("".join(DIGIT_LOOKALIKES.get(c, c) for c in number))
    found = max(passing, key=len, default=None) or max(others, key=len, default=None)
    if found is None:
        raise NothingFound("no card number")
    return {"number": found}


def runs(lines: Sequence[Line]) -> Iterator[tuple[str, bool]]:
    """Digit-like runs of each line and of each row joined (groups may be separate boxes),
    and whether separators (dashes, dots) were taken out to make it; a run must hold
    mostly real digits."""
    texts = [compact(line.text) for line in lines] + [text for text, _ in row_texts(lines)]
    for text in texts:
        joined = _SEPARATOR.sub("", text)
        for candidate, separated in ((text, False), (joined, True)):
            if separated and joined == text:
                break
            for run in _RUN.findall(candidate):
                if separated and _TWO_DATES.fullmatch(run):
                    continue
                if sum(c.isdigit() for c in run) >= 0.75 * len(run):
                    yield run, separated


def windows(run: str) -> Iterator[str]:
    """The run itself if 16-19 long, else its 19..16-long windows from the left."""
    if 16 <= len(run) <= 19:
        yield run
        return
    for width in range(19, 15, -1):
        for start in range(len(run) - width + 1):
            yield run[start : start + width]
