"""Command line: ``python -m wxocr_async demo`` or ``python -m wxocr_async emulator``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from . import __version__
from .client import OcrClient
from .emulator import SAMPLE_REPLIES, WeChatEmulator, sample_image

_METHODS = {
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


async def demo(samples: Sequence[str]) -> None:
    """Send shipped sample images through the emulator, as a real app would call WeChat."""
    async with WeChatEmulator() as emu:
        print(f"WeChat emulator listening on {emu.base_url}")
        print("(the emulator answers with WeChat's documented example replies, canned per")
        print(" sample image: this shows the client at work, not recognition)\n")
        async with OcrClient(emu.appid, emu.secret, base_url=emu.base_url) as ocr:
            for name in samples:
                method = getattr(ocr, _METHODS[name])
                result = await method(sample_image(name))
                print(f"== ocr.{_METHODS[name]}({name!r})")
                print(f"typed:  {result!r}")
                print("snake: ", json.dumps(result.to_dict(), ensure_ascii=False))
                print("camel: ", json.dumps(result.to_dict("camel"), ensure_ascii=False))
                print()
        print(f"token fetches: {emu.stats.token_fetches}, OCR calls: {emu.stats.total_ocr_calls}")


async def serve(host: str, port: int, latency: float) -> None:
    """Run the emulator until interrupted."""
    emu = WeChatEmulator(latency=latency)
    try:
        base_url = await emu.start(host, port)
    except OSError as exc:
        await emu.stop()
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    print(f"WeChat emulator on {base_url}  appid={emu.appid}  secret={emu.secret}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emu.stop()


class CommandError(Exception):
    """A failure told to the user as one line on stderr (exit status 1), no traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wxocr_async", description=__doc__)
    parser.add_argument("--version", action="version", version=f"wxocr_async {__version__}")
    sub = parser.add_subparsers(dest="command")
    p_demo = sub.add_parser("demo", help="recognise the shipped sample images via the emulator")
    p_demo.add_argument(
        "samples",
        nargs="*",
        metavar="SAMPLE",
        help=f"sample image names (default: all): {', '.join(SAMPLE_REPLIES)}",
    )
    p_emu = sub.add_parser("emulator", help="run the WeChat emulator")
    p_emu.add_argument("--host", default="127.0.0.1")
    p_emu.add_argument("--port", type=int, default=8099, help="0: any free port")
    p_emu.add_argument("--latency", type=float, default=0.0, help="seconds per OCR reply")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    unknown = [s for s in getattr(args, "samples", None) or [] if s not in SAMPLE_REPLIES]
    if unknown:
        parser.error(f"unknown sample {unknown[0]!r}; choose from {', '.join(SAMPLE_REPLIES)}")
    try:
        if args.command == "emulator":
            asyncio.run(serve(args.host, args.port, args.latency))
        else:
            asyncio.run(demo(getattr(args, "samples", None) or list(SAMPLE_REPLIES)))
    except KeyboardInterrupt:
        return 130
    except CommandError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
