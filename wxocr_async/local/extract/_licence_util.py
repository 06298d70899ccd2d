"""Label/value reading shared by the licence extractors (行驶证, 驾驶证, 营业执照).

The page is deskewed and grouped into rows (:mod:`wxocr_async.local.geometry`), and every
row is spread into glyphs with an estimated x position, so a label and its value read
the same whether the recogniser returned them as one box ("姓名张三") or several ("姓",
"名", "张三"). A value runs from its label to the next label on the row (or the right
column's edge) and, for fields that wrap, on down the following rows of the same column.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence

import attrs

from wxocr_async.local.geometry import Upright, rows
from wxocr_async.local.lines import Line, NothingFound

#: how far right of its label a value may start, in label heights (further: the next
#: column's text)
FIRST_GAP = 6.0


@attrs.frozen
class Glyph:
    """One character with its estimated horizontal extent on the upright page."""

    char: str
    left: float
    right: float
    height: float


@attrs.frozen
class Hit:
    """A label found on a row: ``row`` index, glyph span ``start:end``."""

    key: str
    row: int
    start: int
    end: int
    left: float
    right: float
    height: float
    #: found as printed (not with a misread character)
    exact: bool = True


def _weight(char: str) -> float:
    """Relative printed width: CJK full, Latin and digits about half."""
    if char.isspace():
        return 0.35
    return 0.55 if ord(char) < 0x2000 else 1.0


def glyphs(part: Upright) -> list[Glyph]:
    """The line's characters (spaces dropped) spread over its upright width by printed
    width."""
    text, height = part.line.text, part.line.height
    weights = [_weight(c) for c in text]
    total = sum(weights) or 1.0
    scale = (part.right - part.left) / total
    out: list[Glyph] = []
    x = part.left
    for char, w in zip(text, weights, strict=True):
        if not char.isspace():
            out.append(Glyph(char, x, x + w * scale, height))
        x += w * scale
    return out


def _seal_text(line: Line) -> bool:
    """Text of the round seal over a licence, read in pieces: a run of characters set
    vertically ("察支队" down the seal's edge). It belongs to no row, and pulls the row
    it overlaps apart from its value."""
    text = line.text.strip()
    return len(text) >= 2 and line.standing


class Page:
    """Rows of glyphs and the labels found on them."""

    def __init__(self, lines: Sequence[Line], labels: Mapping[str, Sequence[str]]) -> None:
        lines = [line for line in lines if not _seal_text(line)]
        joined = [(_join(row), sum(u.middle for u in row) / len(row)) for row in rows(lines)]
        self.rows = [row for row, _ in joined if row]
        self.middles = [middle for row, middle in joined if row]
        self.texts = ["".join(g.char for g in row) for row in self.rows]
        self.hits = sorted(self._find(labels), key=lambda h: (h.row, h.start))
        self.adopted = self._adopt()

    def _find(self, labels: Mapping[str, Sequence[str]]) -> list[Hit]:
        """Labels as printed, longest first; then, for labels of four or more characters
        not found so, with any one character misread (出生目期)."""
        exact = [(re.escape(v), key) for key, vs in labels.items() for v in vs]
        taken = [[False] * len(text) for text in self.texts]
        hits = self._match(sorted(exact, key=lambda t: -len(t[0])), taken)
        found = {h.key for h in hits}
        fuzzy = [
            (re.escape(v[:i]) + "[\u4e00-\u9fff]" + re.escape(v[i + 1 :]), key)
            for key, vs in labels.items()
            if key not in found
            for v in sorted(vs, key=len, reverse=True)
            if len(v) >= 4
            for i in range(len(v))
        ]
        return hits + [attrs.evolve(h, exact=False) for h in self._match(fuzzy, taken)]

    def _match(self, patterns: Sequence[tuple[str, str]], taken: list[list[bool]]) -> list[Hit]:
        """Hits of ``patterns`` in order, on glyphs not ``taken`` yet (marking them)."""
        hits: list[Hit] = []
        for r, text in enumerate(self.texts):
            for pattern, key in patterns:
                for m in re.finditer(pattern, text):
                    if any(taken[r][m.start() : m.end()]):
                        continue
                    taken[r][m.start() : m.end()] = [True] * (m.end() - m.start())
                    span = self.rows[r][m.start() : m.end()]
                    height = max(g.height for g in span)
                    hits.append(
                        Hit(key, r, m.start(), m.end(), span[0].left, span[-1].right, height)
                    )
        return hits

    def _adopt(self) -> dict[Hit, int]:
        """Values printed off their label's row: a label alone on its row takes the
        nearest row just above or below that holds no label and starts right of it
        (a value printed high, "住所" half a row under its address), when that row lies
        nearer to it than to the labels of this column on the rows beside."""
        labelled = {h.row for h in self.hits}
        out: dict[Hit, int] = {}
        for hit in self.hits:
            if hit.key.startswith("_") or self._after(hit):
                continue
            column = {h.row for h in self.hits if h.right < hit.right + hit.height} - {hit.row}
            near = [
                r
                for r in (hit.row - 1, hit.row + 1)
                if 0 <= r < len(self.rows)
                and r not in labelled | set(out.values())
                and self.rows[r][0].left > hit.right - 0.5 * hit.height
                and self._apart(r, hit.row) < hit.height
                and all(
                    self._apart(r, o) > self._apart(r, hit.row)
                    for o in (r - 1, r + 1)
                    if o in column
                )
            ]
            if near:
                out[hit] = min(near, key=lambda r: self._apart(r, hit.row))
        return out

    def _apart(self, row: int, other: int) -> float:
        """How far apart the middles of two rows lie."""
        return abs(self.middles[row] - self.middles[other])

    def _next(self, hit: Hit) -> Hit | None:
        """The next label on ``hit``'s row (hits are sorted by row and start)."""
        return next((h for h in self.hits if h.row == hit.row and h.start > hit.start), None)

    def _after(self, hit: Hit) -> list[Glyph]:
        """The glyphs after ``hit`` on its row, up to the next label; none when the
        first lies far right of the label (another column's text)."""
        nxt = self._next(hit)
        after = self.rows[hit.row][hit.end : nxt.start if nxt else None]
        return after if after and after[0].left - hit.right < FIRST_GAP * hit.height else []

    def keys(self) -> set[str]:
        """The fields whose labels are printed on the page (misread ones not counted)."""
        return {h.key for h in self.hits if h.exact and not h.key.startswith("_")}

    def first(self, key: str) -> Hit | None:
        """The first hit of ``key`` that stands as a label, else the first in a
        sentence ("正本应当置于住所的醒目位置" in a licence's printed notices)."""
        found = [h for h in self.hits if h.key == key]
        return next((h for h in found if not self._in_prose(h)), found[0] if found else None)

    def _in_prose(self, hit: Hit) -> bool:
        """``hit`` runs on from a Han character printed right before it, or opens a
        bracket ("13号（住所申报）"): words of a value or a notice, not a label."""
        if hit.start == 0:
            return False
        before = self.rows[hit.row][hit.start - 1]
        if before.char in "(（":
            return True
        return "\u4e00" <= before.char <= "\u9fff" and hit.left - before.right < 0.3 * hit.height

    def column_starts(self, keys: Iterable[str]) -> list[float]:
        """Left edges of the labels of ``keys`` that have another label to their left on
        their row: where a right-hand column begins."""
        wanted = set(keys)
        return sorted(
            h.left
            for h in self.hits
            if h.key in wanted and any(o.row == h.row and o.right <= h.left for o in self.hits)
        )

    def value(self, hit: Hit, columns: Sequence[float] = (), wrap: int = 0) -> str:
        """The text after ``hit`` on its row up to the next label or, with none on the
        row, the column edge; then up to ``wrap`` continuation rows of the same column."""
        nxt = self._next(hit)
        edge = nxt.left if nxt else min((c for c in columns if c > hit.right), default=math.inf)
        row = self.adopted.get(hit)
        own = _run(self._after(hit) if row is None else self.rows[row], edge, hit.height)
        parts = ["".join(g.char for g in own)]
        if wrap and own:
            parts += self._wrapped(hit, own[0].left, edge, wrap)
        return "".join(parts)

    def below(self, hit: Hit, columns: Sequence[float] = ()) -> str:
        """The text of the next row under ``hit``, from the label's left edge on."""
        edge = min((c for c in columns if c > hit.right), default=math.inf)
        for row in self.rows[hit.row + 1 : hit.row + 3]:
            own = [g for g in row if g.right > hit.left - hit.height]
            own = _run(own, edge, hit.height)
            if own:
                return "".join(g.char for g in own)
        return ""

    def _wrapped(self, hit: Hit, start: float, edge: float, wrap: int) -> list[str]:
        """Continuation rows: text starting near ``start``, left of ``edge``, until a
        label in this column, text further left (an unread label) or a wide gap."""
        out: list[str] = []
        last = max(hit.row, self.adopted.get(hit, hit.row))
        for r in range(last + 1, len(self.rows)):
            if len(out) >= wrap or r - last > 2 or r in self.adopted.values():
                break
            row = [g for g in self.rows[r] if hit.left - hit.height < g.left and g.left < edge]
            if not row:
                continue
            if any(h.row == r and h.left < edge and h.right > hit.left - hit.height
                   and not self._in_prose(h) for h in self.hits):  # fmt: skip
                break
            if row[0].left < start - 1.5 * hit.height:
                break
            if row[0].left > start + 3 * hit.height:
                continue
            run = _run(row, edge, hit.height)
            out.append("".join(g.char for g in run))
            last = r
        return out


def licence_page(lines: Sequence[Line], labels: Mapping[str, Sequence[str]], document: str) -> Page:
    """The :class:`Page` of ``lines``; NothingFound (naming the ``document``) without at
    least two of its labels printed."""
    page = Page(lines, labels)
    if len(page.keys()) < 2:
        raise NothingFound(f"no {document} labels")
    return page


def _join(row: Sequence[Upright]) -> list[Glyph]:
    """A row's glyphs left to right. A box's first glyph lying mostly on a one-character
    box before it (a letter-spaced label's "所") or on the same character is that printed
    character read twice, and is dropped."""
    out: list[Glyph] = []
    lone = False
    for part in row:
        spread = glyphs(part)
        if out and spread:
            g, last = spread[0], out[-1]
            over = last.right - g.left > 0.5 * (g.right - g.left)
            if over and (lone or g.char == last.char):
                spread = spread[1:]
        lone = len(spread) == 1
        out += spread
    return out


def _run(row: Sequence[Glyph], edge: float, height: float) -> list[Glyph]:
    """Leading glyphs of ``row`` left of ``edge``, cut at the first wide gap."""
    out: list[Glyph] = []
    for g in row:
        if g.left >= edge - 0.3 * height:
            break
        if out and g.left - out[-1].right > 3 * height:
            break
        out.append(g)
    return out
