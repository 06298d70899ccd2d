"""Recognition in one worker: RapidOCR (:mod:`.model`), then field extraction.

Runs in a worker process (or thread); everything here is blocking. The result is
WeChat's whole reply, ``errcode`` and ``errmsg`` included; :func:`run` adds the time it
took and the traceback of anything unexpected, for the parent to report.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import traceback
from typing import Any

import attrs

from ..image_header import MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, pixel_problem
from ..images import sniff_image_type
from ..inspection import FieldSource, SeenLine
from . import model
from .extract import extract
from .lines import Line, NothingFound
from .orientation import back, upright_reading
from .provenance import trace_fields
from .reread import Look
from .text import MAINLAND_DOCUMENTS, fold_forms

#: errcode / errmsg WeChat gives when nothing of the kind is in the image, or the data
#: is not an image it can decode
NOT_FOUND = {"errcode": 101001, "errmsg": "certificate not found"}
NOT_AN_IMAGE = {"errcode": 101002, "errmsg": "decode image failed"}
# read before OpenCV is imported: an undecodable image is our 101002, not a log line; and
# OpenCV's own decoding bounds, behind ours (pixel_problem reads the header first)
os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_IMAGE_PIXELS))
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_WIDTH", str(MAX_IMAGE_SIDE))
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_HEIGHT", str(MAX_IMAGE_SIDE))


def load_model(threads: int = 1) -> None:
    """Load RapidOCR's models into this worker (once); ``threads`` for ONNX Runtime."""
    model.load(threads)


def model_available() -> bool:
    """Whether the ``[local]`` extra (rapidocr and onnxruntime) is installed."""
    return model.available()


def decode(data: bytes) -> Any:
    """The image as an OpenCV array, or None if it cannot be decoded."""
    import cv2
    import numpy as np

    if sniff_image_type(data) is None:
        return None
    return cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)


def _lines(image: Any) -> tuple[list[Line], tuple[int, int]]:
    height, width = image.shape[:2]
    return model.read_page(image), (width, height)


@attrs.frozen
class Outcome:
    """What one recognition in a worker gave: the reply, the seconds the worker spent on
    it, the traceback of an unexpected exception (for the parent to log: a worker process
    has no logging of the user's), and, when asked for, what it saw."""

    reply: dict[str, Any]
    seconds: float
    failure: str | None = None
    seen: Seen | None = None


@attrs.frozen
class Seen:
    """The lines a recognition read, in the pixels of the image as sent (a page found
    turned is turned back), lines read again last; the image's (width, height); and
    each reply field's sources (:mod:`.provenance`)."""

    lines: tuple[SeenLine, ...]
    size: tuple[int, int]
    fields: tuple[FieldSource, ...] = ()


def recognise(endpoint: str, data: bytes) -> dict[str, Any]:
    """WeChat's reply for ``data`` sent to ``endpoint`` (e.g. ``"idcard"``)."""
    return run(endpoint, data).reply


def run(endpoint: str, data: bytes, inspect: bool = False) -> Outcome:
    """:func:`recognise`, timed, with any unexpected exception's traceback, and with
    ``inspect`` what it saw. An image the model or OpenCV cannot process is 101002 (the
    same image fails the same way again: not -1, which asks for a retry); a bug in an
    extractor is -1, WeChat's system error."""
    started = time.perf_counter()
    failure = None
    seen = None
    try:
        reply, seen = _recognise(endpoint, data)
        if inspect and seen is not None and reply["errcode"] == 0:
            fold = fold_forms if endpoint in MAINLAND_DOCUMENTS else None
            seen = attrs.evolve(seen, fields=trace_fields(reply, seen.lines, fold))
    except _Unprocessable as exc:
        failure = exc.trace
        reply = {**NOT_AN_IMAGE, "errmsg": f"decode image failed ({exc})"}
    except Exception as exc:
        failure = traceback.format_exc()
        reply = {"errcode": -1, "errmsg": f"system error ({type(exc).__name__})"}
    return Outcome(reply, time.perf_counter() - started, failure, seen if inspect else None)


