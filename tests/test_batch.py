"""OcrClient.batch against the emulator: one outcome per item, lazy, bounded, quota-aware."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

import wxocr_async as wx
from wxocr_async.batch import Outcome, run_batch
from wxocr_async.emulator import Fault, WeChatEmulator, sample_image
from wxocr_async.errors import ERRCODE_LOCAL_QUOTA
from wxocr_async.retry import NO_RETRY

HANG_GUARD = 30


@pytest.fixture
def release(emulator: WeChatEmulator) -> Iterator[asyncio.Event]:
    """Releases the emulator's held requests at the end, so that it stops at once."""
    event = asyncio.Event()
    yield event
    event.set()


def fake_png(i: int) -> bytes:
    """A distinct upload the emulator accepts as a PNG."""
    return b"\x89PNG\r\n\x1a\n" + f"image {i}".encode()


def client(emu: WeChatEmulator, **kw: Any) -> wx.OcrClient:
    return wx.OcrClient(emu.appid, emu.secret, base_url=emu.base_url, retry=NO_RETRY, **kw)


async def collect(it: AsyncIterator[Outcome[Any]]) -> list[Outcome[Any]]:
    async with asyncio.timeout(HANG_GUARD):
        return [o async for o in it]


async def test_every_kind_of_item_yields_one_outcome(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(wx.MAX_IMAGE_BYTES))
    items: list[object] = [
        sample_image("idcard_front.png"),  # a Path
        str(sample_image("idcard_back.png")),  # a str path
        fake_png(1),  # bytes
        io.BytesIO(fake_png(2)),  # a file object
        emulator.sample_url("idcard_front.png"),  # an img_url
        str(text),  # not an image
        big,  # too large
        str(tmp_path / "missing.png"),  # missing
        None,  # not an image at all
    ]
    async with client(emulator) as ocr:
        outcomes = await collect(ocr.batch("idcard", items, concurrency=3))
    assert sorted(o.index for o in outcomes) == list(range(len(items)))
    by_index = {o.index: o for o in outcomes}
    for i, item in enumerate(items):
        assert by_index[i].item is item
    assert [by_index[i].status for i in range(5)] == ["ok"] * 5
    assert all(isinstance(by_index[i].result, wx.IdCardResult) for i in range(5))
    assert by_index[0].result is not None and by_index[0].result.type == "Front"
    assert by_index[1].result is not None and by_index[1].result.type == "Back"
    assert all(by_index[i].error is None for i in range(5))
    for i, kind in [(5, wx.InvalidInput), (6, wx.ImageTooLarge), (7, wx.InvalidInput)]:
        assert by_index[i].status == "error"
        assert isinstance(by_index[i].error, kind)
        assert by_index[i].result is None
    assert isinstance(by_index[8].error, wx.InvalidInput)
    # the bad ones were never sent
    assert emulator.stats.ocr_calls["idcard"] == 5


@pytest.mark.parametrize("name", ["vehicle_license", "driving"])
async def test_endpoint_by_method_or_wire_name(emulator: WeChatEmulator, name: str) -> None:
    async with client(emulator) as ocr:
        outcomes = await collect(ocr.batch(name, [sample_image("vehicle_license.png")]))
    assert [o.status for o in outcomes] == ["ok"]
    assert isinstance(outcomes[0].result, wx.VehicleLicenseResult)
    assert emulator.stats.ocr_calls["driving"] == 1


async def test_bad_arguments_are_refused_before_anything_is_sent(
    emulator: WeChatEmulator,
) -> None:
    async with client(emulator) as ocr:
        with pytest.raises(wx.InvalidInput, match="unknown endpoint 'passport'"):
            ocr.batch("passport", [])
        for bad in (0, -1, 1.5, True, None):
            with pytest.raises(wx.InvalidInput, match="concurrency"):
                ocr.batch("idcard", [], concurrency=bad)  # type: ignore[arg-type]
        with pytest.raises(wx.InvalidInput, match="wrap a single image in a list"):
            ocr.batch("idcard", b"\x89PNG\r\n\x1a\n")
        with pytest.raises(wx.InvalidInput, match="iterable"):
            ocr.batch("idcard", 42)  # type: ignore[call-overload]
        with pytest.raises(wx.InvalidInput, match="timeout"):
            ocr.batch("idcard", [], timeout=float("nan"))
    with pytest.raises(wx.ClientClosed):
        ocr.batch("idcard", [])
    assert emulator.stats.total_ocr_calls == 0


