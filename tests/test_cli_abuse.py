"""``wxocr batch`` under abuse (issue #19): names that are not UTF-8, two runs on one
``--out``, a full disk, an unreachable Redis, a file of another endpoint, no inputs, every
endpoint name, the exit statuses, and a Kubernetes Indexed Job's ``--shards``.

Subprocesses against the emulator, as in tests/test_cli.py (whose helpers these are); the
offline engine's SIGKILL case is in tests/test_local.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

import wxocr_async as wx
from wxocr_async.emulator import Fault, WeChatEmulator, sample_image
from wxocr_async.endpoints import BY_METHOD, MENU
from wxocr_async.jobs import result_line, shard_of

from .conftest import ROOT
from .test_cli import (
    HANG_GUARD,
    cli,
    cli_env,
    finish,
    make_images,
    one_error_line,
    read_results,
    start_cli,
    write_manifest,
)

# -- nothing lost, nothing done twice ----------------------------------------------------


def make_named_images(folder: Path, names: list[bytes]) -> None:
    for i, name in enumerate(names):
        with open(os.path.join(os.fsencode(folder), name), "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + f"odd {i}".encode())


async def test_a_name_that_is_not_utf8_is_recorded_exactly(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    folder = tmp_path / "imgs"
    good = make_images(folder, 8)
    odd = [b"z_\xff.png", b"caf\xe9 \xe2\x80\xa8.png"]  # Latin-1, then U+2028 in UTF-8
    make_named_images(folder, odd)
    out = tmp_path / "r.jsonl"
    args = ("batch", "idcard", str(folder), "--out", str(out))
    run = await cli(*args, emu=emulator)
    assert run.returncode == 0, run.stderr
    records = read_results(out)  # valid JSON, line by line
    names = {os.fsencode(r["path"]) for r in records}
    assert names == {
        os.path.join(os.fsencode(folder), n) for n in [*odd, *(os.fsencode(p.name) for p in good)]
    }
    assert {r["status"] for r in records} == {"ok"} and len(records) == 10
    # resume: every one already done, nothing sent again
    run = await cli(*args, "--resume", emu=emulator)
    assert run.returncode == 0, run.stderr
    assert "10 inputs already ok" in run.stderr
    assert emulator.stats.ocr_calls["idcard"] == 10 and len(read_results(out)) == 10


def test_a_result_that_cannot_be_written_out_is_that_items_error() -> None:
    class Unwritable:
        def to_dict(self, naming: str) -> dict[str, object]:
            return {"x": object()}  # not JSON

    outcome: wx.Outcome[Any] = wx.Outcome("a.png", "ok", result=cast(Any, Unwritable()))
    record = json.loads(result_line("a.png", outcome, "snake", "idcard"))
    assert record["status"] == "error" and record["endpoint"] == "idcard"
    assert "could not be recorded" in record["error"]["errmsg"] and "result" not in record


async def test_a_second_run_on_one_out_is_refused_and_a_dead_ones_lock_is_not(
    tmp_path: Path,
) -> None:
    paths = make_images(tmp_path / "imgs", 60)
    out = tmp_path / "r.jsonl"
    args = ("batch", "idcard", str(tmp_path / "imgs"), "--out", str(out), "--concurrency", "2")
    async with WeChatEmulator(latency=0.05) as emu:
        first = await start_cli(*args, env=cli_env(emu))
        try:
            async with asyncio.timeout(HANG_GUARD):  # the first is under way: it holds --out
                while emu.stats.ocr_results["idcard"] < 4:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            for extra in ((), ("--resume",)):
                second = await cli(*args, *extra, emu=emu)
                line = one_error_line(second)
                assert str(out) in line and "being written by another run" in line
        finally:
            first.kill()  # SIGKILL: its lock dies with it
            await finish(first, emu)
        calls = emu.stats.ocr_calls["idcard"]
        assert calls < 60  # killed mid-way
        third = await cli(*args, "--resume", emu=emu)
        assert third.returncode == 0, third.stderr
    ok = Counter(r["path"] for r in read_results(out) if r["status"] == "ok")
    assert set(ok) == {str(p) for p in paths} and set(ok.values()) == {1}


@contextlib.contextmanager
def tiny_tmpfs(where: Path, size: str = "1m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` (skipped where mounting is not permitted,
    but never under CI)."""
    where.mkdir()
    mount = shutil.which("mount")
    done = (
        subprocess.run(
            [mount, "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
            capture_output=True,
            timeout=60,
        )
        if mount
        else None
    )
    if done is None or done.returncode != 0:
        reason = "mounting a tmpfs is not permitted here"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI runs as root)")
        pytest.skip(reason)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], timeout=60, check=False)


