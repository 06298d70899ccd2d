"""Counting a job's outcomes."""

from __future__ import annotations

import json
import time

import attrs


@attrs.define
class Tally:
    """A job's outcomes so far, of ``total`` inputs (when known)."""

    total: int
    ok: int = 0
    error: int = 0
    not_attempted: int = 0
    started: float = attrs.field(factory=time.monotonic)

    @property
    def done(self) -> int:
        return self.ok + self.error + self.not_attempted

    def count(self, status: str) -> None:
        if status == "ok":
            self.ok += 1
        elif status == "error":
            self.error += 1
        else:
            self.not_attempted += 1

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def rate(self) -> float:
        elapsed = self.elapsed()
        return self.done / elapsed if elapsed > 0 else 0.0


def line_status(line: bytes | str) -> str:
    """The ``status`` of a result line (``ok``, ``error``, ``not_attempted``)."""
    record = json.loads(line)
    status = record.get("status") if isinstance(record, dict) else None
    if status not in ("ok", "error", "not_attempted"):
        raise ValueError(f"not a result line: {str(line)[:80]!r}")
    return str(status)
