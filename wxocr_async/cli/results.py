"""The results file of ``wxocr batch``: one JSON line per input, appended as it finishes.

Each line goes out in one ``write`` on a file opened for appending, so an interrupted run
(Ctrl-C, SIGTERM, a crash) leaves whole lines; a torn last line (a full disk, a power cut)
is cut off before the next run appends.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

from ..batch import Outcome
from ..naming import Naming
from .errors import CommandError

#: longest results line read back by ``--resume``; a longer one is ignored
MAX_RESULT_LINE = 8 * 1024 * 1024


def outcome_line(key: str, outcome: Outcome[Any], naming: Naming) -> bytes:
    """``{"path": ..., "status": ..., "result": {...}}`` or ``..., "error": {...}}``."""
    record: dict[str, Any] = {"path": key, "status": outcome.status}
    if outcome.result is not None:
        record["result"] = outcome.result.to_dict(naming)
    elif outcome.error is not None:
        record["error"] = {"errcode": outcome.error.errcode, "errmsg": outcome.error.errmsg}
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


class ResultsFile:
    """An open results file, appended to line by line."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise CommandError(f"{path}: cannot write it: {exc.strerror or exc}") from None

    def append(self, line: bytes) -> None:
        view = memoryview(line)
        while view:
            view = view[os.write(self._fd, view) :]

    def close(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1


def finished_inputs(path: str) -> set[str]:
    """The inputs a results file records as ``ok`` (cutting off a torn last line)."""
    done: set[str] = set()
    try:
        f = open(path, "r+b")  # noqa: SIM115  (closed below; truncated in place)
    except FileNotFoundError:
        return done
    except OSError as exc:
        raise CommandError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    with f:
        whole = 0  # the end of the last whole line
        while line := f.readline(MAX_RESULT_LINE + 1):
            if not line.endswith(b"\n"):
                if len(line) <= MAX_RESULT_LINE:  # torn: the file ends mid-line
                    break
                while (rest := f.readline(MAX_RESULT_LINE)) and not rest.endswith(b"\n"):
                    pass  # a line too long to be ours: skipped
                whole = f.tell()
                continue
            whole = f.tell()
            key = _ok_key(line)
            if key is not None:
                done.add(key)
        if whole < f.seek(0, os.SEEK_END):
            f.truncate(whole)
    return done


def _ok_key(line: bytes) -> str | None:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if isinstance(record, dict) and record.get("status") == "ok":
        key = record.get("path")
        return key if isinstance(key, str) else None
    return None
