"""The local engine, with the real model: in-process, from the command line, as a
fallback (`wxocr serve` has tests/test_serve.py)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

import wxocr_async as wx
from wxocr_async.emulator import Fault, WeChatEmulator
from wxocr_async.local import EngineBusy, LocalBackend, LocalEngine, model_available
from wxocr_async.retry import NO_RETRY

from .conftest import ROOT

if not model_available():
    if os.environ.get("CI"):
        pytest.fail("rapidocr or onnxruntime is missing: the test extra installs them")
    pytest.skip("the [local] extra is not installed", allow_module_level=True)

IMAGES = Path(__file__).parent / "local_images"
PRINTED = IMAGES / "printed_text.png"
PRINTED_LINES = ["微信OCR本地引擎测试页", "价格合计 128.50 元"]  # spaces as printed
HANG_GUARD = 120


@pytest.fixture(scope="module")
def local_client_workers() -> int:
    return 0


async def test_engine_local_reads_the_image_without_any_network() -> None:
    async with wx.OcrClient(engine="local", base_url="http://127.0.0.1:9") as ocr:
        result = await ocr.printed_text(PRINTED)
    texts = [item.text for item in result.items or ()]
    for expected in PRINTED_LINES:
        assert expected in texts
    assert result.engine == "local"
    assert result.img_size is not None and (result.img_size.w, result.img_size.h) == (900, 420)
    assert result.items is not None
    top = result.items[0].pos  # the first line, drawn at y = 60..90
    assert top is not None and top.left_top is not None and top.left_bottom is not None
    assert top.left_top.y is not None and top.left_bottom.y is not None
    assert 40 < top.left_top.y < 75 < top.left_bottom.y < 110
    assert "engine" not in result.to_dict() and "_engine" not in result.to_dict()


async def test_local_replies_are_wechats_errors() -> None:
    async with wx.OcrClient(engine="local") as ocr:
        with pytest.raises(wx.InvalidImageData) as info:
            await ocr.printed_text(b"\x89PNG\r\n\x1a\n" + b"not really a png")
        assert info.value.errcode == 101002
        with pytest.raises(wx.InvalidInput):  # refused before recognition, as for WeChat
            await ocr.printed_text(b"plain text, no image")


def test_engine_argument_checks() -> None:
    with pytest.raises(wx.InvalidInput, match="engine must be"):
        wx.OcrClient(engine="cloud")  # type: ignore[arg-type]
    with pytest.raises(wx.InvalidInput, match="fallback must be"):
        wx.OcrClient(fallback="wechat")  # type: ignore[arg-type]
    with pytest.raises(wx.InvalidInput, match="workers"):
        LocalEngine(workers=-1)


async def test_fallback_serves_locally_once_wechats_quota_is_spent(
    emulator: WeChatEmulator,
) -> None:
    emulator.push_faults("comm", Fault.error(45009))
    async with wx.OcrClient(
        emulator.appid,
        emulator.secret,
        base_url=emulator.base_url,
        fallback="local",
        retry=NO_RETRY,
    ) as ocr:
        first = await ocr.printed_text(PRINTED)  # WeChat said spent: read locally
        second = await ocr.printed_text(PRINTED)  # not sent again today
        card = await ocr.idcard(wx.emulator.sample_image("idcard_back.png"))
    assert first.engine == second.engine == "local"
    assert PRINTED_LINES[0] in [i.text for i in first.items or ()]
    assert emulator.stats.ocr_calls["comm"] == 1
    assert card.engine == "wechat" and card.type == "Back"  # another endpoint, still WeChat


async def test_without_fallback_the_quota_error_stands(emulator: WeChatEmulator) -> None:
    emulator.push_faults("comm", Fault.error(45009))
    async with wx.OcrClient(
        emulator.appid, emulator.secret, base_url=emulator.base_url, retry=NO_RETRY
    ) as ocr:
        with pytest.raises(wx.QuotaExceeded):
            await ocr.printed_text(PRINTED)


async def test_a_full_queue_answers_busy_at_once() -> None:
    async with LocalEngine(workers=1, queue=0) as engine:
        data = PRINTED.read_bytes()
        backend = LocalBackend(engine)
        first = asyncio.ensure_future(engine.recognise("comm", data, wait=False))
        await asyncio.sleep(0)  # the first takes the only slot
        with pytest.raises(EngineBusy):
            await engine.recognise("comm", data, wait=False)
        assert await backend.reply("comm", data) == {"errcode": -1, "errmsg": "system error"}
        reply = await asyncio.wait_for(first, HANG_GUARD)
        assert reply["errcode"] == 0
        # room again: a waiting caller gets its turn
        assert (await engine.recognise("comm", data))["errcode"] == 0


async def _cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wxocr_async", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), HANG_GUARD)
    return proc.returncode or 0, out.decode(), err.decode()


def offline_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WXOCR_")}
    return {**env, "PYTHONPATH": str(ROOT)}


async def test_cli_recognises_offline_without_credentials() -> None:
    code, out, err = await _cli("printed-text", str(PRINTED), env=offline_env())
    assert code == 0, err
    assert "recognising locally" in err
    reply = json.loads(out)
    assert PRINTED_LINES[0] in [item["text"] for item in reply["items"]]
    assert reply["img_size"] == {"w": 900, "h": 420}


async def test_cli_batch_offline_uses_worker_processes(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"page{i}.png").write_bytes(PRINTED.read_bytes())
    (tmp_path / "junk.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"junk")
    out = tmp_path / "r.jsonl"
    code, _, err = await _cli(
        "batch", "printed-text", str(tmp_path), "--out", str(out), env=offline_env()
    )
    assert code == 1, err  # the junk one failed
    records = {Path(r["path"]).name: r for r in map(json.loads, out.read_text().splitlines())}
    assert len(records) == 4
    for i in range(3):
        assert records[f"page{i}.png"]["status"] == "ok"
    assert records["junk.png"]["error"]["errcode"] == 101002
    assert "the local engine could not read the image" in records["junk.png"]["error"]["errmsg"]
    # the notice, then the models' loading, before any progress
    assert err.index("recognising locally") < err.index("loading the models") < err.index("1 error")


def descendants(pid: int) -> set[int]:
    """The processes below ``pid``, from /proc (its children, theirs, ...)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting for PID 1 to reap it is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def test_sigkill_of_an_offline_batch_leaves_no_worker_behind(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    for i in range(40):
        (folder / f"page{i:02d}.png").write_bytes(PRINTED.read_bytes())
    out = tmp_path / "r.jsonl"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wxocr_async", "batch", "printed-text", str(folder),
        "--out", str(out), env=offline_env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with asyncio.timeout(HANG_GUARD):  # recognising: the workers are up
            while not (out.exists() and out.stat().st_size):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        workers = descendants(proc.pid)
        assert len(workers) >= 1
        proc.kill()
        # EOF on the CLI's pipes: nothing of it holds them any more (a hang is the failure)
        async with asyncio.timeout(HANG_GUARD):
            await proc.communicate()
            while any(alive(pid) for pid in workers):  # noqa: ASYNC110  (bounded by the guard)
                await asyncio.sleep(0.05)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == -9
    lines = out.read_bytes().splitlines()
    assert 1 <= len(lines) < 40 and all(json.loads(line)["status"] == "ok" for line in lines)


@pytest.mark.parametrize(
    ("signum", "when"),
    [(signal.SIGINT, "loading the models"), (signal.SIGTERM, "recognising")],
    ids=["ctrl-c-while-loading", "sigterm-while-recognising"],
)
async def test_a_signal_to_the_whole_process_group_is_an_interruption(
    tmp_path: Path, signum: int, when: str
) -> None:
    """A terminal's Ctrl-C, GNU timeout and systemd signal every process of the group:
    the workers included. The command ends as interrupted (130), without a traceback."""
    folder = tmp_path / "pages"
    folder.mkdir()
    for i in range(30):
        (folder / f"page{i:02d}.png").write_bytes(PRINTED.read_bytes())
    out = tmp_path / "r.jsonl"
    args = ("batch", "printed-text", str(folder), "--out", str(out))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wxocr_async", *args, env=offline_env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    assert proc.stderr is not None
    seen = b""
    try:
        async with asyncio.timeout(HANG_GUARD):
            if when == "loading the models":
                while b"loading the models" not in seen:
                    seen += await proc.stderr.readline()
            else:
                while not (out.exists() and out.stat().st_size):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            os.killpg(proc.pid, signum)
            _, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    stderr = (seen + err).decode()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "Error" not in stderr.replace("0 error", ""), stderr
    code, _, err2 = await _cli(*args, "--resume", env=offline_env())  # then the rest
    assert code == 0, err2
    ok = [json.loads(line) for line in out.read_bytes().splitlines()]
    assert {r["path"] for r in ok if r["status"] == "ok"} == {str(p) for p in folder.iterdir()}


async def test_the_local_engine_fetches_img_url_under_wechats_rules(
    emulator: WeChatEmulator,
) -> None:
    """WeChat cannot reach your loopback or private network, so neither does the local
    engine's download, unless ``allow_private_urls``."""
    url = emulator.host(PRINTED.read_bytes(), "page.png")
    async with wx.OcrClient(engine="local") as ocr:
        with pytest.raises(wx.InvalidImageUrl, match="loopback address: not fetched") as info:
            await ocr.printed_text(img_url=url)
    assert info.value.errcode == 101000 and "/_emulator" not in str(info.value)
    # said as the local engine's download, never as WeChat's answer
    assert info.value.origin == "local"
    assert info.value.errmsg.startswith("the local engine could not download img_url: ")
    async with wx.OcrClient(engine="local", allow_private_urls=True) as ocr:
        result = await ocr.printed_text(img_url=url)
    assert PRINTED_LINES[0] in [item.text for item in result.items or ()]


async def test_a_bomb_is_refused_in_process_too() -> None:
    from .bombs import jpeg_bomb

    async with wx.OcrClient(engine="local") as ocr:
        with pytest.raises(wx.InvalidImageData, match="30000×30000 pixels"):
            await ocr.printed_text(jpeg_bomb())


# -- a slow machine makes it slow, not wrong ----------------------------------------------


async def until(condition: Callable[[], bool]) -> None:
    """Yield to the loop until ``condition`` holds (no clock: a count of turns)."""
    for _ in range(100_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


async def test_an_image_cancelled_while_waiting_is_never_recognised() -> None:
    seen: list[str] = []
    async with LocalEngine(workers=0) as engine:
        engine.on_recognised = lambda endpoint, _: seen.append(endpoint)
        first = asyncio.ensure_future(engine.recognise("comm", PRINTED.read_bytes()))
        await until(lambda: engine.running == 1)
        waiting = asyncio.ensure_future(engine.recognise("idcard", PRINTED.read_bytes()))
        await until(lambda: engine.queued == 1)
        waiting.cancel()
        assert (await asyncio.wait_for(first, HANG_GUARD))["errcode"] == 0
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert engine.in_flight == 0
    assert seen == ["comm"]  # the cancelled image never reached the worker


async def test_the_timeout_counts_the_recognition_not_the_wait_for_a_worker() -> None:
    """Pages ahead hold the one worker for twice the call's timeout, and the call still
    succeeds: its clock starts when the worker takes its image. The timeout is three
    times the call's own recognition and the pages are counted from their own time,
    both measured first in this run (no figure assumed of the machine)."""
    line, page = one_line_png(), PRINTED.read_bytes()
    async with LocalEngine(workers=0) as engine:
        line_seconds = await timed(engine.recognise("comm", line))
        page_seconds = await timed(engine.recognise("comm", page))
        timeout = 3 * line_seconds
        ahead = [
            asyncio.ensure_future(engine.recognise("comm", page))
            for _ in range(math.ceil(2 * timeout / page_seconds) + 1)
        ]
        await until(lambda: engine.queued == len(ahead) - 1)
        started = time.monotonic()
        call = engine.recognise("comm", line, timeout=timeout)
        reply = await asyncio.wait_for(call, HANG_GUARD)
        waited = time.monotonic() - started
        await asyncio.gather(*ahead)
    assert reply["errcode"] == 0 and [i["text"] for i in reply["items"]] == ["OCR 123"]
    assert waited > timeout, f"waited {waited:.2f} s, under {timeout:.2f}: proves nothing"


async def timed(call: Awaitable[object]) -> float:
    started = time.monotonic()
    await asyncio.wait_for(call, HANG_GUARD)
    return time.monotonic() - started


def one_line_png() -> bytes:
    """A page of one short line, 736 px a side (RapidOCR enlarges anything smaller)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (736, 736), "white")
    font = ImageFont.truetype(FONT, 40) if Path(FONT).exists() else None
    ImageDraw.Draw(image).text((40, 300), "OCR 123", fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"


async def test_a_local_failure_names_the_local_engine() -> None:
    async with wx.OcrClient(engine="local") as ocr:
        with pytest.raises(wx.CertificateNotFound) as info:
            await ocr.idcard(PRINTED)
    err = info.value
    assert err.errcode == 101001 and err.origin == "local"
    assert "the local engine found no ID card" in str(err) and "certificate not found" in str(err)
    code, _, stderr = await _cli("idcard", str(PRINTED), env=offline_env())
    assert code == 1 and "the local engine found no ID card" in stderr
    assert "WeChat" not in stderr.replace("WXOCR", "")


def test_the_engine_uses_the_cpus_it_may_use() -> None:
    """OMP_NUM_THREADS and the affinity mask, in a process of their own."""
    script = (
        "import os; os.sched_setaffinity(0, {0}); "
        "from wxocr_async.local.engine import usable_cpus, LocalEngine; "
        "print(usable_cpus(), LocalEngine(workers=0).threads)"
    )
    env = {**offline_env(), "OMP_NUM_THREADS": ""}
    pinned = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, timeout=HANG_GUARD
    )
    assert pinned.stdout.split() == [b"1", b"1"], pinned.stderr
    env["OMP_NUM_THREADS"] = "1"
    capped = subprocess.run(
        [sys.executable, "-c", script.replace("{0}", "os.sched_getaffinity(0)")],
        env=env,
        capture_output=True,
        timeout=HANG_GUARD,
    )
    assert capped.stdout.split() == [b"1", b"1"], capped.stderr


#: runtimes a CI step installed and wants proven (comma-separated); others may be skipped
WANTED_RUNTIMES = set(filter(None, os.environ.get("WXOCR_TEST_RUNTIMES", "").split(",")))
READ_PAGE = (
    "import json, sys, cv2; from wxocr_async.local import model; model.load(1); "
    "print(json.dumps([model.runtime(), [line.text for line in "
    "model.read_page(cv2.imread(sys.argv[1]))]], ensure_ascii=False))"
)


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_the_pinned_models_read_the_same_page_on_each_runtime(runtime: str) -> None:
    import importlib.util

    if importlib.util.find_spec(runtime) is None:
        if runtime in WANTED_RUNTIMES:
            pytest.fail(f"{runtime} is not installed, but WXOCR_TEST_RUNTIMES asks for it")
        pytest.skip(f"{runtime} is not installed ([local-openvino] adds openvino)")
    run = subprocess.run(
        [sys.executable, "-c", READ_PAGE, str(PRINTED)],
        env={**os.environ, "WXOCR_LOCAL_RUNTIME": runtime},
        capture_output=True, text=True, timeout=HANG_GUARD, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    used, texts = json.loads(run.stdout)
    assert used == runtime
    for expected in PRINTED_LINES:
        assert expected in texts


def test_an_unknown_runtime_is_refused_naming_the_runtimes() -> None:
    run = subprocess.run(
        [sys.executable, "-c", "from wxocr_async.local import model; model.available()"],
        env={**os.environ, "WXOCR_LOCAL_RUNTIME": "tensorflow"},
        capture_output=True, text=True, timeout=HANG_GUARD, check=False,
    )  # fmt: skip
    assert run.returncode == 1
    assert "WXOCR_LOCAL_RUNTIME='tensorflow': expected one of onnxruntime, openvino" in run.stderr
