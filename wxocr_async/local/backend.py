"""The local engine behind WeChat's HTTP surface (the emulator's routes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .engine import BUSY, EngineBusy, LocalEngine


class LocalBackend:
    """Answers OCR requests by recognising the image; a full queue answers -1 (system
    busy) at once rather than queueing without bound."""

    def __init__(self, engine: LocalEngine) -> None:
        self.engine = engine

    async def reply(self, endpoint: str, image: bytes) -> Mapping[str, Any]:
        try:
            return await self.engine.recognise(endpoint, image, wait=False)
        except EngineBusy:
            return dict(BUSY)