async def test_async_iterable_items(emulator: WeChatEmulator) -> None:
    async def images() -> AsyncIterator[bytes]:
        for i in range(10):
            await asyncio.sleep(0)
            yield fake_png(i)

    async with client(emulator) as ocr:
        outcomes = await collect(ocr.batch("bankcard", images(), concurrency=4))
    assert sorted(o.index for o in outcomes) == list(range(10))
    assert {o.status for o in outcomes} == {"ok"}


async def test_items_are_read_lazily_and_in_flight_is_bounded(emulator: WeChatEmulator) -> None:
    pulled = 0

    def million() -> Iterator[bytes]:
        nonlocal pulled
        for i in range(1_000_000):
            pulled += 1
            yield fake_png(i)

    seen = 0
    async with (
        client(emulator) as ocr,
        asyncio.timeout(HANG_GUARD),
        contextlib.aclosing(ocr.batch("idcard", million(), concurrency=4)) as it,
    ):
        async for outcome in it:
            assert outcome.ok
            seen += 1
            # taken from the generator: those yielded plus at most 4 in flight
            assert pulled <= seen + 4
            if seen == 50:
                break
    assert emulator.stats.max_in_flight <= 4
    assert pulled <= 54


async def test_ordered_outcomes_come_in_input_order_with_a_bounded_window() -> None:
    release = asyncio.Event()
    pulled = 0

    def items() -> Iterator[int]:
        nonlocal pulled
        for i in range(100):
            pulled += 1
            yield i

    async def call(item: object) -> Any:
        if item == 0:  # the first item is slow: everything after it waits for it
            await release.wait()
        return item

    results: list[int] = []
    async with asyncio.timeout(HANG_GUARD):
        it = run_batch(call, wx.batch.as_source(items()), concurrency=4, ordered=True)
        first = asyncio.ensure_future(anext(it))
        # no I/O here: 200 turns of the loop run every ready step the batch can take
        for _ in range(200):
            await asyncio.sleep(0)
        assert not first.done()
        assert pulled == 8  # the window: 2 x concurrency, not the whole run
        release.set()
        results.append((await first).index)
        results.extend([o.index async for o in it])
    assert results == list(range(100))


async def test_unordered_outcomes_come_as_they_complete(
    emulator: WeChatEmulator, release: asyncio.Event
) -> None:
    arrived = asyncio.Event()
    emulator.push_faults("idcard", Fault.held(release, arrived))
    async with client(emulator) as ocr, asyncio.timeout(HANG_GUARD):
        it = ocr.batch("idcard", [fake_png(i) for i in range(6)], concurrency=2)
        order = []
        async for outcome in it:
            order.append(outcome.index)
            if len(order) == 5:  # the other five passed the held one
                assert arrived.is_set()
                release.set()
    assert sorted(order) == list(range(6))
    assert order[-1] in (0, 1)  # the held request was one of the first two sent


async def test_our_daily_quota_leaves_the_rest_not_attempted(emulator: WeChatEmulator) -> None:
    async with client(emulator, daily_quota=5) as ocr:
        outcomes = await collect(
            ocr.batch("idcard", [fake_png(i) for i in range(20)], concurrency=3)
        )
    statuses = [o.status for o in outcomes]
    assert statuses.count("ok") == 5
    assert statuses.count("not_attempted") == 15
    for o in outcomes:
        if o.status == "not_attempted":
            assert isinstance(o.error, wx.QuotaExceeded)
            assert o.error.errcode == ERRCODE_LOCAL_QUOTA
            assert o.result is None
    assert emulator.stats.ocr_calls["idcard"] == 5  # nothing more was sent


