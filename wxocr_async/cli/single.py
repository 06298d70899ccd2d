"""``wxocr idcard PATH|URL`` and the other endpoint commands: one image, the reply on
stdout as JSON; with ``--annotate OUT.png``, the image with what was read drawn on it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..annotate import annotated_png
from ..batch import image_or_url
from ..client import OcrClient
from ..endpoints import BY_METHOD, Endpoint
from ..errors import QuotaExceeded, WxOcrError
from ..inspection import Inspection
from ..naming import Naming
from ..protocol import structure_result
from .config import client_from_env, client_options
from .errors import (
    EXIT_FAILED,
    EXIT_TEMPFAIL,
    CommandError,
    UsageError,
    describe,
    say,
    shown_name,
)
from .parser import COMMAND_METHODS


async def recognise_one(
    ocr: OcrClient,
    endpoint: Endpoint[Any],
    source: str,
    *,
    naming: Naming,
    mode: Any = None,
    annotate: str | None = None,
) -> int:
    """Recognise ``source`` (a path or an ``http(s)://`` URL) and print the reply; with
    ``annotate``, also write the image with what was read drawn on it there."""
    image, img_url = image_or_url(source)
    if annotate is not None:
        check_annotate_path(annotate, source)
    try:
        if annotate is None:
            payload = await ocr.request_ocr(endpoint, image=image, img_url=img_url, mode=mode)  # type: ignore[arg-type]
            found = None
        else:
            found = await ocr.inspect(endpoint, image, img_url=img_url, mode=mode)  # type: ignore[arg-type]
            payload = dict(found.reply)
    except WxOcrError as exc:
        # a spent quota is temporary: EX_TEMPFAIL tells a script to try again later
        status = EXIT_TEMPFAIL if isinstance(exc, QuotaExceeded) else EXIT_FAILED
        raise CommandError(describe(exc, ocr.base_url), exit_status=status) from None
    result = structure_result(endpoint, payload)
    json.dump(result.to_dict(naming), sys.stdout, ensure_ascii=False, indent=2)
    print()
    if found is not None and annotate is not None:
        await write_annotated(found, annotate, naming)
    return 0


def check_annotate_path(out: str, source: str) -> None:
    """Refuse, before anything is sent, an ``--annotate`` path that cannot be written or
    that names the image itself."""
    path = Path(out)
    shown = shown_name(out)
    try:
        if path.exists() and not path.is_file():
            raise UsageError(f"--annotate {shown}: not a regular file")
        with contextlib.suppress(FileNotFoundError):
            if path.exists() and path.samefile(source):
                raise UsageError(f"--annotate {shown} is the image itself")
        folder = path.parent
        if not folder.is_dir():
            raise UsageError(f"--annotate {shown}: no folder {shown_name(str(folder))}")
        longest = os.pathconf(folder, "PC_NAME_MAX")
    except OSError as exc:
        raise UsageError(f"--annotate {shown}: {exc.strerror or exc}") from None
    if len(os.fsencode(path.name)) > longest:
        raise UsageError(f"--annotate {shown}: the file name is longer than {longest} bytes")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"--annotate {shown}: cannot write in that folder")


async def write_annotated(found: Inspection, out: str, naming: Naming) -> None:
    """Draw ``found`` on its image into ``out`` (a PNG, replaced whole), or say why there
    is nothing to draw."""
    engine = "the local engine" if found.engine == "local" else "WeChat"
    if found.image is None:
        say(
            f"nothing drawn: the image was sent to {engine} by URL and not downloaded here; "
            f"pass a file to --annotate it ({shown_name(out)} not written)"
        )
        return
    if not found.drawable:
        say(
            f"nothing to draw: {engine}'s {found.endpoint} reply gives no positions "
            f"({shown_name(out)} not written)"
        )
        return
    try:
        png = await asyncio.to_thread(annotated_png, found.image, found, naming)
    except WxOcrError as exc:
        raise CommandError(f"cannot draw {shown_name(out)}: {exc.errmsg}") from None
    try:
        await asyncio.to_thread(_replace, Path(out), png)
    except OSError as exc:
        raise CommandError(f"cannot write {shown_name(out)}: {exc.strerror or exc}") from None
    boxes = sum(field.box is not None for field in found.fields)
    say(f"drew {len(found.lines)} lines and {boxes} fields on {shown_name(out)}")


def _replace(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all (a temporary file beside it, then renamed),
    with the mode it had, or the one a new file gets under the umask."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, temporary = tempfile.mkstemp(prefix=".wxocr-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), mode)
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _umask() -> int:
    """This process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


async def single_command(args: argparse.Namespace) -> int:
    """``wxocr ENDPOINT PATH|URL``: the exit status."""
    endpoint = BY_METHOD[COMMAND_METHODS[args.command]]
    ocr, _ = client_from_env(store_url=args.store, **client_options(args))
    async with ocr:
        return await recognise_one(
            ocr,
            endpoint,
            args.source,
            naming=args.naming,
            mode=getattr(args, "mode", None),
            annotate=args.annotate,
        )
