"""The README's first command (the offline ID card read), the demo, and the command line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest


def test_demo_prints_typed_result_and_both_namings() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "wxocr_async", "demo", "idcard_back.png", "vehicle_license.png"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "typed:  IdCardResult(type='Back', valid_date='20171025-20271025')" in out
    snake = [json.loads(line[7:]) for line in out.splitlines() if line.startswith("snake:")]
    camel = [json.loads(line[7:]) for line in out.splitlines() if line.startswith("camel:")]
    assert snake[0] == {"type": "Back", "valid_date": "20171025-20271025"}
    assert camel[0] == {"type": "Back", "validDate": "20171025-20271025"}
    assert camel[1]["cardPositionFront"]["pos"]["leftTop"] == {"x": 119, "y": 2925}
    assert "token fetches: 1, OCR calls: 2" in out


def test_demo_rejects_unknown_sample() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "wxocr_async", "demo", "selfie.png"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "unknown sample 'selfie.png'" in proc.stderr


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wxocr_async", *args], capture_output=True, text=True, timeout=60
    )


def test_no_subcommand_prints_help_as_a_usage_error() -> None:
    proc = run()
    assert proc.returncode == 2 and "usage: wxocr" in proc.stderr
    assert "demo" in proc.stderr and "emulator" in proc.stderr


def test_version() -> None:
    import wxocr_async

    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"wxocr_async {wxocr_async.__version__}"


def test_a_port_in_use_is_one_clear_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run("emulator", "--port", str(port))
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_demo_says_its_replies_are_canned() -> None:
    proc = run("demo", "menu.png")
    assert proc.returncode == 0 and "not recognition" in proc.stdout


def test_the_readmes_main_job_prints_what_the_readme_shows() -> None:
    """README.rst's first command, and the output it shows under it, checked verbatim."""
    from pathlib import Path

    pytest.importorskip("rapidocr")
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.rst").read_text(encoding="utf-8")
    command = next(line for line in readme.splitlines() if "wxocr idcard" in line)
    sample = command.split("wxocr idcard ", 1)[1].strip()
    shown = readme.split("would (the photo is a", 1)[1].split("::\n\n", 1)[1].split("\n\n")[0]
    shown_lines = [line[3:] for line in shown.splitlines()]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WXOCR_")}
    proc = subprocess.run(
        [sys.executable, "-m", "wxocr_async", "idcard", sample],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == shown_lines[0]
    assert proc.stdout.strip().splitlines() == shown_lines[1:]


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_load_neither_the_emulator_nor_aiohttp_web(flag: str) -> None:
    code = (
        "import sys\n"
        "from wxocr_async.cli import main\n"
        f"try:\n    main([{flag!r}])\nexcept SystemExit:\n    pass\n"
        "heavy = ('aiohttp.web', 'wxocr_async.emulator', 'wxocr_async.local', 'rapidocr')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.stderr.strip().splitlines()[-1] == "[]"


def test_the_demo_names_the_emulators_samples() -> None:
    from wxocr_async.cli.parser import DEMO_SAMPLES
    from wxocr_async.emulator import SAMPLE_REPLIES

    assert set(DEMO_SAMPLES) == set(SAMPLE_REPLIES)
