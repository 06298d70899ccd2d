"""python -m benchmarks.docgen OUTDIR --count N --seed S [--kinds a,b] [--styles clean,photo]
[--layout L]

Writes OUTDIR/<kind>/<style>/<NNNN>.jpg (JPEG quality 90) and <NNNN>.json (the truth).
Image NNNN of a run with seed S uses document seed S * 100000 + NNNN, so the clean and the
photo image of one number show the same document.

--layout picks the layout (default "standard"); a layout other than standard is drawn only
for the kinds that have it, into OUTDIR/<kind>-<layout>/<style>/; "all" draws every layout
of each kind.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from . import KINDS, LAYOUTS, STANDARD, STYLES, generate

MAX_BYTES = 2 * 1024 * 1024
ALL = "all"
LAYOUT_NAMES = tuple(dict.fromkeys(name for names in LAYOUTS.values() for name in names))


def _names(text: str, allowed: Sequence[str], what: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in allowed]
    if bad:
        raise argparse.ArgumentTypeError(
            f"unknown {what}: {', '.join(bad)} (choose from {', '.join(allowed)})"
        )
    return names


def document_seed(run_seed: int, index: int) -> int:
    return run_seed * 100_000 + index


def folder_name(kind: str, layout: str) -> str:
    return kind if layout == STANDARD else f"{kind}-{layout}"


def write(out: Path, kind: str, style: str, index: int, seed: int, layout: str = STANDARD) -> Path:
    """Generate one document and write its JPEG and truth JSON; returns the JPEG path."""
    image, truth = generate(kind, seed, style, layout)
    folder = out / folder_name(kind, layout) / style
    folder.mkdir(parents=True, exist_ok=True)
    jpg = folder / f"{index:04d}.jpg"
    image.save(jpg, "JPEG", quality=90)
    if jpg.stat().st_size >= MAX_BYTES:
        raise RuntimeError(f"{jpg} is {jpg.stat().st_size} bytes, WeChat takes < 2 MB")
    (folder / f"{index:04d}.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return jpg


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.docgen", description=__doc__.split("\n")[0]
    )
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--count", type=int, default=10, help="images per kind and style")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", type=lambda t: _names(t, KINDS, "kind"), default=list(KINDS))
    parser.add_argument("--styles", type=lambda t: _names(t, STYLES, "style"), default=list(STYLES))
    parser.add_argument(
        "--layout",
        choices=(*LAYOUT_NAMES, ALL),
        default=STANDARD,
        help="a layout (drawn for the kinds that have it), or all of each kind's layouts",
    )
    args = parser.parse_args(argv)
    plan = [
        (kind, layout)
        for kind in args.kinds
        for layout in LAYOUTS[kind]
        if args.layout in (ALL, layout)
    ]
    if not plan:
        parser.error(f"none of the kinds {', '.join(args.kinds)} has layout {args.layout}")
    for kind, layout in plan:
        for style in args.styles:
            for i in range(args.count):
                write(args.outdir, kind, style, i, document_seed(args.seed, i), layout)
        print(f"{folder_name(kind, layout)}: {args.count * len(args.styles)} images")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
