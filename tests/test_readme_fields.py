"""README.rst's "Endpoints and their fields" tables against the models they document.

Each table must list exactly a model's own attrs fields, with the annotation's type (less
``| None``), the camel name the library itself writes, and a meaning; each endpoint's
sub-heading must name its method, path and result class as ``endpoints.py`` does.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import attrs
import pytest

from wxocr_async import models
from wxocr_async.endpoints import BY_METHOD, ENDPOINTS
from wxocr_async.models import WireModel

README = Path(__file__).resolve().parent.parent / "README.rst"
SECTION_TITLE = "Endpoints and their fields"
SHARED_TITLE = "Shared types"
HEADER = ["field", "type", "meaning", "camel name"]
#: an endpoint's sub-heading: ``method`` — ``path`` → ``ResultClass``
ENDPOINT_TITLE = re.compile(r"``(\w+)`` — ``([\w/]+)`` → ``(\w+)``")
TABLE_RULE = re.compile(r"=+(?: +=+)*")
LITERAL = re.compile(r"``([^`]+)``")

MODELS: list[type[WireModel]] = [
    cls
    for name in models.__all__
    if isinstance(cls := getattr(models, name), type)
    and issubclass(cls, WireModel)
    and cls is not WireModel
]
#: attrs fields every model inherits (``extras`` and private state), not in any table
INHERITED = frozenset(a.name for a in attrs.fields(WireModel))


@dataclass
class Table:
    """One RST simple table and the first line of the paragraph just before it."""

    lead: str
    header: list[str]
    rows: list[list[str]]


@dataclass
class Subsection:
    title: str
    tables: list[Table] = field(default_factory=list)


@dataclass
class Section:
    intro: str
    subsections: list[Subsection]


def _is_underline(line: str, char: str, title: str) -> bool:
    return bool(title.strip()) and len(line) >= len(title) and set(line) == {char}


def _section_lines(text: str) -> list[str]:
    """The section's lines, from below its heading to the next ``----`` heading."""
    lines = text.splitlines()
    start = next(
        i + 2
        for i, line in enumerate(lines[:-1])
        if line == SECTION_TITLE and _is_underline(lines[i + 1], "-", line)
    )
    end = next(
        (i for i in range(start, len(lines) - 1) if _is_underline(lines[i + 1], "-", lines[i])),
        len(lines),
    )
    return lines[start:end]


def _cells(line: str, starts: list[int]) -> list[str]:
    ends: list[int | None] = [*starts[1:], None]
    return [line[s:e].strip() for s, e in zip(starts, ends, strict=True)]


def _read_table(lines: list[str], at: int, lead: str) -> tuple[Table, int]:
    """The simple table whose top rule is ``lines[at]``, and the index after its bottom
    rule. A row whose first column is blank continues the row above it."""
    starts = [m.start() for m in re.finditer("=+", lines[at])]
    header = _cells(lines[at + 1], starts)
    assert TABLE_RULE.fullmatch(lines[at + 2]), f"no rule under the header: {lines[at + 1]!r}"
    rows: list[list[str]] = []
    i = at + 3
    while not TABLE_RULE.fullmatch(lines[i]):
        cells = _cells(lines[i], starts)
        if cells[0] or not rows:
            rows.append(cells)
        else:
            rows[-1] = [" ".join(filter(None, pair)) for pair in zip(rows[-1], cells, strict=True)]
        i += 1
    return Table(lead, header, rows), i + 1


def _parse(lines: list[str]) -> Section:
    intro: list[str] = []
    subsections: list[Subsection] = []
    lead = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and _is_underline(lines[i + 1], "~", line):
            subsections.append(Subsection(line))
            lead, i = "", i + 2
        elif TABLE_RULE.fullmatch(line):
            assert subsections, "a table before the first sub-heading"
            table, i = _read_table(lines, i, lead)
            subsections[-1].tables.append(table)
        else:
            if not subsections:
                intro.append(line)
            elif line and not lines[i - 1]:
                lead = line
            i += 1
    return Section(" ".join(intro), subsections)


@cache
def section() -> Section:
    return _parse(_section_lines(README.read_text(encoding="utf-8")))


