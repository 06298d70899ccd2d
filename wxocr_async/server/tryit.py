"""``wxocr serve``'s try-it page and the routes of its own the page reads.

``GET /`` is one self-contained page (``tryit.html``: its script and styles inline, under
a Content-Security-Policy that allows exactly those two blocks and requests to this
server alone). ``GET /wxocr/about`` tells the page how to call; ``POST
/wxocr/inspect/{name}`` takes what ``/cv/ocr/{name}`` takes, under the same
authentication, and answers WeChat's reply together with what the local engine saw
(:class:`~wxocr_async.inspection.Inspection`): every line's box and the lines each field
came from. WeChat's own routes are untouched: their replies stay exactly WeChat's.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from importlib import resources
from typing import Any

from aiohttp import web

from ..endpoints import BY_NAME
from ..images import MAX_IMAGE_BYTES, sniff_image_type
from ..inspection import Inspection
from ..local.messages import DOCUMENTS
from ..surface import Reply, json_response

#: the inspect route's path, beside WeChat's ``/cv/ocr/{name}``
INSPECT_PREFIX = "/wxocr/inspect/"
ABOUT_PATH = "/wxocr/about"

_RID = re.compile(r"\s*(?:rid|hint): .*$")


@functools.cache
def page() -> tuple[bytes, str]:
    """The page's bytes, and the Content-Security-Policy that lets its one inline script
    and one inline style run, images from itself, ``blob:`` and ``data:``, and requests to
    this server alone."""
    html = resources.files(__package__).joinpath("tryit.html").read_text("utf-8")
    return html.encode(), _policy(html)


def _policy(html: str) -> str:
    hashes = {}
    for tag in ("script", "style"):
        blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.DOTALL)
        if len(blocks) != 1:
            raise RuntimeError(f"tryit.html must have exactly one <{tag}> block")
        digest = hashlib.sha256(blocks[0].encode()).digest()
        hashes[tag] = f"'sha256-{base64.b64encode(digest).decode()}'"
    return (
        "default-src 'none'; "
        f"script-src {hashes['script']}; style-src {hashes['style']}; "
        "img-src 'self' blob: data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def page_response() -> web.Response:
    body, policy = page()
    return web.Response(
        body=body,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": policy,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )


def about(*, needs_token: bool, issues_tokens: bool) -> dict[str, Any]:
    """What the page needs to know to call this server."""
    return {
        "needs_token": needs_token,
        "issues_tokens": issues_tokens,
        "max_image_bytes": MAX_IMAGE_BYTES,
        "endpoints": [
            {
                "name": name,
                "document": DOCUMENTS[name],
                "modes": ["photo", "scan"] if endpoint.takes_mode else [],
            }
            for name, endpoint in BY_NAME.items()
        ],
    }


def inspect_response(
    found: Inspection, *, timed_out: float | None = None, image: bytes | None = None
) -> web.Response:
    """The inspect route's answer: ``found`` as JSON, a sentence for an error, and the
    image as a ``data:`` URL when the server fetched it (``img_url``), so that the page
    can draw on it without asking another host. Never cached: it holds a person's data."""
    body = found.to_json()
    body["message"] = sentence(found.endpoint, found.reply, timed_out=timed_out)
    body["image"] = None
    kind = sniff_image_type(image) if image is not None else None
    if image is not None and kind is not None:
        body["image"] = f"data:{kind[0]};base64,{base64.b64encode(image).decode()}"
    response = json_response(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def refused(endpoint: str, reply: Reply) -> web.Response:
    """The inspect route's answer to a request refused before recognition."""
    return inspect_response(Inspection(endpoint, reply, "local"))


def sentence(endpoint: str, reply: Reply | Any, *, timed_out: float | None = None) -> str | None:
    """What went wrong, as a sentence a person reads; None for a success."""
    code = reply.get("errcode", 0)
    if code == 0:
        return None
    said = _RID.sub("", str(reply.get("errmsg", "")))
    document = DOCUMENTS.get(endpoint, "document")
    sentences = {
        101001: f"No {document} was found in the image.",
        101002: f"The image could not be read ({said}).",
        101000: f"The image URL could not be fetched ({said}).",
        40001: "The token was refused: it is not this server's token.",
        40014: "The token was refused: it is not this server's token.",
        42001: "The token has expired: get a new one.",
        41001: "This server needs a token.",
        41005: "No image was sent.",
        43002: "The request must be a POST.",
    }
    if code == -1:
        if timed_out is not None:
            return f"The recognition took longer than {timed_out:g} s and was given up."
        return "The server is busy: try again in a moment."
    return sentences.get(code, f"errcode {code}: {said}")
