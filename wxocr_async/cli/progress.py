"""Progress of ``wxocr batch`` on stderr: a live bar on a terminal (with ``rich``, the
``[cli]`` extra), else a plain line every few seconds."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Any, Protocol, TextIO

from ..jobs import Tally

#: seconds between plain progress lines
PLAIN_INTERVAL = 5.0


class Progress(Protocol):
    #: seconds between updates worth making
    interval: float

    def update(self, tally: Tally) -> None: ...

    def close(self, tally: Tally) -> None: ...


def make_progress(stream: TextIO | None = None, *, interval: float = PLAIN_INTERVAL) -> Progress:
    """A live bar when ``stream`` is a terminal and rich is installed, else plain lines."""
    stream = sys.stderr if stream is None else stream
    if stream is None:  # stderr closed (2>&-): progress goes nowhere
        return PlainProgress(open(os.devnull, "w"), interval)
    if stream.isatty():
        try:
            return RichProgress(stream)
        except ImportError:
            pass
    return PlainProgress(stream, interval)


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def describe_tally(tally: Tally) -> str:
    rate = tally.rate()
    left = tally.total - tally.done
    eta = _clock(left / rate) if rate > 0 else "?"
    percent = 100 * tally.done // tally.total if tally.total else 100
    return (
        f"{tally.done}/{tally.total} ({percent}%): {tally.ok} ok, {tally.error} error, "
        f"{tally.not_attempted} not attempted; {rate:.1f}/s, ETA {eta}"
    )


class PlainProgress:
    """A line every ``interval`` seconds (and none for a run shorter than that)."""

    def __init__(self, stream: TextIO, interval: float) -> None:
        self._stream = stream
        self.interval = interval
        self._next = time.monotonic() + interval

    def update(self, tally: Tally) -> None:
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self.interval
            with contextlib.suppress(OSError, ValueError):  # a full stderr stops no batch
                print(f"wxocr: {describe_tally(tally)}", file=self._stream, flush=True)

    def close(self, tally: Tally) -> None:
        pass


class RichProgress:
    """rich's live bar: done/total, rate, ETA, errors so far."""

    interval = 0.5

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self._bar: Any = Progress(
            TextColumn("[bold]wxocr"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]:.1f}/s"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[errors]} errors"),
            console=Console(file=stream),
            transient=False,
        )
        self._task = self._bar.add_task("batch", total=None, rate=0.0, errors=0)
        self._bar.start()

    def update(self, tally: Tally) -> None:
        self._bar.update(
            self._task,
            total=tally.total,
            completed=tally.done,
            rate=tally.rate(),
            errors=tally.error + tally.not_attempted,
        )

    def close(self, tally: Tally) -> None:
        self.update(tally)
        self._bar.stop()
