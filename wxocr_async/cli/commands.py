"""``wxocr demo`` and ``wxocr emulator``: the shipped emulator at work."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from ..client import OcrClient
from ..emulator import WeChatEmulator, sample_image
from .errors import CommandError
from .parser import DEMO_SAMPLES
from .signals import on_termination


async def until_terminated() -> None:
    """Wait for SIGTERM (or SIGINT): a server's clean end, its workers stopped."""
    stop = asyncio.Event()
    with on_termination(lambda _: stop.set()):
        await stop.wait()


async def demo(samples: Sequence[str]) -> None:
    """Send shipped sample images through the emulator, as a real app would call WeChat."""
    async with WeChatEmulator() as emu:
        print(f"WeChat emulator listening on {emu.base_url}")
        print("(the emulator answers with WeChat's documented example replies, canned per")
        print(" sample image: this shows the client at work, not recognition)\n")
        async with OcrClient(emu.appid, emu.secret, base_url=emu.base_url) as ocr:
            for name in samples:
                method = getattr(ocr, DEMO_SAMPLES[name])
                result = await method(sample_image(name))
                print(f"== ocr.{DEMO_SAMPLES[name]}({name!r})")
                print(f"typed:  {result!r}")
                print("snake: ", json.dumps(result.to_dict(), ensure_ascii=False))
                print("camel: ", json.dumps(result.to_dict("camel"), ensure_ascii=False))
                print()
        print(f"token fetches: {emu.stats.token_fetches}, OCR calls: {emu.stats.total_ocr_calls}")


async def serve_emulator(host: str, port: int, latency: float) -> None:
    """Run the emulator until interrupted."""
    emu = WeChatEmulator(latency=latency)
    try:
        base_url = await emu.start(host, port)
    except OSError as exc:
        await emu.stop()
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    print(f"WeChat emulator on {base_url}  appid={emu.appid}  secret={emu.secret}", flush=True)
    try:
        await until_terminated()
    finally:
        await emu.stop()
