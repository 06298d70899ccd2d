"""Which recognised lines each reply field was read from, and where on them.

Extraction reasons over rows of text and repairs what it reads (a misread digit, a label
glued on, an address wrapped over two lines), so a field's value is seldom a line's text.
Its sources are found by aligning characters: a field's value and each line's text are
reduced to the characters that carry a value (letters, digits, Han; digit look-alikes read
as digits), and lines are taken greedily by how many of the value's characters they
supply that no line taken before did, and a character that one field came from is not
another's (the second of two equal dates comes from the second line; a birth date from
its printed line, not from the ID number's). Ties go to a line the value makes at least
half of (of the characters no field took yet: a price glued to its dish's name counts
whole), then to the line nearest the fields before it in the same list item (a dish's
price right of its name, not the equal price of the next column), then to the line the
value fills most (``性别男`` before an address that happens to hold 男). A value at least
half supplied has sources; one at most two characters long must be supplied whole.

A field's box is the part of its lines its characters occupy (measured by character
widths along each line), one box around all of them when it spans several lines. The
work is bounded (:data:`TRACE_BUDGET`): a page too dense for it has its later fields
untraced.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from ..inspection import FieldSource, Quad, SeenLine, leaf_fields, quad_of
from .checks import DIGIT_LOOKALIKES
from .text import compact

_VALUE_CHAR = re.compile(r"[0-9A-Za-z\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")
_AS_DIGITS = str.maketrans({k: v for k, v in DIGIT_LOOKALIKES.items() if k.isalpha()})
#: a span covering this share of its line's width or more is drawn as the whole line
_WHOLE_LINE = 0.85


@attrs.frozen
class _Reduced:
    """A text's value-carrying characters, and where each one is in the text."""

    chars: str
    where: tuple[int, ...]


def _reduce(text: str, fold: Callable[[str], str] | None = None) -> _Reduced:
    chars: list[str] = []
    where: list[int] = []
    text = compact_in_place(text)
    for index, char in enumerate(fold(text) if fold is not None else text):
        if _VALUE_CHAR.match(char):
            chars.append(char.upper().translate(_AS_DIGITS))
            where.append(index)
    return _Reduced("".join(chars), tuple(where))


def compact_in_place(text: str) -> str:
    """:func:`~.text.compact`'s character mapping without dropping the spaces, so that
    indices stay those of ``text``."""
    return "".join(compact(char) or char for char in text)


#: character pairs compared at most in tracing one reply (about a second here): a
#: dense page's later fields are left untraced (no lines, no box) rather than hold a
#: worker; a menu of 30 dishes compares about 10^5, a business licence 10^6
TRACE_BUDGET = 50_000_000


@attrs.define
class _Budget:
    left: int


@attrs.frozen
class _Candidate:
    index: int
    line: SeenLine
    reduced: _Reduced


def trace_fields(
    reply: Mapping[str, Any],
    lines: Sequence[SeenLine],
    fold: Callable[[str], str] | None = None,
    budget: int = TRACE_BUDGET,
) -> tuple[FieldSource, ...]:
    """Every text or number field of ``reply`` (:func:`~wxocr_async.inspection.leaf_fields`)
    with the lines among ``lines`` it was read from and its box. ``fold``: a mapping of one
    character for one that extraction applied to the lines' text
    (:func:`~.text.fold_forms` on a mainland document). ``budget``: character pairs to
    compare at most; the fields left when it is spent are untraced (:data:`TRACE_BUDGET`)."""
    candidates = [_Candidate(i, line, _reduce(line.text, fold)) for i, line in enumerate(lines)]
    left = _Budget(budget)
    by_box = {_rounded(line.box): i for i, line in enumerate(lines)}
    traced: list[FieldSource] = []
    #: each line's characters (indices in its reduced text) that fields came from so far
    used: dict[int, set[int]] = {}
    for path, value in leaf_fields(reply):
        positioned = _item_box(reply, path)
        if positioned is not None:  # comm's items carry their line's own corners
            index = by_box.get(_rounded(positioned))
            traced.append(FieldSource(path, value, () if index is None else (index,), positioned))
            continue
        siblings = [
            lines[i] for field in traced if _same_item(field.path, path) for i in field.lines
        ]
        sources = _sources(_reduce(value).chars, candidates, siblings, used, left)
        chosen = tuple(sorted(sources))
        boxes = []
        for i in chosen:
            blocks = sources[i]
            used.setdefault(i, set()).update(j for a, n in blocks for j in range(a, a + n))
            where = candidates[i].reduced.where
            first = where[min(a for a, _ in blocks)]
            last = where[max(a + n - 1 for a, n in blocks)]
            boxes.append(_span_box(lines[i], first, last))
        traced.append(FieldSource(path, value, chosen, _around(boxes)))
    return tuple(traced)


