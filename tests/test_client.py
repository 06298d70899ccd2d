"""Client lifecycle: sessions it owns and sessions it borrows."""

from __future__ import annotations

import aiohttp
import pytest

import wxocr_async as wx
from wxocr_async.emulator import WeChatEmulator, card_png

IMAGE = card_png("client")


async def test_caller_session_is_used_and_never_closed(emulator: WeChatEmulator) -> None:
    async with aiohttp.ClientSession() as session:
        async with wx.OcrClient(
            emulator.appid, emulator.secret, base_url=emulator.base_url, session=session
        ) as ocr:
            await ocr.idcard(IMAGE)
        assert not session.closed
        async with session.get(emulator.sample_url("menu.png")) as resp:
            assert resp.status == 200


async def test_close_is_idempotent_and_closed_client_refuses(emulator: WeChatEmulator) -> None:
    ocr = wx.OcrClient(emulator.appid, emulator.secret, base_url=emulator.base_url)
    await ocr.idcard(IMAGE)
    await ocr.close()
    await ocr.close()
    with pytest.raises(wx.ClientClosed, match="closed") as info:
        await ocr.idcard(IMAGE)
    assert info.value.errcode == wx.errors.ERRCODE_CLOSED


async def test_client_without_calls_closes_cleanly() -> None:
    async with wx.OcrClient(token="t"):
        pass


def test_repr_names_the_app_not_the_secret() -> None:
    ocr = wx.OcrClient("wx123", "s3cr3t-value", base_url="https://api.weixin.qq.com/")
    assert repr(ocr).startswith("OcrClient(appid='wx123', base_url='https://api.weixin.qq.com'")
    assert "s3cr3t-value" not in repr(ocr)


async def test_the_store_is_closed_with_the_client_whatever_the_token_source() -> None:
    closed: list[str] = []

    class RecordingStore(wx.MemoryStore):
        async def close(self) -> None:
            closed.append("closed")

    import time

    for kwargs in ({"token": "t"}, {"appid": "wx1", "secret": "s"}):
        async with wx.OcrClient(store=RecordingStore(clock=time.time), **kwargs):  # type: ignore[arg-type]
            pass
    assert closed == ["closed", "closed"]  # once each, quota-only stores included
