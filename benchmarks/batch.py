"""``wxocr batch`` against the library's own ``asyncio.gather`` loop, in one run.

The emulator runs in its own process with 50 ms per OCR reply. For 1 000 and 10 000
inputs (small distinct PNG files listed in a manifest), each variant runs in a fresh
process, interleaved over the rounds:

* **batch**: ``wxocr batch idcard MANIFEST --out FILE --concurrency C`` (results written
  as JSONL, one line per input, progress off a terminal);
* **gather**: ``OcrClient(concurrency=C)`` and ``asyncio.gather`` over every input at
  once, the results kept in memory: the plain loop a user would write.

Reported: items/s (median of the rounds) and the ratio batch/gather at each size, and
each variant's peak RSS (``ru_maxrss`` of its process) at both sizes: the batch streams,
so its memory should not grow with the number of inputs.

    .venv/bin/python benchmarks/batch.py [--rounds 3] [--concurrency 32] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1_000, 10_000)
LATENCY = 0.05


def gather_child(manifest: str, concurrency: int) -> None:
    """The baseline, run in its own process: every input through asyncio.gather."""
    import wxocr_async as wx

    paths = Path(manifest).read_text().split()
    env = os.environ

    async def main() -> int:
        async with wx.OcrClient(
            env["WXOCR_APPID"],
            env["WXOCR_SECRET"],
            base_url=env["WXOCR_BASE_URL"],
            concurrency=concurrency,
        ) as ocr:
            results = await asyncio.gather(*(ocr.idcard(p) for p in paths), return_exceptions=True)
        return sum(1 for r in results if not isinstance(r, BaseException))

    ok = asyncio.run(main())
    if ok != len(paths):
        sys.exit(f"gather: {len(paths) - ok} calls failed")


def start_emulator() -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wxocr_async", "emulator", "--port", "0",
         "--latency", str(LATENCY)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "WeChat emulator on URL  appid=...  secret=..."
    words = dict(w.split("=", 1) for w in line.split() if "=" in w)
    base_url = line.split()[3]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WXOCR_")},
        "WXOCR_BASE_URL": base_url,
        "WXOCR_APPID": words["appid"],
        "WXOCR_SECRET": words["secret"],
    }
    return proc, env


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one fresh process."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{argv[3:5]} failed ({proc.returncode}): {err[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def run(rounds: int, concurrency: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="wxocr-batch-bench-"))
    images = work / "imgs"
    images.mkdir()
    paths = []
    for i in range(max(SIZES)):
        path = images / f"{i:05d}.png"
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + f"image {i}".encode() + bytes(2000))
        paths.append(str(path))
    manifests = {}
    for size in SIZES:
        manifests[size] = work / f"manifest-{size}.txt"
        manifests[size].write_text("\n".join(paths[:size]) + "\n")
    emulator, env = start_emulator()
    figures: dict[str, Any] = {f"{v}-{s}": [] for v in ("batch", "gather") for s in SIZES}
    try:
        for round_ in range(rounds):
            order = ["batch", "gather"] if round_ % 2 == 0 else ["gather", "batch"]
            for size in SIZES:
                for variant in order:
                    out = work / f"out-{variant}-{size}-{round_}.jsonl"
                    if variant == "batch":
                        argv = [sys.executable, "-m", "wxocr_async", "batch", "idcard",
                                str(manifests[size]), "--out", str(out),
                                "--concurrency", str(concurrency)]  # fmt: skip
                    else:
                        argv = [sys.executable, __file__, "--gather-child",
                                str(manifests[size]), str(concurrency)]  # fmt: skip
                    seconds, rss = measure(argv, env)
                    figures[f"{variant}-{size}"].append(
                        {"seconds": seconds, "items_per_s": size / seconds, "rss_mb": rss}
                    )
                    print(f"round {round_ + 1} {variant:6} {size:6}: {size / seconds:7.1f} "
                          f"items/s, peak RSS {rss:6.1f} MB", flush=True)  # fmt: skip
    finally:
        emulator.terminate()
        emulator.wait(10)
    return figures


def report(figures: dict[str, Any], concurrency: int) -> None:
    def median(key: str, field: str) -> float:
        return statistics.median(r[field] for r in figures[key])

    print(f"\nwxocr batch vs asyncio.gather, concurrency {concurrency}, emulator latency "
          f"{LATENCY * 1000:.0f} ms (medians)")  # fmt: skip
    print(f"{'inputs':>8} {'batch items/s':>14} {'gather items/s':>15} {'ratio':>6} "
          f"{'batch RSS':>10} {'gather RSS':>11}")  # fmt: skip
    for size in SIZES:
        b, g = median(f"batch-{size}", "items_per_s"), median(f"gather-{size}", "items_per_s")
        print(f"{size:>8} {b:>14.1f} {g:>15.1f} {b / g:>6.2f} "
              f"{median(f'batch-{size}', 'rss_mb'):>8.1f}MB "
              f"{median(f'gather-{size}', 'rss_mb'):>9.1f}MB")  # fmt: skip
    small, large = SIZES
    growth = median(f"batch-{large}", "rss_mb") - median(f"batch-{small}", "rss_mb")
    print(f"batch peak RSS, {large} inputs minus {small}: {growth:+.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--json", help="write the raw figures here")
    parser.add_argument("--gather-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.gather_child:
        gather_child(args.gather_child[0], int(args.gather_child[1]))
        return
    figures = run(args.rounds, args.concurrency)
    report(figures, args.concurrency)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
