"""python -m benchmarks.docgen.legibility OUTDIR [--per-kind N]

Runs RapidOCR (use_cls=False) over the first N images of each kind and style a docgen run
wrote, and prints how many truth values appear in the recognised text: verbatim (spaces
removed on both sides) and normalised (only letters, digits and CJK kept, so 2015.03.12
matches 20150312 and 1985年5月29日 matches 1985-05-29 only when the digits agree).
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_KEEP = re.compile(r"[^0-9A-Za-z\u4e00-\u9fff]")


def truth_values(truth: dict[str, Any]) -> Iterator[str]:
    """The strings a recogniser must read off the image (menu prices as printed digits)."""
    if "items" in truth:
        yield from (item["text"] for item in truth["items"])
    elif "content" in truth:
        for item in truth["content"]["menu_items"]:
            yield item["name"]
            yield f"{item['price']:g}"
    else:
        for key, value in truth.items():
            if key == "type" or not isinstance(value, str):
                continue
            yield value


def _norm(text: str) -> str:
    return _KEEP.sub("", text)


def _date_digits(text: str) -> str:
    """1985年5月29日 -> 19850529, so Chinese dates compare with ISO ones."""
    return re.sub(
        r"(\d{4})\D(\d{1,2})\D(\d{1,2})", lambda m: f"{m[1]}{int(m[2]):02d}{int(m[3]):02d}", text
    )


def _piece(text: str, want: str) -> str:
    """The longest end (else start) of ``text``, 2+ characters, that occurs in ``want``:
    the value part of a recognised line that also holds its label."""
    for i in range(len(text) - 1):
        if text[i:] in want:
            return text[i:]
    for j in range(len(text), 1, -1):
        if text[:j] in want:
            return text[:j]
    return ""


def score(texts: list[str], values: list[str]) -> tuple[int, int]:
    """(verbatim hits, normalised hits) of ``values`` in the recognised ``texts``. A value
    wrapped over lines that interleave with another column counts as found normalised when
    the recognised lines that are pieces of it join up to it."""
    text = "".join(texts)
    flat = text.replace(" ", "")
    norm = _norm(_date_digits(text))
    verbatim = normal = 0
    for value in values:
        verbatim += value.replace(" ", "") in flat
        want = _norm(_date_digits(value))
        pieces = "".join(_piece(_norm(_date_digits(t)), want) for t in texts)
        normal += want in norm or want in pieces
    return verbatim, normal


def main() -> int:
    import cv2

    from wxocr_async.local import model

    parser = argparse.ArgumentParser(prog="python -m benchmarks.docgen.legibility")
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--per-kind", type=int, default=3)
    args = parser.parse_args()
    print(f"{'kind':<15} {'style':<6} {'imgs':>4} {'wanted':>6} {'verbatim':>9} {'normalised':>10}")
    totals = [0, 0, 0]
    for folder in sorted(p for p in args.outdir.glob("*/*") if p.is_dir()):
        wanted = verbatim = normal = 0
        jpgs = sorted(folder.glob("*.jpg"))[: args.per_kind]
        misses: list[str] = []
        for jpg in jpgs:
            values = list(
                truth_values(json.loads(jpg.with_suffix(".json").read_text(encoding="utf-8")))
            )
            texts = [line.text for line in model.read_page(cv2.imread(str(jpg)))]
            v, n = score(texts, values)
            wanted, verbatim, normal = wanted + len(values), verbatim + v, normal + n
            misses += [x for x in values if not score(texts, [x])[1]]
        kind, style = folder.parent.name, folder.name
        print(
            f"{kind:<15} {style:<6} {len(jpgs):>4} {wanted:>6} {verbatim:>9} {normal:>10}"
            f"   missed: {'|'.join(m[:20] for m in misses[:4])}"
        )
        totals = [totals[0] + wanted, totals[1] + verbatim, totals[2] + normal]
    print(f"{'total':<15} {'':<6} {'':>4} {totals[0]:>6} {totals[1]:>9} {totals[2]:>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
