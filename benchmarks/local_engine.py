"""The local engine measured: accuracy per endpoint, latency through ``wxocr serve``
beside RapidOCR's own time, and ``wxocr batch`` throughput against one core.

Images come from the synthetic document generator (``benchmarks/docgen``), drawn for this
run from ``--seed`` (the extractors were tuned on other seeds: report on one you did not
tune on). For every image, in the same run:

* **floor**: RapidOCR alone (no extraction, no HTTP), one image after another, with every
  core's ONNX Runtime threads as a ``wxocr serve`` worker has them: the floor of the
  latency;
* **one core**: the same, ONNX Runtime limited to one thread and the process pinned to one
  core: the single-core baseline for throughput;
* **serve**: ``wxocr serve --engine local`` (warm, one worker per core), one request at a
  time through ``OcrClient(base_url=...)``: the reply scored field by field against the
  generator's truth, and the latency per image;
* **batch**: ``wxocr batch ENDPOINT MANIFEST`` with no credentials (the embedded engine,
  one worker process per core), per endpoint; images/s over all of them.

    .venv/bin/python benchmarks/local_engine.py [--count 12] [--seed 2] [--json FILE]

``--count`` images per kind and style (9 kinds x 2 styles: 12 gives 216 images).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import attrs

if __package__ in (None, ""):  # run as a script: the repository's root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import real_images
from benchmarks.scoring import score

ROOT = Path(__file__).resolve().parent.parent
ENDPOINT_OF_KIND = {
    "idcard_front": "idcard",
    "idcard_back": "idcard",
    "bankcard": "bankcard",
    "driving": "driving",
    "drivinglicense": "drivinglicense",
    "bizlicense": "bizlicense",
    "comm": "comm",
    "platenum": "platenum",
    "menu": "menu",
}
# -- the three passes ----------------------------------------------------------------------


def floor_child(manifest: str, out: str, threads: str) -> None:
    """RapidOCR alone, one image after another, with the detector settings of the local
    engine and ``threads`` ONNX Runtime threads."""
    import cv2

    from wxocr_async.local import model

    model.load(int(threads))
    paths = Path(manifest).read_text().split()
    model.read_page(cv2.imread(paths[0]))  # warm
    times = {}
    started = time.perf_counter()
    for path in paths:
        t = time.perf_counter()
        model.read_page(cv2.imread(path))
        times[path] = time.perf_counter() - t
    total = time.perf_counter() - started
    Path(out).write_text(json.dumps({"times": times, "total": total}))


def run_floor(manifest: Path, work: Path, *, one_core: bool) -> dict[str, Any]:
    out = work / f"floor-{'one' if one_core else 'all'}.json"
    pin = ["taskset", "-c", "0"] if one_core and shutil.which("taskset") else []
    threads = 1 if one_core else (os.cpu_count() or 1)
    subprocess.run(
        [*pin, sys.executable, __file__, "--floor-child", str(manifest), str(out), str(threads)],
        check=True,
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": str(threads)},
    )
    result: dict[str, Any] = json.loads(out.read_text())
    return result


async def run_serve(images: list[tuple[str, Path]]) -> dict[str, tuple[dict[str, Any], float]]:
    import wxocr_async as wx
    from wxocr_async.endpoints import BY_NAME

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wxocr_async", "serve", "--engine", "local", "--port", "0",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    line = (await proc.stdout.readline()).decode()
    match = re.search(r"on (http://\S+) ", line)
    assert match, line
    results: dict[str, tuple[dict[str, Any], float]] = {}
    try:
        async with wx.OcrClient(base_url=match.group(1), timeout=120) as ocr:
            for kind, path in images[:4]:  # warm: connections, every worker's first image
                await _call(ocr, BY_NAME[endpoint_of(kind)], path)
            for kind, path in images:
                t = time.perf_counter()
                reply = await _call(ocr, BY_NAME[endpoint_of(kind)], path)
                results[str(path)] = (reply, time.perf_counter() - t)
    finally:
        proc.terminate()
        await proc.communicate()
    return results


async def _call(ocr: Any, endpoint: Any, path: Path) -> dict[str, Any]:
    import wxocr_async as wx

    try:
        reply: dict[str, Any] = await ocr.request_ocr(endpoint, image=path)
        return reply
    except wx.WxOcrError as exc:
        return {"errcode": exc.errcode, "errmsg": exc.errmsg}


@attrs.frozen
class BatchRun:
    """``wxocr batch`` over every image: its time, and what failed (a failed item, or a
    run that did not exit 0, makes the figure no throughput at all)."""

    seconds: float
    items: int
    failed: int
    bad_exits: int

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.bad_exits == 0


def run_batch(images: list[tuple[str, Path]], work: Path) -> BatchRun:
    """``wxocr batch`` over every image (one run per endpoint)."""
    by_endpoint: dict[str, list[Path]] = defaultdict(list)
    for kind, path in images:
        by_endpoint[endpoint_of(kind)].append(path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WXOCR_")}
    total, failed, bad_exits = 0.0, 0, 0
    for endpoint, paths in by_endpoint.items():
        manifest = work / f"batch-{endpoint}.txt"
        manifest.write_text("".join(f"{p}\n" for p in paths))
        out = work / f"batch-{endpoint}.jsonl"
        out.unlink(missing_ok=True)
        t = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "wxocr_async", "batch", endpoint, str(manifest),
             "--out", str(out), "--concurrency", "8"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        total += time.perf_counter() - t
        lines = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
        ok = sum(1 for line in lines if line.get("status") == "ok")
        failed += len(paths) - ok  # an item with no line failed too
        bad_exits += run.returncode != 0
    return BatchRun(total, len(images), failed, bad_exits)


# -- the run -------------------------------------------------------------------------------


def endpoint_of(kind: str) -> str:
    """The endpoint of a generator kind, or of a kind in a layout ("menu-two_column")."""
    return ENDPOINT_OF_KIND[kind.split("-")[0]]


def generate(count: int, seed: int, work: Path, layout: str) -> list[tuple[str, Path]]:
    """(kind, image) of every document drawn; a layout other than the standard one is
    named after its kind ("menu-two_column")."""
    subprocess.run(
        [sys.executable, "-m", "benchmarks.docgen", str(work / "images"),
         "--count", str(count), "--seed", str(seed), "--layout", layout],
        check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return [
        (folder.name, path)
        for folder in sorted((work / "images").iterdir())
        for style in ("clean", "photo")
        for path in sorted((folder / style).glob("*.jpg"))
    ]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(
    images: list[tuple[str, Path]],
    served: dict[str, tuple[dict[str, Any], float]],
    floor: dict[str, Any],
    batch: BatchRun | None,
    one_core_seconds: float | None,
) -> dict[str, Any]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, path in images:
        style = path.parent.name
        truth = json.loads(path.with_suffix(".json").read_text())
        reply, latency = served[str(path)]
        exact, wanted = score(kind.split("-")[0], truth, reply)
        row = rows.setdefault(
            (kind, style), {"exact": 0, "wanted": 0, "latency": [], "floor": [], "n": 0}
        )
        row["exact"] += exact
        row["wanted"] += wanted
        row["latency"].append(latency)
        row["floor"].append(floor["times"][str(path)])
        row["n"] += 1
    print(f"\n{'kind':28} {'style':6} {'n':>3} {'fields exact':>14} {'%':>6} "
          f"{'median s':>9} {'p95 s':>7} {'RapidOCR s':>11} {'ratio':>6}")  # fmt: skip
    summary: dict[str, Any] = {"rows": {}}
    for (kind, style), row in rows.items():
        pct = 100 * row["exact"] / row["wanted"] if row["wanted"] else 100.0
        med, p95 = statistics.median(row["latency"]), percentile(row["latency"], 0.95)
        floor_med = statistics.median(row["floor"])
        print(f"{kind:28} {style:6} {row['n']:>3} {row['exact']:>6}/{row['wanted']:<7} "
              f"{pct:>6.1f} {med:>9.2f} {p95:>7.2f} {floor_med:>11.2f} "
              f"{med / floor_med:>6.2f}")  # fmt: skip
        summary["rows"][f"{kind}/{style}"] = {
            "exact": row["exact"], "wanted": row["wanted"], "percent": pct,
            "median_s": med, "p95_s": p95, "rapidocr_median_s": floor_med,
        }  # fmt: skip
    if batch is None or one_core_seconds is None:
        return summary  # not measured: no figure
    if not batch.ok:
        print(f"\nwxocr batch: FAILED ({batch.failed} of {batch.items} items not ok, "
              f"{batch.bad_exits} runs with a non-zero exit): no throughput figure")  # fmt: skip
        summary["batch_failed"] = {"failed": batch.failed, "bad_exits": batch.bad_exits}
        return summary
    single = len(images) / one_core_seconds
    batched = len(images) / batch.seconds
    print(f"\nwxocr batch: {batched:.2f} images/s over {len(images)} images "
          f"({os.cpu_count()} cores); one core, RapidOCR alone: {single:.2f} images/s; "
          f"ratio {batched / single:.2f}x")  # fmt: skip
    summary["batch_images_per_s"] = batched
    summary["single_core_images_per_s"] = single
    return summary


def real_set() -> list[tuple[str, Path, dict[str, Any]]]:
    """(kind, image, label) of every real image gathered (benchmarks/real_images.py)."""
    found = []
    for label in real_images.labels():
        path = real_images.cached_path(label)
        if not path.is_file():
            raise SystemExit(f"{path} is missing: run python benchmarks/real_images.py first")
        found.append((label["kind"], path, label))
    return found


def report_real(
    images: list[tuple[str, Path, dict[str, Any]]],
    served: dict[str, tuple[dict[str, Any], float]],
) -> dict[str, Any]:
    """Fields exact per kind on the real images, the tuning split beside the held-out one."""
    rows: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for kind, path, label in images:
        exact, wanted = score(kind, label["truth"], served[str(path)][0])
        for split in (label["split"], "all"):
            row = rows[kind][split]
            row[0], row[1], row[2] = row[0] + exact, row[1] + wanted, row[2] + 1
    print(f"\nreal images (labelled by eye; tune = the extractors were tuned on them)\n"
          f"{'kind':15} {'tune':>18} {'holdout':>18} {'all':>18}")  # fmt: skip
    summary: dict[str, Any] = {}
    for kind, splits in rows.items():
        cells = []
        for split in ("tune", "holdout", "all"):
            exact, wanted, n = splits.get(split, (0, 0, 0))
            pct = 100 * exact / wanted if wanted else float("nan")
            cells.append(f"{exact:>4}/{wanted:<4} {pct:5.1f}% n{n:<2}")
            summary[f"{kind}/{split}"] = {"exact": exact, "wanted": wanted, "images": n}
        print(f"{kind:15} " + " ".join(f"{c:>18}" for c in cells))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=12, help="images per kind and style")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument(
        "--layout", default="all", help="the generator's layouts: standard, one, or all"
    )
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--real", action="store_true", help="also score the real-image set")
    parser.add_argument("--real-only", action="store_true", help="only the real-image set")
    parser.add_argument("--floor-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_child:
        floor_child(*args.floor_child)
        return
    if args.real or args.real_only:
        real = real_set()
        served_real = asyncio.run(run_serve([(kind, path) for kind, path, _ in real]))
        real_summary = report_real(real, served_real)
        if args.json and args.real_only:
            Path(args.json).write_text(json.dumps({"real": real_summary}, indent=2))
        if args.real_only:
            return
    work = Path(tempfile.mkdtemp(prefix="wxocr-local-bench-"))
    images = generate(args.count, args.seed, work, args.layout)
    manifest = work / "all.txt"
    manifest.write_text("".join(f"{p}\n" for _, p in images))
    print(f"{len(images)} images (seed {args.seed}) in {work}", flush=True)
    floor = run_floor(manifest, work, one_core=False)
    print(f"floor (every core): {floor['total']:.1f} s", flush=True)
    served = asyncio.run(run_serve(images))
    print("serve: done", flush=True)
    batch, one_core_seconds = None, None
    if not args.skip_batch:  # skipped: neither the batch nor its baseline is measured
        one_core_seconds = run_floor(manifest, work, one_core=True)["total"]
        print(f"one core: {one_core_seconds:.1f} s", flush=True)
        batch = run_batch(images, work)
    summary = report(images, served, floor, batch, one_core_seconds)
    summary.update(seed=args.seed, count=args.count, images=len(images))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
