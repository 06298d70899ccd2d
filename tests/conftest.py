"""Shared fixtures: a real emulator on loopback and a client pointed at it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from wxocr_async import OcrClient
from wxocr_async.emulator import WeChatEmulator
from wxocr_async.retry import NO_RETRY

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
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session for talking to a server directly (a 120 s hang guard)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        yield session


@pytest.fixture
async def ocr(emulator: WeChatEmulator) -> AsyncIterator[OcrClient]:
    """A client without retries: error tests see each scripted fault exactly once
    (test_resilience builds clients with retry policies of its own)."""
    async with OcrClient(
        emulator.appid, emulator.secret, base_url=emulator.base_url, retry=NO_RETRY
    ) as client:
        yield client


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server process on loopback for the whole session."""
    exe = shutil.which("redis-server")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (.ci/run installs Debian's redis-server)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with serving_process(
        [exe, "--port", "{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        "redis-server",
    ) as port:
        yield f"redis://127.0.0.1:{port}/0"


@contextlib.contextmanager
def serving_process(command: Sequence[str], name: str, start_timeout: float = 60) -> Iterator[int]:
    """``command`` (``{port}`` replaced by a free port) run until the port accepts
    connections; yields the port; terminated on the way out."""
    port = _free_port()
    proc = subprocess.Popen(
        [part.replace("{port}", str(port)) for part in command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + start_timeout
        while True:  # readiness: the port accepts connections
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start") from None
                time.sleep(0.02)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def namespace() -> str:
    """A Redis key namespace of this test's own."""
    return f"test-{uuid.uuid4().hex[:12]}"


ROOT = Path(__file__).resolve().parent.parent


@contextlib.asynccontextmanager
async def redis_workers(
    count: int, args: Sequence[str]
) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """``count`` OS processes of ``tests.redis_worker`` with ``args``, each past READY
    and told to go; killed on the way out if still running."""
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.redis_worker",
            *args,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(count)
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            assert await asyncio.wait_for(p.stdout.readline(), 60) == b"READY\n"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write(b"go\n")
            await p.stdin.drain()
        yield procs
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
                await p.wait()