async def test_a_full_disk_ends_in_one_line_and_resume_finishes(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    paths = make_images(tmp_path / "imgs", 200)
    with tiny_tmpfs(tmp_path / "disk") as disk:
        filler = disk / "filler"
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        filler.write_bytes(bytes(free - 12 * 1024))  # room for some 50 lines of 200
        out = disk / "r.jsonl"
        args = ("batch", "idcard", str(tmp_path / "imgs"), "--out", str(out))
        run = await cli(*args, "--concurrency", "1", emu=emulator)
        assert run.returncode == 1
        assert run.lines()[-1] == (
            f"wxocr: error: cannot write results to {out}: No space left on device"
        )
        written = out.read_bytes()
        assert 0 < written.count(b"\n") < 200
        filler.unlink()
        run = await cli(*args, "--resume", emu=emulator)
        assert run.returncode == 0, run.stderr
        records = read_results(out)  # whole lines only: the torn one was cut off
    ok = Counter(r["path"] for r in records if r["status"] == "ok")
    assert set(ok) == {str(p) for p in paths} and set(ok.values()) == {1}
    assert len(records) == 200


async def test_an_unreachable_redis_stops_before_any_input(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    manifest = write_manifest(tmp_path / "m.txt", [f"{i}.png" for i in range(5000)])
    out = tmp_path / "r.jsonl"
    url = f"redis://:hunter2-redis-password@127.0.0.1:{port}/0"
    run = await cli(
        "batch", "idcard", str(manifest), "--out", str(out), emu=emulator, WXOCR_REDIS_URL=url
    )
    line = one_error_line(run)
    assert "Redis" in line and f"127.0.0.1:{port}" in line
    assert "hunter2" not in run.stderr
    assert emulator.stats.total_ocr_calls == 0 and emulator.stats.token_fetches == 0
    assert not out.exists()


async def test_resume_into_a_file_of_another_endpoint_is_refused(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    make_images(tmp_path / "imgs", 5)
    out = tmp_path / "r.jsonl"
    run = await cli("batch", "idcard", str(tmp_path / "imgs"), "--out", str(out), emu=emulator)
    assert run.returncode == 0, run.stderr
    assert {r["endpoint"] for r in read_results(out)} == {"idcard"}
    run = await cli(
        "batch", "menu", str(tmp_path / "imgs"), "--out", str(out), "--resume", emu=emulator
    )
    line = one_error_line(run, 2)
    assert "'idcard'" in line and "'menu'" in line and str(out) in line
    assert emulator.stats.ocr_calls["menu"] == 0 and len(read_results(out)) == 5
    # one endpoint by another of its names is the same endpoint
    out2 = tmp_path / "v.jsonl"
    for name in ("driving", "vehicle-license", "vehicle_license"):
        run = await cli(
            "batch", name, str(tmp_path / "imgs"), "--out", str(out2), "--resume", emu=emulator
        )
        assert run.returncode == 0, run.stderr
    assert emulator.stats.ocr_calls["driving"] == 5
    assert {r["endpoint"] for r in read_results(out2)} == {"driving"}


@pytest.mark.parametrize("kind", ["empty folder", "glob", "manifest of comments"])
async def test_no_inputs_is_an_error_and_makes_no_file(
    emulator: WeChatEmulator, tmp_path: Path, kind: str
) -> None:
    source = {
        "empty folder": tmp_path / "empty",
        "glob": tmp_path / "*.nothing",
        "manifest of comments": tmp_path / "m.txt",
    }[kind]
    (tmp_path / "empty").mkdir()
    (tmp_path / "m.txt").write_text("# nothing yet\n\n")
    out = tmp_path / "r.jsonl"
    run = await cli("batch", "idcard", str(source), "--out", str(out), emu=emulator)
    assert one_error_line(run) == f"wxocr: error: no inputs matched {source}"
    assert not out.exists()


# -- one set of names, one set of exit statuses ------------------------------------------


@pytest.mark.parametrize(
    ("name", "wire", "sample"),
    [
        ("comm", "comm", "printed_text.png"),
        ("printed_text", "comm", "printed_text.png"),
        ("platenum", "platenum", "plate_number.png"),
        ("plate_number", "platenum", "plate_number.png"),
        ("driving", "driving", "vehicle_license.png"),
        ("drivinglicense", "drivinglicense", "driver_license.png"),
        ("bizlicense", "bizlicense", "business_license.png"),
    ],
)
async def test_every_name_of_an_endpoint_works(
    emulator: WeChatEmulator, tmp_path: Path, name: str, wire: str, sample: str
) -> None:
    run = await cli(name, str(sample_image(sample)), emu=emulator)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)
    shutil.copy(sample_image(sample), tmp_path / sample)
    out = tmp_path / "r.jsonl"
    run = await cli("batch", name, str(tmp_path / sample), "--out", str(out), emu=emulator)
    assert run.returncode == 0, run.stderr
    assert [r["endpoint"] for r in read_results(out)] == [wire]
    assert emulator.stats.ocr_calls[wire] == 2


async def test_help_lists_each_endpoint_once() -> None:
    run = await cli("--help", emu=None)
    entries = re.findall(r"^ {4}([\w-]+)(?: \(([^)]*)\))?", run.stdout, re.MULTILINE)
    for method, endpoint in BY_METHOD.items():
        [names] = [
            {command, *filter(None, aliases.split(", "))}
            for command, aliases in entries
            if endpoint.name == command or endpoint.name in aliases.split(", ")
        ]
        assert names == {method, method.replace("_", "-"), endpoint.name}
    run = await cli("batch", "--help", emu=None)
    endpoints = run.stdout.split("one of:")[1].split(";")[0]
    words = Counter(re.findall(r"[\w-]+", endpoints))
    assert all(n == 1 for n in words.values()) and words["comm"] == words["printed-text"] == 1
    assert "JOB_COMPLETION_INDEX" in run.stdout and "75" in run.stdout


async def test_mode_only_where_the_endpoint_takes_one(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    shutil.copy(sample_image("menu.png"), tmp_path / "menu.png")
    out = tmp_path / "r.jsonl"
    run = await cli(
        "batch", "menu", str(tmp_path), "--out", str(out), "--mode", "photo", emu=emulator
    )
    assert "takes no --mode" in one_error_line(run, 2) and not out.exists()
    run = await cli("menu", str(tmp_path / "menu.png"), "--mode", "photo", emu=emulator)
    assert run.returncode == 2  # argparse: menu has no --mode at all
    assert emulator.stats.total_ocr_calls == 0


async def test_the_library_refuses_a_mode_the_endpoint_does_not_take(
    ocr: wx.OcrClient, emulator: WeChatEmulator
) -> None:
    image = sample_image("menu.png").read_bytes()
    with pytest.raises(wx.InvalidInput, match="cv/ocr/menu takes no mode"):
        ocr.batch("menu", [image], mode="photo")
    with pytest.raises(wx.InvalidInput, match="takes no mode"):
        await ocr.request_ocr(MENU, image=image, mode="scan")
    outcomes = [o async for o in ocr.batch("vehicle-license", [image], mode="photo")]
    assert [o.status for o in outcomes] == ["ok"]
    assert emulator.stats.ocr_calls == {"driving": 1}


async def test_the_2mb_refusal_says_the_limit_once_and_the_fix_where_it_is_read(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(wx.MAX_IMAGE_BYTES))
    line = one_error_line(await cli("idcard", str(big), emu=emulator))
    assert line.count("2 MB") == 1 and "--shrink" in line and "OcrClient" not in line
    with pytest.raises(wx.ImageTooLarge) as info:
        async with wx.OcrClient(emulator.appid, emulator.secret, base_url=emulator.base_url) as c:
            await c.idcard(big)
    assert "OcrClient" not in info.value.errmsg  # an HTTP reply carries errmsg
    assert any("shrink_images=True" in note for note in info.value.__notes__)


# -- a Kubernetes Indexed Job worker -----------------------------------------------------


async def test_shards_from_the_job_completion_index(tmp_path: Path) -> None:
    paths = make_images(tmp_path / "imgs", 40)
    assert len({shard_of(str(p), 3) for p in paths}) == 3
    (tmp_path / "results").mkdir()
    pattern = str(tmp_path / "results" / "part-{shard}.jsonl")
    args = ("batch", "idcard", str(tmp_path / "imgs"), "--out", pattern, "--shards", "3")
    async with WeChatEmulator(latency=0.01) as emu:
        procs = [
            await start_cli(*args, "--resume", env=cli_env(emu, JOB_COMPLETION_INDEX=str(i)))
            for i in range(3)
        ]
        runs = [await finish(p, emu) for p in procs]
        assert [r.returncode for r in runs] == [0, 0, 0], [r.stderr for r in runs]
        assert emu.stats.ocr_calls["idcard"] == 40
    for k in (1, 2, 3):
        part = read_results(tmp_path / "results" / f"part-{k}.jsonl")
        assert part and all(shard_of(r["path"], 3) == k for r in part)
    assert sorted(
        r["path"] for k in (1, 2, 3) for r in read_results(tmp_path / "results" / f"part-{k}.jsonl")
    ) == sorted(str(p) for p in paths)


@pytest.mark.parametrize(
    ("args", "index", "message"),
    [
        (["--shards", "3"], None, "JOB_COMPLETION_INDEX, which is not set"),
        (["--shards", "3"], "3", "not an index from 0 to 2"),
        (["--shards", "3"], "-1", "not an index from 0 to 2"),
        (["--shards", "3"], "x", "not an index from 0 to 2"),
        (["--shards", "3"], "1" * 5000, "not an index from 0 to 2"),
        (["--shards", "3", "--shard", "1/3"], "0", "not allowed with argument"),
        ([], None, "--out has {shard} but there is no --shard or --shards"),
    ],
)
async def test_bad_shards_are_usage_errors(
    emulator: WeChatEmulator,
    tmp_path: Path,
    args: list[str],
    index: str | None,
    message: str,
) -> None:
    make_images(tmp_path / "imgs", 2)
    env = {} if index is None else {"JOB_COMPLETION_INDEX": index}
    out = str(tmp_path / "part-{shard}.jsonl")
    proc = await start_cli(
        "batch", "idcard", str(tmp_path / "imgs"), "--out", out, *args, env=cli_env(emulator, **env)
    )
    run = await finish(proc, emulator)
    assert run.returncode == 2 and message in run.stderr
    assert emulator.stats.total_ocr_calls == 0
    assert not [p for p in os.listdir(tmp_path) if p.startswith("part-")]


def readme_job() -> dict[str, Any]:
    """The Indexed Job README.rst shows."""
    import yaml

    lines = (ROOT / "README.rst").read_text("utf-8").splitlines()
    start = lines.index(".. code-block:: yaml") + 2
    body = []
    for line in lines[start:]:
        if line.strip() and not line.startswith("   "):
            break
        body.append(line[3:])
    job: dict[str, Any] = yaml.safe_load("\n".join(body))
    return job


async def test_the_readme_job_is_one_command_line_for_every_pod(
    redis_url: str, tmp_path: Path
) -> None:
    job = readme_job()
    spec = job["spec"]
    assert (job["kind"], spec["completionMode"]) == ("Job", "Indexed")
    [container] = spec["template"]["spec"]["containers"]
    command = container["command"]
    assert command[0] == "wxocr" and "--resume" in command
    count = spec["completions"]
    assert command[command.index("--shards") + 1] == str(count)
    [no_retry] = [r for r in spec["podFailurePolicy"]["rules"] if "onExitCodes" in r]
    assert 75 in no_retry["onExitCodes"]["values"] and no_retry["action"] == "FailIndex"
    assert {e["name"] for e in container["env"]} == {
        "WXOCR_APPID",
        "WXOCR_SECRET",
        "WXOCR_REDIS_URL",
    }
    assert all("secretKeyRef" in e["valueFrom"] for e in container["env"])
    # every pod runs the command as written (/data here, the shared volume there)
    data = tmp_path / "data"
    paths = make_images(data / "imgs", 50)
    write_manifest(data / "manifest.txt", [f"imgs/{p.name}" for p in paths])
    (data / "results").mkdir()
    args = [part.replace("/data", str(data)) for part in command[1:]]
    appid = f"wx{uuid.uuid4().hex[:16]}"  # quota keys of this test's own
    async with WeChatEmulator(appid=appid, latency=0.01) as emu:
        env = {"WXOCR_REDIS_URL": redis_url}
        procs = [
            await start_cli(*args, env=cli_env(emu, JOB_COMPLETION_INDEX=str(i), **env))
            for i in range(count)
        ]
        runs = [await finish(p, emu) for p in procs]
        assert [r.returncode for r in runs] == [0] * count, [r.stderr for r in runs]
        assert emu.stats.token_fetches == 1  # one token for every pod, through Redis
        # a pod retried after it finished does nothing again
        again = await start_cli(*args, env=cli_env(emu, JOB_COMPLETION_INDEX="0", **env))
        assert (await finish(again, emu)).returncode == 0
        assert emu.stats.ocr_calls["idcard"] == 50
    parts = sorted((data / "results").iterdir())
    assert [p.name for p in parts] == [f"part-{k}.jsonl" for k in range(1, count + 1)]
    records = [r for p in parts for r in read_results(p)]
    assert sorted(r["path"] for r in records) == sorted(f"imgs/{p.name}" for p in paths)


# -- what a red team found -------------------------------------------------------------


async def test_out_naming_an_input_or_the_source_is_never_written(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    [image] = make_images(tmp_path / "imgs", 1)
    before = image.read_bytes() + b"\n and more after a newline"
    image.write_bytes(before)
    run = await cli(
        "batch", "idcard", str(tmp_path / "imgs"), "--out", str(image), "--resume", emu=emulator
    )
    assert "is not a results file" in one_error_line(run, 2)
    manifest = write_manifest(tmp_path / "list.txt", [image.name])
    listed = manifest.read_bytes()
    for extra in ((), ("--resume",)):
        run = await cli(
            "batch", "idcard", str(manifest), "--out", str(manifest), *extra, emu=emulator
        )
        assert "--out is the source itself" in one_error_line(run, 2)
    assert image.read_bytes() == before and manifest.read_bytes() == listed
    assert emulator.stats.total_ocr_calls == 0


async def test_out_that_is_not_a_regular_file_is_refused_at_once(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    make_images(tmp_path / "imgs", 1)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # nobody reads it: opening it for writing would wait for ever
    for out in (str(fifo), "/dev/full", "/dev/null"):
        run = await cli("batch", "idcard", str(tmp_path / "imgs"), "--out", out, emu=emulator)
        assert "is not a regular file" in one_error_line(run)
    assert emulator.stats.total_ocr_calls == 0


async def test_a_redis_url_that_does_not_parse_never_shows_its_password(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    make_images(tmp_path / "imgs", 1)
    for url in ("redis://default:S3cretPW/0", "redis://:Se/cretPW@127.0.0.1:6379/0"):
        run = await cli(
            "batch", "idcard", str(tmp_path / "imgs"), "--out", str(tmp_path / "r.jsonl"),
            "--store", url, emu=emulator,
        )  # fmt: skip
        assert "not a Redis URL" in one_error_line(run)
        assert "S3cret" not in run.stderr and "cretPW" not in run.stderr


async def test_a_closed_or_full_stderr_stops_no_batch(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    make_images(tmp_path / "imgs", 12)
    for redirect in ("2>&-", "2>/dev/full"):
        out = tmp_path / f"r{len(redirect)}.jsonl"
        proc = await asyncio.create_subprocess_shell(
            f'exec "$PY" -m wxocr_async batch idcard imgs --out {out.name} --concurrency 2 '
            f"{redirect}",
            cwd=tmp_path,
            env={**cli_env(emulator), "PY": sys.executable, "WXOCR_PROGRESS_INTERVAL": "0.001"},
        )
        async with asyncio.timeout(HANG_GUARD):
            assert await proc.wait() == 0
        assert Counter(r["status"] for r in read_results(out)) == {"ok": 12}


async def test_an_infinite_number_in_a_reply_never_reaches_the_results(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    make_images(tmp_path / "imgs", 1)
    reply = b'{"errcode": 0, "type": "Front", "weird": 1e999}'
    emulator.push_faults("idcard", *[Fault.http(200, reply, "application/json")] * 5)  # retried
    out = tmp_path / "r.jsonl"
    run = await cli("batch", "idcard", str(tmp_path / "imgs"), "--out", str(out), emu=emulator)
    assert run.returncode == 1
    raw = out.read_text()
    assert "Infinity" not in raw and json.loads(raw)["status"] == "error"


async def test_a_manifest_with_a_bom_and_names_with_odd_blanks(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    make_images(tmp_path / "imgs", 2)
    odd = tmp_path / "imgs" / "\u3000c.png"  # an ideographic space begins the name
    odd.write_bytes((tmp_path / "imgs" / "0000.png").read_bytes())
    manifest = tmp_path / "list.txt"
    manifest.write_bytes(b"\xef\xbb\xbfimgs/0000.png\r\nimgs/0001.png\r\nimgs/\xe3\x80\x80c.png\n")
    out = tmp_path / "r.jsonl"
    run = await cli("batch", "idcard", str(manifest), "--out", str(out), emu=emulator)
    assert run.returncode == 0, run.stderr
    assert sorted(r["path"] for r in read_results(out)) == [
        "imgs/0000.png",
        "imgs/0001.png",
        "imgs/\u3000c.png",
    ]


async def test_a_bad_manifest_line_anywhere_is_refused_before_a_file_is_made(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    make_images(tmp_path / "imgs", 3)
    manifest = tmp_path / "list.txt"
    manifest.write_bytes(b"imgs/0000.png\nimgs/0001.png\nimgs/\xff.png\n")
    out = tmp_path / "r.jsonl"
    run = await cli("batch", "idcard", str(manifest), "--out", str(out), emu=emulator)
    assert "list.txt:3: not UTF-8" in one_error_line(run)
    assert not out.exists() and emulator.stats.total_ocr_calls == 0


async def test_names_and_urls_on_stderr_hide_what_they_must(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = tmp_path / "imgs"
    make_images(folder, 1)
    (folder / "a\nwxocr: 9 ok\rb.png").write_bytes((folder / "0000.png").read_bytes())
    env = cli_env(
        None,
        WXOCR_APPID="wx0123456789abcdef",
        WXOCR_SECRET="a-secret-that-never-shows",
        WXOCR_BASE_URL=f"http://user:proxyPASS@127.0.0.1:{port}/?key=queryPASS",
    )
    args = ("batch", "idcard", str(folder), "--out", str(tmp_path / "r.jsonl"), "--timeout", "5")
    run = await finish(await start_cli(*args, env=env))
    assert run.returncode == 1
    assert "proxyPASS" not in run.stderr and "queryPASS" not in run.stderr
    assert f"cannot reach http://127.0.0.1:{port}/" in run.stderr
    assert "\r" not in run.stderr and "a\\nwxocr: 9 ok\\rb.png" in run.stderr


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
async def test_a_timeout_that_is_no_time_is_a_usage_error(value: str) -> None:
    run = await cli("idcard", "x.png", "--timeout", value, emu=None)
    assert run.returncode == 2 and "--timeout" in run.stderr