def _sources(
    value: str,
    candidates: Sequence[_Candidate],
    siblings: Sequence[SeenLine],
    used: Mapping[int, set[int]],
    budget: _Budget,
) -> dict[int, list[tuple[int, int]]]:
    """The lines supplying ``value``'s characters, none of them ``used`` by another field
    already: line index -> the runs (start, length) of its reduced text that supply them;
    empty when too little is supplied."""
    if not value or budget.left < 0:
        return {}
    short = len(value) <= 2
    shortest_block = 1 if short else 2
    wanted = set(value)
    matches: list[tuple[_Candidate, int, list[tuple[int, int, int]]]] = []
    for candidate in candidates:
        budget.left -= len(candidate.reduced.chars)
        taken = used.get(candidate.index, ())
        text = "".join(
            "\0" if j in taken else char for j, char in enumerate(candidate.reduced.chars)
        )
        if not wanted.intersection(text):
            continue
        budget.left -= len(text) * len(value)
        if budget.left < 0:  # a page too dense to trace: this field and the rest untraced
            return {}
        blocks = [
            (a, b, size)
            for a, b, size in difflib.SequenceMatcher(
                None, text, value, autojunk=False
            ).get_matching_blocks()
            if size >= shortest_block
        ]
        if blocks:
            matches.append((candidate, len(text) - len(taken), blocks))
    covered = [False] * len(value)
    chosen: dict[int, list[tuple[int, int]]] = {}
    while matches and not all(covered):
        best: tuple[tuple[float, ...], _Candidate, list[tuple[int, int, int]]] | None = None
        for candidate, free, blocks in matches:
            if candidate.index in chosen:
                continue
            new = [(a, b, n) for a, b, n in blocks if not all(covered[b : b + n])]
            supplied = sum(1 for _, b, n in new for j in range(b, b + n) if not covered[j])
            if supplied < shortest_block:
                continue
            fill = sum(n for _, _, n in new) / max(free, 1)
            rank = (supplied, fill >= 0.5, -_distance(candidate.line, siblings), fill)
            if best is None or rank > best[0]:
                best = (rank, candidate, new)
        if best is None:
            break
        _, candidate, blocks = best
        for _, b, n in blocks:
            covered[b : b + n] = [True] * n
        chosen[candidate.index] = [(a, n) for a, _, n in blocks]
    enough = all(covered) if short else sum(covered) * 2 >= len(value)
    return chosen if enough else {}


def _distance(line: SeenLine, siblings: Sequence[SeenLine]) -> float:
    """How far ``line`` is from the nearest sibling field's line, in line heights across
    plus four times the heights down (0 with no siblings), rounded so that lines about as
    near tie. A field is read after
    the fields before it in its item (a price right of or below its dish's name): a line
    before a sibling in reading order counts as far."""
    if not siblings:
        return 0.0
    x, y = _centre(line.box)
    height = max(_height(line.box), 1.0)

    def apart(sibling: SeenLine) -> float:
        sx, sy = _centre(sibling.box)
        before = sy - y > height / 2 or (abs(sy - y) <= height / 2 and x < sx)
        # a row away is further than most of a page across: a field's neighbours in an
        # item share its row, or stand in the rows just below it
        return (abs(x - sx) + 4 * abs(y - sy)) / height + (100.0 if before else 0.0)

    return float(round(min(apart(sibling) for sibling in siblings)))


def _same_item(a: str, b: str) -> bool:
    """Whether two paths are fields of the same list item (``x[0].name``, ``x[0].price``)."""
    head_a, _, _ = a.rpartition("]")
    head_b, _, _ = b.rpartition("]")
    return bool(head_a) and head_a == head_b


def _item_box(reply: Mapping[str, Any], path: str) -> Quad | None:
    """The corners a list item carries beside ``path`` (``items[3].text`` -> ``items[3].pos``)."""
    match = re.fullmatch(r"(\w+)\[(\d+)\]\.text", path)
    if match is None:
        return None
    items = reply.get(match.group(1))
    if not isinstance(items, Sequence) or isinstance(items, str):
        return None
    item = items[int(match.group(2))]
    return quad_of(item.get("pos")) if isinstance(item, Mapping) else None


def _rounded(box: Quad) -> tuple[tuple[int, int], ...]:
    return tuple((round(x), round(y)) for x, y in box)


# --- boxes ---------------------------------------------------------------------------------


def _advance(char: str) -> float:
    """A character's width in ems, near enough: Han and full-width forms 1, a space 0.3,
    anything else 0.55."""
    if char.isspace():
        return 0.3
    return 1.0 if unicodedata.east_asian_width(char) in "WF" else 0.55


def _span_box(line: SeenLine, first: int, last: int) -> Quad:
    """The part of ``line``'s box its characters ``first``..``last`` occupy."""
    widths = [_advance(char) for char in line.text]
    total = sum(widths) or 1.0
    start = sum(widths[:first]) / total
    end = sum(widths[: last + 1]) / total
    if end - start >= _WHOLE_LINE:
        return line.box
    lt, rt, rb, lb = line.box
    return (_along(lt, rt, start), _along(lt, rt, end), _along(lb, rb, end), _along(lb, rb, start))


def _along(a: tuple[float, float], b: tuple[float, float], t: float) -> tuple[float, float]:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def _around(boxes: Sequence[Quad]) -> Quad | None:
    """One box: the only one, or the rectangle around all of them at the first one's slant."""
    if not boxes:
        return None
    if len(boxes) == 1:
        return boxes[0]
    (x0, y0), (x1, y1) = boxes[0][0], boxes[0][1]
    angle = math.atan2(y1 - y0, x1 - x0)
    cos, sin = math.cos(angle), math.sin(angle)
    points = [p for box in boxes for p in box]
    us = [x * cos + y * sin for x, y in points]  # along the slant
    vs = [-x * sin + y * cos for x, y in points]  # across it
    u0, u1, v0, v1 = min(us), max(us), min(vs), max(vs)

    def back(u: float, v: float) -> tuple[float, float]:
        return (u * cos - v * sin, u * sin + v * cos)

    return (back(u0, v0), back(u1, v0), back(u1, v1), back(u0, v1))


def _centre(box: Quad) -> tuple[float, float]:
    return (sum(p[0] for p in box) / 4, sum(p[1] for p in box) / 4)


def _height(box: Quad) -> float:
    return math.dist(box[0], box[3])


__all__ = ["trace_fields"]
