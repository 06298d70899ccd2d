"""SIGINT and SIGTERM handled on the event loop, for as long as a command wants them."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator

TERMINATING = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def on_termination(handler: Callable[[int], None]) -> Iterator[None]:
    """Call ``handler(signum)`` on SIGINT or SIGTERM inside the block (the defaults back
    after it)."""
    loop = asyncio.get_running_loop()
    for signum in TERMINATING:
        loop.add_signal_handler(signum, handler, signum)
    try:
        yield
    finally:
        for signum in TERMINATING:
            loop.remove_signal_handler(signum)
