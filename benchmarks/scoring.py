"""Scoring a reply against its truth, field by field: what "fields exact" means in the
local engine's benchmark, on generated documents and on the real-image set alike."""

from __future__ import annotations

import hashlib
import json
from typing import Any

#: how far a comm line's corner may be off and still count as exact, in line heights: the
#: generator's box spans each glyph's advance (a trailing "。" adds half a character of
#: blank), the detector's ends at the ink
POS_TOLERANCE = 0.8


def score(kind: str, truth: dict[str, Any], reply: dict[str, Any]) -> tuple[int, int]:
    """(fields exact, fields wanted) of one reply against the generator's truth."""
    if reply.get("errcode", 0) != 0:
        return 0, _wanted(kind, truth)
    if kind == "comm":
        return _score_lines(truth, reply) if "lines" in truth else _score_comm(truth, reply)
    if kind == "menu":
        want = truth["content"]["menu_items"]
        content = reply.get("content") or {}
        if isinstance(content, str):
            content = json.loads(content)
        got = list(content.get("menu_items") or [])
        exact = 0
        for item in want:
            match = next((g for g in got if g.get("name") == item["name"]), None)
            if match is not None:
                got.remove(match)
                exact += 1 + (float(match.get("price", -1)) == float(item["price"]))
        return exact, 2 * len(want)
    return sum(_same(reply, k, v) for k, v in truth.items()), len(truth)


def _same(reply: dict[str, Any], key: str, want: Any) -> bool:
    """``reply[key] == want``; a key ending in ``_sha256`` holds the SHA-256 of the wanted
    value instead of the value (the real set's bank card numbers are real people's)."""
    if key.endswith("_sha256"):
        got = reply.get(key.removesuffix("_sha256"))
        return isinstance(got, str) and hashlib.sha256(got.encode()).hexdigest() == want
    return bool(reply.get(key) == want)


def _wanted(kind: str, truth: dict[str, Any]) -> int:
    if kind == "comm":
        return len(truth["lines"]) if "lines" in truth else 2 * len(truth["items"])
    if kind == "menu":
        return 2 * len(truth["content"]["menu_items"])
    return len(truth)


def _score_comm(truth: dict[str, Any], reply: dict[str, Any]) -> tuple[int, int]:
    """Per line: its text (whitespace aside: the recogniser sees no spaces) and its four
    corners within :data:`POS_TOLERANCE` line heights; a repeated line matches its nearest
    copy."""
    got = list(reply.get("items") or [])
    exact = 0
    for item in truth["items"]:
        text, corners = _bare(item["text"]), item["pos"]
        same = [g for g in got if _bare(g.get("text", "")) == text]
        if not same:
            continue
        match = min(same, key=lambda g: _distance(g["pos"], corners))
        got.remove(match)
        height = corners["left_bottom"]["y"] - corners["left_top"]["y"]
        exact += 1 + (_distance(match["pos"], corners) <= POS_TOLERANCE * abs(height))
    return exact, 2 * len(truth["items"])


def _bare(text: str) -> str:
    return "".join(text.split())


def _distance(pos: dict[str, Any], corners: dict[str, Any]) -> float:
    return max(
        max(abs(pos[c]["x"] - corners[c]["x"]), abs(pos[c]["y"] - corners[c]["y"])) for c in corners
    )


#: how many of the reply's items, one after another, may make one printed line
MAX_PIECES = 4


def _score_lines(truth: dict[str, Any], reply: dict[str, Any]) -> tuple[int, int]:
    """A real page's truth is its lines' text alone (read by eye: no corners): one point
    per line whose text, whitespace aside, is one of the reply's lines, or is made by up to
    :data:`MAX_PIECES` of them in a row (a line printed with wide gaps, "南丰站  D6502
    南昌站", is several items to a detector, WeChat's included)."""
    got: list[str | None] = [_bare(item.get("text", "")) for item in reply.get("items") or ()]
    wanted = [_bare(line) for line in truth["lines"]]
    exact, rest = 0, []
    for line in wanted:
        if line in got:
            got[got.index(line)] = None
            exact += 1
        else:
            rest.append(line)
    for line in rest:
        if (pieces := _pieces(got, line)) is not None:
            got[pieces] = [None] * (pieces.stop - pieces.start)
            exact += 1
    return exact, len(truth["lines"])


def _pieces(got: list[str | None], line: str) -> slice | None:
    """The first run of two to :data:`MAX_PIECES` items of ``got``, none taken yet, that
    make ``line``."""
    for start in range(len(got)):
        for end in range(start + 2, min(start + MAX_PIECES, len(got)) + 1):
            run = got[start:end]
            if None not in run and "".join(run) == line:  # type: ignore[arg-type]
                return slice(start, end)
    return None
