"""Ray Data with 2 actors against one ``wxocr batch`` process, on the same images, with the
local engine (no credentials, no network): images/s once started, and the start-up apart.

    .venv/bin/python benchmarks/distributed.py [--count 24] [--seed 5]

* **baseline**: ``wxocr batch idcard DIR`` (one process; its engine's workers share the
  cores); its rate is the images over the time its own summary reports (from the engine
  started to the last line), its start-up the rest of the command's wall time;
* **ray**: ``ray.init(num_cpus=2)``, then :func:`wxocr_async.ray.recognise` with 2 actors
  of 1 CPU each (an engine of 1 thread in each), ``batch_size=1``; its rate is the images
  after the first over the time from the first line back to the last, its start-up
  ``ray.init`` plus the time to the first line.

Images: ``idcard_front`` documents from ``benchmarks/docgen`` (clean and photo styles).
Prints what it measured, and the ray figures as ratios of the baseline's of the same run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repository's root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent


def make_images(folder: Path, count: int, seed: int) -> None:
    from benchmarks.docgen import generate

    folder.mkdir(parents=True)
    for i in range(count):
        image, _ = generate("idcard_front", seed * 100_000 + i, ("clean", "photo")[i % 2])
        image.save(folder / f"{i:04d}.jpg", "JPEG", quality=90)


def baseline(images: Path, out: Path) -> tuple[float, float]:
    """(start-up seconds, images/s) of one ``wxocr batch`` process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WXOCR_")}
    env["PYTHONPATH"] = str(ROOT)
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "wxocr_async", "batch", "idcard", str(images), "--out", str(out)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    found = re.search(r"(\d+) ok, .* in ([\d.]+) s", run.stderr)
    if run.returncode != 0 or found is None:
        raise SystemExit(f"wxocr batch failed ({run.returncode}):\n{run.stderr}")
    ok, seconds = int(found[1]), float(found[2])
    return wall - seconds, ok / seconds


def with_ray(images: Path) -> tuple[float, float]:
    """(start-up seconds, images/s) of Ray Data with 2 actors."""
    import ray
    import ray.data

    from wxocr_async import ClientConfig
    from wxocr_async.ray import read_inputs, recognise

    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        ds = recognise(
            read_inputs(str(images)),
            "idcard",
            ClientConfig(engine="local"),
            actors=2,
            batch_size=1,
        )
        arrivals: list[float] = []
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
            assert set(batch["status"]) == {"ok"} and set(batch["threads"]) == {1}
            arrivals.extend(time.perf_counter() for _ in batch["line"])
    finally:
        ray.shutdown()
    return arrivals[0] - started, (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=24, help="images (default 24)")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        images = Path(work) / "images"
        make_images(images, args.count, args.seed)
        base_start, base_rate = baseline(images, Path(work) / "batch.jsonl")
        ray_start, ray_rate = with_ray(images)
    print(f"{args.count} idcard_front images, local engine, {os.cpu_count()} CPUs")
    print(f"wxocr batch (1 process): {base_rate:.2f} images/s; start-up {base_start:.1f} s")
    print(
        f"ray (2 actors x 1 CPU):  {ray_rate:.2f} images/s ({ray_rate / base_rate:.2f}x);"
        f" start-up {ray_start:.1f} s ({ray_start / base_start:.2f}x)"
    )


if __name__ == "__main__":
    main()
