"""One OS process of the shared-Redis test: N concurrent calls through a RedisStore.

Prints READY, waits for a line on stdin, prints WAITING once if it finds another process
refreshing the token, then prints a JSON summary of its calls. An optional seventh
argument sets ``daily_quota`` (shared through the same Redis).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys

import wxocr_async as wx
from wxocr_async.emulator import card_png


class ReportWaiting(logging.Handler):
    said = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.said and "refresh in progress elsewhere" in record.getMessage():
            self.said = True
            print("WAITING", flush=True)


async def main(
    base_url: str,
    redis_url: str,
    namespace: str,
    appid: str,
    secret: str,
    calls: int,
    daily_quota: int | None,
) -> None:
    logger = logging.getLogger("wxocr_async.token")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(ReportWaiting())
    image = card_png("worker")
    store = wx.RedisStore.from_url(redis_url, namespace=namespace)
    print("READY", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    async with wx.OcrClient(
        appid, secret, base_url=base_url, store=store, daily_quota=daily_quota
    ) as ocr:
        results = await asyncio.gather(
            *(ocr.idcard(image) for _ in range(calls)), return_exceptions=True
        )
    errors = [r for r in results if not isinstance(r, wx.IdCardResult)]
    over_quota = sum(isinstance(e, wx.QuotaExceeded) for e in errors)
    print(
        json.dumps(
            {
                "ok": len(results) - len(errors),
                "over_quota": over_quota,
                "errors": [repr(e) for e in errors[:5]],
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    base, redis_url, namespace, appid, secret, calls = sys.argv[1:7]
    quota = int(sys.argv[7]) if len(sys.argv) > 7 else None
    asyncio.run(main(base, redis_url, namespace, appid, secret, int(calls), quota))
