"""A job's results file (``wxocr batch``'s): one JSON line per input, appended as it
finishes.

Each line goes out in one ``write`` on a file opened for appending, so an interrupted run
(Ctrl-C, SIGTERM, a crash) leaves whole lines; a torn last line (a full disk, a power cut)
is cut off before the next run appends. One run writes a file at a time: it holds an
advisory lock (``flock``) on it, which the system lets go of when the run ends, however.
Each line names its endpoint (the wire name) and its input's path exactly: a file name
that is not UTF-8 keeps its bytes as ``\\udcXX`` escapes (``os.fsencode`` gives them back).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
from typing import Any

from ..batch import Outcome
from ..errors import ERRCODE_BAD_RESPONSE, DiskError, InvalidInput, ResultsFileBusy
from ..naming import Naming

#: what flock raises where the filesystem has no locks (the run goes on, warned)
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS}
#: longest results line read back by ``--resume``; a longer one is ignored
MAX_RESULT_LINE = 8 * 1024 * 1024


#: escaped in a results line: a lone surrogate (a byte of a file name that is not UTF-8,
#: ``surrogateescape``), and the line breaks JSON leaves as they are (NEL, U+2028, U+2029)
#: which ``str.splitlines`` would split a line at
_ESCAPED = re.compile("[\ud800-\udfff\x85\u2028\u2029]")


def result_line(key: str, outcome: Outcome[Any], naming: Naming, endpoint: str) -> bytes:
    """``{"path": ..., "endpoint": ..., "status": ..., "result": {...}}`` (or
    ``"error": {...}``) as one UTF-8 line. A result that cannot be written out is recorded
    as an error of its own: one item never ends the batch."""
    record: dict[str, Any] = {"path": key, "endpoint": endpoint, "status": outcome.status}
    try:
        if outcome.result is not None:
            record["result"] = outcome.result.to_dict(naming)
        elif outcome.error is not None:
            record["error"] = {"errcode": outcome.error.errcode, "errmsg": outcome.error.errmsg}
        return _json_line(record)
    except Exception as exc:  # an odd value in a reply: this item's error, not the batch's
        record.pop("result", None)
        record["status"] = "error"
        record["error"] = {
            "errcode": ERRCODE_BAD_RESPONSE,
            "errmsg": f"the result could not be recorded: {type(exc).__name__}: {exc}"[:500],
        }
        return _json_line(record)


def _json_line(record: dict[str, Any]) -> bytes:
    # allow_nan=False: Infinity and NaN are not JSON (a reader in another language fails)
    text = json.dumps(record, ensure_ascii=False, allow_nan=False)
    # a lone surrogate cannot be UTF-8: JSON's \uXXXX escape keeps it, valid and exact
    text = _ESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return (text + "\n").encode("utf-8")


_REGULAR = "results go to a file, appended and read back on resume"


class ResultsFile:
    """An open results file, appended to line by line, locked for this run alone
    (:class:`~wxocr_async.errors.ResultsFileBusy` if another run holds it). ``locked`` is
    False on a filesystem without locks (some network mounts): the caller may warn."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.locked = True
        # non-blocking: a FIFO without a reader fails at once instead of hanging here
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NONBLOCK
        try:
            self._fd = os.open(path, flags, 0o644)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # a FIFO that nobody reads
                raise InvalidInput(f"{path} is not a regular file: {_REGULAR}") from None
            raise DiskError(f"{path}: cannot write it: {exc.strerror or exc}") from None
        if not stat.S_ISREG(os.fstat(self._fd).st_mode):  # a pipe, a device, a terminal
            self.close()
            raise InvalidInput(f"{path} is not a regular file: {_REGULAR}")
        try:  # advisory, on the open file: gone with this process, however it ends
            import fcntl  # POSIX: elsewhere, no lock (``locked`` False)

            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.close()
            raise ResultsFileBusy(
                f"{path} is being written by another run: one run per results file "
                "(wait for it, or choose another file)"
            ) from None
        except ImportError:
            self.locked = False
        except OSError as exc:  # a filesystem without locks (some network mounts)
            if exc.errno not in _NO_LOCKS:
                self.close()
                raise DiskError(f"{path}: cannot lock it: {exc.strerror or exc}") from None
            self.locked = False

    def append(self, line: bytes) -> None:
        """Write ``line`` whole (:class:`~wxocr_async.errors.DiskError` if it cannot be
        written: a full disk)."""
        view = memoryview(line)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            raise DiskError(f"cannot write results to {self.path}: {exc.strerror or exc}") from None

    def __enter__(self) -> ResultsFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Flush to the disk and close (and so unlock); again does nothing."""
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1


def finished_inputs(path: str, endpoint: str | None = None) -> set[str]:
    """The inputs a results file records as ``ok``, cutting off a torn last line.

    ``endpoint``: the wire name its lines must name (None: the one they name); a file of
    another endpoint is refused (lines naming none, written before lines named theirs,
    are taken as the right one's). A file that is not a results file (its first line no
    result: an image, a manifest) is refused and left untouched.
    """
    done: set[str] = set()
    try:
        f = open(path, "r+b")  # noqa: SIM115  (closed below; truncated in place)
    except FileNotFoundError:
        return done
    except OSError as exc:
        raise DiskError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    with f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):  # /dev/zero has no last line
            raise InvalidInput(f"{path} is not a regular file: not a results file")
        whole = 0  # the end of the last whole line
        first = True
        while line := f.readline(MAX_RESULT_LINE + 1):
            if first and not (_is_result(_record(line)) or line.startswith(_RESULT_START)):
                raise InvalidInput(
                    f"{path} is not a results file (its first line is no result): left as "
                    "it is; choose another file for the results"
                )
            first = False
            if not line.endswith(b"\n"):
                if len(line) <= MAX_RESULT_LINE:  # torn: the file ends mid-line
                    break
                while (rest := f.readline(MAX_RESULT_LINE)) and not rest.endswith(b"\n"):
                    pass  # a line too long to be ours: skipped
                whole = f.tell()
                continue
            whole = f.tell()
            record = _record(line)
            other = record.get("endpoint")
            if other is not None and endpoint is None:
                endpoint = str(other)
            elif other is not None and other != endpoint:
                raise InvalidInput(
                    f"{path} holds results of the endpoint {str(other)[:40]!r}, not "
                    f"{endpoint!r}: a resume continues a file of the same endpoint; choose "
                    "another file for the results"
                )
            key = record.get("path")
            if record.get("status") == "ok" and isinstance(key, str):
                done.add(key)
        if whole < f.seek(0, os.SEEK_END):
            f.truncate(whole)
    return done


#: how every result line starts (a torn first line still does)
_RESULT_START = b'{"path": '


def _is_result(record: dict[str, Any]) -> bool:
    return isinstance(record.get("path"), str) and record.get("status") in (
        "ok",
        "error",
        "not_attempted",
    )


def _record(line: bytes) -> dict[str, Any]:
    """One line's record ({} for a line that is not one of ours)."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return {}
    return record if isinstance(record, dict) else {}
