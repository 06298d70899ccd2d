"""``wxocr serve``: WeChat's OCR API, answered by the local engine, safe on a network.

See :class:`OcrServer`; the command line is ``wxocr serve`` (extra ``[serve]``).
"""

from .app import DEFAULT_REQUEST_TIMEOUT, OcrServer
from .auth import ServerAuth, is_loopback_host

__all__ = ["DEFAULT_REQUEST_TIMEOUT", "OcrServer", "ServerAuth", "is_loopback_host"]
