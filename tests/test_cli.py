"""The ``wxocr`` command, run as a subprocess against the emulator (in this process)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import sys
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

import wxocr_async as wx
from wxocr_async.emulator import Fault, WeChatEmulator, sample_image
from wxocr_async.jobs import shard_of

from .conftest import ROOT

HANG_GUARD = 120


@attrs.frozen
class Run:
    returncode: int
    stdout: str
    stderr: str

    def lines(self) -> list[str]:
        return self.stderr.strip().splitlines()


def cli_env(emu: WeChatEmulator | None, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WXOCR_") and k != "JOB_COMPLETION_INDEX"
    }
    env["PYTHONPATH"] = str(ROOT)
    if emu is not None:
        env.update(WXOCR_APPID=emu.appid, WXOCR_SECRET=emu.secret, WXOCR_BASE_URL=emu.base_url)
    env.update(extra)
    return env


async def start_cli(
    *args: str, env: Mapping[str, str], cwd: Path | None = None
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wxocr_async",
        *args,
        env=dict(env),
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(proc: asyncio.subprocess.Process, emu: WeChatEmulator | None = None) -> Run:
    try:
        async with asyncio.timeout(HANG_GUARD):
            out, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    run = Run(proc.returncode or 0, out.decode(), err.decode())
    if emu is not None:  # never a secret, in any output
        assert emu.secret not in run.stdout + run.stderr
        for token in emu.issued_tokens():
            assert token not in run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    return run


async def cli(*args: str, emu: WeChatEmulator | None, cwd: Path | None = None, **env: str) -> Run:
    return await finish(await start_cli(*args, env=cli_env(emu, **env), cwd=cwd), emu)


def fake_png(i: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + f"image {i}".encode()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_images(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{i:04d}.png"
        path.write_bytes(fake_png(i))
        paths.append(path)
    return paths


def read_results(path: Path) -> list[dict[str, Any]]:
    raw = path.read_bytes()
    assert raw == b"" or raw.endswith(b"\n"), "a torn last line"
    return [json.loads(line) for line in raw.decode().splitlines()]


def write_manifest(path: Path, entries: Sequence[str | Path]) -> Path:
    path.write_text("".join(f"{e}\n" for e in entries), encoding="utf-8")
    return path


# -- one image ---------------------------------------------------------------------------

SAMPLES = [
    ("idcard", "idcard", "idcard_front.png"),
    ("bankcard", "bankcard", "bankcard.png"),
    ("vehicle-license", "vehicle_license", "vehicle_license.png"),
    ("driver-license", "driver_license", "driver_license.png"),
    ("business-license", "business_license", "business_license.png"),
    ("printed-text", "printed_text", "printed_text.png"),
    ("plate-number", "plate_number", "plate_number.png"),
    ("menu", "menu", "menu.png"),
]


@pytest.mark.parametrize(("command", "method", "sample"), SAMPLES)
async def test_one_call_per_endpoint_prints_the_reply(
    emulator: WeChatEmulator, command: str, method: str, sample: str
) -> None:
    async with wx.OcrClient(emulator.appid, emulator.secret, base_url=emulator.base_url) as ocr:
        expected = (await getattr(ocr, method)(sample_image(sample))).to_dict()
    run = await cli(command, str(sample_image(sample)), emu=emulator)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == expected
    assert run.stderr == ""


async def test_camel_naming_mode_and_url(emulator: WeChatEmulator) -> None:
    url = emulator.sample_url("idcard_back.png")
    run = await cli("idcard", url, "--naming", "camel", "--mode", "scan", emu=emulator)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"type": "Back", "validDate": "20171025-20271025"}
    seen = emulator.stats.seen[-1]
    assert seen.query["img_url"] == url and seen.query["type"] == "scan"


async def test_a_token_from_the_environment(emulator: WeChatEmulator) -> None:
    async with wx.OcrClient(emulator.appid, emulator.secret, base_url=emulator.base_url) as ocr:
        expected = (await ocr.bankcard(sample_image("bankcard.png"))).to_dict()
    token = emulator.issued_tokens()[0]
    env = cli_env(None, WXOCR_TOKEN=token, WXOCR_BASE_URL=emulator.base_url)
    run = await finish(await start_cli("bankcard", str(sample_image("bankcard.png")), env=env))
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == expected
    assert token not in run.stdout + run.stderr
    assert emulator.stats.token_fetches == 1  # the CLI fetched none


# -- errors a person can act on ----------------------------------------------------------


def one_error_line(run: Run, status: int = 1) -> str:
    assert run.returncode == status, run.stderr
    assert run.stdout == ""
    [line] = run.lines()
    assert line.startswith("wxocr: error: ")
    return line


WITHOUT_LOCAL = (
    "import sys; sys.modules['rapidocr'] = None; "  # as if [local] were absent
    "from wxocr_async.cli import main; sys.exit(main())"
)


async def test_missing_credentials_name_the_variables(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WITHOUT_LOCAL, "idcard", str(sample_image("idcard_front.png")),
        env=cli_env(None), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    line = one_error_line(await finish(proc))
    assert "WXOCR_APPID" in line and "WXOCR_SECRET" in line and "WXOCR_TOKEN" in line
    assert "[local]" in line
    env = cli_env(None, WXOCR_APPID="wx123")
    run = await finish(await start_cli("idcard", str(sample_image("idcard_front.png")), env=env))
    assert "WXOCR_APPID is set but WXOCR_SECRET is not" in one_error_line(run)


async def test_file_errors(emulator: WeChatEmulator, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(wx.MAX_IMAGE_BYTES))
    missing = await cli("idcard", str(tmp_path / "nope.png"), emu=emulator)
    assert "not found" in one_error_line(missing)
    not_image = await cli("idcard", str(text), emu=emulator)
    assert "not an image" in one_error_line(not_image)
    too_large = await cli("idcard", str(big), emu=emulator)
    line = one_error_line(too_large)
    assert "2 MB" in line and "--shrink" in line and "[images]" in line
    folder = await cli("idcard", str(tmp_path), emu=emulator)
    assert "not a regular file" in one_error_line(folder) or "directory" in folder.stderr
    assert emulator.stats.total_ocr_calls == 0  # none of them was sent


async def test_wrong_secret(emulator: WeChatEmulator) -> None:
    run = await cli(
        "idcard",
        str(sample_image("idcard_front.png")),
        emu=emulator,
        WXOCR_SECRET="not-the-secret-0123456789",
    )
    line = one_error_line(run)
    assert "WXOCR_SECRET" in line and "refused" in line
    assert "not-the-secret-0123456789" not in run.stderr


async def test_quota_spent_says_when_it_resets(emulator: WeChatEmulator) -> None:
    emulator.push_faults("idcard", Fault.error(45009))
    run = await cli("idcard", str(sample_image("idcard_front.png")), emu=emulator)
    line = one_error_line(run, 75)  # EX_TEMPFAIL: try again later
    assert "quota" in line and "resets at" in line and "China time" in line


async def test_network_unreachable() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = cli_env(
        None,
        WXOCR_APPID="wx0123456789abcdef",
        WXOCR_SECRET="a-secret-that-never-shows",
        WXOCR_BASE_URL=f"http://127.0.0.1:{port}",
    )
    run = await finish(await start_cli("menu", str(sample_image("menu.png")), env=env))
    line = one_error_line(run)
    assert f"cannot reach http://127.0.0.1:{port}" in line
    assert "a-secret-that-never-shows" not in run.stderr


async def test_help_and_version() -> None:
    run = await cli(emu=None)  # bare: the help, as a usage error
    assert run.returncode == 2 and run.stdout == "" and run.stderr.startswith("usage: wxocr")
    for command in [c for c, _, _ in SAMPLES] + ["batch", "emulator", "demo"]:
        assert command in run.stderr
    assert "WXOCR_APPID" in run.stderr and "75" in run.stderr
    run = await cli("--help", emu=None)
    assert run.returncode == 0 and run.stdout.startswith("usage: wxocr")
    run = await cli("--version", emu=None)
    assert run.stdout.strip() == f"wxocr_async {wx.__version__}"
    run = await cli("batch", "--help", emu=None)
    for flag in ("--out", "--concurrency", "--resume", "--daily-quota", "--shard"):
        assert flag in run.stdout


def test_the_console_script_is_installed() -> None:
    import importlib.metadata

    scripts = {e.name: e.value for e in importlib.metadata.entry_points(group="console_scripts")}
    assert scripts["wxocr"] == "wxocr_async.cli:main"


# -- batch -------------------------------------------------------------------------------


async def test_batch_of_200_with_bad_inputs(emulator: WeChatEmulator, tmp_path: Path) -> None:
    good = make_images(tmp_path / "imgs", 190)
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    not_images = []
    for i in range(4):
        p = bad_dir / f"text{i}.txt"
        p.write_text(f"not an image {i}")
        not_images.append(p)
    too_large = []
    for i in range(3):
        p = bad_dir / f"big{i}.png"
        p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(wx.MAX_IMAGE_BYTES + i))
        too_large.append(p)
    missing = [bad_dir / f"missing{i}.png" for i in range(3)]
    entries = [*good[:100], *not_images, *too_large, *missing, *good[100:]]
    manifest = write_manifest(tmp_path / "manifest.txt", entries)
    out = tmp_path / "results.jsonl"
    run = await cli("batch", "idcard", str(manifest), "--out", str(out), emu=emulator)
    assert run.returncode == 1
    records = read_results(out)
    assert len(records) == 200
    by_path = {r["path"]: r for r in records}
    assert set(by_path) == {str(e) for e in entries}  # one line per input
    for p in good:
        assert by_path[str(p)]["status"] == "ok"
        assert by_path[str(p)]["result"]["type"] == "Front"
    for p in [*not_images, *too_large, *missing]:
        record = by_path[str(p)]
        assert record["status"] == "error" and "result" not in record
        assert set(record["error"]) == {"errcode", "errmsg"}
    assert by_path[str(too_large[0])]["error"]["errcode"] == -10101
    assert "not found" in by_path[str(missing[0])]["error"]["errmsg"]
    assert emulator.stats.ocr_calls["idcard"] == 190  # the bad ones were never sent
    assert "190 ok, 10 error, 0 not attempted" in run.stderr


async def test_ctrl_c_then_resume_finishes_every_input_exactly_once(tmp_path: Path) -> None:
    await _interrupt_and_resume(tmp_path, signal.SIGINT)


async def test_sigterm_then_resume(tmp_path: Path) -> None:
    await _interrupt_and_resume(tmp_path, signal.SIGTERM)


async def _interrupt_and_resume(tmp_path: Path, signum: int) -> None:
    paths = make_images(tmp_path / "imgs", 200)
    data = {str(p): p.read_bytes() for p in paths}
    out = tmp_path / "results.jsonl"
    async with WeChatEmulator(latency=0.02) as emu:
        args = ("batch", "idcard", str(tmp_path / "imgs"), "--out", str(out))
        proc = await start_cli(*args, "--concurrency", "4", env=cli_env(emu))
        async with asyncio.timeout(HANG_GUARD):
            # a condition on another process's progress, polled (bounded by the guard)
            while emu.stats.ocr_results["idcard"] < 40:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        proc.send_signal(signum)
        first = await finish(proc, emu)
        assert first.returncode == 130, first.stderr
        assert "--resume" in first.stderr
        records = read_results(out)  # whole lines only
        done = {r["path"] for r in records if r["status"] == "ok"}
        assert 40 <= len(done) < 200
        sent_first = len(emu.stats.seen)
        second = await cli(*args, "--resume", "--concurrency", "4", emu=emu)
        assert second.returncode == 0, second.stderr
        resent = [s.part_sha256 for s in list(emu.stats.seen)[sent_first:]]
    assert not {digest(data[p]) for p in done} & set(resent)  # nothing finished sent again
    records = read_results(out)
    ok = Counter(r["path"] for r in records if r["status"] == "ok")
    assert set(ok) == set(data) and set(ok.values()) == {1}  # every input ok exactly once


async def test_quota_exhausted_mid_batch(emulator: WeChatEmulator, tmp_path: Path) -> None:
    make_images(tmp_path / "imgs", 80)
    out = tmp_path / "results.jsonl"
    run = await cli(
        "batch",
        "idcard",
        str(tmp_path / "imgs"),
        "--out",
        str(out),
        "--daily-quota",
        "50",
        emu=emulator,
    )
    assert run.returncode == 75  # EX_TEMPFAIL: inputs left for --resume after the reset
    statuses = Counter(r["status"] for r in read_results(out))
    assert statuses == {"ok": 50, "not_attempted": 30}
    assert emulator.stats.ocr_calls["idcard"] == 50
    assert "ran out" in run.stderr and "resets at" in run.stderr and "China time" in run.stderr
    # WeChat's own quota: its "spent" reply stops the run the same way
    emulator.push_faults("idcard", Fault.error(45009))
    out2 = tmp_path / "results2.jsonl"
    run = await cli(
        "batch",
        "idcard",
        str(tmp_path / "imgs"),
        "--out",
        str(out2),
        "--concurrency",
        "1",
        emu=emulator,
    )
    statuses = Counter(r["status"] for r in read_results(out2))
    assert statuses == {"error": 1, "not_attempted": 79}
    assert "WeChat's" in run.stderr and run.returncode == 75


async def test_three_shards_share_token_and_quota_through_redis(
    redis_url: str, tmp_path: Path
) -> None:
    paths = make_images(tmp_path / "imgs", 60)
    manifest = write_manifest(tmp_path / "all.txt", [p.name for p in paths])
    (tmp_path / "imgs" / "all.txt").write_text(manifest.read_text())
    assert len({shard_of(p.name, 3) for p in paths}) == 3
    appid = f"wx{uuid.uuid4().hex[:16]}"  # quota keys of this test's own
    async with WeChatEmulator(appid=appid, latency=0.01) as emu:
        env = cli_env(emu, WXOCR_REDIS_URL=redis_url)
        procs = [
            await start_cli(
                "batch",
                "idcard",
                str(tmp_path / "imgs" / "all.txt"),
                "--out",
                str(tmp_path / f"shard{k}.jsonl"),
                "--shard",
                f"{k}/3",
                "--daily-quota",
                "20",
                "--concurrency",
                "4",
                env=env,
            )
            for k in (1, 2, 3)
        ]
        runs = [await finish(p, emu) for p in procs]
        assert emu.stats.token_fetches == 1  # one fetch for the three processes
        assert emu.stats.ocr_calls["idcard"] == 20
    records = [r for k in (1, 2, 3) for r in read_results(tmp_path / f"shard{k}.jsonl")]
    assert sorted(r["path"] for r in records) == sorted(p.name for p in paths)
    assert Counter(r["status"] for r in records) == {"ok": 20, "not_attempted": 40}
    for k in (1, 2, 3):
        assert all(shard_of(r["path"], 3) == k for r in read_results(tmp_path / f"shard{k}.jsonl"))
    for k, run in zip((1, 2, 3), runs, strict=True):  # 0 only for a shard all ok
        statuses = {r["status"] for r in read_results(tmp_path / f"shard{k}.jsonl")}
        assert run.returncode == (0 if statuses == {"ok"} else 75)


async def test_concurrency_bounds_the_calls_in_flight(tmp_path: Path) -> None:
    make_images(tmp_path / "imgs", 60)
    async with WeChatEmulator(latency=0.02) as emu:
        run = await cli(
            "batch",
            "idcard",
            str(tmp_path / "imgs"),
            "--out",
            str(tmp_path / "r.jsonl"),
            "--concurrency",
            "4",
            emu=emu,
        )
        assert run.returncode == 0, run.stderr
        assert 2 <= emu.stats.max_in_flight <= 4


async def test_inputs_by_glob_dir_and_single_image(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    make_images(tmp_path / "imgs" / "a", 3)
    make_images(tmp_path / "imgs" / "b", 2)
    (tmp_path / "imgs" / ".hidden.png").write_bytes(fake_png(99))
    out = tmp_path / "dir.jsonl"
    run = await cli("batch", "bankcard", str(tmp_path / "imgs"), "--out", str(out), emu=emulator)
    assert run.returncode == 0, run.stderr
    assert len(read_results(out)) == 5  # both folders, the hidden file left out
    out = tmp_path / "glob.jsonl"
    pattern = str(tmp_path / "imgs" / "*" / "000[01].png")
    run = await cli("batch", "bankcard", pattern, "--out", str(out), emu=emulator)
    assert run.returncode == 0, run.stderr
    assert len(read_results(out)) == 4
    out = tmp_path / "one.jsonl"
    one = tmp_path / "imgs" / "a" / "0000.png"
    run = await cli("batch", "plate_number", str(one), "--out", str(out), emu=emulator)
    assert run.returncode == 0, run.stderr
    assert [r["path"] for r in read_results(out)] == [str(one)]


async def test_manifest_paths_are_relative_to_it_and_urls_pass_through(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    make_images(tmp_path / "imgs", 2)
    url = emulator.sample_url("idcard_back.png")
    manifest = tmp_path / "list.txt"
    manifest.write_text(f"# a comment\n\nimgs/0000.png\n  imgs/0001.png  \n{url}\n")
    out = tmp_path / "r.jsonl"
    run = await cli("batch", "idcard", str(manifest), "--out", str(out), emu=emulator, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    records = {r["path"]: r for r in read_results(out)}
    assert set(records) == {"imgs/0000.png", "imgs/0001.png", url}
    assert records[url]["result"] == {"type": "Back", "valid_date": "20171025-20271025"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shard", "0/3"], "--shard must be K/N with 1 <= K <= N"),
        (["--shard", "4/3"], "--shard must be K/N"),
        (["--shard", "x"], "--shard must be K/N"),
    ],
)
async def test_bad_batch_arguments(
    emulator: WeChatEmulator, tmp_path: Path, args: list[str], message: str
) -> None:
    make_images(tmp_path / "imgs", 1)
    run = await cli(
        "batch",
        "idcard",
        str(tmp_path / "imgs"),
        "--out",
        str(tmp_path / "r.jsonl"),
        *args,
        emu=emulator,
    )
    assert message in one_error_line(run, 2)  # a usage error


async def test_batch_refusals_before_anything_is_sent(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    make_images(tmp_path / "imgs", 2)
    out = tmp_path / "r.jsonl"
    run = await cli("batch", "passport", str(tmp_path / "imgs"), "--out", str(out), emu=emulator)
    assert "unknown endpoint 'passport'" in one_error_line(run, 2)
    run = await cli("batch", "idcard", str(tmp_path / "nope"), "--out", str(out), emu=emulator)
    assert "no such file or directory" in one_error_line(run)
    out.write_text('{"path": "x", "status": "ok"}\n')
    run = await cli("batch", "idcard", str(tmp_path / "imgs"), "--out", str(out), emu=emulator)
    assert "--resume" in one_error_line(run)
    binary = tmp_path / "binary.lst"
    binary.write_bytes(b"\xff\xfe\x00junk\n")
    run = await cli(
        "batch", "idcard", str(binary), "--out", str(tmp_path / "b.jsonl"), emu=emulator
    )
    assert "not UTF-8" in one_error_line(run)
    assert emulator.stats.total_ocr_calls == 0


async def test_resume_cuts_a_torn_last_line_and_retries_errors(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    paths = make_images(tmp_path / "imgs", 3)
    out = tmp_path / "r.jsonl"
    ok0 = {"path": str(paths[0]), "status": "ok", "result": {"type": "Front"}}
    err1 = {"path": str(paths[1]), "status": "error", "error": {"errcode": -1, "errmsg": "x"}}
    out.write_text(json.dumps(ok0) + "\n" + json.dumps(err1) + "\n" + '{"path": "torn", "sta')
    run = await cli(
        "batch", "idcard", str(tmp_path / "imgs"), "--out", str(out), "--resume", emu=emulator
    )
    assert run.returncode == 0, run.stderr
    records = read_results(out)
    assert len(records) == 4  # the two kept, then paths[1] again and paths[2]
    assert [r["path"] for r in records[2:]] in (
        [str(paths[1]), str(paths[2])],
        [str(paths[2]), str(paths[1])],
    )
    assert emulator.stats.ocr_calls["idcard"] == 2  # paths[0] was not sent again


async def test_plain_progress_lines_when_not_a_terminal(tmp_path: Path) -> None:
    make_images(tmp_path / "imgs", 100)
    async with WeChatEmulator(latency=0.02) as emu:
        run = await cli(
            "batch",
            "idcard",
            str(tmp_path / "imgs"),
            "--out",
            str(tmp_path / "r.jsonl"),
            "--concurrency",
            "2",
            emu=emu,
            WXOCR_PROGRESS_INTERVAL="0.1",
        )
    assert run.returncode == 0, run.stderr
    progress = [line for line in run.lines() if "/100 (" in line]
    assert progress, run.stderr
    assert "ETA" in progress[0] and "/s" in progress[0]
    assert run.lines()[-1].startswith("wxocr: 100 ok, 0 error, 0 not attempted in ")


def test_a_live_bar_on_a_terminal(tmp_path: Path) -> None:
    """stderr on a pseudo-terminal: rich's bar, then the summary."""
    import pty
    import subprocess

    pytest.importorskip("rich")
    make_images(tmp_path / "imgs", 30)

    async def scenario() -> bytes:
        async with WeChatEmulator() as emu:
            controller, terminal = pty.openpty()
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "wxocr_async", "batch", "idcard", str(tmp_path / "imgs"),
                "--out", str(tmp_path / "r.jsonl"),
                env={**cli_env(emu), "COLUMNS": "120", "TERM": "xterm"},
                stdout=subprocess.DEVNULL, stderr=terminal, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            os.close(terminal)
            loop = asyncio.get_running_loop()
            chunks = []
            async with asyncio.timeout(HANG_GUARD):
                while True:
                    try:
                        chunk = await loop.run_in_executor(None, os.read, controller, 65536)
                    except OSError:  # EIO: the child closed the terminal
                        break
                    if not chunk:
                        break
                    chunks.append(chunk)
                assert await proc.wait() == 0
            os.close(controller)
            output = b"".join(chunks)
            assert emu.secret.encode() not in output
            return output

    output = asyncio.run(scenario()).decode("utf-8", "replace")
    assert "30/30" in output and "━" in output  # the bar, complete
    assert "30 ok, 0 error, 0 not attempted" in output
