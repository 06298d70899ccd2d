"""Concurrency, pacing and daily quotas, against the emulator (and a real Redis)."""

from __future__ import annotations

import asyncio
import json

import pytest

import wxocr_async as wx
from wxocr_async.chinatime import china_day, next_china_midnight
from wxocr_async.emulator import Fault, WeChatEmulator, card_png
from wxocr_async.limits import Pacer
from wxocr_async.retry import NO_RETRY

from .conftest import ManualClock, redis_workers

IMAGE = card_png("limits")


def client(emu: WeChatEmulator, **kw: object) -> wx.OcrClient:
    return wx.OcrClient(emu.appid, emu.secret, base_url=emu.base_url, retry=NO_RETRY, **kw)  # type: ignore[arg-type]


async def test_concurrency_3_means_exactly_3_in_flight(emulator: WeChatEmulator) -> None:
    release = asyncio.Event()
    arrived = [asyncio.Event() for _ in range(3)]
    emulator.push_faults("idcard", *(Fault.held(release, a) for a in arrived))
    async with client(emulator, concurrency=3) as ocr:
        calls = asyncio.gather(*(ocr.idcard(IMAGE) for _ in range(50)))
        for a in arrived:
            await asyncio.wait_for(a.wait(), 30)
        assert emulator.stats.in_flight == 3  # three held, the 47 others wait for a slot
        assert emulator.stats.total_ocr_calls == 3
        release.set()
        results = await asyncio.wait_for(calls, 60)
    assert len(results) == 50 and all(r.type == "Front" for r in results)
    assert emulator.stats.max_in_flight == 3


async def test_daily_quota_refuses_before_sending(emulator: WeChatEmulator) -> None:
    async with client(emulator, daily_quota=5) as ocr:
        assert await ocr.quota_remaining("idcard") == 5
        for _ in range(5):
            await ocr.idcard(IMAGE)
        assert await ocr.quota_remaining("idcard") == 0
        with pytest.raises(wx.QuotaExceeded, match="daily_quota of 5 calls") as info:
            await ocr.idcard(IMAGE)
        assert info.value.errcode == wx.errors.ERRCODE_LOCAL_QUOTA
        assert (await ocr.bankcard(IMAGE)).number is not None  # per endpoint by default
        assert await ocr.quota_remaining("bankcard") == 4
    assert emulator.stats.ocr_calls["idcard"] == 5


async def test_total_quota_and_reset_at_china_midnight() -> None:
    clock = ManualClock(start=next_china_midnight(1_700_000_000) - 60)
    async with (
        WeChatEmulator(clock=clock) as emu,
        client(emu, daily_quota=3, quota_scope="total", clock=clock) as ocr,
    ):
        await ocr.idcard(IMAGE)
        await ocr.bankcard(IMAGE)
        await ocr.menu(IMAGE)
        with pytest.raises(wx.QuotaExceeded, match="in total"):
            await ocr.plate_number(IMAGE)
        assert await ocr.quota_remaining("plate_number") == 0
        clock.advance(61)  # midnight in China: a new day
        assert await ocr.quota_remaining("plate_number") == 3
        await ocr.plate_number(IMAGE)
        assert emu.stats.total_ocr_calls == 4


async def test_wechats_quota_answer_stops_that_endpoint_until_midnight() -> None:
    clock = ManualClock(start=next_china_midnight(1_700_000_000) - 3600)
    async with WeChatEmulator(clock=clock) as emu, client(emu, clock=clock) as ocr:
        emu.push_faults("comm", Fault.error(101003))
        with pytest.raises(wx.QuotaExceeded) as info:
            await ocr.printed_text(IMAGE)
        assert info.value.errcode == 101003
        with pytest.raises(wx.QuotaExceeded, match=r"until midnight China time \(in 1 h 0 min\)"):
            await ocr.printed_text(IMAGE)
        assert emu.stats.ocr_calls["comm"] == 1  # the second call was not sent
        assert await ocr.quota_remaining("printed_text") == 0
        assert await ocr.quota_remaining("idcard") is None
        await ocr.idcard(IMAGE)  # other endpoints go on
        emu.push_faults("bankcard", Fault.error(45011))
        with pytest.raises(wx.RateLimited):
            await ocr.bankcard(IMAGE)
        await ocr.bankcard(IMAGE)  # 45011 is a back-off, not an exhaustion
        clock.advance(3600)
        await ocr.printed_text(IMAGE)
        assert emu.stats.ocr_calls["comm"] == 2


