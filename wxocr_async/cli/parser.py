"""The ``wxocr`` command line: its parser, names, help texts and exit statuses (loading
neither the emulator, nor ``aiohttp.web``, nor the engine)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

from .. import __version__
from ..endpoints import BY_METHOD, names_text

N = TypeVar("N", int, float)

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
#: the shipped sample images ``wxocr demo`` sends, and the client method that reads each
#: (the names only: ``--help`` does not load the emulator; tests check they agree)
DEMO_SAMPLES = {
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
        p.add_argument(
            "--annotate",
            metavar="OUT.png",
            help="also write the image with the boxes of the lines read and of each field "
            "(needs the [images] extra)",
        )
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
        help=f"sample image names (default: all): {', '.join(DEMO_SAMPLES)}",
    )
    return parser


def _positive_float(text: str) -> float:
    return _positive(float, "number", text)


def _positive_int(text: str) -> int:
    return _positive(int, "integer", text)


def _positive(kind: Callable[[str], N], name: str, text: str) -> N:
    """``text`` as a positive finite ``kind``, else argparse's usage error."""
    try:
        value = kind(text)
    except ValueError:
        value = kind("0")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive {name}, not {text!r}")
    return value
