"""Check digits against published values, not the document generator's own output."""

from __future__ import annotations

import pytest

from wxocr_async.local.checks import luhn_valid, valid_id_number, valid_uscc, valid_vin

#: GB 11643-1999's own examples of citizen identity numbers
GB_11643 = ["11010519491231002X", "440524188001010014"]
#: GB 32100-2015's example code, and the published codes of three companies
#: (Tencent Technology (Shenzhen), Alibaba (China), Baidu Online Network Technology)
GB_32100 = ["91350100M000100Y43", "9144030071526726XG", "91330100716105852F", "91110000802100433B"]
#: ISO 3779 / 49 CFR 565 check digits: the usual worked example (check character X),
#: the all-ones VIN, and two VINs of real vehicles as published
VINS = ["1M8GDM9AXKP042788", "11111111111111111", "5GZCZ43D13S812715", "1HGCM82633A004352"]
#: the card networks' published test numbers (Visa, Mastercard, Amex, Discover, UnionPay)
LUHN = ["4111111111111111", "5555555555554444", "378282246310005", "6011111111111117",
        "6200000000000005"]  # fmt: skip

CHECKS = {"id": (valid_id_number, GB_11643), "uscc": (valid_uscc, GB_32100),
          "vin": (valid_vin, VINS), "luhn": (luhn_valid, LUHN)}  # fmt: skip


@pytest.mark.parametrize("kind", CHECKS)
def test_published_numbers_pass(kind: str) -> None:
    valid, numbers = CHECKS[kind]
    assert [n for n in numbers if not valid(n)] == []


@pytest.mark.parametrize("kind", CHECKS)
def test_every_single_digit_change_fails(kind: str) -> None:
    """What a check digit is for: each scheme's weights are prime to its modulus (Luhn's
    doubling maps digits one to one), so no single-digit change goes unseen."""
    valid, numbers = CHECKS[kind]
    for number in numbers:
        for i, c in enumerate(number):
            for d in "0123456789" if c.isdigit() else "":
                changed = number[:i] + d + number[i + 1 :]
                assert d == c or not valid(changed), changed
