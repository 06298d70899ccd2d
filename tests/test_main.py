"""The README's first command: the demo through the emulator."""

from __future__ import annotations

import json
import subprocess
import sys


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
