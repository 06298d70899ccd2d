"""A small batch job: recognise every image given, one JSON line per image.

    export WXOCR_APPID=wx... WXOCR_SECRET=...   # or WXOCR_TOKEN; WXOCR_BASE_URL, WXOCR_REDIS_URL
    python examples/batch_job.py scans/ extra.jpg --endpoint idcard --out results.jsonl

Each line is ``{"path": ..., "status": "ok", "result": {...}}`` or, for a failure,
``"status": "error"`` / ``"not_attempted"`` with ``"error": {"errcode": ..., "errmsg": ...}``;
a summary line follows on stdout. Exit status 0 when every image is ok, else 1.
``wxocr batch`` is the full tool: resume, shards, progress, Ctrl-C handling.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from wxocr_async import ClientConfig
from wxocr_async.endpoints import lookup, names_text
from wxocr_async.jobs import result_line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("inputs", nargs="+", type=Path, help="image files or folders of them")
    parser.add_argument("--out", type=Path, required=True, help="the JSON lines file to write")
    parser.add_argument(
        "--endpoint", default="idcard", type=endpoint_name, help=f"{names_text()} (idcard)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="calls at once (default 8)")
    return parser.parse_args(argv)


def endpoint_name(text: str) -> str:
    """The wire name of the endpoint ``text`` names (a wire or a method name)."""
    endpoint = lookup(text)
    if endpoint is None:
        raise argparse.ArgumentTypeError(f"unknown endpoint {text!r}; one of: {names_text()}")
    return endpoint.name


def image_paths(inputs: list[Path]) -> Iterator[Path]:
    """The files given, and the files in the folders given (hidden ones left out)."""
    for path in inputs:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
            )
        else:
            yield path


async def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    counts: Counter[str] = Counter()
    async with ClientConfig.from_env().build() as ocr:
        with args.out.open("wb") as out:
            paths = image_paths(args.inputs)  # read lazily, as the batch needs them
            async for outcome in ocr.batch(args.endpoint, paths, concurrency=args.concurrency):
                out.write(result_line(str(outcome.item), outcome, "snake", args.endpoint))
                counts[outcome.status] += 1
    print(
        f"{counts['ok']} ok, {counts['error']} error, {counts['not_attempted']} not attempted; "
        f"results in {args.out}"
    )
    return 0 if counts["error"] + counts["not_attempted"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