async def test_wechats_quota_reply_stops_the_batch() -> None:
    async with WeChatEmulator(daily_quota=3) as emu, client(emu) as ocr:
        outcomes = await collect(
            ocr.batch("idcard", [fake_png(i) for i in range(20)], concurrency=1, ordered=True)
        )
        assert emu.stats.ocr_calls["idcard"] == 4  # three answered, the fourth said spent
    assert [o.status for o in outcomes[:4]] == ["ok", "ok", "ok", "error"]
    assert isinstance(outcomes[3].error, wx.QuotaExceeded)
    assert outcomes[3].error.errcode == 101003
    assert [o.status for o in outcomes[4:]] == ["not_attempted"] * 16
    assert all(isinstance(o.error, wx.QuotaExceeded) for o in outcomes[4:])
    assert [o.index for o in outcomes] == list(range(20))


async def test_breaking_out_cancels_calls_in_flight_and_frees_their_slots(
    emulator: WeChatEmulator,
    release: asyncio.Event,
) -> None:
    arrived = [asyncio.Event(), asyncio.Event()]
    emulator.push_faults("idcard", *(Fault.held(release, a) for a in arrived))
    items = [b"not an image", fake_png(1), fake_png(2), fake_png(3)]
    async with client(emulator, concurrency=2) as ocr, asyncio.timeout(HANG_GUARD):
        async with contextlib.aclosing(ocr.batch("idcard", items, concurrency=3)) as it:
            async for outcome in it:
                assert outcome.status == "error"  # the bad one, at once
                for event in arrived:
                    await event.wait()  # both slots now held by the batch
                break
        # the two held calls were cancelled: their slots serve a new call at once
        result = await ocr.idcard(fake_png(9))
        assert result.type == "Front"
    assert emulator.stats.ocr_results["idcard"] == 1


async def test_plain_break_without_aclosing_also_frees_the_slots(
    emulator: WeChatEmulator,
    release: asyncio.Event,
) -> None:
    arrived = asyncio.Event()
    emulator.push_faults("idcard", Fault.held(release, arrived))
    async with client(emulator, concurrency=1) as ocr, asyncio.timeout(HANG_GUARD):
        async for _ in ocr.batch("idcard", [b"bad", fake_png(1)], concurrency=2):
            await arrived.wait()
            break
        # the abandoned generator is closed by the loop; its call gives the slot back
        assert (await ocr.idcard(fake_png(2))).type == "Front"


async def test_cancelling_the_consumer_cancels_the_calls(
    emulator: WeChatEmulator, release: asyncio.Event
) -> None:
    arrived = asyncio.Event()
    emulator.push_faults("idcard", Fault.held(release, arrived))
    async with client(emulator, concurrency=1) as ocr, asyncio.timeout(HANG_GUARD):

        async def consume() -> None:
            async for _ in ocr.batch("idcard", [fake_png(1), fake_png(2)], concurrency=1):
                pass

        task = asyncio.ensure_future(consume())
        await arrived.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await ocr.idcard(fake_png(3))).type == "Front"


async def test_client_closed_mid_batch(emulator: WeChatEmulator, release: asyncio.Event) -> None:
    arrived = asyncio.Event()
    emulator.push_faults("idcard", Fault.held(release, arrived))
    ocr = client(emulator)
    outcomes: list[Outcome[Any]] = []

    async def consume() -> None:
        async for outcome in ocr.batch("idcard", [fake_png(i) for i in range(10)], concurrency=1):
            outcomes.append(outcome)

    async with asyncio.timeout(HANG_GUARD):
        task = asyncio.ensure_future(consume())
        await arrived.wait()
        await ocr.close()
        await task
    assert sorted(o.index for o in outcomes) == list(range(10))
    assert all(o.status == "error" for o in outcomes)
    assert all(isinstance(o.error, wx.ClientClosed) for o in outcomes)


def test_outcome_repr_does_not_dump_image_bytes() -> None:
    outcome: Outcome[Any] = Outcome(bytes(1_000_000), "error", error=wx.InvalidInput("x"))
    assert len(repr(outcome)) < 300
    assert "<1000000 bytes>" in repr(outcome)
