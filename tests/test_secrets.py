"""No appsecret or access_token in exception texts, tracebacks, reprs or DEBUG logs."""

from __future__ import annotations

import asyncio
import logging
import traceback

import aiohttp
import pytest

import wxocr_async as wx
from wxocr_async.emulator import Fault, WeChatEmulator, card_png
from wxocr_async.retry import NO_RETRY
from wxocr_async.token import TokenEndpoint

SECRET = "SENTINEL-appsecret-5f1d2c"
TOKEN_ENDPOINTS: tuple[TokenEndpoint, ...] = ("stable_token", "token")
IMAGE = card_png("secrets")


def text_of(err: BaseException) -> str:
    """Everything a log handler or a crash report would print for ``err``."""
    return "\n".join(
        [str(err), repr(err), *traceback.format_exception(type(err), err, err.__traceback__)]
    )


async def provoke_everything(
    emu: WeChatEmulator, caught: list[BaseException], reprs: list[str]
) -> None:
    release = asyncio.Event()
    for endpoint in TOKEN_ENDPOINTS:
        async with wx.OcrClient(
            emu.appid,
            SECRET,
            retry=NO_RETRY,
            base_url=emu.base_url,
            token_endpoint=endpoint,
        ) as ocr:
            reprs.append(repr(ocr))
            reprs.append(repr(ocr._tokens))
            await ocr.idcard(IMAGE)  # a token is now cached and in use
            emu.push_faults(
                "idcard",
                Fault.error(-1),
                Fault.error(101001),
                Fault.error(48001),
                Fault.http(502),
                Fault.not_json(),
                Fault.connection_reset(),
                Fault.held(release),
                Fault.error(40001),
                Fault.error(40001),
            )
            for _ in range(8):
                try:
                    await ocr.idcard(IMAGE, timeout=0.05)
                except wx.WxOcrError as err:
                    caught.append(err)
            release.set()
            release.clear()
    # token endpoint failures, with the secret in the request (body or URL)
    emu.ip_whitelist = frozenset({"10.9.9.9"})
    for endpoint in TOKEN_ENDPOINTS:
        async with wx.OcrClient(
            emu.appid, SECRET, retry=NO_RETRY, base_url=emu.base_url, token_endpoint=endpoint
        ) as ocr:
            with pytest.raises(wx.IpNotWhitelisted) as info:
                await ocr.idcard(IMAGE)
            caught.append(info.value)
    emu.ip_whitelist = None
    # the URL of a GET cgi-bin/token holds the secret: refused connection and timeout
    dead = WeChatEmulator()
    dead_url = await dead.start()
    await dead.stop()
    async with wx.OcrClient(
        emu.appid, SECRET, retry=NO_RETRY, base_url=dead_url, token_endpoint="token"
    ) as ocr:
        with pytest.raises(wx.ConnectionFailed) as cinfo:
            await ocr.idcard(IMAGE)
        caught.append(cinfo.value)
    emu.push_faults("token", Fault.held(release))
    async with wx.OcrClient(
        emu.appid,
        SECRET,
        retry=NO_RETRY,
        base_url=emu.base_url,
        token_endpoint="token",
        timeout=0.05,
    ) as ocr:
        with pytest.raises(wx.RequestTimeout) as tinfo:
            await ocr.idcard(IMAGE)
        caught.append(tinfo.value)
    release.set()
    # a caller's session with raise_for_status: aiohttp's error text holds the whole URL
    async with (
        aiohttp.ClientSession(raise_for_status=True) as session,
        wx.OcrClient(
            emu.appid, SECRET, retry=NO_RETRY, base_url=emu.base_url, session=session
        ) as ocr,
    ):
        emu.push_faults("idcard", Fault.http(503))
        with pytest.raises(wx.HTTPStatusError) as hinfo:
            await ocr.idcard(IMAGE)
        caught.append(hinfo.value)
    # a caller-supplied token
    token = emu.issued_tokens()[0]
    async with wx.OcrClient(token=token, retry=NO_RETRY, base_url=emu.base_url) as ocr:
        reprs.append(repr(ocr))
        emu.push_faults("idcard", Fault.connection_reset())
        with pytest.raises(wx.ConnectionFailed) as rinfo:
            await ocr.idcard(IMAGE)
        caught.append(rinfo.value)


async def test_no_secret_or_token_leaks(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, aiohttp's, asyncio's
    caught: list[BaseException] = []
    reprs: list[str] = []
    async with WeChatEmulator(secret=SECRET) as emu:
        await provoke_everything(emu, caught, reprs)
        tokens = emu.issued_tokens()
    assert len(tokens) >= 3 and len(caught) >= 20
    kinds = {type(e) for e in caught}
    assert {
        wx.SystemBusy,
        wx.CertificateNotFound,
        wx.Unauthorized,
        wx.HTTPStatusError,
        wx.BadResponse,
        wx.ConnectionFailed,
        wx.RequestTimeout,
        wx.InvalidCredential,
        wx.IpNotWhitelisted,
    } <= kinds
    logs = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert any(r.name.startswith("wxocr_async") for r in caplog.records)
    haystack = "\n".join([*map(text_of, caught), *reprs, logs])
    for needle in [SECRET, *tokens]:
        assert needle not in haystack


def test_token_reprs_are_redacted() -> None:
    from wxocr_async.credentials import AppCredentialSource
    from wxocr_async.token import AccessToken, StaticTokenSource

    assert "tok-123" not in repr(AccessToken("tok-123", 1.0, 0.5))
    assert SECRET not in repr(AppCredentialSource("wx1", SECRET))
    assert "tok-123" not in repr(StaticTokenSource("tok-123"))
    assert SECRET not in repr(wx.OcrClient("wx1", SECRET))
