"""``wxocr serve``: the server's command line (configuration, start-up, clean end)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from importlib.util import find_spec
from typing import TYPE_CHECKING

from ..errors import InvalidInput, WxOcrError
from .errors import CommandError
from .signals import on_termination

if TYPE_CHECKING:
    from ..server import OcrServer

#: a WXOCR_TOKEN shorter than this is warned about (it can be guessed)
MIN_TOKEN_LENGTH = 16


async def serve(args: argparse.Namespace) -> None:
    """Listen (``/healthz`` 503), load the models (200), serve until SIGTERM/SIGINT."""
    from ..local import model_available

    if not model_available() or find_spec("prometheus_client") is None:
        raise CommandError("wxocr serve needs the [serve] extra: pip install 'wxocr_async[serve]'")
    from ..local import LocalEngine, default_workers
    from ..server import OcrServer, ServerAuth

    try:
        auth = ServerAuth.from_env()
    except InvalidInput as exc:
        raise CommandError(exc.errmsg) from None
    if auth.token is not None and len(auth.token) < MIN_TOKEN_LENGTH:
        print(
            f"wxocr serve: warning: WXOCR_TOKEN has {len(auth.token)} characters; use at "
            f"least {MIN_TOKEN_LENGTH} random ones (e.g. openssl rand -hex 24)",
            file=sys.stderr,
        )
    if args.no_auth and not auth.is_open:
        raise CommandError("--no-auth contradicts WXOCR_TOKEN/WXOCR_APPID: unset them or drop it")
    # recognition failures are logged at ERROR with their traceback: to stderr
    logging.basicConfig(level=logging.INFO, format="wxocr serve: %(levelname)s %(message)s")
    # every core for each image: a request alone is read fastest (latency over throughput)
    engine = LocalEngine(workers=args.workers, threads=default_workers())
    server = OcrServer(
        engine,
        auth,
        allow_open=args.no_auth,
        allow_private_urls=args.allow_private_urls,
        request_timeout=args.request_timeout,
        max_connections=args.max_connections,
    )
    terminated = asyncio.Event()
    with on_termination(lambda _: terminated.set()):  # from the start: loading included
        try:
            try:
                base_url = await server.start(args.host, args.port)
            except InvalidInput as exc:
                raise CommandError(exc.errmsg) from None
            except OSError as exc:
                raise CommandError(
                    f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}"
                ) from None
            print(
                f"wxocr serve: listening on {base_url}; loading the models in "
                f"{engine.workers} workers (/healthz answers 503 until they are loaded)...",
                file=sys.stderr,
                flush=True,
            )
            if await _loaded_unless(terminated, server):
                print(
                    f"wxocr serve: WeChat's OCR API on {base_url} (engine local, "
                    f"{engine.workers} workers; {auth.describe()}); "
                    f"OcrClient(base_url={base_url!r})",
                    flush=True,
                )
                await terminated.wait()
        finally:
            await server.stop()
            await engine.close()  # the worker processes end with the server


async def _loaded_unless(terminated: asyncio.Event, server: OcrServer) -> bool:
    """Load the models; False if a signal to stop came first (the loading abandoned)."""
    loading = asyncio.ensure_future(server.load_models())
    stopping = asyncio.ensure_future(terminated.wait())
    await asyncio.wait({loading, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if loading.done():
        try:
            loading.result()
        except WxOcrError as exc:  # the engine could not start (SystemBusy)
            raise CommandError(exc.errmsg) from None
        return True
    loading.cancel()
    with contextlib.suppress(asyncio.CancelledError, WxOcrError):
        await loading
    return False
