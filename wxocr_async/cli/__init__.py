"""The ``wxocr`` command (also ``python -m wxocr_async``).

``wxocr idcard PATH|URL`` (one subcommand per endpoint), ``wxocr batch``, ``wxocr
emulator``, ``wxocr demo``. Credentials come from the environment: see
:mod:`wxocr_async.cli.config`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..emulator import SAMPLE_REPLIES
from ..endpoints import BY_METHOD, names_text
from ..errors import WxOcrError
from .errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, CommandError, say, shown_name

if TYPE_CHECKING:
    from .batch import BatchJob

PROG = "wxocr"
#: seconds a client has to deliver a whole request to ``wxocr serve``, and its connections
#: open at once (the server's own constants, repeated: ``--help`` loads neither aiohttp.web
#: nor the engine; tests/test_serve.py checks that they agree)
DEFAULT_REQUEST_TIMEOUT = 30.0
DEFAULT_MAX_CONNECTIONS = 1000

#: subcommand -> client method: named like the methods, with dashes; each also answers to
#: the wire name and the method name with ``_`` (aliases: help lists each endpoint once)
ENDPOINT_COMMANDS = {method.replace("_", "-"): method for method in BY_METHOD}
COMMAND_ALIASES = {
    command: sorted({BY_METHOD[method].name, method} - {command})
    for command, method in ENDPOINT_COMMANDS.items()
}
#: every name an endpoint command answers to -> its client method
COMMAND_METHODS = {
    name: method
    for command, method in ENDPOINT_COMMANDS.items()
    for name in (command, *COMMAND_ALIASES[command])
}
#: the endpoints that take ``--mode photo|scan`` (WeChat's legacy ``type``)
MODE_COMMANDS = {command for command, m in ENDPOINT_COMMANDS.items() if BY_METHOD[m].takes_mode}
DEFAULT_CONCURRENCY = 16

EXIT_STATUSES = """\
exit status: 0 all ok; 1 some inputs failed, or an error stopped the command; 2 a usage
error; 75 the daily quota ran out with inputs left (--resume after it resets); 130
interrupted
"""

ENVIRONMENT = """\
environment:
  WXOCR_APPID, WXOCR_SECRET  the app's credentials (or WXOCR_TOKEN: an access_token)
  WXOCR_BASE_URL             another server: the emulator, a proxy (default WeChat's)
  WXOCR_REDIS_URL            share the token and the daily quota through Redis
  WXOCR_PROGRESS_INTERVAL    seconds between batch progress lines off a terminal (5)
  JOB_COMPLETION_INDEX       the pod's index in a Kubernetes Indexed Job (batch --shards)
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
        epilog=ENVIRONMENT + "\n" + EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"wxocr_async {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--naming", choices=("snake", "camel"), default="snake", help="field names (snake)"
    )
    common.add_argument(
        "--timeout", type=_positive_float, default=30.0, help="seconds per attempt (30)"
    )
    common.add_argument(
        "--shrink",
        action="store_true",
        help="re-encode images of 2 MB or more to fit (needs the [images] extra)",
    )
    common.add_argument("--store", metavar="URL", help="redis://... (default $WXOCR_REDIS_URL)")

    for command, method in ENDPOINT_COMMANDS.items():
        p = sub.add_parser(
            command,
            aliases=COMMAND_ALIASES[command],
            parents=[common],
            help=f"recognise one image ({BY_METHOD[method].path})",
            epilog=ENVIRONMENT,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("source", metavar="PATH|URL", help="an image file or an http(s) URL")
        if command in MODE_COMMANDS:
            p.add_argument("--mode", choices=("photo", "scan"), help="WeChat's legacy type=")

    b = sub.add_parser(
        "batch",
        parents=[common],
        help="recognise many images into a JSONL file",
        description="Recognise every input with one endpoint, one JSON line per input.",
        epilog=ENVIRONMENT + "\n" + EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    b.add_argument(
        "endpoint",
        metavar="ENDPOINT",
        help=f"one of: {names_text()}; a method name with _ also does",
    )
    b.add_argument(
        "source",
        metavar="DIR|GLOB|MANIFEST",
        help="a directory, a glob pattern, or a text file of paths/URLs one a line",
    )
    b.add_argument(
        "--out",
        required=True,
        help="the JSONL results file (appended; {shard} in it becomes the shard's K)",
    )
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
    shards = b.add_mutually_exclusive_group()
    shards.add_argument("--shard", metavar="K/N", help="only shard K (1..N) of N of the inputs")
    shards.add_argument(
        "--shards",
        metavar="N",
        type=_positive_int,
        help="only this pod's shard of N: K is $JOB_COMPLETION_INDEX + 1 (a Kubernetes "
        "Indexed Job)",
    )
    b.add_argument(
        "--mode",
        choices=("photo", "scan"),
        help=f"WeChat's legacy type= ({', '.join(sorted(MODE_COMMANDS))} only)",
    )

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


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


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
    if args.command is None:  # a usage error, with the help that shows the usage
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.command not in ("serve", "emulator"):  # they end on SIGTERM by themselves
        # SIGTERM ends a command as Ctrl-C does (130, the calls in flight wound down),
        # also before a batch's own handling starts (loading models, checking Redis)
        signal.signal(signal.SIGTERM, _interrupted)
    try:
        return asyncio.run(_dispatch(parser, args))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except CommandError as exc:
        say(f"{PROG}: error: {exc}")
        return exc.exit_status
    except WxOcrError as exc:  # a job's inputs or files (the client's errors are told
        say(f"{PROG}: error: {exc.errmsg}")  # where they happen)
        return EXIT_FAILED
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

    endpoint = BY_METHOD[COMMAND_METHODS[args.command]]
    async with client_from_env(store_url=args.store, **_client_options(args)) as ocr:
        return await recognise_one(
            ocr, endpoint, args.source, naming=args.naming, mode=getattr(args, "mode", None)
        )


def _batch_job(args: argparse.Namespace) -> BatchJob:
    """The :class:`~wxocr_async.cli.batch.BatchJob` the command line asks for (usage
    errors refused here, before anything is read or sent)."""
    from ..endpoints import lookup
    from ..errors import InvalidInput
    from ..jobs import Shard, input_lister
    from .batch import BatchJob
    from .errors import UsageError

    endpoint = lookup(args.endpoint)
    if endpoint is None:
        raise UsageError(f"unknown endpoint {args.endpoint!r}; one of: {names_text()}")
    if args.mode is not None and not endpoint.takes_mode:
        raise UsageError(
            f"{args.endpoint} takes no --mode (only {', '.join(sorted(MODE_COMMANDS))} do)"
        )
    shard = None
    try:
        if args.shard:
            shard = Shard.parse(args.shard)
        elif args.shards:
            shard = Shard.from_job_index(args.shards, os.environ)
    except InvalidInput as exc:
        raise UsageError(exc.errmsg) from None
    out = args.out
    if os.path.exists(out) and os.path.realpath(out) == os.path.realpath(args.source):
        raise UsageError("--out is the source itself: the results go to a file of their own")
    if "{shard}" in out:
        if shard is None:
            raise UsageError("--out has {shard} but there is no --shard or --shards to fill in")
        out = out.replace("{shard}", str(shard.index))
    return BatchJob(
        endpoint=endpoint.name,
        source=args.source,
        list_inputs=input_lister(args.source),
        out=out,
        concurrency=args.concurrency,
        resume=args.resume,
        shard=shard,
        naming=args.naming,
        mode=args.mode,
    )


async def _batch(args: argparse.Namespace) -> int:
    from ..errors import WxOcrError
    from ..jobs import ResultsFile
    from ..local.engine import default_workers
    from .batch import check_inputs, run
    from .config import check_store, client_from_env, redis_url
    from .progress import make_progress

    job = _batch_job(args)
    await asyncio.to_thread(check_inputs, job)
    options = _client_options(args)
    # the batch's own bound is the one that matters; the client's must not be lower
    options["concurrency"] = max(args.concurrency, 1)
    options["daily_quota"] = args.daily_quota
    # offline, every core recognises: one worker process per core
    options["local_workers"] = default_workers()
    async with client_from_env(store_url=args.store, **options) as ocr:
        await check_store(ocr, redis_url(args.store))  # now, not once per input
        results = await asyncio.to_thread(ResultsFile, job.out)  # locked: one run per file
        if not results.locked:
            say(
                f"wxocr: {shown_name(job.out)}: this filesystem has no locks: make sure no "
                "other run writes the same results file"
            )
        try:
            if ocr.engine == "local":  # before the bar: the notice, then the models' loading
                say(f"wxocr: loading the models in {options['local_workers']} worker processes...")
                try:
                    await ocr.warm_up()
                except WxOcrError as exc:
                    raise CommandError(exc.errmsg) from None
            progress = make_progress(interval=_progress_interval())
            return await run(job, ocr, progress, results)
        finally:
            results.close()


def _progress_interval() -> float:
    from .progress import PLAIN_INTERVAL

    text = os.environ.get("WXOCR_PROGRESS_INTERVAL")
    try:
        value = float(text) if text else PLAIN_INTERVAL
    except ValueError:
        value = PLAIN_INTERVAL
    return value if 0 < value < float("inf") else PLAIN_INTERVAL
