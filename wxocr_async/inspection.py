"""What a recognition saw: its text lines and where each reply field came from.

An :class:`Inspection` is a reply together with the text lines the engine recognised
(their corners in image pixels) and, for each field of the reply, the lines it was read
from and one box around them. The local engine knows every line it read
(:mod:`wxocr_async.local.provenance` traces the fields to them); WeChat gives positions
for a few fields only (``comm``'s items, a licence's ``cert_position``), which
:func:`from_wechat_reply` draws. ``wxocr serve``'s try-it page and ``wxocr ENDPOINT IMAGE
--annotate OUT.png`` show it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeAlias

import attrs

from .naming import ENVELOPE_KEYS, snake_to_camel

Point: TypeAlias = tuple[float, float]
#: left-top, right-top, right-bottom, left-bottom, in image pixels
Quad: TypeAlias = tuple[Point, Point, Point, Point]

#: a reply's position fields (WeChat's ``pos`` objects and sizes), drawn, not tabled
POSITION_KEYS = frozenset(
    {"pos", "img_size", "cert_position", "card_position_front", "card_position_back"}
)
_CORNERS = ("left_top", "right_top", "right_bottom", "left_bottom")


@attrs.frozen
class SeenLine:
    """One text line the engine recognised; ``reread``: read again from a region of the
    image (a plate, a card number) after the first reading found nothing usable."""

    text: str
    box: Quad
    score: float = 1.0
    reread: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "box": [[round(x, 1), round(y, 1)] for x, y in self.box],
            "score": round(self.score, 4),
            "reread": self.reread,
        }


@attrs.frozen
class FieldSource:
    """One field of the reply (``path``: ``name``, ``valid_date``,
    ``content.menu_items[0].price``), its value as text, the indices of the lines it was
    read from, and one box around where it was read (None: not read from a line, such as
    ``type``)."""

    path: str
    value: str
    lines: tuple[int, ...] = ()
    box: Quad | None = None

    @property
    def camel_path(self) -> str:
        """The path in the cloud call's naming (``validDate``)."""
        return ".".join(snake_to_camel(part) for part in self.path.split("."))

    def to_json(self) -> dict[str, Any]:
        return {
            "snake": self.path,
            "camel": self.camel_path,
            "value": self.value,
            "lines": list(self.lines),
            "box": None if self.box is None else [[round(x, 1), round(y, 1)] for x, y in self.box],
        }


@attrs.frozen
class Inspection:
    """A reply (WeChat's JSON, snake_case, errors included) and what it was read from.

    ``engine``: ``"local"`` or ``"wechat"``; ``size``: the image's (width, height) when
    known; ``seconds``: the recognition's own time, when measured."""

    endpoint: str
    reply: Mapping[str, Any]
    engine: str
    lines: tuple[SeenLine, ...] = ()
    fields: tuple[FieldSource, ...] = ()
    size: tuple[int, int] | None = None
    seconds: float | None = None
    #: the image bytes recognised, when this process had them (not an ``img_url`` that
    #: WeChat downloaded itself): what the boxes are drawn on
    image: bytes | None = attrs.field(default=None, repr=False, eq=False)

    @property
    def drawable(self) -> bool:
        """Whether there is anything to draw: a line, or a field with a box."""
        return bool(self.lines) or any(f.box is not None for f in self.fields)

    def to_json(self) -> dict[str, Any]:
        """The JSON ``wxocr serve``'s inspect route answers: the reply as WeChat's HTTPS
        API gives it, and as the cloud call does (camelCase)."""
        from .cloud import cloud_form  # the cloud layer imports the client

        return {
            "endpoint": self.endpoint,
            "engine": self.engine,
            "reply": dict(self.reply),
            "cloud": cloud_form(self.endpoint, self.reply),
            "seconds": None if self.seconds is None else round(self.seconds, 3),
            "size": None if self.size is None else {"w": self.size[0], "h": self.size[1]},
            "lines": [line.to_json() for line in self.lines],
            "fields": [field.to_json() for field in self.fields],
        }


def leaf_fields(reply: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Each text or number field of ``reply`` as (path, value as text), in reply order:
    envelope keys and position objects left out, lists and objects walked
    (``content.menu_items[0].name``)."""
    for key, value in reply.items():
        if key in ENVELOPE_KEYS or key in POSITION_KEYS:
            continue
        yield from _leaves(str(key), value)


def _leaves(path: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, str):
        if value:
            yield path, value
    elif isinstance(value, int | float):
        yield path, f"{value:g}" if isinstance(value, float) else str(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key not in POSITION_KEYS:
                yield from _leaves(f"{path}.{key}", item)
    elif isinstance(value, Sequence):
        for index, item in enumerate(value):
            yield from _leaves(f"{path}[{index}]", item)


def quad_of(pos: Any) -> Quad | None:
    """A WeChat ``pos`` object (``left_top``... each ``{x, y}``) as a quad; None if it is
    not one."""
    if not isinstance(pos, Mapping):
        return None
    try:
        corners = [(float(pos[c]["x"]), float(pos[c]["y"])) for c in _CORNERS]
    except (KeyError, TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for corner in corners for v in corner):
        return None
    return (corners[0], corners[1], corners[2], corners[3])


def from_wechat_reply(endpoint: str, reply: Mapping[str, Any]) -> Inspection:
    """What WeChat's own reply lets us draw: ``comm``'s items as lines (each item its own
    field), ``cert_position`` and ``card_position_front``/``_back`` as field boxes; the
    other fields, listed without a box."""
    lines: list[SeenLine] = []
    fields: list[FieldSource] = []
    items = reply.get("items")
    item_boxes: dict[str, tuple[int, Quad]] = {}
    if isinstance(items, Sequence) and not isinstance(items, str):
        for index, item in enumerate(items):
            box = quad_of(item.get("pos")) if isinstance(item, Mapping) else None
            if box is None:
                continue
            item_boxes[f"items[{index}].text"] = (len(lines), box)
            lines.append(SeenLine(str(item.get("text", "")), box))
    for path, value in leaf_fields(reply):
        found = item_boxes.get(path)
        if found is None:
            fields.append(FieldSource(path, value))
        else:
            fields.append(FieldSource(path, value, (found[0],), found[1]))
    for key in sorted(POSITION_KEYS - {"pos", "img_size"}):
        position = reply.get(key)
        box = quad_of(position.get("pos")) if isinstance(position, Mapping) else None
        if box is not None:
            fields.append(FieldSource(key, "", (), box))
    size = reply.get("img_size")
    shape = None
    if (
        isinstance(size, Mapping)
        and isinstance(size.get("w"), int)
        and isinstance(size.get("h"), int)
    ):
        shape = (size["w"], size["h"])
    return Inspection(endpoint, reply, "wechat", tuple(lines), tuple(fields), shape)


__all__ = ["FieldSource", "Inspection", "Quad", "SeenLine", "from_wechat_reply", "leaf_fields"]
