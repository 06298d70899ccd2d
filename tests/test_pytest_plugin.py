"""The pytest plugin (fixtures wxocr_emulator and wxocr_client) and run_in_thread.

The first tests use the fixtures directly: the plugin is active here through the
installed package's ``pytest11`` entry point (this repo's conftest defines neither name).
The last ones build a wheel, install it into a venv of its own and run a user's test file
in a subprocess under pytest-asyncio (strict and auto mode) and anyio's plugin.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import textwrap
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import attrs
import pytest

import wxocr_async as wx
import wxocr_async.pytest_plugin
from wxocr_async.emulator import Fault, WeChatEmulator, card_png, run_in_thread, sample_image
from wxocr_async.transport import AiohttpTransport

ROOT = Path(__file__).resolve().parent.parent
FRONT = sample_image("idcard_front.png").read_bytes()


def _thread_names() -> set[str]:
    return {t.name for t in threading.enumerate()}


# -- the fixtures, in this suite ------------------------------------------------------------


def test_the_plugin_comes_from_the_entry_point(pytestconfig: pytest.Config) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("wxocr_async")
    assert plugin is not None and plugin.__name__ == "wxocr_async.pytest_plugin"


async def test_a_call_succeeds(wxocr_client: wx.OcrClient) -> None:
    card = await wxocr_client.idcard(FRONT)
    assert (card.name, card.id) == ("张三", "123456789012345678")


async def test_a_pushed_fault_reaches_the_next_call(
    wxocr_emulator: WeChatEmulator, wxocr_client: wx.OcrClient
) -> None:
    wxocr_emulator.push_faults("idcard", Fault.error(101001))
    with pytest.raises(wx.CertificateNotFound):
        await wxocr_client.idcard(FRONT)
    assert wxocr_emulator.pending_faults("idcard") == 0
    assert (await wxocr_client.idcard(FRONT)).name == "张三"


async def test_set_reply_changes_the_reply(
    wxocr_emulator: WeChatEmulator, wxocr_client: wx.OcrClient
) -> None:
    wxocr_emulator.set_reply("bankcard", {"errcode": 0, "errmsg": "ok", "number": "6222000011"})
    assert (await wxocr_client.bankcard(card_png("plugin"))).number == "6222000011"


async def test_stats_count_the_calls(
    wxocr_emulator: WeChatEmulator, wxocr_client: wx.OcrClient
) -> None:
    await wxocr_client.idcard(FRONT)
    await wxocr_client.idcard(img_url=wxocr_emulator.host(FRONT, "front.png"))
    await wxocr_client.bankcard(img_url=wxocr_emulator.sample_url("bankcard.png"))
    assert wxocr_emulator.stats.ocr_calls == {"idcard": 2, "bankcard": 1}
    assert wxocr_emulator.stats.stable_token_requests == 1


async def test_recognise_answers_for_given_bytes(
    wxocr_emulator: WeChatEmulator, wxocr_client: wx.OcrClient
) -> None:
    image = card_png("mine")
    wxocr_emulator.register_reply(image, {"errcode": 0, "errmsg": "ok", "name": "李四"})
    assert (await wxocr_client.idcard(image)).name == "李四"


@pytest.mark.wxocr_emulator(daily_quota=1, token_lifetime=600)
async def test_the_marker_configures_the_emulator(
    wxocr_emulator: WeChatEmulator, wxocr_client: wx.OcrClient
) -> None:
    assert wxocr_emulator.token_lifetime == 600
    await wxocr_client.idcard(FRONT)
    with pytest.raises(wx.QuotaExceeded):
        await wxocr_client.idcard(FRONT)


def test_a_sync_test_reaches_the_emulator(wxocr_emulator: WeChatEmulator) -> None:
    """No event loop in the test: the emulator's own thread answers plain urllib."""
    body = json.dumps(
        {
            "grant_type": "client_credential",
            "appid": wxocr_emulator.appid,
            "secret": wxocr_emulator.secret,
        }
    ).encode()
    url = f"{wxocr_emulator.base_url}/cgi-bin/stable_token"
    with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=30) as resp:
        reply = json.loads(resp.read())
    assert reply["expires_in"] == 7200 and reply["access_token"]
    with urllib.request.urlopen(wxocr_emulator.sample_url("idcard_front.png"), timeout=30) as r:
        assert r.read() == FRONT
    assert wxocr_emulator.stats.tokens_issued == 1


def test_a_sync_test_can_drive_the_client_itself(wxocr_client: wx.OcrClient) -> None:
    assert asyncio.run(wxocr_client.idcard(FRONT)).name == "张三"


def test_held_faults_are_refused_across_threads(wxocr_emulator: WeChatEmulator) -> None:
    with pytest.raises(ValueError, match="async with WeChatEmulator"):
        wxocr_emulator.push_faults("idcard", Fault.held(asyncio.Event()))
    assert wxocr_emulator.pending_faults("idcard") == 0


