"""Token sources: caching, early refresh, single flight, rejection and retry once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import wxocr_async as wx
from wxocr_async.emulator import Fault, WeChatEmulator, card_png
from wxocr_async.token import default_refresh_margin, parse_token_reply

from .conftest import ManualClock

IMAGE = card_png("token")


def client(emu: WeChatEmulator, clock: ManualClock | None = None, **kw: Any) -> wx.OcrClient:
    return wx.OcrClient(
        emu.appid, emu.secret, base_url=emu.base_url, clock=clock or ManualClock(), **kw
    )


async def test_token_is_cached_across_calls(emulator: WeChatEmulator) -> None:
    async with client(emulator) as ocr:
        for _ in range(5):
            await ocr.idcard(IMAGE)
    assert emulator.stats.stable_token_requests == 1
    assert emulator.stats.token_requests == 0


async def test_cgi_bin_token_endpoint(emulator: WeChatEmulator) -> None:
    async with client(emulator, token_endpoint="token") as ocr:
        await ocr.idcard(IMAGE)
        await ocr.idcard(IMAGE)
    assert (emulator.stats.token_requests, emulator.stats.stable_token_requests) == (1, 0)


async def test_concurrent_cold_calls_share_one_fetch(emulator: WeChatEmulator) -> None:
    async with client(emulator) as ocr:
        results = await asyncio.gather(*(ocr.idcard(IMAGE) for _ in range(50)))
    assert len(results) == 50 and emulator.stats.token_fetches == 1


async def test_refreshes_before_expiry_not_after(clock: ManualClock) -> None:
    async with WeChatEmulator(clock=clock, token_lifetime=7200) as emu, client(emu, clock) as ocr:
        await ocr.idcard(IMAGE)
        clock.advance(7200 - 301)  # more than 5 minutes left: still cached
        await ocr.idcard(IMAGE)
        assert emu.stats.stable_token_requests == 1
        clock.advance(2)  # under 5 minutes left: refreshed before it expires
        await ocr.idcard(IMAGE)
        assert emu.stats.stable_token_requests == 2
        assert emu.stats.expired_tokens == 0 and emu.stats.invalid_tokens == 0


async def test_short_lifetime_uses_a_quarter_margin(clock: ManualClock) -> None:
    async with WeChatEmulator(clock=clock, token_lifetime=8) as emu, client(emu, clock) as ocr:
        await ocr.idcard(IMAGE)
        clock.advance(5.9)  # 2.1 s left > 8/4: cached
        await ocr.idcard(IMAGE)
        assert emu.stats.stable_token_requests == 1
        clock.advance(0.2)  # 1.9 s left < 2 s: refreshed
        await ocr.idcard(IMAGE)
        assert emu.stats.stable_token_requests == 2


async def test_revoked_token_is_refreshed_and_the_call_retried_once(
    emulator: WeChatEmulator,
) -> None:
    async with client(emulator) as ocr:
        await ocr.idcard(IMAGE)
        emulator.push_faults("idcard", Fault.revoke())
        card = await ocr.idcard(IMAGE)
    assert card.type == "Front"
    assert emulator.stats.stable_token_requests == 2
    assert emulator.stats.invalid_tokens == 1
    assert emulator.stats.ocr_calls["idcard"] == 3


async def test_caller_token_string_is_not_retried(emulator: WeChatEmulator) -> None:
    async with wx.OcrClient(token="not-a-real-token", base_url=emulator.base_url) as ocr:
        with pytest.raises(wx.InvalidCredential) as info:
            await ocr.idcard(IMAGE)
    assert info.value.errcode == 40001
    assert emulator.stats.ocr_calls["idcard"] == 1 and emulator.stats.token_fetches == 0


async def test_caller_token_callable_is_asked_again_once(emulator: WeChatEmulator) -> None:
    async with client(emulator) as fetcher:
        await fetcher.idcard(IMAGE)
    good = next(iter(emulator._valid_tokens))
    handed = ["stale-token", good]

    async def central_service() -> str:
        return handed.pop(0)

    async with wx.OcrClient(token=central_service, base_url=emulator.base_url) as ocr:
        assert (await ocr.idcard(IMAGE)).type == "Front"
    assert handed == []


async def test_no_token_mode_sends_none(emulator: WeChatEmulator) -> None:
    emulator.require_token = False
    async with wx.OcrClient(base_url=emulator.base_url) as ocr:
        await ocr.bankcard(IMAGE)
    (seen,) = emulator.stats.seen
    assert "access_token" not in seen.query and emulator.stats.token_fetches == 0
    emulator.require_token = True
    async with wx.OcrClient(base_url=emulator.base_url) as ocr:
        with pytest.raises(wx.CredentialMissing):
            await ocr.bankcard(IMAGE)


def test_margin_and_reply_parsing() -> None:
    assert default_refresh_margin(7200) == 300
    assert default_refresh_margin(345) == 345 / 4
    token = parse_token_reply(
        {"access_token": "a", "expires_in": 345}, 100.0, default_refresh_margin, "x"
    )
    assert token.expires_at == 445 and token.refresh_at == 445 - 345 / 4
    for bad in (
        {"expires_in": 7200},
        {"access_token": "a"},
        {"access_token": "a", "expires_in": 0},
    ):
        with pytest.raises(wx.BadResponse):
            parse_token_reply(bad, 0.0, default_refresh_margin, "x")


def test_configuration_errors() -> None:
    with pytest.raises(wx.InvalidInput, match="needs secret"):
        wx.OcrClient("wx123")
    with pytest.raises(wx.InvalidInput, match="only one of"):
        wx.OcrClient("wx123", "s", token="t")
    with pytest.raises(wx.InvalidInput, match="http"):
        wx.OcrClient(token="t", base_url="api.weixin.qq.com")
    with pytest.raises(wx.InvalidInput, match="'stable_token' or 'token'"):
        wx.OcrClient("wx1", "s", token_endpoint="nope")  # type: ignore[arg-type]
