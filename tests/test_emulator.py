"""The emulator's own behaviour: token issuing as WeChat does it, counters, faults."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from wxocr_async.emulator import Fault, WeChatEmulator

from .conftest import ManualClock


async def get_json(session: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> Any:
    async with session.request(method, url, **kw) as resp:
        return await resp.json(content_type=None)


async def test_stable_token_hands_back_the_current_token(clock: ManualClock) -> None:
    async with WeChatEmulator(clock=clock) as emu, aiohttp.ClientSession() as s:
        body = {"grant_type": "client_credential", "appid": emu.appid, "secret": emu.secret}
        url = f"{emu.base_url}/cgi-bin/stable_token"
        first = await get_json(s, "POST", url, json=body)
        clock.advance(7200 - 345)
        again = await get_json(s, "POST", url, json=body)
        assert again == {"access_token": first["access_token"], "expires_in": 345}
        forced = await get_json(s, "POST", url, json={**body, "force_refresh": True})
        assert forced["access_token"] != first["access_token"] and forced["expires_in"] == 7200
        assert emu.is_valid_token(first["access_token"])  # still valid for the grace period
        clock.advance(300)
        assert not emu.is_valid_token(first["access_token"])
        assert emu.is_valid_token(forced["access_token"])
        assert (await get_json(s, "GET", url))["errcode"] == 43002


async def test_cgi_bin_token_issues_a_new_token_each_time(clock: ManualClock) -> None:
    async with WeChatEmulator(clock=clock) as emu, aiohttp.ClientSession() as s:
        url = (
            f"{emu.base_url}/cgi-bin/token?grant_type=client_credential"
            f"&appid={emu.appid}&secret={emu.secret}"
        )
        a = (await get_json(s, "GET", url))["access_token"]
        b = (await get_json(s, "GET", url))["access_token"]
        assert a != b and emu.stats.tokens_issued == 2
        clock.advance(299)
        assert emu.is_valid_token(a) and emu.is_valid_token(b)
        clock.advance(1)
        assert not emu.is_valid_token(a) and emu.is_valid_token(b)
        clock.advance(7200)
        assert not emu.is_valid_token(b)


@pytest.mark.parametrize(
    ("query", "errcode"),
    [
        ("grant_type=password&appid=a&secret=b", 40002),
        ("grant_type=client_credential&secret=b", 41002),
        ("grant_type=client_credential&appid=nope&secret=b", 40013),
        ("grant_type=client_credential&appid={appid}", 41004),
        ("grant_type=client_credential&appid={appid}&secret=wrong", 40125),
    ],
)
async def test_token_errors(query: str, errcode: int) -> None:
    async with WeChatEmulator() as emu, aiohttp.ClientSession() as s:
        url = f"{emu.base_url}/cgi-bin/token?" + query.format(appid=emu.appid)
        reply = await get_json(s, "GET", url)
        assert reply["errcode"] == errcode and " rid: " in reply["errmsg"]


async def test_expired_token_gets_42001(clock: ManualClock) -> None:
    async with WeChatEmulator(clock=clock, token_lifetime=10) as emu, aiohttp.ClientSession() as s:
        url = (
            f"{emu.base_url}/cgi-bin/token?grant_type=client_credential"
            f"&appid={emu.appid}&secret={emu.secret}"
        )
        token = (await get_json(s, "GET", url))["access_token"]
        clock.advance(10)
        reply = await get_json(
            s, "POST", f"{emu.base_url}/cv/ocr/idcard?access_token={token}&img_url=http://x/"
        )
        assert reply["errcode"] == 42001 and emu.stats.expired_tokens == 1


async def test_faults_are_consumed_in_order_and_per_endpoint() -> None:
    async with WeChatEmulator(require_token=False) as emu, aiohttp.ClientSession() as s:
        emu.push_faults("comm", Fault.error(-1), Fault.error(45011))
        emu.push_faults("*", Fault.error(48001))
        url = f"{emu.base_url}/cv/ocr/"
        codes = [
            (await get_json(s, "POST", url + name))["errcode"]
            for name in ("comm", "comm", "menu", "comm")
        ]
        assert codes == [-1, 45011, 48001, 41005]  # the last: no image at all
        assert emu.pending_faults("comm") == 0 and emu.stats.ocr_calls["comm"] == 3
        with pytest.raises(KeyError):
            emu.push_faults("nonsense", Fault.error(-1))


async def test_cloudbase_token_and_unknown_endpoint() -> None:
    async with WeChatEmulator(cloudbase_tokens=("cb-1",)) as emu, aiohttp.ClientSession() as s:
        base = f"{emu.base_url}/cv/ocr/"
        ok = await get_json(
            s, "POST", base + "idcard?cloudbase_access_token=cb-1&img_url=http://127.0.0.1:9/x"
        )
        assert ok["errcode"] == 101000  # past the token check; the URL is unreachable
        bad = await get_json(s, "POST", base + "idcard?cloudbase_access_token=cb-2")
        assert bad["errcode"] == 40001
        async with s.post(base + "selfie") as resp:
            assert resp.status == 404
