"""The two namings of a reply, and the cattrs converters between models and dicts.

``snake`` is the HTTPS wire form (``valid_date``); ``camel`` is what wx-server-sdk
returns (``validDate``), produced by its mechanical rule ``_x -> X`` applied
recursively to keys (never to values). Unknown fields are kept in a model's
``extras`` under their snake_case name and written back out in either naming.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

if TYPE_CHECKING:
    from .models import WireModel

Naming = Literal["snake", "camel"]
NAMINGS: tuple[Naming, ...] = ("snake", "camel")
M = TypeVar("M", bound="WireModel")

#: reply keys that belong to the envelope, not to the result
ENVELOPE_KEYS = frozenset({"errcode", "errmsg", "errCode", "errMsg"})

_SNAKE_PART = re.compile(r"_[a-z]")
_UPPER = re.compile(r"[A-Z]")


@cache
def snake_to_camel(key: str) -> str:
    """wx-server-sdk's rule: ``_`` + lowercase letter -> its capital (``img_size``: ``imgSize``)."""
    return _SNAKE_PART.sub(lambda m: m.group(0)[1].upper(), key)


@cache
def camel_to_snake(key: str) -> str:
    """wx-server-sdk's reverse rule: an uppercase letter -> ``_`` + lowercase (not at index 0)."""
    return _UPPER.sub(lambda m: ("_" if m.start() else "") + m.group(0).lower(), key)


def _convert_keys(value: Any, rename: Callable[[str], str], *, recursive: bool = True) -> Any:
    """wx-server-sdk's ``convertCase``: it copies the object, then for each key sets the
    converted key and deletes the old one, so a converted key overwrites one already in
    the target form, whichever comes first (``valid_date`` beats ``validDate``)."""
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        renamed: set[str] = set()
        for key, item in value.items():
            new = rename(key) if isinstance(key, str) else key
            if new == key and new in renamed:
                continue  # a renamed key already holds it: the converted value wins
            out[new] = _convert_keys(item, rename) if recursive else item
            if new != key:
                renamed.add(new)
        return out
    if isinstance(value, list):
        return [_convert_keys(v, rename) for v in value]
    return value


def camelize(value: Any) -> Any:
    """Convert every key in nested dicts and lists to camelCase, as wx-server-sdk does
    (``_`` + lowercase letter only: ``HTTP_code`` -> ``HTTPCode``); where a converted key
    meets one already in camelCase, the converted value wins."""
    return _convert_keys(value, snake_to_camel)


def snakeize(value: Any) -> Any:
    """Convert every key in nested dicts and lists to snake_case, as wx-server-sdk does."""
    return _convert_keys(value, camel_to_snake)


def _snake_extras(value: Any) -> Any:
    """Unknown keys of a camelCase reply under their snake_case name, where one exists:
    a key whose snake form would not camelize back to it (``HTTPCode``) is kept as is."""
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if isinstance(key, str):
                snake = camel_to_snake(key)
                key = snake if snake_to_camel(snake) == key else key
            out[key] = _snake_extras(item)
        return out
    if isinstance(value, list):
        return [_snake_extras(v) for v in value]
    return value


_HUMP = re.compile(r"[a-z0-9][A-Z]")


def detect_naming(data: Any, cls: type | None = None) -> Naming:
    """The naming of a reply, from the keys that tell: the documented fields of ``cls``
    (and of the models nested in it) whose two forms differ, and the envelope
    (``errcode``/``errCode``); only without those, the shape of the other keys (``a_b``
    snake, ``aB`` camel). Equal evidence, or none: ``snake``."""
    snake_names, camel_names = _documented_names(cls) if cls is not None else _ENVELOPE_NAMES
    votes = {"snake": 0, "camel": 0, "snake?": 0, "camel?": 0}
    todo, seen = [data], 0
    while todo and seen < 10_000:  # a bound: replies are small, nesting is shallow
        node = todo.pop()
        seen += 1
        if isinstance(node, Mapping):
            for key, item in node.items():
                if isinstance(key, str):
                    if key in snake_names:
                        votes["snake"] += 1
                    elif key in camel_names:
                        votes["camel"] += 1
                    elif _SNAKE_PART.search(key):
                        votes["snake?"] += 1
                    elif _HUMP.search(key):
                        votes["camel?"] += 1
                todo.append(item)
        elif isinstance(node, list):
            todo.extend(node)
    if votes["snake"] or votes["camel"]:
        return "camel" if votes["camel"] > votes["snake"] else "snake"
    return "camel" if votes["camel?"] > votes["snake?"] else "snake"


_ENVELOPE_NAMES = (frozenset({"errcode", "errmsg"}), frozenset({"errCode", "errMsg"}))


@cache
def _documented_names(cls: type) -> tuple[frozenset[str], frozenset[str]]:
    """The wire names of ``cls`` and its nested models whose snake and camel forms
    differ: ``({"valid_date", ...}, {"validDate", ...})``, envelope included."""
    snake, camel = set(_ENVELOPE_NAMES[0]), set(_ENVELOPE_NAMES[1])
    todo, done = [cls], set()
    while todo:
        model = todo.pop()
        if model in done or not attrs.has(model):
            continue
        done.add(model)
        hints = typing.get_type_hints(model)
        for field in _wire_fields(model):
            if snake_to_camel(field.name) != field.name:
                snake.add(field.name)
                camel.add(snake_to_camel(field.name))
            todo.extend(_models_in(hints.get(field.name)))
    return frozenset(snake), frozenset(camel)


def _models_in(annotation: Any) -> list[type]:
    """The attrs classes named in a field's type (``Corners | None``, ``list[TextItem]``)."""
    found = [annotation] if isinstance(annotation, type) and attrs.has(annotation) else []
    for arg in getattr(annotation, "__args__", ()):
        found += _models_in(arg)
    return found


