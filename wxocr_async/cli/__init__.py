"""The ``wxocr`` command (also ``python -m wxocr_async``).

``wxocr idcard PATH|URL`` (one subcommand per endpoint), ``wxocr batch``, ``wxocr
emulator``, ``wxocr serve``, ``wxocr demo``. The parser is in :mod:`.parser`, each
command's body beside its worker (:mod:`.single`, :mod:`.batch`, :mod:`.commands`,
:mod:`.serve`); credentials come from the environment (:mod:`.config`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence

from ..errors import WxOcrError
from .errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, CommandError, say
from .parser import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_REQUEST_TIMEOUT,
    DEMO_SAMPLES,
    PROG,
    build_parser,
)


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
        unknown = [s for s in args.samples if s not in DEMO_SAMPLES]
        if unknown:
            parser.error(f"unknown sample {unknown[0]!r}; choose from {', '.join(DEMO_SAMPLES)}")
        await commands.demo(args.samples or list(DEMO_SAMPLES))
        return 0
    if args.command == "batch":
        from .batch import batch_command

        return await batch_command(args)
    from .single import single_command

    return await single_command(args)


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


__all__ = ["DEFAULT_MAX_CONNECTIONS", "DEFAULT_REQUEST_TIMEOUT", "PROG", "build_parser", "main"]
