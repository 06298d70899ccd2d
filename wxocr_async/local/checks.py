"""The numbers printed on Chinese documents: digits read back from their look-alikes,
dates, check digits (ID numbers, bank cards, VINs, credit codes) and the repairs that
make a misread number pass its check, and plate numbers.

Every extractor reads numbers through this module: one look-alike table, one date
parser, one ID number repair, one province list.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator

from .text import compact

#: characters a recogniser reads where a digit is printed, and that digit
DIGIT_LOOKALIKES: dict[str, str] = {
    "O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "i": "1",
    "Z": "2", "z": "2", "S": "5", "s": "5", "B": "8", "G": "6", "b": "6", "g": "9", "q": "9",
    "T": "7",
}  # fmt: skip
_DIGITS = str.maketrans(DIGIT_LOOKALIKES)


def digits(text: str) -> str:
    """``text`` with look-alike letters read as the digits they resemble."""
    return text.translate(_DIGITS)


_DATE = re.compile(r"(\d{4})\D{0,2}?(\d{1,2})\D{0,2}?(\d{1,2})(?!\d)")


def dates(text: str) -> list[str]:
    """Every date in ``text`` as YYYY-MM-DD ("2018-05-03", "2018年5月3日", "20180503"):
    a real day of a year from 1900 to 2100, look-alikes read as digits."""
    out: list[str] = []
    for m in _DATE.finditer(digits(re.sub(r"\s+", "", text))):
        year, month, day = (int(g) for g in m.groups())
        if 1900 <= year <= 2100 and (found := calendar_date(year, month, day)):
            out.append(found)
    return out


def date(text: str) -> str | None:
    """The first date in ``text`` as YYYY-MM-DD, or None."""
    found = dates(text)
    return found[0] if found else None


def calendar_date(year: int, month: int, day: int) -> str | None:
    """YYYY-MM-DD, or None when there is no such day."""
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return None


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_char(first17: str) -> str:
    """GB 11643 check character of a resident ID number's first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def valid_id_number(number: str) -> bool:
    return (
        len(number) == 18
        and number[:17].isdigit()
        and number[:17].isascii()
        and id_check_char(number[:17]) == number[17]
    )


def plausible_id_number(number: str) -> bool:
    """:func:`valid_id_number`, and its birth date (digits 7-14) a real date from 1900 on."""
    return valid_id_number(number) and birth_of(number) is not None


def birth_of(number: str) -> str | None:
    """The birth date (digits 7-14) of an ID number as YYYY-MM-DD; None when no real day
    from 1900 on."""
    year, month, day = (int(part) for part in (number[6:10], number[10:12], number[12:14]))
    return calendar_date(year, month, day) if year >= 1900 else None


def id_number(text: str, birth: str | None = None, *, guess: bool = True) -> str | None:
    """The resident ID number read as the 18 characters ``text``, repaired to pass its
    check character: look-alikes read as digits; else, given the ``birth`` date printed
    beside it, its date digits taken from that; else (with ``guess``) one digit misread as
    another (0 as 8), when exactly one such change makes a plausible number. None when
    nothing does (a number failing its check is left out rather than returned wrong)."""
    if len(text) != 18:
        return None
    body, read = digits(text[:17]), text[17]
    lasts = ("X",) if read in "xX" else tuple(dict.fromkeys((digits(read), digits(read.upper()))))
    candidates = [body + last for last in lasts]
    if birth:
        candidates += [body[:6] + birth.replace("-", "") + body[14:] + last for last in lasts]
    found = next((c for c in candidates if valid_id_number(c)), None)
    if found is None and guess:
        found = single_digit_repair(body + lasts[0], plausible_id_number, 18)
    return found


def luhn_valid(number: str) -> bool:
    """Whether a bank card number passes the Luhn check."""
    if not number.isdigit() or not number.isascii() or len(number) < 12:
        return False
    total = 0
    for i, c in enumerate(reversed(number)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7, "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}  # fmt: skip
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_char(vin: str) -> str | None:
    """ISO 3779 / GB 16735 check character (position 9) of a 17-character VIN."""
    if len(vin) != 17 or any(c not in _VIN_VALUES for c in vin):
        return None
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    return "X" if total % 11 == 10 else str(total % 11)


def valid_vin(vin: str) -> bool:
    return vin_check_char(vin) == vin[8:9]


_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str | None:
    """GB 32100 check character of an 18-character unified social credit code."""
    if len(first17) != 17 or any(c not in _USCC_CHARS for c in first17):
        return None
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def valid_uscc(code: str) -> bool:
    return len(code) == 18 and uscc_check_char(code[:17]) == code[17]


def repairs(
    text: str, valid: Callable[[str], bool], lookalikes: dict[str, str], limit: int = 64
) -> Iterator[str]:
    """Candidates for ``text`` with look-alike characters swapped, the text itself first;
    only those ``valid`` accepts (at most ``limit`` tried)."""
    spots = [i for i, c in enumerate(text) if c in lookalikes][:6]
    for mask in range(min(1 << len(spots), limit)):
        chars = list(text)
        for bit, i in enumerate(spots):
            if mask >> bit & 1:
                chars[i] = lookalikes[chars[i]]
        candidate = "".join(chars)
        if valid(candidate):
            yield candidate


#: digits a recogniser reads as other digits (a thin 0 as 8 or 6, and so on)
DIGIT_CONFUSIONS: dict[str, str] = {
    "0": "86", "8": "036", "6": "058", "1": "7", "7": "1", "3": "8", "5": "6", "9": "0",
}  # fmt: skip


def single_digit_repair(text: str, valid: Callable[[str], bool], positions: int) -> str | None:
    """The one way of changing a single digit among the first ``positions`` characters
    (by :data:`DIGIT_CONFUSIONS`) that makes ``text`` valid; None when no change or more
    than one does (a guess is worse than leaving the number out)."""
    found = {
        text[:i] + d + text[i + 1 :]
        for i, c in enumerate(text[:positions])
        for d in DIGIT_CONFUSIONS.get(c, "")
        if valid(text[:i] + d + text[i + 1 :])
    }
    return found.pop() if len(found) == 1 else None


#: the provinces' one-character abbreviations, which a plate number starts with
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
#: a province character the recogniser split or mistook, on a plate's stretched type
#: (鲁 read as 鱼 over 日: "鱼日", "鱼目", or 鱼 alone), longest first
_PROVINCE_MISREADS = (("鱼日", "鲁"), ("鱼目", "鲁"), ("鱼", "鲁"))
#: a plate's letters and digits never hold I or O: they were 1 and 0
_PLATE_NEVER = str.maketrans("IO", "10")


def plate_text(text: str) -> str:
    """Text read on a plate as its characters: upper case, the separator dot, spaces and
    any other mark dropped, a split or mistaken province character made whole."""
    text = re.sub(r"[^0-9A-Za-z\u4e00-\u9fff]", "", compact(text)).upper()
    for misread, province in _PROVINCE_MISREADS:
        text = text.replace(misread, province)
    return text


def plate_serial(text: str) -> str:
    """The letters and digits after a plate's province and letter, I and O read as the
    digits they were."""
    return text.translate(_PLATE_NEVER)