# -- teardown of wxocr_client ---------------------------------------------------------------


def _session_of(client: wx.OcrClient) -> aiohttp.ClientSession:
    transport = client._transport
    assert isinstance(transport, AiohttpTransport)
    session = transport._owned.current
    assert session is not None
    return session


@pytest.fixture
def loop_elsewhere() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop running in a thread of its own (as a TestClient's portal does)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-loop")
    thread.start()
    try:
        yield loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


@pytest.fixture
def sessions() -> Iterator[list[aiohttp.ClientSession]]:
    """Requested before wxocr_client, so torn down after it (and before any loop the test
    used shuts down): the sessions listed must be closed by then."""
    listed: list[aiohttp.ClientSession] = []
    yield listed
    assert listed and all(s.closed for s in listed)


def test_teardown_closes_the_session_in_a_loop_running_elsewhere(
    loop_elsewhere: asyncio.AbstractEventLoop,
    sessions: list[aiohttp.ClientSession],
    wxocr_client: wx.OcrClient,
) -> None:
    card = asyncio.run_coroutine_threadsafe(wxocr_client.idcard(FRONT), loop_elsewhere)
    assert card.result(30).name == "张三"
    sessions.append(_session_of(wxocr_client))


@pytest.mark.asyncio(loop_scope="module")
async def test_teardown_closes_the_session_in_a_loop_still_open(
    sessions: list[aiohttp.ClientSession], wxocr_client: wx.OcrClient
) -> None:
    """pytest-asyncio's module loop outlives the test: closed there, not left to it."""
    assert (await wxocr_client.idcard(FRONT)).name == "张三"
    sessions.append(_session_of(wxocr_client))


# -- run_in_thread ------------------------------------------------------------------------


def test_run_in_thread_stops_the_server_and_its_thread() -> None:
    with run_in_thread(WeChatEmulator()) as emu:
        assert "wxocr-emulator" in _thread_names()
        url = emu.sample_url("idcard_front.png")
        with urllib.request.urlopen(url, timeout=30) as resp:
            assert resp.status == 200
    assert "wxocr-emulator" not in _thread_names()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=30)


def test_run_in_thread_raises_a_start_error_in_the_caller() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with (
            pytest.raises(OSError, match=str(port)) as caught,
            run_in_thread(WeChatEmulator(), port=port),
        ):
            pytest.fail("started on a port in use")
    assert caught.value.errno == errno.EADDRINUSE
    assert "wxocr-emulator" not in _thread_names()


# -- the installed package, in a user's project ----------------------------------------------

USER_TESTS = """
import os, sys, urllib.request
import pytest
import wxocr_async as wx
from wxocr_async.emulator import Fault, sample_image
{preamble}

def test_the_installed_copy_runs_the_plugin(pytestconfig):
    assert wx.__file__.startswith(os.environ["WXOCR_SITE"]), wx.__file__
    assert pytestconfig.pluginmanager.get_plugin("wxocr_async") is sys.modules[
        "wxocr_async.pytest_plugin"]

{mark}async def test_reads_a_card(wxocr_emulator, wxocr_client):
    card = await wxocr_client.idcard(sample_image("idcard_front.png"))
    assert card.name == "{name}"
    assert wxocr_emulator.stats.ocr_calls["idcard"] == 1

{mark}async def test_a_fault(wxocr_emulator, wxocr_client):
    wxocr_emulator.push_faults("idcard", Fault.error(101001))
    with pytest.raises(wx.CertificateNotFound):
        await wxocr_client.idcard(sample_image("idcard_front.png"))

{mark}async def test_a_reply(wxocr_emulator, wxocr_client):
    wxocr_emulator.set_reply("bankcard", {{"errcode": 0, "errmsg": "ok", "number": "6222"}})
    assert (await wxocr_client.bankcard(sample_image("menu.png"))).number == "6222"

@pytest.mark.wxocr_emulator(daily_quota=1)
{mark}async def test_a_quota(wxocr_client):
    await wxocr_client.idcard(sample_image("idcard_front.png"))
    with pytest.raises(wx.QuotaExceeded):
        await wxocr_client.idcard(sample_image("idcard_front.png"))

def test_sync(wxocr_emulator):
    with urllib.request.urlopen(wxocr_emulator.sample_url("menu.png"), timeout=30) as resp:
        assert resp.read() == sample_image("menu.png").read_bytes()
"""
USER_TEST_COUNT = 6

ANYIO_BACKEND = """
@pytest.fixture
def anyio_backend():
    return "asyncio"
"""
LOOP_SCOPE = ("-o", "asyncio_default_fixture_loop_scope=function")


@attrs.frozen
class Setup:
    """How a user runs their tests: the mark on async tests, pytest's options."""

    mark: str
    args: tuple[str, ...]
    preamble: str = ""
    env: tuple[tuple[str, str], ...] = ()


