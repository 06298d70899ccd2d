"""What a job works on: a directory, a glob pattern or a manifest, and a shard.

Inputs are produced lazily and can be listed again (once to count them, once to work),
so a manifest of a million lines never sits in memory.
"""

from __future__ import annotations

import glob
import hashlib
import os
import stat
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping

import attrs

from ..batch import is_image_url
from ..errors import DiskError, InvalidInput
from ..images import sniff_image_type

#: longest manifest line read (a path, or a signed URL); a longer one is refused
MAX_MANIFEST_LINE = 16 * 1024
#: the variable a Kubernetes Indexed Job sets in each pod: its index, from 0
JOB_INDEX_VARIABLE = "JOB_COMPLETION_INDEX"


@attrs.frozen
class Input:
    """One input: ``key`` as given (the ``path`` of its result line), ``target`` what is
    sent (a path resolved against the manifest's folder, or the URL)."""

    key: str
    target: str


@attrs.frozen
class Shard:
    """Shard ``index`` (from 1) of ``count``: the inputs whose stable hash falls in it."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        index, sep, count = text.partition("/")
        try:
            k, n = int(index), int(count)
        except ValueError:
            k = n = 0
        if not sep or n < 1 or not 1 <= k <= n:
            raise InvalidInput(
                f"--shard must be K/N with 1 <= K <= N (e.g. 1/3, 2/3, 3/3), not {text!r}"
            )
        return cls(k, n)

    @classmethod
    def from_job_index(cls, count: int, env: Mapping[str, str]) -> Shard:
        """``--shards N``: shard K = the pod's ``JOB_COMPLETION_INDEX`` + 1, of ``count``."""
        text = env.get(JOB_INDEX_VARIABLE)
        if text is None:
            raise InvalidInput(
                f"--shards {count} takes the shard from {JOB_INDEX_VARIABLE}, which is not "
                "set (Kubernetes sets it in an Indexed Job's pods; elsewhere use --shard K/N)"
            )
        digits = text.strip()
        index = int(digits) if digits.isascii() and digits.isdigit() and len(digits) < 10 else -1
        if not 0 <= index < count:
            raise InvalidInput(
                f"{JOB_INDEX_VARIABLE}={text[:20]!r} is not an index from 0 to {count - 1} "
                f"(--shards {count}: the Job's completions must equal N)"
            )
        return cls(index + 1, count)

    def __contains__(self, key: str) -> bool:
        return shard_of(key, self.count) == self.index


def shard_of(key: str, count: int) -> int:
    """The shard (1..count) an input falls in: the same on every machine and Python."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogateescape"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count + 1


def pending(
    inputs: Iterable[Input],
    done: Collection[str] = (),
    *,
    shard: Shard | None = None,
    out: str | None = None,
) -> Iterator[Input]:
    """The inputs still to do: those of ``shard`` (if given), not already ``ok`` in the
    results file (``done``: :func:`~wxocr_async.jobs.finished_inputs`), and not that
    results file ``out`` itself, should it sit among the inputs."""
    excluded = os.path.realpath(out) if out is not None else None
    for item in inputs:
        if (shard is not None and item.key not in shard) or item.key in done:
            continue
        if excluded is None or os.path.realpath(item.target) != excluded:
            yield item


def input_lister(source: str) -> Callable[[], Iterator[Input]]:
    """A function listing the inputs named by ``source`` (checked now): a directory (every
    file below it but hidden ones), a manifest (paths or URLs, one a line; ``#`` comments;
    relative paths from the manifest's folder), a single image, or a glob pattern."""
    try:
        mode = os.stat(source).st_mode
    except FileNotFoundError:
        if glob.has_magic(source):
            return lambda: _glob(source)
        raise InvalidInput(f"{source}: no such file or directory") from None
    except OSError as exc:
        raise DiskError(f"{source}: cannot read it: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        return lambda: _walk(source)
    if not stat.S_ISREG(mode):
        raise InvalidInput(f"{source}: not a directory, a manifest or an image")
    if _looks_like_image(source):
        return lambda: iter([Input(source, source)])
    return lambda: _manifest(source)


def _walk(top: str) -> Iterator[Input]:
    for folder, dirs, files in os.walk(top, onerror=_unlisted):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                path = os.path.join(folder, name)
                yield Input(path, path)


def _unlisted(exc: OSError) -> None:
    """A folder that cannot be listed stops the listing: its files would be lost unseen."""
    where = exc.filename or "a folder"
    raise DiskError(f"{where}: cannot list it: {exc.strerror or exc}")


def _glob(pattern: str) -> Iterator[Input]:
    for path in glob.iglob(pattern, recursive=True):
        if not os.path.isdir(path):
            yield Input(path, path)


def _looks_like_image(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise DiskError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    return sniff_image_type(head) is not None


def _manifest(path: str) -> Iterator[Input]:
    base = os.path.dirname(path)
    try:
        with open(path, "rb") as f:
            number = 0
            while line := f.readline(MAX_MANIFEST_LINE + 1):
                number += 1
                if len(line) > MAX_MANIFEST_LINE and not line.endswith(b"\n"):
                    raise InvalidInput(
                        f"{path}:{number}: longer than {MAX_MANIFEST_LINE} bytes: "
                        "a manifest lists paths or URLs, one a line"
                    )
                try:
                    # a BOM (Notepad, PowerShell) is no part of the first path; only ASCII
                    # blanks are trimmed (U+3000 or NBSP may begin or end a name)
                    text = line.decode("utf-8-sig" if number == 1 else "utf-8").strip(" \t\r\n")
                except UnicodeDecodeError:
                    raise InvalidInput(
                        f"{path}:{number}: not UTF-8 text: a manifest lists paths or URLs, "
                        "one a line"
                    ) from None
                if not text or text.startswith("#"):
                    continue
                if "\0" in text:
                    raise InvalidInput(f"{path}:{number}: a NUL byte: not a manifest")
                target = text if is_image_url(text) else os.path.join(base, text)
                yield Input(text, target)
    except OSError as exc:
        raise DiskError(f"{path}: cannot read it: {exc.strerror or exc}") from None
