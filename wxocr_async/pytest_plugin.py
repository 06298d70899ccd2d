"""pytest fixtures for testing your own code against the WeChat emulator.

``pip install wxocr_async`` registers this plugin with pytest (entry point ``pytest11``);
there is nothing to configure. Two fixtures, both function-scoped:

``wxocr_emulator``
    a running :class:`~wxocr_async.emulator.WeChatEmulator`, served from a thread of its
    own, so it answers any test: async under pytest-asyncio (strict or auto mode) or
    anyio, or synchronous (``urllib``, ``requests``, a FastAPI ``TestClient``). Script
    it from the test: ``push_faults``, ``set_reply``, ``recognise``, ``host``,
    ``sample_url``, and read ``stats``. Held faults (``Fault.held``) need the emulator
    in the test's own loop (``async with WeChatEmulator() as emu``) and raise
    ``ValueError`` here; ``Fault.delayed`` works.
``wxocr_client``
    an :class:`~wxocr_async.OcrClient` pointed at it (its appid, secret and base URL,
    the default retry policy), closed after the test.

The marker ``@pytest.mark.wxocr_emulator(**kwargs)`` passes keyword arguments to the
emulator, e.g. ``daily_quota=1``, ``latency=0.2`` or ``token_lifetime=60``.

Example, with pytest-asyncio (in auto mode drop the ``asyncio`` marks; with anyio mark
the tests ``@pytest.mark.anyio`` instead, on its asyncio backend: aiohttp needs it)::

    import urllib.request

    import pytest
    import wxocr_async as wx
    from wxocr_async.emulator import Fault, sample_image

    @pytest.mark.asyncio
    async def test_reads_the_card(wxocr_client):
        card = await wxocr_client.idcard(sample_image("idcard_front.png"))
        assert card.name

    @pytest.mark.asyncio
    async def test_reports_a_bad_certificate(wxocr_emulator, wxocr_client):
        wxocr_emulator.push_faults("idcard", Fault.error(101001))
        with pytest.raises(wx.CertificateNotFound):
            await wxocr_client.idcard(sample_image("idcard_front.png"))
        assert wxocr_emulator.stats.ocr_calls["idcard"] == 1

    @pytest.mark.wxocr_emulator(daily_quota=1)
    def test_without_a_loop(wxocr_emulator):  # any sync HTTP client reaches it
        with urllib.request.urlopen(wxocr_emulator.sample_url("menu.png")) as resp:
            assert resp.status == 200

Pass ``wxocr_client`` to your code (a FastAPI dependency override, an aiohttp app key)
as you would your production client; it makes its HTTP session in the loop that first
uses it. With ``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` set, load it with ``-p wxocr_async``
(pytest 8.4 and later), and pytest-asyncio with ``-p pytest_asyncio.plugin``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported in the fixtures: pytest loads this module in every session
    from wxocr_async import OcrClient
    from wxocr_async.emulator import WeChatEmulator
    from wxocr_async.transport import AiohttpTransport

MARKER = "wxocr_emulator"
#: seconds teardown waits for a client whose loop runs in another thread to close
CLOSE_TIMEOUT = 30.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**kwargs): keyword arguments for the WeChatEmulator of the "
        "wxocr_emulator fixture (daily_quota=, latency=, token_lifetime=, ...)",
    )


@pytest.fixture
def wxocr_emulator(request: pytest.FixtureRequest) -> Iterator[WeChatEmulator]:
    """A running WeChatEmulator, served from a thread of its own (see the module doc)."""
    from wxocr_async.emulator import WeChatEmulator, run_in_thread

    marker = request.node.get_closest_marker(MARKER)
    kwargs = {} if marker is None else marker.kwargs
    if marker is not None and marker.args:
        raise TypeError(f"@pytest.mark.{MARKER} takes keyword arguments only")
    with run_in_thread(WeChatEmulator(**kwargs)) as emulator:
        yield emulator


@pytest.fixture
def wxocr_client(wxocr_emulator: WeChatEmulator) -> Iterator[OcrClient]:
    """An OcrClient pointed at ``wxocr_emulator``, closed after the test."""
    from wxocr_async import OcrClient
    from wxocr_async.transport import AiohttpTransport

    emu = wxocr_emulator
    transport = AiohttpTransport()  # kept: its session's loop is where the client closes
    client = OcrClient(emu.appid, emu.secret, base_url=emu.base_url, transport=transport)
    try:
        yield client
    finally:
        _close_client(client, transport)


def _close_client(client: OcrClient, transport: AiohttpTransport) -> None:
    """Close ``client`` from synchronous code, in the loop its HTTP session belongs to
    if that loop is still open (pytest-asyncio's and anyio's may or may not be by now;
    one that has shut down closed the session already), else in a new loop."""
    loop = transport.session_loop
    if loop is None or loop.is_closed():
        asyncio.run(client.close())
    elif loop.is_running():  # in another thread (e.g. a TestClient's portal)
        asyncio.run_coroutine_threadsafe(client.close(), loop).result(CLOSE_TIMEOUT)
    else:
        loop.run_until_complete(client.close())
