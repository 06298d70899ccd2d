"""Many images through one endpoint: ``OcrClient.batch``.

Items are read lazily (at most ``concurrency`` calls, hence images, at once), every item
yields exactly one :class:`Outcome`, and once the daily quota is spent (ours or WeChat's)
the items left come out ``not_attempted`` without touching the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
)
from typing import Any, Generic, Literal, TypeAlias, TypeVar

import attrs

from .endpoints import Endpoint, lookup, names_text
from .errors import ERRCODE_LOCAL_QUOTA, InvalidInput, QuotaExceeded, WxOcrError
from .models import WireModel

R = TypeVar("R", bound=WireModel)

Status: TypeAlias = Literal["ok", "error", "not_attempted"]

#: seconds an abandoned batch waits for its cancelled calls to wind down
CANCEL_TIMEOUT = 5.0


@attrs.frozen
class Outcome(Generic[R]):
    """What became of one batch item."""

    #: the input as given (a path, bytes, a file object, an ``img_url`` string, ...)
    item: object = attrs.field(repr=lambda v: _short(v))
    status: Status
    #: the typed result when ``status == "ok"``, else None
    result: R | None = None
    #: the error when ``status`` is ``"error"`` or ``"not_attempted"``, else None
    error: WxOcrError | None = None
    #: the item's position in ``items``, counting from 0
    index: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def resolve_endpoint(endpoint: str | Endpoint[Any]) -> Endpoint[Any]:
    """An endpoint by wire name (``"driving"``) or method name with ``_`` or ``-``
    (``"vehicle_license"``, ``"vehicle-license"``)."""
    if isinstance(endpoint, Endpoint):
        return endpoint
    found = lookup(endpoint)
    if found is None:
        raise InvalidInput(f"unknown endpoint {endpoint!r}; one of: {names_text()}")
    return found


def is_image_url(item: object) -> bool:
    """A string item naming an image by URL (sent as ``img_url``), not a local path."""
    return isinstance(item, str) and item.startswith(("http://", "https://"))


def image_or_url(item: object) -> tuple[object | None, str | None]:
    """``(image, img_url)`` for one item: a ``http(s)://`` string is a URL, else an image."""
    if isinstance(item, str) and is_image_url(item):
        return None, item
    return item, None


def never_sent(error: WxOcrError) -> bool:
    """A refusal made here, before anything went out: the item was not attempted."""
    return isinstance(error, QuotaExceeded) and error.errcode == ERRCODE_LOCAL_QUOTA


Call: TypeAlias = Callable[[object], Awaitable[R]]


async def run_batch(
    call: Call[R],
    source: AsyncIterator[object],
    *,
    concurrency: int,
    ordered: bool,
) -> AsyncGenerator[Outcome[R], None]:
    """Run ``call`` on every item, yielding one :class:`Outcome` per item.

    At most ``concurrency`` calls run at once and no item is taken from ``items`` before a
    call can start on it. With ``ordered``, outcomes come in input order and a slow item
    holds back at most ``2 * concurrency`` results. Leaving the iteration early (break,
    cancellation, an error in ``items``) cancels the calls in flight.
    """
    window = 2 * concurrency if ordered else concurrency
    running: dict[asyncio.Task[Outcome[R]], int] = {}
    finished: dict[int, Outcome[R]] = {}  # ordered: done, waiting for earlier items
    next_index = 0  # the next item to take from ``items``
    next_out = 0  # ordered: the next index to yield
    spent: QuotaExceeded | None = None
    exhausted = False
    try:
        while True:
            # start calls while there is room: in flight, and (ordered) in the window
            while not exhausted and len(running) < concurrency and next_index - next_out < window:
                try:
                    item = await anext(source)
                except StopAsyncIteration:
                    exhausted = True
                    break
                index, next_index = next_index, next_index + 1
                if spent is not None:
                    outcome: Outcome[R] = Outcome(item, "not_attempted", error=spent, index=index)
                    if ordered:
                        finished[index] = outcome
                    else:
                        yield outcome
                        next_out += 1
                    continue
                task = asyncio.ensure_future(_attempt(call, item, index))
                running[task] = index
            if ordered:
                while next_out in finished:
                    yield finished.pop(next_out)
                    next_out += 1
            if not running:
                if exhausted and not finished:
                    return
                continue
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in sorted(done, key=running.__getitem__):
                del running[task]
                outcome = task.result()
                if isinstance(outcome.error, QuotaExceeded) and spent is None:
                    spent = _local_refusal(outcome.error)
                if ordered:
                    finished[outcome.index] = outcome
                else:
                    yield outcome
                    next_out += 1
    finally:
        await _cancel(running)  # the caller's ``items`` is left as it is, not closed


async def _attempt(call: Call[R], item: object, index: int) -> Outcome[R]:
    try:
        result = await call(item)
    except WxOcrError as exc:
        status: Status = "not_attempted" if never_sent(exc) else "error"
        return Outcome(item, status, error=exc, index=index)
    return Outcome(item, "ok", result=result, index=index)


def _local_refusal(error: QuotaExceeded) -> QuotaExceeded:
    """The error the items after a spent quota carry: refused here, never sent."""
    if error.errcode == ERRCODE_LOCAL_QUOTA:
        return error
    return QuotaExceeded(
        ERRCODE_LOCAL_QUOTA,
        f"not sent: the daily quota is spent (errcode {error.errcode}: {error.errmsg})",
        endpoint=error.endpoint,
    )


async def _cancel(running: dict[asyncio.Task[Any], int]) -> None:
    """Cancel the calls in flight and wait (bounded) for them to give their slots back."""
    if not running:
        return
    for task in running:
        task.cancel()
    # shielded: a second cancellation of the consumer must not orphan the wind-down
    waiting = asyncio.ensure_future(asyncio.wait(running, timeout=CANCEL_TIMEOUT))
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.shield(waiting)
    for task in running:  # retrieve every exception: none is logged as never retrieved
        if task.done() and not task.cancelled():
            task.exception()


class _SyncSource:
    """A plain iterable seen as an async iterator (``next()`` runs on the loop: items are
    expected to be cheap to produce, such as paths)."""

    def __init__(self, items: Iterable[object]) -> None:
        self._it = iter(items)

    def __aiter__(self) -> _SyncSource:
        return self

    async def __anext__(self) -> object:
        try:
            return next(self._it)
        except StopIteration:
            raise StopAsyncIteration from None


def as_source(items: Iterable[object] | AsyncIterable[object]) -> AsyncIterator[object]:
    """``items`` as an async iterator; a single image passed by mistake is refused."""
    if isinstance(items, AsyncIterable):
        return aiter(items)
    if isinstance(items, (str, bytes, bytearray, memoryview, os.PathLike)):
        raise InvalidInput(
            "items must be an iterable of images (paths, bytes, file objects, URLs), "
            f"not one {type(items).__name__}: wrap a single image in a list"
        )
    if not isinstance(items, Iterable):
        raise InvalidInput(f"items must be an iterable or async iterable, not {items!r}")
    return _SyncSource(items)


def _short(value: object) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."