@cache
def tables_by_model() -> dict[str, Table]:
    """Every table, keyed by the class it documents: an endpoint's result class (from its
    sub-heading), or in "Shared types" the first literal of the paragraph before it."""
    found: list[tuple[str, Table]] = []
    for sub in section().subsections:
        if match := ENDPOINT_TITLE.fullmatch(sub.title):
            assert len(sub.tables) == 1, f"{sub.title}: {len(sub.tables)} tables, not 1"
            found.append((match[3], sub.tables[0]))
        else:
            assert sub.title == SHARED_TITLE, f"unexpected sub-heading {sub.title!r}"
            for table in sub.tables:
                named = LITERAL.match(table.lead)
                assert named, f"no ``Class`` before the table after {table.lead!r}"
                found.append((named[1], table))
    names = [name for name, _ in found]
    assert len(names) == len(set(names)), f"documented twice: {names}"
    return dict(found)


def _literal(cell: str) -> str:
    match = LITERAL.fullmatch(cell)
    return match[1] if match else cell


def rendered(annotation: Any) -> str:
    """An annotation as the README writes it: ``list[TextItem]``, ``| None`` dropped."""
    args = [a for a in typing.get_args(annotation) if a is not types.NoneType]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return " | ".join(rendered(a) for a in args)
    if typing.get_origin(annotation) is list:
        return f"list[{rendered(args[0])}]"
    name: str = annotation.__name__
    return name


def sample(annotation: Any) -> Any:
    """A value of the annotated type that ``to_dict`` writes out (not ``None``)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return sample(next(a for a in typing.get_args(annotation) if a is not types.NoneType))
    if typing.get_origin(annotation) is list:
        return []
    if attrs.has(annotation):
        return annotation()
    return {str: "x", int: 1, float: 1.5}[annotation]


def camel_name(cls: type[WireModel], name: str, annotation: Any) -> str:
    """The key ``to_dict("camel")`` writes for this field, set on its own."""
    keys = list(cls(**{name: sample(annotation)}).to_dict("camel"))
    assert len(keys) == 1, keys
    return keys[0]


def own_fields(cls: type[WireModel]) -> list[attrs.Attribute[Any]]:
    return [a for a in attrs.fields(cls) if a.name not in INHERITED]


def test_every_endpoint_has_its_subsection() -> None:
    titled = {
        m[1]: (m[2], m[3])
        for sub in section().subsections
        if (m := ENDPOINT_TITLE.fullmatch(sub.title))
    }
    assert titled == {
        method: (endpoint.path, endpoint.result_type.__name__)
        for method, endpoint in BY_METHOD.items()
    }
    assert {e.path for e in BY_METHOD.values()} == {e.path for e in ENDPOINTS}


def test_every_model_has_one_table() -> None:
    assert set(tables_by_model()) == {cls.__name__ for cls in MODELS}


def test_the_intro_names_what_every_result_shares() -> None:
    shared = [n for n in INHERITED if not n.startswith("_")]
    shared += [n for n, v in vars(WireModel).items() if isinstance(v, property)]
    for name in shared:
        assert f"``result.{name}``" in section().intro, name


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_table_matches_model(cls: type[WireModel]) -> None:
    table = tables_by_model()[cls.__name__]
    assert table.header == HEADER
    hints = typing.get_type_hints(cls)
    rows = {_literal(row[0]): row for row in table.rows}
    assert len(rows) == len(table.rows), "a field listed twice"
    fields = {a.name for a in own_fields(cls)}
    assert set(rows) == fields, f"no row: {fields - set(rows)}; no field: {set(rows) - fields}"
    for attribute in own_fields(cls):
        annotation = hints[attribute.name]
        _, type_cell, meaning, camel_cell = rows[attribute.name]
        # the intro says every field is optional, None when absent
        assert attribute.default is None and types.NoneType in typing.get_args(annotation)
        assert _literal(type_cell) == rendered(annotation), attribute.name
        assert meaning, attribute.name
        assert _literal(camel_cell) == camel_name(cls, attribute.name, annotation), attribute.name
