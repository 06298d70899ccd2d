"""The shared WeChat surface and the server's parts, in process: the token table's rules
and bound, the server's authentication settings, health before and after the models."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

import wxocr_async as wx
from wxocr_async.emulator import WeChatEmulator, sample_image
from wxocr_async.local import LocalEngine, model_available
from wxocr_async.server import OcrServer, ServerAuth, is_loopback_host
from wxocr_async.surface import TokenTable

from .conftest import ManualClock

APPID, SECRET = "wx-table-appid", "table-secret-0123456789abcdef"


def table(clock: ManualClock, **kwargs: int) -> TokenTable:
    return TokenTable(APPID, SECRET, clock=clock, **kwargs)


def test_a_new_token_leaves_the_old_one_five_minutes(clock: ManualClock) -> None:
    tokens = table(clock)
    old, lifetime = tokens.issue("token")
    new, _ = tokens.issue("token")
    assert old != new and lifetime == 7200
    clock.advance(299)
    assert tokens.state(old) == tokens.state(new) == "valid"
    clock.advance(1)
    assert tokens.state(old) == "expired" and tokens.state(new) == "valid"
    clock.advance(7200)
    assert tokens.state(new) == "expired"
    assert tokens.state("never-issued") == "invalid"


def test_stable_token_hands_back_the_current_one_until_near_expiry(clock: ManualClock) -> None:
    tokens = table(clock)
    first, expires_in, new = tokens.stable(force_refresh=False)
    assert new and expires_in == 7200
    clock.advance(7200 - 301)
    assert tokens.stable(force_refresh=False) == (first, 301, False)
    clock.advance(1)  # within the last 300 s: a new one, the old in its grace
    second, _, new = tokens.stable(force_refresh=False)
    assert new and second != first and tokens.state(first) == "valid"
    forced, _, new = tokens.stable(force_refresh=True)
    assert new and forced not in (first, second)


def test_a_million_token_requests_keep_the_table_bounded(clock: ManualClock) -> None:
    tokens = table(clock, max_live=1000)
    stable, _, _ = tokens.stable(force_refresh=False)
    for _ in range(1_000_000):
        last, _ = tokens.issue("token")
    assert len(tokens) == 1000
    # the newest and the current stable token survive; the oldest went first
    assert tokens.state(last) == tokens.state(stable) == "valid"
    assert len(tokens.issued()) == 1000


@pytest.mark.parametrize(
    ("appid", "secret", "errcode"),
    [
        (None, SECRET, 41002),
        ("", SECRET, 41002),
        ("wx-other", SECRET, 40013),
        (APPID + " ", SECRET, 40013),
        (APPID, None, 41004),
        (APPID, SECRET[:-1], 40125),
        (APPID, ["not", "a", "string"], 40125),
        (APPID, SECRET, None),
    ],
)
def test_credentials_are_checked_as_wechat_does(
    clock: ManualClock, appid: object, secret: object, errcode: int | None
) -> None:
    err = table(clock).credential_error(appid, secret)
    assert (err or {}).get("errcode") == errcode


def test_a_table_without_credentials_issues_to_nobody(clock: ManualClock) -> None:
    tokens = TokenTable(None, None, clock=clock)
    for appid, secret in [(APPID, SECRET), ("x", "y"), (None, None)]:
        assert tokens.credential_error(appid, secret) is not None
    tokens.accept("a-servers-own-token")
    assert tokens.state("a-servers-own-token") == "valid"
    assert "a-servers-own-token" not in repr(tokens) and tokens.issued() == []


def test_the_emulator_keeps_its_old_name_for_register_reply() -> None:
    emu = WeChatEmulator()
    with pytest.warns(DeprecationWarning, match="register_reply"):
        emu.recognise(b"\x89PNG\r\n\x1a\nx", {"errcode": 0, "errmsg": "ok"}, endpoint="comm")


async def test_the_emulator_answers_unknown_paths_in_json(emulator: WeChatEmulator) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{emulator.base_url}/cgi-bin/nothing") as resp,
    ):
        assert resp.status == 404
        assert (await resp.json())["errcode"] == 404


# -- the server's parts ------------------------------------------------------------------------


def test_server_auth_shows_no_secret() -> None:
    auth = ServerAuth(token="tok-0123456789abcdef", appid=APPID, secret=SECRET)
    shown = repr(auth) + auth.describe()
    assert "tok-0123456789abcdef" not in shown and SECRET not in shown and APPID in shown
    assert not auth.is_open and ServerAuth().is_open
    with pytest.raises(wx.InvalidInput, match="WXOCR_SECRET is set but WXOCR_APPID is not"):
        ServerAuth(secret=SECRET)
    assert ServerAuth.from_env({"WXOCR_TOKEN": "", "WXOCR_APPID": ""}).is_open


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("10.0.0.1", False),
        ("no-such-host.invalid", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.fixture
async def engine() -> AsyncIterator[LocalEngine]:
    if not model_available():
        pytest.skip("the [local] extra is not installed")
    engine = LocalEngine(workers=0)
    yield engine
    await engine.close()


async def test_health_is_503_until_the_models_are_loaded(engine: LocalEngine) -> None:
    server = OcrServer(engine, ServerAuth())
    url = await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/healthz") as resp:
                assert resp.status == 503 and (await resp.json())["status"] == "loading"
            await server.load_models()
            async with http.get(f"{url}/healthz") as resp:
                assert resp.status == 200 and await resp.json() == {"status": "ok"}
    finally:
        await server.stop()


async def test_an_open_server_refuses_a_public_interface(engine: LocalEngine) -> None:
    with pytest.raises(wx.InvalidInput, match=r"refusing to serve on 0\.0\.0\.0"):
        await OcrServer(engine, ServerAuth()).start("0.0.0.0")


async def test_the_server_mounts_no_emulator_route(engine: LocalEngine) -> None:
    server = OcrServer(engine, ServerAuth(token="tok-0123456789abcdef"))
    url = await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            for path in ("/_emulator/stats", f"/_emulator/samples/{sample_image('menu.png').name}"):
                async with http.get(url + path) as resp:
                    assert resp.status == 404
    finally:
        await server.stop()
