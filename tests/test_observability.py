"""Logging under the ``wxocr_async`` tree and the ``on_attempt`` hook, against the emulator."""

from __future__ import annotations

import importlib
import logging
import pkgutil

import pytest

import wxocr_async as wx
from wxocr_async.emulator import Fault, WeChatEmulator, sample_image

IDCARD = sample_image("idcard_front.png").read_bytes()


async def no_sleep(_: float) -> None:
    return None


def client(emu: WeChatEmulator, **options: object) -> wx.OcrClient:
    return wx.OcrClient(
        emu.appid,
        emu.secret,
        base_url=emu.base_url,
        retry=wx.RetryPolicy(sleep=no_sleep, random=lambda: 0.0),
        **options,  # type: ignore[arg-type]
    )


def lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("wxocr_async") and r.levelno == level
    ]


async def test_one_debug_line_per_attempt_with_what_happened(
    emulator: WeChatEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="wxocr_async")
    emulator.push_faults("idcard", Fault.error(-1))
    seen: list[wx.Attempt] = []
    async with client(emulator, on_attempt=seen.append) as ocr:
        await ocr.idcard(IDCARD)

    attempts = [m for m in lines(caplog, logging.DEBUG) if " attempt " in m]
    assert len(attempts) == 2
    assert attempts[0].startswith("cv/ocr/idcard attempt 1: HTTP 200, errcode -1, ")
    assert attempts[0].endswith(f"{seen[0].bytes_sent} bytes sent, retrying")
    assert attempts[1].startswith("cv/ocr/idcard attempt 2: HTTP 200, errcode 0, ")
    assert " ms, " in attempts[1]

    first, second = seen
    assert (first.endpoint, first.path, first.attempt, first.status) == (
        "idcard",
        "cv/ocr/idcard",
        1,
        200,
    )
    assert (first.errcode, first.will_retry, first.ok) == (-1, True, False)
    assert isinstance(first.error, wx.SystemBusy)
    assert (second.attempt, second.errcode, second.will_retry, second.ok) == (2, 0, False, True)
    # the multipart body: the image and a little framing around it
    assert len(IDCARD) < second.bytes_sent < len(IDCARD) + 1000
    assert second.elapsed >= 0


async def test_info_for_token_fetches_and_retries(
    emulator: WeChatEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wxocr_async")
    async with client(emulator) as ocr:
        await ocr.idcard(IDCARD)
        emulator.revoke_tokens()  # WeChat forgets the token: 40001, refresh, retry once
        emulator.push_faults("idcard", Fault.http(502))
        await ocr.idcard(IDCARD)

    info = lines(caplog, logging.INFO)
    fetched = [m for m in info if m.startswith("fetched a new access token")]
    assert len(fetched) == 2 and emulator.appid in fetched[0]
    assert any("rejected the token (errcode 40001)" in m for m in info)
    assert any(m.startswith("cv/ocr/idcard failed with errcode -10003; attempt 2") for m in info)
    assert not lines(caplog, logging.DEBUG)  # nothing below the level asked for


async def test_warning_once_when_an_endpoints_quota_is_spent(
    emulator: WeChatEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="wxocr_async")
    emulator.push_faults("bankcard", Fault.error(45009))
    async with client(emulator, daily_quota=1) as ocr:
        for _ in range(2):
            with pytest.raises(wx.QuotaExceeded):
                await ocr.bankcard(IDCARD)
        await ocr.idcard(IDCARD)  # the day's one idcard call
        for _ in range(3):
            with pytest.raises(wx.QuotaExceeded):
                await ocr.idcard(IDCARD)

    warnings = lines(caplog, logging.WARNING)
    assert warnings == [
        "cv/ocr/bankcard: WeChat says the daily quota is spent; not calling it again until "
        "midnight China time",
        "cv/ocr/idcard: daily_quota of 1 calls for this endpoint is used up; refusing calls "
        "until midnight China time",
    ]


async def test_no_secret_or_token_in_any_log_line_or_attempt(
    emulator: WeChatEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger
    seen: list[wx.Attempt] = []
    faults = Fault.error(-1), Fault.error(40001), Fault.http(500), Fault.error(-1)
    emulator.push_faults("idcard", *faults)
    async with client(emulator, on_attempt=seen.append) as ocr:
        with pytest.raises(wx.SystemBusy):
            await ocr.idcard(IDCARD)
    tokens = emulator.issued_tokens()
    assert tokens and [a.errcode for a in seen] == [-1, 40001, -10003, -1]
    text = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    text += "\n".join(repr(a) + str(a.error) for a in seen)
    for secret in [emulator.secret, *tokens]:
        assert secret not in text


async def test_a_failing_hook_is_logged_and_never_fails_the_call(
    emulator: WeChatEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_: wx.Attempt) -> None:
        raise RuntimeError("metrics backend down")

    async with client(emulator, on_attempt=broken) as ocr:
        card = await ocr.idcard(IDCARD)
    assert card.name
    assert lines(caplog, logging.ERROR) == [
        "on_attempt hook raised RuntimeError: metrics backend down"
    ]


def test_on_attempt_must_be_callable() -> None:
    with pytest.raises(wx.InvalidInput, match="on_attempt must be a callable"):
        wx.OcrClient(token="t", on_attempt="print")  # type: ignore[arg-type]


def test_only_the_documented_loggers_exist() -> None:
    """Every module imported: the logger tree is exactly what README's Logging names."""
    for module in pkgutil.walk_packages(wx.__path__, "wxocr_async."):
        if module.name != "wxocr_async.pytest_plugin":
            importlib.import_module(module.name)
    names = {n for n in logging.root.manager.loggerDict if n.startswith("wxocr_async")}
    assert names == {
        "wxocr_async",  # the parent, made by logging for its children
        "wxocr_async.client",
        "wxocr_async.caller",
        "wxocr_async.observe",
        "wxocr_async.engines",
        "wxocr_async.token",
        "wxocr_async.limits",
        "wxocr_async.local",
        "wxocr_async.server",  # wxocr serve (and the emulator's WeChat surface)
    }
