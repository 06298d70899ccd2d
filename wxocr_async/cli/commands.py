"""``wxocr demo`` and ``wxocr emulator``: the shipped emulator at work."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence

from ..client import OcrClient
from ..emulator import WeChatEmulator, sample_image
from .errors import CommandError
from .signals import on_termination

#: shipped sample image -> the client method that reads it
SAMPLE_METHODS = {
    "idcard_front.png": "idcard",
    "idcard_back.png": "idcard",
    "bankcard.png": "bankcard",
    "vehicle_license.png": "vehicle_license",
    "driver_license.png": "driver_license",
    "business_license.png": "business_license",
    "printed_text.png": "printed_text",
    "plate_number.png": "plate_number",
    "menu.png": "menu",
}


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
                method = getattr(ocr, SAMPLE_METHODS[name])
                result = await method(sample_image(name))
                print(f"== ocr.{SAMPLE_METHODS[name]}({name!r})")
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


async def serve_local(host: str, port: int, workers: int | None, token: str | None) -> None:
    """``wxocr serve --engine local``: WeChat's OCR API on ``host:port``, recognising
    with the local engine. Calls need no token (as Cloud Run's open-API service), unless
    ``token`` is configured: then every call must carry it as ``access_token``."""
    from ..local import LocalBackend, LocalEngine, default_workers, model_available

    if not model_available():
        raise CommandError("--engine local needs RapidOCR: pip install 'wxocr_async[local]'")
    # every core for each image: a request alone is read fastest (latency over throughput)
    engine = LocalEngine(workers=workers, threads=default_workers())
    print(f"wxocr serve: loading the models in {engine.workers} workers...", file=sys.stderr)
    server = WeChatEmulator(
        backend=LocalBackend(engine), require_token=token is not None, any_credentials=True
    )
    if token is not None:
        server.accept_token(token)
    try:
        await engine.start()
        try:
            base_url = await server.start(host, port)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        needs = "calls must carry WXOCR_TOKEN" if token else "no token needed"
        print(
            f"wxocr serve: WeChat's OCR API on {base_url} (engine local, "
            f"{engine.workers} workers; {needs}); OcrClient(base_url={base_url!r})",
            flush=True,
        )
        await until_terminated()
    finally:
        await server.stop()
        await engine.close()  # the worker processes end with the server
