"""Retries, timeouts, cancellation and a fault matrix, against the emulator."""

from __future__ import annotations

import asyncio
import gc
import io
import logging
import random
from typing import Any

import pytest

import wxocr_async as wx
from wxocr_async.emulator import HTML_ERROR_PAGE, Fault, WeChatEmulator, card_png, noise_png
from wxocr_async.retry import RetryPolicy

IMAGE = card_png("resilience")


class Sleeps:
    """An injected sleep that records the waits and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def policy(sleeps: Sleeps, **kw: Any) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps, random=lambda: 1.0, **kw)


def client(emu: WeChatEmulator, retry: RetryPolicy, **kw: Any) -> wx.OcrClient:
    return wx.OcrClient(emu.appid, emu.secret, base_url=emu.base_url, retry=retry, **kw)


async def test_busy_twice_then_success(emulator: WeChatEmulator) -> None:
    sleeps = Sleeps()
    emulator.push_faults("idcard", Fault.error(-1), Fault.error(-1))
    async with client(emulator, policy(sleeps)) as ocr:
        card = await ocr.idcard(IMAGE)
    assert card.type == "Front"
    assert emulator.stats.ocr_calls["idcard"] == 3
    assert sleeps.waits == [0.5, 1.0]  # base 0.5 s, doubling (jitter pinned to 1.0)


async def test_502_html_until_retries_run_out(emulator: WeChatEmulator) -> None:
    sleeps = Sleeps()
    emulator.push_faults("comm", *[Fault.http(502)] * 5)
    async with client(emulator, policy(sleeps)) as ocr:
        with pytest.raises(wx.HTTPStatusError) as info:
            await ocr.printed_text(IMAGE)
        tokens = emulator.issued_tokens()
    err = info.value
    assert err.status == 502 and "HTTP 502" in str(err) and "HTML page" in str(err)
    assert emulator.stats.ocr_calls["comm"] == 3 and len(sleeps.waits) == 2
    assert tokens and all(t not in str(err) and t not in repr(err) for t in tokens)


@pytest.mark.parametrize(
    "fault",
    [
        Fault.http(503),
        Fault.not_json(),
        Fault.not_json(HTML_ERROR_PAGE, "text/html"),
        Fault.connection_reset(),
        Fault.error(-1),
    ],
    ids=["503", "text", "html", "reset", "busy"],
)
async def test_retried_faults(emulator: WeChatEmulator, fault: Fault) -> None:
    emulator.push_faults("bankcard", fault)
    async with client(emulator, policy(Sleeps())) as ocr:
        assert (await ocr.bankcard(IMAGE)).number is not None
    assert emulator.stats.ocr_calls["bankcard"] == 2


@pytest.mark.parametrize(
    "fault",
    [
        Fault.error(101000),
        Fault.error(101001),
        Fault.error(101002),
        Fault.error(101003),
        Fault.error(45009),
        Fault.error(48001),
        Fault.error(61007),
        Fault.error(40013),
        Fault.http(404, b"not found", "text/plain"),
    ],
    ids=lambda f: str(f.errcode or f.status),
)
async def test_never_retried(emulator: WeChatEmulator, fault: Fault) -> None:
    sleeps = Sleeps()
    emulator.push_faults("bankcard", fault)
    async with client(emulator, policy(sleeps)) as ocr:
        with pytest.raises(wx.WxOcrError):
            await ocr.bankcard(IMAGE)
    assert emulator.stats.ocr_calls["bankcard"] == 1 and sleeps.waits == []


async def test_rate_limit_waits_for_the_next_minute(emulator: WeChatEmulator) -> None:
    sleeps = Sleeps()
    emulator.push_faults("idcard", Fault.error(45011))
    retry = RetryPolicy(sleep=sleeps, random=lambda: 0.0, clock=lambda: 60_000 + 15.0)
    async with client(emulator, retry) as ocr:
        await ocr.idcard(IMAGE)
    assert sleeps.waits == [45.0]


async def test_deadline_stops_retries(emulator: WeChatEmulator) -> None:
    sleeps = Sleeps()
    emulator.push_faults("idcard", Fault.error(-1), Fault.error(-1))
    async with client(emulator, policy(sleeps, base_delay=2.0, deadline=1.0)) as ocr:
        with pytest.raises(wx.SystemBusy):
            await ocr.idcard(IMAGE)
    assert emulator.stats.ocr_calls["idcard"] == 1 and sleeps.waits == []


#: a held reply's timeout: long enough that, on a loaded machine, the request has reached
#: the emulator (and been counted) before the client gives up on it
HELD_TIMEOUT = 1.0


async def test_timeouts_are_retried_only_when_asked(emulator: WeChatEmulator) -> None:
    release = asyncio.Event()
    emulator.push_faults("idcard", Fault.held(release), Fault.held(release))
    async with client(emulator, policy(Sleeps()), timeout=HELD_TIMEOUT) as ocr:
        with pytest.raises(wx.RequestTimeout):
            await ocr.idcard(IMAGE)
        assert emulator.stats.ocr_calls["idcard"] == 1
    retry = policy(Sleeps(), retry_timeouts=True)
    async with client(emulator, retry, timeout=HELD_TIMEOUT) as ocr:
        assert (await ocr.idcard(IMAGE)).type == "Front"  # held once, answered the 2nd time
    release.set()
    assert emulator.stats.ocr_calls["idcard"] == 3


async def test_each_retry_sends_the_whole_upload_again(emulator: WeChatEmulator) -> None:
    emulator.push_faults("idcard", Fault.error(-1), Fault.connection_reset())
    data = noise_png(1_500_000)  # large enough to be streamed in chunks
    emulator.register_reply(data, {"errcode": 0, "errmsg": "ok", "type": "Back", "valid_date": "x"})
    async with client(emulator, policy(Sleeps())) as ocr:
        assert (await ocr.idcard(data)).type == "Back"  # recognised by its exact bytes
    assert emulator.stats.ocr_calls["idcard"] == 3  # busy, reset, then the whole image again
    (upload,) = emulator.stats.seen  # faults answer before the image is read
    assert upload.part_filename == "image.png" and upload.body_length > len(data)


def test_policy_decisions_are_pure() -> None:
    p = RetryPolicy(random=lambda: 0.5, base_delay=1.0, max_delay=3.0)
    busy = wx.SystemBusy(-1, "system error")
    assert [p.delay(busy, n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 1.5, 1.5]
    assert p.should_retry(busy, 1) and p.should_retry(busy, 2) and not p.should_retry(busy, 3)
    assert not p.should_retry(wx.QuotaExceeded(101003, "q"), 1)
    assert not p.should_retry(wx.RequestTimeout("t"), 1)
    assert p.should_retry(wx.HTTPStatusError(500, "x"), 1)
    assert not p.should_retry(wx.HTTPStatusError(400, "x"), 1)
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(attempts=0)


async def test_cancelling_releases_slots_and_counts_what_was_sent(
    emulator: WeChatEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    release = asyncio.Event()
    arrived = [asyncio.Event(), asyncio.Event()]
    emulator.push_faults("idcard", *(Fault.held(release, a) for a in arrived))
    async with client(emulator, policy(Sleeps()), concurrency=2, daily_quota=10) as ocr:
        batch = asyncio.gather(*(ocr.idcard(IMAGE) for _ in range(6)))
        for a in arrived:
            await asyncio.wait_for(a.wait(), 30)
        batch.cancel()
        with pytest.raises(asyncio.CancelledError):
            await batch
        # the 2 held requests reached WeChat (billed); the 4 queued ones never went out
        assert await ocr.quota_remaining("idcard") == 8
        assert emulator.stats.ocr_calls["idcard"] == 2
        release.set()
        # both slots are free again: two calls at once get through
        results = await asyncio.wait_for(asyncio.gather(ocr.idcard(IMAGE), ocr.idcard(IMAGE)), 30)
        assert [r.type for r in results] == ["Front", "Front"]
        assert await ocr.quota_remaining("idcard") == 6
    gc.collect()
    await asyncio.sleep(0)  # let the loop report anything left behind
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert bad == []


async def test_cancelling_waiters_keeps_the_token_fetch(emulator: WeChatEmulator) -> None:
    release, arrived = asyncio.Event(), asyncio.Event()
    emulator.push_faults("stable_token", Fault.held(release, arrived))
    async with client(emulator, policy(Sleeps())) as ocr:
        batch = asyncio.gather(*(ocr.idcard(IMAGE) for _ in range(5)))
        await asyncio.wait_for(arrived.wait(), 30)
        batch.cancel()
        with pytest.raises(asyncio.CancelledError):
            await batch
        later = asyncio.ensure_future(ocr.idcard(IMAGE))
        release.set()
        assert (await asyncio.wait_for(later, 30)).type == "Front"
    assert emulator.stats.token_fetches == 1  # the fetch in flight was kept, not restarted


async def test_fault_matrix(caplog: pytest.LogCaptureFixture) -> None:
    """Hundreds of mixed calls under every fault at once: each ends in a result or a
    typed error, none hangs, and the counters add up."""
    rng = random.Random(7)
    release = asyncio.Event()
    faults = [
        Fault.error(-1),
        Fault.http(502),
        Fault.http(503, b"", "text/plain"),
        Fault.connection_reset(),
        Fault.not_json(),
        Fault.held(release),
        Fault.revoke(),
        Fault.error(101001),
        Fault.error(45011),
    ]
    names = ["idcard", "bankcard", "comm", "platenum", "menu"]
    methods = {
        "idcard": "idcard",
        "bankcard": "bankcard",
        "comm": "printed_text",
        "platenum": "plate_number",
        "menu": "menu",
    }
    async with WeChatEmulator() as emu:
        for name in names:
            emu.push_faults(name, *(rng.choice(faults) for _ in range(25)))
        emu.push_faults("menu", Fault.error(101003))  # the menu quota runs out mid-run
        sleeps = Sleeps()
        retry = RetryPolicy(sleep=sleeps, random=rng.random, clock=lambda: 0.0)
        async with client(emu, retry, concurrency=8, timeout=0.5) as ocr:
            plan = [rng.choice(names) for _ in range(300)]
            outcomes = await asyncio.wait_for(
                asyncio.gather(
                    *(getattr(ocr, methods[n])(IMAGE) for n in plan), return_exceptions=True
                ),
                120,
            )
            release.set()
        stats = emu.stats
    results = [o for o in outcomes if isinstance(o, wx.models.WireModel)]
    errors = [o for o in outcomes if isinstance(o, wx.WxOcrError)]
    assert len(results) + len(errors) == len(plan) == 300  # nothing else, nothing lost
    assert sum(stats.ocr_results.values()) == len(results)
    assert stats.total_ocr_calls >= len(outcomes) - sum(
        isinstance(e, wx.QuotaExceeded) for e in errors
    )
    assert any(isinstance(e, wx.QuotaExceeded) for e in errors)
    assert all(stats.ocr_results[n] > 0 for n in names if n != "menu" or stats.ocr_results[n])
    kinds = {type(e).__name__ for e in errors}
    assert kinds <= {
        "SystemBusy",
        "HTTPStatusError",
        "ConnectionFailed",
        "BadResponse",
        "RequestTimeout",
        "CertificateNotFound",
        "QuotaExceeded",
        "RateLimited",
        "InvalidCredential",  # two revocations in a row: the second one is raised, by design
    }
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_shrinking_a_large_image(emulator: WeChatEmulator, tmp_path: Any) -> None:
    from PIL import Image

    big = tmp_path / "scan.png"
    big.write_bytes(noise_png(wx.MAX_IMAGE_BYTES + 100_000))
    async with client(emulator, policy(Sleeps())) as ocr:
        with pytest.raises(wx.ImageTooLarge):
            await ocr.printed_text(big)
    async with client(emulator, policy(Sleeps()), shrink_images=True) as ocr:
        assert (await ocr.printed_text(big)).items is not None
    (seen,) = [s for s in emulator.stats.seen if s.part_name == "img"]
    assert (seen.part_filename, seen.part_content_type) == ("scan.jpg", "image/jpeg")
    assert seen.body_length < wx.MAX_IMAGE_BYTES
    from wxocr_async.shrink import shrink_to_fit

    with (
        Image.open(io.BytesIO(shrink_to_fit(big.read_bytes()))) as out,
        Image.open(big) as original,
    ):
        assert out.format == "JPEG" and min(out.size) >= min(320, *original.size)
        assert abs(out.size[0] / out.size[1] - original.size[0] / original.size[1]) < 0.02