class _Unprocessable(Exception):
    """The image decoded but the model or OpenCV failed on it."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"the local engine could not process it: {type(cause).__name__}")
        self.trace = traceback.format_exc()


def _recognise(endpoint: str, data: bytes) -> tuple[dict[str, Any], Seen | None]:
    problem = pixel_problem(data)  # the engine checked already; a worker never trusts it
    if problem is not None:
        return {**NOT_AN_IMAGE, "errmsg": f"decode image failed: {problem}"}, None
    try:
        image = decode(data)
        if image is None:
            return dict(NOT_AN_IMAGE), None
        lines, size = _lines(image)
        if endpoint in TURNED_PAGES:  # placed in the image as sent, whatever the turn
            lines = upright_reading(image, lines, _read_turned)
    except Exception as exc:  # OpenCV's own bounds; a 5 x 15000 strip; odd channels
        raise _Unprocessable(exc) from exc
    look = Look(image)
    try:
        fields = extract(endpoint, lines, size, look)
        return {"errcode": 0, "errmsg": "ok", **fields}, _seen(lines, look.seen, 0, size)
    except NothingFound:
        first = _seen(lines, look.seen, 0, size)
    for turn in _turns(endpoint, size):
        turned = _turned(image, turn)
        try:
            turned_lines, turned_size = _lines(turned)
        except Exception as exc:
            raise _Unprocessable(exc) from exc
        look = Look(turned)
        try:
            fields = extract(endpoint, turned_lines, turned_size, look)
        except NothingFound:
            continue
        seen = _seen(turned_lines, look.seen, turn, size)
        return {"errcode": 0, "errmsg": "ok", **fields}, seen
    return dict(NOT_FOUND), first


def _seen(lines: list[Line], looked: list[Line], turn: int, size: tuple[int, int]) -> Seen:
    """What a reading of the image turned ``turn`` quarters clockwise saw, in the pixels
    of the image as sent (``size``: its width and height)."""

    def seen_line(line: Line, reread: bool) -> SeenLine:
        lt, rt, rb, lb = (back(p, turn, size) for p in line.box)
        return SeenLine(line.text, (lt, rt, rb, lb), line.score, reread)

    return Seen(
        tuple(seen_line(line, False) for line in lines)
        + tuple(seen_line(line, True) for line in looked),
        size,
    )


#: endpoints whose document, photographed upside down or sideways, is looked for again
#: in the image turned (the angle classifier is off: it turns single lines, not pages)
TURNED_DOCUMENTS = frozenset({"idcard", "bankcard", "driving", "drivinglicense", "bizlicense"})


#: endpoints that answer with any text at all, never "not found": a page that reads as
#: turned is read again turned (:mod:`.orientation`), and the best reading kept
TURNED_PAGES = frozenset({"comm"})


def _read_turned(image: Any, quarters: int) -> list[Line]:
    return model.read_page(_turned(image, quarters))


def _turns(endpoint: str, size: tuple[int, int]) -> tuple[int, ...]:
    """The quarter turns (clockwise) to try when nothing was found: upside down, and for
    a portrait image (a card or licence is landscape) the two sideways ones first."""
    if endpoint not in TURNED_DOCUMENTS:
        return ()
    width, height = size
    return (1, 3, 2) if height > 1.2 * width else (2,)


def _turned(image: Any, quarters: int) -> Any:
    import cv2

    codes = {1: cv2.ROTATE_90_CLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return cv2.rotate(image, codes[quarters])


def worker_init(threads: int) -> None:
    """A worker process's start: the model loaded before the first image arrives, and a
    watch on the parent, so that the worker ends with it however it ended (SIGKILL
    included: a pool left running under PID 1 holds the parent's pipes and memory)."""
    # a terminal's Ctrl-C reaches the whole process group: the parent decides what stops
    # (it finishes or cancels the images in flight, then ends the pool), not each worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    parent = os.getppid()
    threading.Thread(target=_end_with_parent, args=(parent,), daemon=True).start()
    load_model(threads)


#: seconds between looks at whether the worker's parent is still alive
PARENT_CHECK_INTERVAL = 1.0


def _end_with_parent(parent: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_INTERVAL)
        if os.getppid() != parent:  # reparented: the parent is gone
            os._exit(1)
