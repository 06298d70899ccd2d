"""Shared fixtures: a real emulator on loopback and a client pointed at it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from wxocr_async import OcrClient
from wxocr_async.emulator import WeChatEmulator

SAMPLES = Path(__file__).parent / "samples"


def load_sample(case: str) -> dict[str, Any]:
    """A recorded reply, e.g. ``load_sample("idcard/front")``."""
    data: dict[str, Any] = json.loads((SAMPLES / f"{case}.json").read_text(encoding="utf-8"))
    return data


def all_sample_cases() -> list[str]:
    return sorted(str(p.relative_to(SAMPLES).with_suffix("")) for p in SAMPLES.glob("*/*.json"))


class ManualClock:
    """A clock that moves only when told to: expiry without waiting."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def emulator() -> AsyncIterator[WeChatEmulator]:
    async with WeChatEmulator() as emu:
        yield emu


@pytest.fixture
async def ocr(emulator: WeChatEmulator) -> AsyncIterator[OcrClient]:
    async with OcrClient(emulator.appid, emulator.secret, base_url=emulator.base_url) as client:
        yield client
