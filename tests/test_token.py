"""Token sources: caching, early refresh, single flight, rejection and retry once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import wxocr_async as wx
from wxocr_async.chinatime import next_china_midnight
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


async def test_500_concurrent_cold_calls_share_one_fetch(emulator: WeChatEmulator) -> None:
    async with client(emulator) as ocr:
        results = await asyncio.gather(*(ocr.idcard(IMAGE) for _ in range(500)))
    assert len(results) == 500 and all(r.type == "Front" for r in results)
    assert emulator.stats.token_fetches == 1


async def test_failed_fetch_reaches_every_waiter_and_is_not_cached(
    emulator: WeChatEmulator,
) -> None:
    emulator.push_faults("stable_token", Fault.error(-1))
    async with client(emulator, retry=wx.NO_RETRY) as ocr:
        results = await asyncio.gather(
            *(ocr.idcard(IMAGE) for _ in range(20)), return_exceptions=True
        )
        assert all(isinstance(r, wx.SystemBusy) for r in results)
        assert emulator.stats.stable_token_requests == 1  # one fetch for all, not one each
        assert (await ocr.idcard(IMAGE)).type == "Front"  # the failure was not cached
    assert emulator.stats.stable_token_requests == 2


@pytest.mark.parametrize(
    "fault",
    [Fault.http(500), Fault.error(-1), Fault.not_json(), Fault.connection_reset()],
    ids=["500", "busy", "text", "reset"],
)
async def test_a_flaky_token_endpoint_fails_no_waiter(
    emulator: WeChatEmulator, fault: Fault
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    emulator.push_faults("stable_token", fault)
    retry = wx.RetryPolicy(sleep=sleep, random=lambda: 1.0)
    async with client(emulator, retry=retry) as ocr:
        results = await asyncio.gather(*(ocr.idcard(IMAGE) for _ in range(20)))
    assert [r.type for r in results] == ["Front"] * 20
    assert emulator.stats.stable_token_requests == 2  # the fetch retried once, for everyone
    assert waits == [0.5]


async def test_short_lifetime_over_many_lifetimes(clock: ManualClock) -> None:
    """4 s tokens, calls every 0.1 s for 10 lifetimes: WeChat never sees an expired
    token, and the client fetches about once per 3/4 lifetime (the refresh margin)."""
    lifetime = 4.0
    async with (
        WeChatEmulator(clock=clock, token_lifetime=lifetime) as emu,
        client(emu, clock) as ocr,
    ):
        for _ in range(400):
            await asyncio.gather(*(ocr.idcard(IMAGE) for _ in range(3)))
            clock.advance(0.1)
        stats = emu.stats
    assert stats.expired_tokens == 0 and stats.invalid_tokens == 0
    assert stats.ocr_results["idcard"] == 1200
    per_lifetime = stats.token_fetches / (40.0 / lifetime)
    assert 1.0 <= per_lifetime <= 1.5, stats.token_fetches


async def test_revoked_mid_run_every_call_succeeds_with_one_extra_fetch(
    emulator: WeChatEmulator,
) -> None:
    async with client(emulator) as ocr:
        await asyncio.gather(*(ocr.idcard(IMAGE) for _ in range(50)))
        emulator.push_faults("idcard", *([Fault()] * 20), Fault.revoke())
        results = await asyncio.gather(*(ocr.idcard(IMAGE) for _ in range(100)))
    assert all(r.type == "Front" for r in results)
    assert emulator.stats.invalid_tokens >= 1
    assert emulator.stats.token_fetches == 2


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
    good = emulator.issued_tokens()[0]
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


async def test_rejected_token_handed_back_is_force_refreshed(emulator: WeChatEmulator) -> None:
    """WeChat rejects a token its stable_token still hands out: one forced refresh."""
    async with client(emulator) as ocr:
        await ocr.idcard(IMAGE)
        emulator.push_faults("idcard", Fault.error(40001))
        assert (await ocr.idcard(IMAGE)).type == "Front"
    assert emulator.stats.stable_token_requests == 3  # first, normal (same token), forced
    assert emulator.stats.forced_refreshes == 1


async def test_forced_refreshes_keep_to_wechats_limits() -> None:
    midnight = next_china_midnight(1_700_000_000)
    clock = ManualClock(start=midnight - 1000)  # the 21st attempt falls on the next China day
    async with WeChatEmulator(clock=clock) as emu, client(emu, clock) as ocr:
        await ocr.idcard(IMAGE)
        emu.push_faults("idcard", Fault.error(40001))
        await ocr.idcard(IMAGE)  # forced refresh no. 1
        clock.advance(10)
        emu.push_faults("idcard", Fault.error(40001))
        with pytest.raises(wx.TokenRefreshLimited, match="30 s") as info:
            await ocr.idcard(IMAGE)
        assert info.value.errcode == wx.errors.ERRCODE_FORCE_REFRESH
        assert emu.stats.forced_refreshes == 1
        clock.advance(30)
        await ocr.idcard(IMAGE)  # the rejected token is still what WeChat hands out: no. 2
        for _ in range(18):
            clock.advance(30)
            emu.push_faults("idcard", Fault.error(40001))
            await ocr.idcard(IMAGE)
        assert emu.stats.forced_refreshes == 20
        clock.advance(30)
        emu.push_faults("idcard", Fault.error(40001))
        with pytest.raises(wx.TokenRefreshLimited, match="20 forced refreshes already made today"):
            await ocr.idcard(IMAGE)
        assert clock.now < midnight
        clock.advance(midnight - clock.now + 1)  # just past midnight, China time
        # WeChat still hands out the rejected token; a new day allows forcing again
        assert (await ocr.idcard(IMAGE)).type == "Front"
        assert emu.stats.forced_refreshes == 21


async def test_cloudbase_token_value_callable_and_file(
    emulator: WeChatEmulator, tmp_path: Any
) -> None:
    emulator.cloudbase_tokens |= {"cb-one", "cb-two"}
    async with wx.OcrClient(cloudbase_token="cb-one", base_url=emulator.base_url) as ocr:
        await ocr.idcard(IMAGE)

    async def from_header() -> str:
        return "cb-two"

    async with wx.OcrClient(cloudbase_token=from_header, base_url=emulator.base_url) as ocr:
        await ocr.idcard(IMAGE)
    token_file = tmp_path / "cloudbase_access_token"
    token_file.write_text("cb-one\n")
    async with wx.OcrClient(cloudbase_token=token_file, base_url=emulator.base_url) as ocr:
        await ocr.idcard(IMAGE)
        token_file.write_text("cb-two-rotated")  # the platform rotates the file
        emulator.cloudbase_tokens = {"cb-two-rotated"}
        await ocr.idcard(IMAGE)
    queries = [seen.query for seen in emulator.stats.seen]
    assert all("cloudbase_access_token" in q and "access_token" not in q for q in queries)
    assert emulator.stats.ocr_results["idcard"] == 4 and emulator.stats.token_fetches == 0


async def test_cloudbase_file_missing_is_clear(tmp_path: Any) -> None:
    async with wx.OcrClient(
        cloudbase_token=tmp_path / "none", base_url="http://127.0.0.1:9"
    ) as ocr:
        with pytest.raises(wx.InvalidInput, match="cannot read the cloudbase_access_token file"):
            await ocr.idcard(IMAGE)
