"""The two namings of a reply, and the cattrs converters between models and dicts.

``snake`` is the HTTPS wire form (``valid_date``); ``camel`` is what wx-server-sdk
returns (``validDate``), produced by its mechanical rule ``_x -> X`` applied
recursively to keys (never to values). Unknown fields are kept in a model's
``extras`` under their snake_case name and written back out in either naming.
"""

from __future__ import annotations

import json
import re
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


def _convert_keys(value: Any, rename: Callable[[str], str]) -> Any:
    if isinstance(value, Mapping):
        return {
            rename(k) if isinstance(k, str) else k: _convert_keys(v, rename)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_convert_keys(v, rename) for v in value]
    return value


def camelize(value: Any) -> Any:
    """Convert every key in nested dicts and lists to camelCase, as wx-server-sdk does."""
    return _convert_keys(value, snake_to_camel)


def snakeize(value: Any) -> Any:
    """Convert every key in nested dicts and lists to snake_case, as wx-server-sdk does."""
    return _convert_keys(value, camel_to_snake)


def detect_naming(data: Any) -> Naming:
    """``camel`` if any key, at any depth, has an uppercase letter (``validDate``,
    ``errCode``, ``items[].pos.leftTop``), else ``snake``."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            if isinstance(key, str) and _UPPER.search(key):
                return "camel"
            if detect_naming(value) == "camel":
                return "camel"
    elif isinstance(data, list):
        return "camel" if any(detect_naming(v) == "camel" for v in data) else "snake"
    return "snake"


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

        def structure(data: Any, _: type) -> Any:
            if decode_string and isinstance(data, str):
                data = json.loads(data)
            if not isinstance(data, Mapping):
                raise TypeError(f"{cls.__name__}: expected an object, got {type(data).__name__}")
            filled: list[str] = []
            for field, source in fallbacks.items():
                if data.get(field) is None and data.get(source) is not None:
                    data = {**data, field: data[source]}
                    filled.append(field)
            obj = base(data, cls)
            unknown = {k: v for k, v in data.items() if k not in known}
            if unknown:
                object.__setattr__(obj, "extras", snakeize(unknown) if to_snake else unknown)
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
            if obj.extras:
                out.update(camelize(obj.extras) if camel else obj.extras)
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
        naming = detect_naming(data)
    elif naming not in NAMINGS:
        raise ValueError(f"naming must be 'snake' or 'camel', not {naming!r}")
    return converter(naming).structure(data, cls)
