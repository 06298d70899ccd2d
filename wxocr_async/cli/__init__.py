"""The ``wxocr`` command (also ``python -m wxocr_async``).

``wxocr idcard PATH|URL`` (one subcommand per endpoint), ``wxocr batch``, ``wxocr
emulator``, ``wxocr demo``. Credentials come from the environment: see
:mod:`wxocr_async.cli.config`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import Any

from .. import __version__
from ..emulator import SAMPLE_REPLIES
from ..endpoints import BY_METHOD
from .errors import CommandError

PROG = "wxocr"
#: seconds a client has to deliver a whole request to ``wxocr serve``, and its connections
#: open at once (the server's own constants, repeated: ``--help`` loads neither aiohttp.web
#: nor the engine; tests/test_serve.py checks that they agree)
DEFAULT_REQUEST_TIMEOUT = 30.0
DEFAULT_MAX_CONNECTIONS = 1000

#: subcommand -> client method: named like the methods, with dashes
ENDPOINT_COMMANDS = {method.replace("_", "-"): method for method in BY_METHOD}
#: the endpoints that take ``--mode photo|scan`` (WeChat's legacy ``type``)
MODE_COMMANDS = {"idcard", "bankcard", "vehicle-license"}
DEFAULT_CONCURRENCY = 16

ENVIRONMENT = """\
environment:
  WXOCR_APPID, WXOCR_SECRET  the app's credentials (or WXOCR_TOKEN: an access_token)
  WXOCR_BASE_URL             another server: the emulator, a proxy (default WeChat's)
  WXOCR_REDIS_URL            share the token and the daily quota through Redis
  WXOCR_PROGRESS_INTERVAL    seconds between batch progress lines off a terminal (5)
"""

SERVE_ENVIRONMENT = """\
environment:
  WXOCR_TOKEN                the access_token every OCR call must carry
  WXOCR_APPID, WXOCR_SECRET  the one pair the token endpoints issue tokens to
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="WeChat OCR (cv/ocr/*) from the command line.",
        epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"wxocr_async {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--naming", choices=("snake", "camel"), default="snake", help="field names (snake)"
    )
    common.add_argument("--timeout", type=float, default=30.0, help="seconds per attempt (30)")
    common.add_argument(
        "--shrink",
        action="store_true",
        help="re-encode images of 2 MB or more to fit (needs the [images] extra)",
    )
    common.add_argument("--store", metavar="URL", help="redis://... (default $WXOCR_REDIS_URL)")

    for command, method in ENDPOINT_COMMANDS.items():
        p = sub.add_parser(
            command,
            parents=[common],
            help=f"recognise one image ({BY_METHOD[method].path})",
            epilog=ENVIRONMENT,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("source", metavar="PATH|URL", help="an image file or an http(s) URL")
        if command in MODE_COMMANDS:
            p.add_argument("--mode", choices=("photo", "scan"), help="WeChat's legacy type=")

    endpoints = ", ".join([*ENDPOINT_COMMANDS, *(m for m in BY_METHOD if "_" in m)])
    b = sub.add_parser(
        "batch",
        parents=[common],
        help="recognise many images into a JSONL file",
        description="Recognise every input with one endpoint, one JSON line per input.",
        epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    b.add_argument("endpoint", metavar="ENDPOINT", help=f"one of: {endpoints}")
    b.add_argument(
        "source",
        metavar="DIR|GLOB|MANIFEST",
        help="a directory, a glob pattern, or a text file of paths/URLs one a line",
    )
    b.add_argument("--out", required=True, help="the JSONL results file (appended)")
    b.add_argument(
        "--concurrency",
        type=_positive_int,
        default=DEFAULT_CONCURRENCY,
        help=f"calls in flight at most ({DEFAULT_CONCURRENCY})",
    )
    b.add_argument(
        "--resume", action="store_true", help="skip inputs already ok in --out; retry the rest"
    )
    b.add_argument("--daily-quota", type=_positive_int, help="calls a day at most (shared)")
    b.add_argument("--shard", metavar="K/N", help="only shard K (1..N) of N of the inputs")
    b.add_argument("--mode", choices=("photo", "scan"), help="WeChat's legacy type=")

    e = sub.add_parser("emulator", help="run the WeChat emulator")
    e.add_argument("--host", default="127.0.0.1")
    e.add_argument("--port", type=int, default=8099, help="0: any free port (8099)")
    e.add_argument("--latency", type=float, default=0.0, help="seconds per OCR reply")

    s = sub.add_parser(
        "serve",
        help="serve WeChat's OCR API over HTTP, recognising locally (needs [serve])",
        description=(
            "WeChat's OCR API (cv/ocr/*, cgi-bin/token, cgi-bin/stable_token) answered by\n"
            "the local engine, with /healthz and /metrics. With WXOCR_TOKEN set, calls must\n"
            "carry that token; with WXOCR_APPID and WXOCR_SECRET set, the token endpoints\n"
            "issue tokens to that pair alone. With neither, the server is open and listens\n"
            "on loopback only, unless --no-auth."
        ),
        epilog=SERVE_ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("--engine", choices=("local",), default="local", help="local (the default)")
    s.add_argument("--host", default="127.0.0.1", help="the address to listen on (127.0.0.1)")
    s.add_argument("--port", type=int, default=8080, help="0: any free port (8080)")
    s.add_argument(
        "--workers", type=_positive_int, help="recognition processes (default: one per core)"
    )
    s.add_argument(
        "--request-timeout",
        type=_positive_float,
        default=DEFAULT_REQUEST_TIMEOUT,
        metavar="SECONDS",
        help="close a connection that has not delivered a whole request in this time "
        f"({DEFAULT_REQUEST_TIMEOUT:g})",
    )
    s.add_argument(
        "--max-connections",
        type=_positive_int,
        default=DEFAULT_MAX_CONNECTIONS,
        metavar="N",
        help=f"connections open at once; more are closed at once ({DEFAULT_MAX_CONNECTIONS})",
    )
    s.add_argument(
        "--no-auth",
        action="store_true",
        help="serve without authentication beyond loopback (no WXOCR_TOKEN/APPID/SECRET)",
    )
    s.add_argument(
        "--allow-private-urls",
        action="store_true",
        help="let img_url reach loopback and private addresses (refused by default)",
    )

    d = sub.add_parser("demo", help="recognise the shipped sample images via the emulator")
    d.add_argument(
        "samples",
        nargs="*",
        metavar="SAMPLE",
        help=f"sample image names (default: all): {', '.join(SAMPLE_REPLIES)}",
    )
    return parser


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return asyncio.run(_dispatch(parser, args))
    except KeyboardInterrupt:
        return 130
    except CommandError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # stdout closed early (| head): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


async def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from . import commands

    if args.command == "emulator":
        await commands.serve_emulator(args.host, args.port, args.latency)
        return 0
    if args.command == "serve":
        from .serve import serve

        await serve(args)
        return 0
    if args.command == "demo":
        unknown = [s for s in args.samples if s not in SAMPLE_REPLIES]
        if unknown:
            parser.error(f"unknown sample {unknown[0]!r}; choose from {', '.join(SAMPLE_REPLIES)}")
        await commands.demo(args.samples or list(SAMPLE_REPLIES))
        return 0
    if args.command == "batch":
        return await _batch(args)
    return await _single(args)


def _client_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.timeout is not None and not args.timeout > 0:
        raise CommandError(f"--timeout must be a positive number of seconds, not {args.timeout}")
    return {"timeout": args.timeout, "shrink_images": args.shrink}


async def _single(args: argparse.Namespace) -> int:
    from ..endpoints import BY_METHOD
    from .config import client_from_env
    from .single import recognise_one

    endpoint = BY_METHOD[ENDPOINT_COMMANDS[args.command]]
    async with client_from_env(store_url=args.store, **_client_options(args)) as ocr:
        return await recognise_one(
            ocr, endpoint, args.source, naming=args.naming, mode=getattr(args, "mode", None)
        )


async def _batch(args: argparse.Namespace) -> int:
    from ..batch import resolve_endpoint
    from ..errors import WxOcrError
    from ..local.engine import default_workers
    from .batch import BatchJob, run
    from .config import client_from_env
    from .inputs import Shard, input_lister
    from .progress import make_progress

    try:
        endpoint = resolve_endpoint(args.endpoint.replace("-", "_"))
    except WxOcrError:
        raise CommandError(
            f"unknown endpoint {args.endpoint!r}; one of: {', '.join(ENDPOINT_COMMANDS)}"
        ) from None
    job = BatchJob(
        endpoint=endpoint.name,
        list_inputs=input_lister(args.source),
        out=args.out,
        concurrency=args.concurrency,
        resume=args.resume,
        shard=Shard.parse(args.shard) if args.shard else None,
        naming=args.naming,
        mode=args.mode,
    )
    options = _client_options(args)
    # the batch's own bound is the one that matters; the client's must not be lower
    options["concurrency"] = max(args.concurrency, 1)
    options["daily_quota"] = args.daily_quota
    # offline, every core recognises: one worker process per core
    options["local_workers"] = default_workers()
    async with client_from_env(store_url=args.store, **options) as ocr:
        if ocr.engine == "local":  # before the bar: the notice, then the models' loading
            print(
                f"wxocr: loading the models in {options['local_workers']} worker processes...",
                file=sys.stderr,
                flush=True,
            )
            try:
                await ocr.warm_up()
            except WxOcrError as exc:
                raise CommandError(exc.errmsg) from None
        progress = make_progress(interval=_progress_interval())
        return await run(job, ocr, progress)


def _progress_interval() -> float:
    from .progress import PLAIN_INTERVAL

    text = os.environ.get("WXOCR_PROGRESS_INTERVAL")
    try:
        value = float(text) if text else PLAIN_INTERVAL
    except ValueError:
        value = PLAIN_INTERVAL
    return value if 0 < value < float("inf") else PLAIN_INTERVAL
