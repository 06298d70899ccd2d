"""python -m benchmarks.docgen OUTDIR --count N --seed S [--kinds a,b] [--styles clean,photo]

Writes OUTDIR/<kind>/<style>/<NNNN>.jpg (JPEG quality 90) and <NNNN>.json (the truth).
Image NNNN of a run with seed S uses document seed S * 100000 + NNNN, so the clean and the
photo image of one number show the same document.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from . import KINDS, STYLES, generate

MAX_BYTES = 2 * 1024 * 1024


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


def write(out: Path, kind: str, style: str, index: int, seed: int) -> Path:
    """Generate one document and write its JPEG and truth JSON; returns the JPEG path."""
    image, truth = generate(kind, seed, style)
    folder = out / kind / style
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
    args = parser.parse_args(argv)
    for kind in args.kinds:
        for style in args.styles:
            for i in range(args.count):
                write(args.outdir, kind, style, i, document_seed(args.seed, i))
        print(f"{kind}: {args.count * len(args.styles)} images")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
