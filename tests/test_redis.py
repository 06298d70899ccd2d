"""RedisStore against a real redis-server: shared tokens, the lock, errors."""

from __future__ import annotations

import asyncio
import json

import pytest
import redis.asyncio

import wxocr_async as wx
from wxocr_async.emulator import Fault, WeChatEmulator, card_png
from wxocr_async.store import ForceRefreshPolicy
from wxocr_async.token import AccessToken

from .conftest import _free_port, redis_workers

IMAGE = card_png("redis")


async def test_store_operations(redis_url: str, namespace: str) -> None:
    store = wx.RedisStore.from_url(redis_url, namespace=namespace)
    try:
        assert await store.load_token("k") is None
        token = AccessToken("v1", expires_at=2000.0, refresh_at=1900.0)
        await store.save_token("k", token, now=1000.0)
        assert await store.load_token("k") == token
        await store.discard_token("k", "other")  # not the stored one: kept
        assert await store.load_token("k") == token
        await store.discard_token("k", "v1")
        assert await store.load_token("k") is None
        assert await store.try_lock("k", "a", 5)
        assert not await store.try_lock("k", "b", 5)
        await store.unlock("k", "b")  # not the owner: still locked
        assert not await store.try_lock("k", "c", 5)
        await store.unlock("k", "a")
        assert await store.try_lock("k", "c", 5)
    finally:
        await store.close()


async def test_saved_token_expires_with_the_token(redis_url: str, namespace: str) -> None:
    async with redis.asyncio.Redis.from_url(redis_url) as client:
        store = wx.RedisStore(client, namespace=namespace)
        await store.save_token("k", AccessToken("v", 1100.0, 1075.0), now=1000.0)
        ttl = await client.pttl(f"{namespace}:k:token")
        assert 99_000 <= ttl <= 100_000
        await store.close()  # a caller's client is not closed
        assert await client.ping()


async def test_force_refresh_claims_are_shared_and_limited(redis_url: str, namespace: str) -> None:
    policy = ForceRefreshPolicy(daily_max=3, min_interval=30)
    a = wx.RedisStore.from_url(redis_url, namespace=namespace)
    b = wx.RedisStore.from_url(redis_url, namespace=namespace)
    try:
        noon = 1_700_000_000.0
        assert await a.claim_force_refresh("k", noon, policy) is None
        reason = await b.claim_force_refresh("k", noon + 10, policy)
        assert reason is not None and "30 s" in reason
        assert await b.claim_force_refresh("k", noon + 30, policy) is None
        assert await a.claim_force_refresh("k", noon + 60, policy) is None
        reason = await a.claim_force_refresh("k", noon + 90, policy)
        assert reason is not None and "3 forced refreshes already made today" in reason
        assert await a.claim_force_refresh("k", noon + 86400, policy) is None  # a new day
    finally:
        await a.close()
        await b.close()


async def test_two_clients_share_one_token(
    emulator: WeChatEmulator, redis_url: str, namespace: str
) -> None:
    for _ in range(2):
        store = wx.RedisStore.from_url(redis_url, namespace=namespace)
        async with wx.OcrClient(
            emulator.appid, emulator.secret, base_url=emulator.base_url, store=store
        ) as ocr:
            await asyncio.gather(*(ocr.idcard(IMAGE) for _ in range(20)))
    assert emulator.stats.token_fetches == 1
    assert emulator.stats.ocr_results["idcard"] == 40


async def test_rejected_token_is_replaced_for_everyone(
    emulator: WeChatEmulator, redis_url: str, namespace: str
) -> None:
    stores = [wx.RedisStore.from_url(redis_url, namespace=namespace) for _ in range(2)]
    clients = [
        wx.OcrClient(emulator.appid, emulator.secret, base_url=emulator.base_url, store=s)
        for s in stores
    ]
    try:
        await clients[0].idcard(IMAGE)
        await clients[1].idcard(IMAGE)
        emulator.push_faults("idcard", Fault.revoke())
        await clients[0].idcard(IMAGE)  # rejected, refreshed, retried
        await clients[1].idcard(IMAGE)  # its cached token is dead too: takes the stored one
    finally:
        for c in clients:
            await c.close()
    assert emulator.stats.stable_token_requests == 2


async def test_redis_unreachable_is_a_clear_error(emulator: WeChatEmulator) -> None:
    dead = f"redis://127.0.0.1:{_free_port()}/0"
    store = wx.RedisStore.from_url(dead)
    async with wx.OcrClient(
        emulator.appid, emulator.secret, base_url=emulator.base_url, store=store
    ) as ocr:
        with pytest.raises(wx.StoreUnavailable, match=r"Redis store at 127\.0\.0\.1:\d+/0") as info:
            await ocr.idcard(IMAGE)
    assert info.value.errcode == wx.errors.ERRCODE_STORE
    assert emulator.stats.total_ocr_calls == 0


async def test_redis_password_never_appears(emulator: WeChatEmulator) -> None:
    dead = f"redis://:SENTINEL-redis-pw@127.0.0.1:{_free_port()}/0"
    store = wx.RedisStore.from_url(dead)
    assert "SENTINEL" not in repr(store)
    async with wx.OcrClient(
        emulator.appid, emulator.secret, base_url=emulator.base_url, store=store
    ) as ocr:
        with pytest.raises(wx.StoreUnavailable) as info:
            await ocr.idcard(IMAGE)
    assert "SENTINEL" not in str(info.value)


async def test_four_processes_cold_cache_fetch_one_token(redis_url: str, namespace: str) -> None:
    """4 OS processes x 100 concurrent calls, one shared RedisStore, a cold cache:
    exactly one token fetch. The fetch is held until the three other processes are
    known to be waiting on the refresh lock, so the contention is real, not lucky."""
    release, arrived = asyncio.Event(), asyncio.Event()
    async with WeChatEmulator() as emu:
        emu.push_faults("stable_token", Fault.held(release, arrived))
        args = [emu.base_url, redis_url, namespace, emu.appid, emu.secret, "100"]
        async with redis_workers(4, args) as procs:
            await asyncio.wait_for(arrived.wait(), 60)  # one process is fetching...
            first_lines = [asyncio.ensure_future(p.stdout.readline()) for p in procs]  # type: ignore[union-attr]
            waiting = 0
            pending = set(first_lines)
            while waiting < 3:  # ...and the three others are waiting for it
                done, pending = await asyncio.wait(
                    pending, timeout=60, return_when="FIRST_COMPLETED"
                )
                assert done, "processes neither waited nor finished"
                waiting += sum(t.result() == b"WAITING\n" for t in done)
            assert len(pending) == 1  # the fetching process has said nothing yet
            release.set()
            summaries = []
            for p, first in zip(procs, first_lines, strict=True):
                assert p.stdout is not None
                line = await asyncio.wait_for(first, 120)
                if line == b"WAITING\n":
                    line = await asyncio.wait_for(p.stdout.readline(), 120)
                summaries.append(json.loads(line))
                assert await asyncio.wait_for(p.wait(), 60) == 0
        assert [s["ok"] for s in summaries] == [100, 100, 100, 100], summaries
        assert emu.stats.token_fetches == 1
        assert emu.stats.ocr_results["idcard"] == 400