@pytest.mark.parametrize(
    "answer", [Fault.error(45009), Fault.error(101002, "not enough market quota")]
)
async def test_other_quota_answers_also_exhaust(emulator: WeChatEmulator, answer: Fault) -> None:
    async with client(emulator) as ocr:
        emulator.push_faults("menu", answer)
        for _ in range(2):
            with pytest.raises(wx.QuotaExceeded):
                await ocr.menu(IMAGE)
    assert emulator.stats.ocr_calls["menu"] == 1


async def test_pacer_spaces_starts_evenly() -> None:
    slept: list[float] = []
    now = [100.0]

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))

    pacer = Pacer(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        await pacer.wait()
    assert slept == [0.1, 0.2, 0.3]
    now[0] += 5  # idle for a while: no waiting, no burst credit either
    await pacer.wait()
    await pacer.wait()
    assert slept == [0.1, 0.2, 0.3, 0.1]


async def test_rate_limit_option(emulator: WeChatEmulator) -> None:
    async with client(emulator, rate_limit=1000) as ocr:
        await asyncio.gather(*(ocr.idcard(IMAGE) for _ in range(5)))
    assert emulator.stats.ocr_results["idcard"] == 5
    with pytest.raises(wx.InvalidInput, match="rate_limit"):
        client(emulator, rate_limit=0)
    with pytest.raises(wx.InvalidInput, match="concurrency"):
        client(emulator, concurrency=0)


async def test_memory_quota_is_atomic_under_concurrency(emulator: WeChatEmulator) -> None:
    async with client(emulator, daily_quota=7, concurrency=4) as ocr:
        results = await asyncio.gather(
            *(ocr.idcard(IMAGE) for _ in range(30)), return_exceptions=True
        )
    assert sum(isinstance(r, wx.IdCardResult) for r in results) == 7
    assert sum(isinstance(r, wx.QuotaExceeded) for r in results) == 23
    assert emulator.stats.ocr_calls["idcard"] == 7


async def test_three_processes_share_one_redis_quota(redis_url: str, namespace: str) -> None:
    """3 OS processes x 20 concurrent calls, daily_quota=20 in one Redis: exactly 20 sent."""
    async with WeChatEmulator() as emu:
        summaries = []
        args = [emu.base_url, redis_url, namespace, emu.appid, emu.secret, "20", "20"]
        async with redis_workers(3, args) as procs:
            for p in procs:
                assert p.stdout is not None
                while (line := await asyncio.wait_for(p.stdout.readline(), 120)) == b"WAITING\n":
                    pass
                summaries.append(json.loads(line))
                assert await asyncio.wait_for(p.wait(), 60) == 0
        assert sum(s["ok"] for s in summaries) == 20, summaries
        assert sum(s["over_quota"] for s in summaries) == 40
        assert emu.stats.ocr_calls["idcard"] == 20


async def test_exhausted_mark_is_shared_through_redis(
    emulator: WeChatEmulator, redis_url: str, namespace: str
) -> None:
    first = client(emulator, store=wx.RedisStore.from_url(redis_url, namespace=namespace))
    second = client(emulator, store=wx.RedisStore.from_url(redis_url, namespace=namespace))
    try:
        emulator.push_faults("idcard", Fault.error(101003))
        with pytest.raises(wx.QuotaExceeded):
            await first.idcard(IMAGE)
        with pytest.raises(wx.QuotaExceeded, match="until midnight"):
            await second.idcard(IMAGE)
    finally:
        await first.close()
        await second.close()
    assert emulator.stats.ocr_calls["idcard"] == 1


def test_china_day() -> None:
    midnight = next_china_midnight(1_700_000_000)
    assert china_day(midnight) == china_day(midnight - 1) + 1
    assert (midnight + 8 * 3600) % 86400 == 0  # 00:00 at UTC+8
