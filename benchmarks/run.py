"""Run the benchmark: every client in its own fresh process against the emulator in its
own process, interleaved, repeated; medians and ratios to the bare aiohttp floor.

    python benchmarks/run.py [--rounds 3] [--quick] [--json results.json]

Needs the [bench] extra (httpx, wechatpy[cryptography]==1.8.18).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CPUS = sorted(os.sched_getaffinity(0))
# The emulator gets the last core to itself and the clients the others, so that each
# client's figures are its own, not its share of a core fought over with the server.
PINNED = shutil.which("taskset") is not None and len(CPUS) >= 2
SERVER_CPUS = [CPUS[-1]] if PINNED else CPUS
CLIENT_CPUS = CPUS[:-1] if PINNED else CPUS


def pinned(cmd: list[str], cpus: list[int]) -> list[str]:
    return ["taskset", "-c", ",".join(map(str, cpus)), *cmd] if PINNED else cmd


CLIENTS = ["floor", "wxocr_async", "httpx", "wechatpy"]
# (name, in flight, server latency s, requests, quick requests)
SCENARIOS = [
    ("sequential", 1, 0.0, 600, 150),
    ("32 in flight", 32, 0.0, 3000, 600),
    ("64 in flight, 50 ms", 64, 0.05, 3000, 640),
]


class Emulator:
    """``python -m wxocr_async emulator`` in its own process."""

    def __init__(self, latency: float) -> None:
        self.proc = subprocess.Popen(
            pinned(
                [
                    sys.executable,
                    "-m",
                    "wxocr_async",
                    "emulator",
                    "--port",
                    "0",
                    "--latency",
                    str(latency),
                ],
                SERVER_CPUS,
            ),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # "WeChat emulator on http://127.0.0.1:PORT ..."
        self.base_url = line.split()[3]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def measure(
    client: str, scenario: str, base_url: str, requests: int, in_flight: int
) -> dict[str, Any]:
    out = subprocess.run(
        pinned(
            [
                sys.executable,
                str(HERE / "clients.py"),
                client,
                scenario,
                base_url,
                str(requests),
                str(in_flight),
            ],
            CLIENT_CPUS,
        ),
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="fewer requests (a smoke run)")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()

    emulators = {lat: Emulator(lat) for lat in {s[2] for s in SCENARIOS}}
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    extra: dict[str, Any] = {}
    try:
        for rnd in range(args.rounds):
            for name, in_flight, latency, n, quick_n in SCENARIOS:
                order = CLIENTS[rnd % len(CLIENTS) :] + CLIENTS[: rnd % len(CLIENTS)]
                for client in order:  # interleaved, a different client first each round
                    r = measure(
                        client,
                        name,
                        emulators[latency].base_url,
                        quick_n if args.quick else n,
                        in_flight,
                    )
                    runs.setdefault((client, name), []).append(r)
                    print(
                        f"round {rnd + 1} {name:>22} {client:>12}: {r['rps']:7.0f} req/s "
                        f"{r['cpu_us']:7.0f} us CPU/req {r['rss_mb']:6.1f} MB",
                        file=sys.stderr,
                    )
        cold_n = 2000 if args.quick else 10_000
        fresh = Emulator(0.0)
        try:
            extra["cold"] = {
                c: measure(c, "cold", fresh.base_url, cold_n, 32 if c == "wechatpy" else cold_n)
                for c in ("wxocr_async", "wechatpy")
            }
        finally:
            fresh.stop()
        extra["memory"] = measure(
            "wxocr_async", "memory", emulators[0.0].base_url, 3000 if args.quick else 10_000, 32
        )
    finally:
        for emu in emulators.values():
            emu.stop()

    print(report(runs, extra, args))
    if args.json:
        args.json.write_text(
            json.dumps({"runs": {f"{c}|{s}": v for (c, s), v in runs.items()}, **extra}, indent=1)
        )
    return 0


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def report(
    runs: dict[tuple[str, str], list[dict[str, Any]]],
    extra: dict[str, Any],
    args: argparse.Namespace,
) -> str:
    lines = [
        f"machine: {platform.machine()}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; aiohttp {version('aiohttp')}, "
        f"httpx {version('httpx')}, wechatpy {version('wechatpy')}",
        f"date: {time.strftime('%Y-%m-%d')}; command: python benchmarks/run.py "
        f"--rounds {args.rounds}{' --quick' if args.quick else ''}; median of {args.rounds} rounds",
        f"cores: {len(CPUS)}; "
        + (
            f"emulator pinned to CPU {SERVER_CPUS}, clients to CPU {CLIENT_CPUS}"
            if PINNED
            else "not pinned (no taskset, or a single core): client and emulator share"
        ),
        "",
        f"{'scenario':<22} {'client':<12} {'req/s':>7} {'ratio':>6} {'CPU us/req':>10} "
        f"{'ratio':>6} {'peak RSS MB':>11} {'vs floor':>8}",
    ]
    for name, *_ in SCENARIOS:
        floor = runs[("floor", name)]
        f_rps, f_cpu, f_rss = median(floor, "rps"), median(floor, "cpu_us"), median(floor, "rss_mb")
        for client in CLIENTS:
            r = runs[(client, name)]
            rps, cpu, rss = median(r, "rps"), median(r, "cpu_us"), median(r, "rss_mb")
            lines.append(
                f"{name:<22} {client:<12} {rps:7.0f} {rps / f_rps:5.2f}x {cpu:10.0f} "
                f"{cpu / f_cpu:5.2f}x {rss:11.1f} {rss - f_rss:+7.1f}"
            )
    cold = extra["cold"]
    lines += ["", "cold token cache, all calls at once:"]
    for client, c in cold.items():
        lines.append(
            f"  {client:<12} {c['requests']} calls: {c['token_fetches']} token fetch(es), first "
            f"result {c['first_result_s'] * 1000:.0f} ms, all {c['all_results_s']:.1f} s"
        )
    mem = extra["memory"]
    lines.append(
        f"memory (wxocr_async, 32 in flight): peak RSS {mem['rss_after_1k_mb']:.1f} MB after "
        f"1 000 calls, {mem['rss_after_all_mb']:.1f} MB after {mem['requests']:,}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
