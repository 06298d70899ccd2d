"""One benchmark measurement in this (fresh) process; prints one JSON line.

    python benchmarks/clients.py CLIENT SCENARIO BASE_URL REQUESTS IN_FLIGHT

CLIENT: floor | wxocr_async | httpx | wechatpy. SCENARIO: a label echoed back; the
special ones ``cold`` (all REQUESTS at once on a cold token cache) and ``memory``
(peak RSS after 1 000 and after REQUESTS calls) measure something else.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.request import urlopen

from wxocr_async.emulator import DEFAULT_APPID, DEFAULT_SECRET, noise_png

IMAGE = noise_png(200_000, seed=42)  # ~200 KB, the same bytes for every client
WARMUP = 20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emulator_stats(base_url: str) -> dict[str, Any]:
    with urlopen(f"{base_url}/_emulator/stats") as resp:
        stats: dict[str, Any] = json.load(resp)
        return stats


# -- the async clients: each returns (one call, close) --------------------------------------


async def floor(
    base_url: str,
) -> tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[None]]]:
    """A bare aiohttp loop: one session, the token fetched once, FormData, resp.json()."""
    import aiohttp

    session = aiohttp.ClientSession()
    body = {"grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET}
    async with session.post(f"{base_url}/cgi-bin/stable_token", json=body) as resp:
        token = (await resp.json(content_type=None))["access_token"]
    url = f"{base_url}/cv/ocr/idcard?access_token={token}"

    async def call() -> Any:
        form = aiohttp.FormData()
        form.add_field("img", IMAGE, filename="idcard.png", content_type="image/png")
        async with session.post(url, data=form) as resp:
            return await resp.json(content_type=None)

    return call, session.close


async def ours(base_url: str) -> tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[None]]]:
    """wxocr_async with its defaults (token cache, limits, retries, typed result)."""
    import wxocr_async as wx

    client = wx.OcrClient(DEFAULT_APPID, DEFAULT_SECRET, base_url=base_url)

    async def call() -> Any:
        return await client.idcard(IMAGE)

    return call, client.close


async def httpx_client(
    base_url: str,
) -> tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[None]]]:
    """httpx.AsyncClient doing the same as the floor."""
    import httpx

    client = httpx.AsyncClient(limits=httpx.Limits(max_connections=100))
    body = {"grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET}
    token = (await client.post(f"{base_url}/cgi-bin/stable_token", json=body)).json()[
        "access_token"
    ]
    url = f"{base_url}/cv/ocr/idcard?access_token={token}"

    async def call() -> Any:
        resp = await client.post(url, files={"img": ("idcard.png", IMAGE, "image/png")})
        return resp.json()

    return call, client.aclose


ASYNC_CLIENTS = {"floor": floor, "wxocr_async": ours, "httpx": httpx_client}


async def run_async(
    name: str, scenario: str, base_url: str, requests: int, in_flight: int
) -> dict[str, Any]:
    call, close = await ASYNC_CLIENTS[name](base_url)
    try:
        if scenario == "cold":
            return await cold_async(call, base_url, requests)
        for _ in range(WARMUP):
            await call()

        async def worker(n: int) -> None:
            for _ in range(n):
                await call()

        async def measured(count: int) -> tuple[float, float]:
            share = [count // in_flight + (i < count % in_flight) for i in range(in_flight)]
            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.gather(*(worker(n) for n in share))
            return time.process_time() - cpu, time.perf_counter() - wall

        if scenario == "memory":
            await measured(1000)
            after_1k = peak_rss_mb()
            await measured(requests - 1000)
            return {
                "rss_after_1k_mb": after_1k,
                "rss_after_all_mb": peak_rss_mb(),
                "requests": requests,
            }
        cpu, wall = await measured(requests)
        return result(requests, cpu, wall)
    finally:
        await close()


async def cold_async(
    call: Callable[[], Awaitable[Any]], base_url: str, requests: int
) -> dict[str, Any]:
    before = emulator_stats(base_url)["token_fetches"]
    started = time.perf_counter()
    first: list[float] = []

    async def one() -> None:
        await call()
        if not first:
            first.append(time.perf_counter() - started)

    await asyncio.gather(*(one() for _ in range(requests)))
    total = time.perf_counter() - started
    return {
        "token_fetches": emulator_stats(base_url)["token_fetches"] - before,
        "first_result_s": first[0],
        "all_results_s": total,
        "requests": requests,
    }


# -- wechatpy 1.8 in a thread pool ---------------------------------------------------------


def run_wechatpy(scenario: str, base_url: str, requests: int, in_flight: int) -> dict[str, Any]:
    """wechatpy 1.8.18 (requests, sync) in a thread pool, driven as its 2.0 ``ocr_idcard``
    does (``client.post("cv/ocr/idcard", files=...)``). Its token URL is hard-coded to
    api.weixin.qq.com, so it is pointed at the emulator here too."""
    from wechatpy import WeChatClient

    class EmulatedClient(WeChatClient):  # type: ignore[misc]
        API_BASE_URL = f"{base_url}/"

        def fetch_access_token(self) -> Any:
            return self._fetch_access_token(
                url=f"{base_url}/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.appid,
                    "secret": self.secret,
                },
            )

    client = EmulatedClient(DEFAULT_APPID, DEFAULT_SECRET)

    def call() -> Any:
        return client.post("cv/ocr/idcard", files={"img": ("idcard.png", IMAGE, "image/png")})

    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        if scenario == "cold":
            before = emulator_stats(base_url)["token_fetches"]
            started = time.perf_counter()
            futures = [pool.submit(call) for _ in range(requests)]
            first = min_done(futures, started)
            total = time.perf_counter() - started
            return {
                "token_fetches": emulator_stats(base_url)["token_fetches"] - before,
                "first_result_s": first,
                "all_results_s": total,
                "requests": requests,
            }
        list(pool.map(lambda _: call(), range(WARMUP)))
        cpu, wall = time.process_time(), time.perf_counter()
        list(pool.map(lambda _: call(), range(requests)))
        return result(requests, time.process_time() - cpu, time.perf_counter() - wall)


def min_done(futures: list[Any], started: float) -> float:
    from concurrent.futures import FIRST_COMPLETED, wait

    wait(futures, return_when=FIRST_COMPLETED)
    first = time.perf_counter() - started
    for f in futures:
        f.result()
    return first


def result(requests: int, cpu: float, wall: float) -> dict[str, Any]:
    return {
        "requests": requests,
        "rps": requests / wall,
        "cpu_us": cpu / requests * 1e6,
        "rss_mb": peak_rss_mb(),
    }


def main() -> None:
    name, scenario, base_url, requests, in_flight = sys.argv[1:6]
    if name == "wechatpy":
        out = run_wechatpy(scenario, base_url, int(requests), int(in_flight))
    else:
        out = asyncio.run(run_async(name, scenario, base_url, int(requests), int(in_flight)))
    print(json.dumps({"client": name, "scenario": scenario, **out}))


if __name__ == "__main__":
    main()