STRICT = Setup("@pytest.mark.asyncio\n", ("-o", "asyncio_mode=strict", *LOOP_SCOPE))
SETUPS = {
    "asyncio-strict": STRICT,
    "asyncio-auto": Setup("", ("-o", "asyncio_mode=auto", *LOOP_SCOPE)),
    "anyio": Setup("@pytest.mark.anyio\n", ("-p", "no:asyncio"), ANYIO_BACKEND),
    # pytest >= 8.4 loads an entry point's plugin by its name with -p (pytest-asyncio's
    # by its module: -p asyncio would also ask to rewrite the asyncio module, a warning)
    "no-autoload": Setup(
        STRICT.mark,
        ("-p", "wxocr_async", "-p", "pytest_asyncio.plugin", *LOOP_SCOPE),
        env=(("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1"),),
    ),
}


@attrs.frozen
class Installed:
    python: Path
    site: Path


@attrs.frozen
class Outcome:
    returncode: int
    passed: int
    failed: int
    failures: str
    output: str


def _run(args: list[str], timeout: float) -> str:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, f"{args[:4]} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """A venv with the wheel of this tree installed (not editable), whose dependencies
    come from this interpreter's site-packages through a .pth file: this tree's editable
    finder is not among them (a .pth in a directory a .pth names is not run)."""
    work = tmp_path_factory.mktemp("installed")
    source = work / "source"  # a copy: building writes build/ and *.egg-info
    shutil.copytree(ROOT / "wxocr_async", source / "wxocr_async", ignore=_untracked)
    for name in ("pyproject.toml", "README.rst", "LICENSE", "MANIFEST.in"):
        shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    _run([*pip, "wheel", "--no-deps", "-w", str(work / "dist"), str(source)], 300)
    (wheel,) = (work / "dist").glob("wxocr_async-*.whl")
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], 120)
    python = venv / "bin" / "python"
    _run([*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)], 120)
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], 60
        ).strip()
    )
    ours = dict.fromkeys(sysconfig.get_path(key) for key in ("purelib", "platlib"))
    (site / "dependencies.pth").write_text("".join(f"{p}\n" for p in ours))
    return Installed(python, site)


def _untracked(directory: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "__pycache__" or n.endswith(".egg-info")]


def _run_user_tests(installed: Installed, project: Path, setup: Setup, *files: str) -> Outcome:
    report = project / "report.xml"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "PYTHON")) and k != "VIRTUAL_ENV"
    }
    env.update(setup.env, WXOCR_SITE=str(installed.site))
    proc = subprocess.run(
        [
            str(installed.python),
            "-m",
            "pytest",
            "-W",
            "error",
            "-p",
            "no:cacheprovider",
            f"--junitxml={report}",
            *setup.args,
            *files,
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert report.exists(), proc.stdout + proc.stderr
    suite = next(ET.parse(report).getroot().iter("testsuite"))
    counts = {k: int(suite.get(k, "0")) for k in ("tests", "failures", "errors", "skipped")}
    failures = "\n".join(f.get("message", "") for f in suite.iter("failure"))
    return Outcome(
        returncode=proc.returncode,
        passed=counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"],
        failed=counts["failures"] + counts["errors"],
        failures=failures,
        output=proc.stdout + proc.stderr,
    )


def _user_project(tmp_path: Path, setup: Setup, name: str = "张三") -> Path:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    text = USER_TESTS.format(mark=setup.mark, preamble=setup.preamble, name=name)
    (tmp_path / "test_user.py").write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("setup", SETUPS.values(), ids=SETUPS.keys())
def test_a_user_project_runs_the_fixtures(
    installed: Installed, tmp_path: Path, setup: Setup
) -> None:
    project = _user_project(tmp_path, setup)
    outcome = _run_user_tests(installed, project, setup, "test_user.py")
    assert (outcome.returncode, outcome.passed, outcome.failed) == (0, USER_TEST_COUNT, 0), (
        outcome.output
    )


def test_a_wrong_field_fails_the_user_run(installed: Installed, tmp_path: Path) -> None:
    project = _user_project(tmp_path, STRICT, name="李四")
    outcome = _run_user_tests(installed, project, STRICT, "test_user.py")
    assert (outcome.returncode, outcome.passed, outcome.failed) == (1, USER_TEST_COUNT - 1, 1)
    assert "李四" in outcome.failures, outcome.output


def test_the_documented_example_passes(installed: Installed, tmp_path: Path) -> None:
    """The module docstring's example, as a user's test file, as written."""
    doc = wxocr_async.pytest_plugin.__doc__
    assert doc is not None
    example = textwrap.dedent(doc.split("::\n", 1)[1].split("\nPass ", 1)[0])
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_example.py").write_text(example, encoding="utf-8")
    outcome = _run_user_tests(installed, tmp_path, STRICT, "test_example.py")
    assert (outcome.returncode, outcome.passed, outcome.failed) == (0, 3, 0), outcome.output