# -- scalar hooks: numbers stay numbers ------------------------------------------------


def _structure_int(value: Any, _: type) -> int:
    if type(value) is int:
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return int(value.strip())
    raise TypeError(f"expected an integer, got {type(value).__name__}")


def _structure_float(value: Any, _: type) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value  # keep 48 as 48 and 48.0 as 48.0
    if isinstance(value, str):
        return float(value)
    raise TypeError(f"expected a number, got {type(value).__name__}")


def _structure_str(value: Any, _: type) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"expected a string, got {type(value).__name__}")


# Optional scalars get hooks of their own, so the generated code calls them directly
# instead of going through cattrs' generic Optional dispatch for every field.
def _structure_optional_str(value: Any, _: type) -> str | None:
    return value if value is None or type(value) is str else _structure_str(value, str)


def _structure_optional_int(value: Any, _: type) -> int | None:
    return value if value is None or type(value) is int else _structure_int(value, int)


def _structure_optional_float(value: Any, _: type) -> float | None:
    return None if value is None else _structure_float(value, float)


# -- model hooks ------------------------------------------------------------------------


def _wire_fields(cls: type) -> list[attrs.Attribute[Any]]:
    return [a for a in attrs.fields(cls) if a.init and a.name != "extras"]


def _structure_factory(converter: cattrs.Converter, naming: Naming) -> Callable[[type], Any]:
    rename = snake_to_camel if naming == "camel" else str

    def factory(cls: type[WireModel]) -> Callable[[Any, type], Any]:
        fields = _wire_fields(cls)
        overrides: dict[str, Any] = {a.name: override(rename=rename(a.name)) for a in fields}
        base = make_dict_structure_fn(
            cls, converter, _cattrs_forbid_extra_keys=False, extras=override(omit=True), **overrides
        )
        known = frozenset(rename(a.name) for a in fields) | ENVELOPE_KEYS
        fallbacks = {rename(k): rename(v) for k, v in cls.wire_fallbacks.items()}
        decode_string = cls.json_string_accepted
        to_snake = naming == "camel"
        snake_names = frozenset(a.name for a in fields if snake_to_camel(a.name) != a.name)

        def structure(data: Any, _: type) -> Any:
            if decode_string and isinstance(data, str):
                data = json.loads(data)
            if not isinstance(data, Mapping):
                raise TypeError(f"{cls.__name__}: expected an object, got {type(data).__name__}")
            if to_snake and not snake_names.isdisjoint(data):
                # as wx-server-sdk would return it: where a field comes in both forms the
                # snake value wins (nested models see to their own keys, camelize to extras)
                data = _convert_keys(data, snake_to_camel, recursive=False)
            filled: list[str] = []
            for field, source in fallbacks.items():
                if data.get(field) is None and data.get(source) is not None:
                    data = {**data, field: data[source]}
                    filled.append(field)
            obj = base(data, cls)
            unknown = {k: v for k, v in data.items() if k not in known}
            if unknown:
                extras = _snake_extras(camelize(unknown)) if to_snake else unknown
                object.__setattr__(obj, "extras", extras)
            if filled:
                names = tuple(camel_to_snake(f) if to_snake else f for f in filled)
                object.__setattr__(obj, "_fallback_filled", names)
            return obj

        return structure

    return factory


def _unstructure_factory(converter: cattrs.Converter, naming: Naming) -> Callable[[type], Any]:
    camel = naming == "camel"
    rename = snake_to_camel if camel else str

    def factory(cls: type[WireModel]) -> Callable[[Any], dict[str, Any]]:
        fields = _wire_fields(cls)
        overrides: dict[str, Any] = {a.name: override(rename=rename(a.name)) for a in fields}
        base = make_dict_unstructure_fn(
            cls, converter, _cattrs_omit_if_default=True, extras=override(omit=True), **overrides
        )

        def unstructure(obj: WireModel) -> dict[str, Any]:
            out: dict[str, Any] = base(obj)
            for field in obj._fallback_filled:
                out.pop(rename(field), None)
            if obj.extras:  # documented fields win over an unknown key of the same name
                for key, item in (camelize(obj.extras) if camel else obj.extras).items():
                    out.setdefault(key, item)
            return out

        return unstructure

    return factory


@cache
def converter(naming: Naming) -> cattrs.Converter:
    """The (cached) converter for one naming."""
    conv = cattrs.Converter(detailed_validation=False)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(float, _structure_float)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(str | None, _structure_optional_str)
    conv.register_structure_hook(int | None, _structure_optional_int)
    conv.register_structure_hook(float | None, _structure_optional_float)
    conv.register_structure_hook_factory(attrs.has, _structure_factory(conv, naming))
    conv.register_unstructure_hook_factory(attrs.has, _unstructure_factory(conv, naming))
    return conv


def to_dict(model: WireModel, naming: Naming = "snake") -> dict[str, Any]:
    """A model as the dict WeChat (``snake``) or wx-server-sdk (``camel``) would give."""
    if naming not in NAMINGS:
        raise ValueError(f"naming must be 'snake' or 'camel', not {naming!r}")
    result: dict[str, Any] = converter(naming).unstructure(model)
    return result


def from_dict(cls: type[M], data: Mapping[str, Any], naming: Naming | None = None) -> M:
    """Build ``cls`` from a reply dict in either naming (recognised from the keys if None)."""
    if naming is None:
        naming = detect_naming(data, cls)
    elif naming not in NAMINGS:
        raise ValueError(f"naming must be 'snake' or 'camel', not {naming!r}")
    return converter(naming).structure(data, cls)
