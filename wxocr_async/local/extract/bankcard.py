"""银行卡 (/cv/ocr/bankcard): the card number, its row given a second look
(:func:`read_again`) when no number read passes Luhn."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from typing import Any

from wxocr_async.local.checks import DIGIT_LOOKALIKES, digits, id_number, luhn_valid, repairs
from wxocr_async.local.geometry import row_texts
from wxocr_async.local.lines import Line, NothingFound
from wxocr_async.local.reread import Look
from wxocr_async.local.text import compact

_RUN = re.compile("[0-9" + re.escape("".join(DIGIT_LOOKALIKES)) + "]{16,}[Xx]?")
#: separators printed between a number's groups ("621669-7600000020025", "6222·0212")
_SEPARATOR = re.compile(r"(?<=[0-9])[-‐–—·•.:/](?=[0-9])")
#: two dates run together (an ID card's validity "2019.03.08-2039.03.08"): no card number
_DATE = r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_TWO_DATES = re.compile(_DATE * 2)


def extract(
    lines: Sequence[Line], size: tuple[int, int], look: Look | None = None
) -> dict[str, Any]:
    """The card number (:func:`number`); when none passes Luhn, the number row is read
    again whole, and that reading wins if it passes and is the first corrected
    (:func:`same_number`). NothingFound when no number either time."""
    try:
        first = number(lines)
    except NothingFound:
        if look is None:
            raise
        return {"number": number(read_again(lines, look))}
    if look is not None and not luhn_valid(first):
        again = number(read_again(lines, look))
        if luhn_valid(again) and same_number(first, again):
            return {"number": again}
    return {"number": first}


def number(lines: Sequence[Line]) -> str:
    """The longest 16-19 digit number passing Luhn (look-alikes repaired), else the
    longest 16-19 digit number; never a resident ID number. A number printed with
    separators counts only if it passes Luhn (a validity period "20190308-20390308" is
    no card number). NothingFound when none."""
    passing: list[str] = []
    others: list[str] = []
    for run, separated in runs(lines):
        if id_number(run, guess=False):
            continue  # a resident ID number (on an ID card, say), not a card number
        for window in windows(run.rstrip("Xx")):
            fixed = next(repairs(window, luhn_valid, DIGIT_LOOKALIKES), None)
            if fixed:
                passing.append(fixed)
            elif not separated:
                others.append(digits(window))
    found = max(passing, key=len, default=None) or max(others, key=len, default=None)
    if found is None:
        raise NothingFound("no card number")
    return found


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


def same_number(first: str, again: str) -> bool:
    """Whether a second reading is the first one corrected (a digit or two, a group the
    first missed), not another number: some cards fail Luhn as printed (test cards, old
    issuers), and a band across the card can hold digits of something else."""
    return again[:4] == first[:4] and difflib.SequenceMatcher(None, first, again).ratio() >= 0.8


#: a digit run worth a second look
_DIGIT_RUN = re.compile(r"\d{3,}")


def read_again(lines: Sequence[Line], look: Look) -> list[Line]:
    """The lines and the number row read again: the band of the row holding the most
    digits, across the whole image (groups the detector missed lie beside), enlarged and
    its contrast raised (embossed silver digits on a busy background), read as one line."""
    digit_lines = [line for line in lines if _DIGIT_RUN.search(line.text)]
    if not digit_lines:
        return list(lines)
    best = max(digit_lines, key=lambda line: sum(c.isdigit() for c in line.text))
    row = [
        line
        for line in digit_lines
        if abs(line.center[1] - best.center[1]) < 0.6 * max(line.height, best.height)
    ]
    h = max(line.height for line in row)
    top = min(line.top for line in row) - 0.3 * h
    bottom = max(line.bottom for line in row) + 0.3 * h
    # the whole width: groups may be unread
    again = look.read(top, bottom, 0.0, look.width, enlarge=2.0, contrast=True)
    return [*lines, again] if again else list(lines)
