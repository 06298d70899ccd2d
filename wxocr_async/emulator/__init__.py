"""A WeChat API emulator for tests and trying the library without credentials."""

from .faults import HTML_ERROR_PAGE, Fault
from .pictures import card_png, encode_png, noise_png, sample_image
from .replies import DEFAULT_REPLIES, SAMPLE_REPLIES
from .server import (
    DEFAULT_APPID,
    DEFAULT_SECRET,
    EmulatorStats,
    RecognitionBackend,
    SeenRequest,
    WeChatEmulator,
)
from .thread import run_in_thread

__all__ = [
    "DEFAULT_APPID",
    "DEFAULT_REPLIES",
    "DEFAULT_SECRET",
    "HTML_ERROR_PAGE",
    "SAMPLE_REPLIES",
    "EmulatorStats",
    "Fault",
    "RecognitionBackend",
    "SeenRequest",
    "WeChatEmulator",
    "card_png",
    "encode_png",
    "noise_png",
    "run_in_thread",
    "sample_image",
]
