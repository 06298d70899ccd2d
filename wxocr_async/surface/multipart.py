"""Finding the image in a ``multipart/form-data`` body, in one pass over it."""

from __future__ import annotations

import attrs
from aiohttp import web

#: parts looked at at most: an upload has one to three (a million empty parts in 2 MB
#: would hold the event loop for a third of a second)
MAX_PARTS = 64


@attrs.frozen
class FilePart:
    """The part an image was taken from: its name, filename and type as sent."""

    name: str | None
    filename: str | None
    content_type: str | None
    data: bytes = attrs.field(repr=lambda d: f"<{len(d)} bytes>")


def media_type(request: web.Request) -> str:
    """The Content-Type's media type, without aiohttp's costly full header parse."""
    return request.headers.get("Content-Type", "").partition(";")[0].strip().lower()


def file_part(body: bytes, content_type: str, field: str) -> FilePart | None:
    """The image part of a ``multipart/form-data`` body: the part named ``field``, else
    the first part with a filename (WxJava names it ``file``), else the first with a
    Content-Type other than ``text/*``; None if there is no such part (form fields such as
    ``type=photo`` are not images). Parsed in one pass over the first :data:`MAX_PARTS`
    parts: the emulator must stay cheaper than the clients it measures."""
    boundary = _boundary(content_type)
    if not boundary:
        return None
    delimiter = b"--" + boundary.encode()
    # (name, filename, content type, data start, data end) of the fallbacks seen so far
    with_filename: tuple[str | None, str | None, str | None, int, int] | None = None
    with_type: tuple[str | None, str | None, str | None, int, int] | None = None
    pos = body.find(delimiter)
    for _ in range(MAX_PARTS):
        if pos == -1:
            break
        start = pos + len(delimiter)
        if body[start : start + 2] == b"--":
            break  # the closing delimiter
        head_end = body.find(b"\r\n\r\n", start)
        if head_end == -1:
            break
        end = body.find(b"\r\n" + delimiter, head_end + 4)
        if end == -1:
            break
        headers = body[start:head_end].decode("utf-8", "replace").split("\r\n")
        disposition = next((h for h in headers if h.lower().startswith("content-disposition:")), "")
        part_type = next(
            (h.split(":", 1)[1].strip() for h in headers if h.lower().startswith("content-type:")),
            None,
        )
        name = _disposition_param(disposition, "name")
        filename = _disposition_param(disposition, "filename")
        if name == field:
            return FilePart(name, filename, part_type, body[head_end + 4 : end])
        if filename and with_filename is None:
            with_filename = (name, filename, part_type, head_end + 4, end)
        elif part_type and not part_type.lower().startswith("text/") and with_type is None:
            with_type = (name, filename, part_type, head_end + 4, end)
        pos = end + 2
    chosen = with_filename or with_type
    if chosen is None:
        return None
    name, filename, part_type, data_start, data_end = chosen
    return FilePart(name, filename, part_type, body[data_start:data_end])


def _boundary(content_type: str) -> str:
    _, _, params = content_type.partition(";")
    return next(
        (
            v.strip().strip('"')
            for k, _, v in (p.strip().partition("=") for p in params.split(";"))
            if k.lower() == "boundary"
        ),
        "",
    )


def _disposition_param(disposition: str, key: str) -> str | None:
    for piece in disposition.split(";")[1:]:
        k, _, v = piece.strip().partition("=")
        if k.lower() == key:
            return v.strip().strip('"')
    return None
