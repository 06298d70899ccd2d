"""``wxocr serve``: the server's command line (configuration, start-up, clean end)."""

from __future__ import annotations

import argparse
import logging
import sys
from importlib.util import find_spec

from ..errors import InvalidInput
from .commands import until_terminated
from .errors import CommandError


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
    )
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
            f"wxocr serve: listening on {base_url}; loading the models in {engine.workers} "
            "workers (/healthz answers 503 until they are loaded)...",
            file=sys.stderr,
            flush=True,
        )
        await server.load_models()
        print(
            f"wxocr serve: WeChat's OCR API on {base_url} (engine local, "
            f"{engine.workers} workers; {auth.describe()}); OcrClient(base_url={base_url!r})",
            flush=True,
        )
        await until_terminated()
    finally:
        await server.stop()
        await engine.close()  # the worker processes end with the server
