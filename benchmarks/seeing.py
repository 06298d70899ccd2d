"""What seeing costs: a recognition with its field provenance traced (``inspect``) against
the same recognition alone, on the same images in one run, and the provenance's own time.

For each document kind, ``--count`` synthetic documents (``benchmarks/docgen``, seed
``--seed``, clean and photo) are recognised in this process, one after another, twice
each in alternating order: plain (``recognizer.run``) and inspected
(``recognizer.run(..., inspect=True)``). Reported per kind: the median ratio of the
inspected time to the plain one, and the median milliseconds the tracing itself took
(``trace_fields`` timed alone on the inspected reply). Also the worst case the tracing
meets: a menu of ``--menu-items`` dishes whose lines all hold prices.

    .venv/bin/python benchmarks/seeing.py [--count 4] [--seed 61] [--menu-items 150]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.docgen import KINDS, generate
from wxocr_async.inspection import SeenLine
from wxocr_async.local import recognizer
from wxocr_async.local.provenance import trace_fields

ENDPOINT = {"idcard_front": "idcard", "idcard_back": "idcard"}


def encoded(kind: str, seed: int, style: str) -> bytes:
    image, _ = generate(kind, seed, style)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def timed(endpoint: str, data: bytes, inspect: bool) -> tuple[float, recognizer.Outcome]:
    started = time.perf_counter()
    outcome = recognizer.run(endpoint, data, inspect)
    return time.perf_counter() - started, outcome


def measure_kind(kind: str, count: int, seed: int) -> tuple[float, float, int]:
    endpoint = ENDPOINT.get(kind, kind)
    ratios, tracing = [], []
    for index in range(count):
        for style in ("clean", "photo"):
            data = encoded(kind, seed * 1000 + index, style)
            order = (False, True) if index % 2 == 0 else (True, False)
            times = {}
            for inspect in order:
                times[inspect], outcome = timed(endpoint, data, inspect)
                if inspect and outcome.seen is not None and outcome.reply["errcode"] == 0:
                    started = time.perf_counter()
                    trace_fields(outcome.reply, outcome.seen.lines)
                    tracing.append(time.perf_counter() - started)
            ratios.append(times[True] / times[False])
    return statistics.median(ratios), 1000 * statistics.median(tracing or [0.0]), len(ratios)


def worst_menu(items: int) -> float:
    """Milliseconds to trace a menu of ``items`` dishes, every price line alike."""
    lines, dishes = [], []
    for i in range(items):
        name = f"菜品{i:03d}号"
        lines.append(
            SeenLine(name, ((0, 50 * i), (300, 50 * i), (300, 50 * i + 40), (0, 50 * i + 40)))
        )
        lines.append(
            SeenLine("28元", ((500, 50 * i), (600, 50 * i), (600, 50 * i + 40), (500, 50 * i + 40)))
        )
        dishes.append({"name": name, "price": 28.0})
    reply = {"errcode": 0, "content": {"menu_items": dishes}}
    started = time.perf_counter()
    traced = trace_fields(reply, lines)
    elapsed = time.perf_counter() - started
    prices = [f.lines for f in traced if f.path.endswith("price")]
    assert prices == [(2 * i + 1,) for i in range(items)], "a price traced to another row"
    return 1000 * elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--seed", type=int, default=61)
    parser.add_argument("--menu-items", type=int, default=150)
    args = parser.parse_args()
    recognizer.load_model()
    print(f"seed {args.seed}, {args.count} documents per kind and style")
    print(f"{'kind':16} {'images':>6} {'inspect/plain':>14} {'tracing ms':>11}")
    for kind in KINDS:
        ratio, tracing, images = measure_kind(kind, args.count, args.seed)
        print(f"{kind:16} {images:>6} {ratio:>14.3f} {tracing:>11.1f}")
    print(f"worst case: a menu of {args.menu_items} dishes traced in "
          f"{worst_menu(args.menu_items):.0f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
