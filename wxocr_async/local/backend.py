"""The local engine behind WeChat's HTTP surface (``wxocr serve``, or the emulator)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .engine import BUSY, EngineBusy, LocalEngine

#: seconds one image's recognition may take, from the moment a worker takes it, before
#: the server gives up on it and answers -1 (a large printed page takes ~3 s; a stuck
#: worker must not hold a request forever)
RECOGNITION_TIMEOUT = 120.0


class LocalBackend:
    """Answers OCR requests by recognising the image; a full queue answers -1 (system
    busy) at once rather than queueing without bound."""

    def __init__(self, engine: LocalEngine, *, timeout: float = RECOGNITION_TIMEOUT) -> None:
        self.engine = engine
        self.timeout = timeout

    async def reply(self, endpoint: str, image: bytes) -> Mapping[str, Any]:
        try:
            return await self.engine.recognise(endpoint, image, wait=False, timeout=self.timeout)
        except (EngineBusy, TimeoutError):
            return dict(BUSY)
