"""WeChat's HTTP API as a server: what the emulator and ``wxocr serve`` share.

:class:`WeChatSurface` routes ``/cgi-bin/token``, ``/cgi-bin/stable_token`` and
``/cv/ocr/{name}``, reads the image (the multipart ``img`` part or ``img_url``), checks it
and answers in WeChat's JSON shape, errors included. Who gets a token, who may call and
what answers are left to each assembly: the emulator (canned replies, faults, counters)
and the server (the local engine, its own authentication, health and metrics).
"""

from .app import MAX_REQUEST_BODY, OCR_NAMES, ReceivedImage, WeChatSurface, body_too_large
from .multipart import FilePart, file_part, media_type
from .tokens import TokenTable
from .wire import ERRMSGS, Reply, error_reply, json_response

__all__ = [
    "ERRMSGS",
    "MAX_REQUEST_BODY",
    "OCR_NAMES",
    "FilePart",
    "ReceivedImage",
    "Reply",
    "TokenTable",
    "WeChatSurface",
    "body_too_large",
    "error_reply",
    "file_part",
    "json_response",
    "media_type",
]
