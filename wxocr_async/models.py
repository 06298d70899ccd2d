"""Typed results, one attrs class per endpoint.

Attribute names are the HTTPS (snake_case) wire names. Every field is optional:
WeChat leaves out what it did not find, and ``None`` means "not in the reply".
Fields no table documents are kept, untouched, in ``extras`` (wire names as keys).
Conversion to and from dicts lives in :mod:`wxocr_async.naming`; the
``to_dict``/``from_dict`` methods are shortcuts to it.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self, TypeVar

import attrs

from .naming import Naming, from_dict, to_dict

__all__ = [
    "BankCardResult",
    "BusinessLicenseResult",
    "CardPosition",
    "Corners",
    "DriverLicenseResult",
    "IdCardResult",
    "ImageSize",
    "MenuContent",
    "MenuItem",
    "MenuResult",
    "PlateNumberResult",
    "Point",
    "PrintedTextResult",
    "TextItem",
    "VehicleLicenseResult",
    "WireModel",
]


@attrs.define(frozen=True, kw_only=True, repr=False)
class WireModel:
    """Base of every model: unknown wire fields and the dict conversions."""

    #: keys = wire field -> another wire key whose value fills it when it is missing
    wire_fallbacks: ClassVar[dict[str, str]] = {}

    #: a JSON string holding this object is decoded (menu ``content``)
    json_string_accepted: ClassVar[bool] = False

    #: fields WeChat sent that no table documents, keyed by their snake_case wire name
    extras: dict[str, Any] = attrs.field(factory=dict)
    #: fields filled from a fallback key rather than sent (not written back out)
    _fallback_filled: tuple[str, ...] = attrs.field(default=(), init=False, eq=False, repr=False)
    _engine: str = attrs.field(default="wechat", init=False, eq=False, repr=False)

    @property
    def engine(self) -> str:
        """Which engine produced this result: ``"wechat"`` or ``"local"``."""
        return self._engine

    def __repr__(self) -> str:
        shown = [
            f"{a.name}={getattr(self, a.name)!r}"
            for a in attrs.fields(type(self))
            if a.init and a.name != "extras" and getattr(self, a.name) is not None
        ]
        if self.extras:
            shown.append(f"extras={self.extras!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def to_dict(self, naming: Naming = "snake") -> dict[str, Any]:
        """The reply as WeChat sent it (less ``errcode``/``errmsg``), in either naming."""
        return to_dict(self, naming)

    @classmethod
    def from_dict(cls, data: dict[str, Any], naming: Naming | None = None) -> Self:
        """Build from a reply in either naming (recognised from the keys if not given)."""
        return from_dict(cls, data, naming)


# -- shared nested shapes -------------------------------------------------------------


@attrs.define(frozen=True, kw_only=True, repr=False)
class Point(WireModel):
    """A pixel position."""

    x: int | None = None
    y: int | None = None


@attrs.define(frozen=True, kw_only=True, repr=False)
class Corners(WireModel):
    """The four corners of a detected region (WeChat's ``pos``)."""

    left_top: Point | None = None
    right_top: Point | None = None
    right_bottom: Point | None = None
    left_bottom: Point | None = None


@attrs.define(frozen=True, kw_only=True, repr=False)
class CardPosition(WireModel):
    """Where a card or certificate was found: ``{"pos": {...}}``."""

    pos: Corners | None = None


@attrs.define(frozen=True, kw_only=True, repr=False)
class ImageSize(WireModel):
    """The image's width and height in pixels."""

    w: int | None = None
    h: int | None = None


# -- endpoint results ------------------------------------------------------------------


@attrs.define(frozen=True, kw_only=True, repr=False)
class IdCardResult(WireModel):
    """cv/ocr/idcard: the front (name, id, ...) or the back (valid_date) of an ID card."""

    type: str | None = None
    name: str | None = None
    id: str | None = None
    addr: str | None = None
    gender: str | None = None
    nationality: str | None = None
    valid_date: str | None = None
    #: undocumented, seen in real replies
    birth: str | None = None
    card_property: int | None = None
    authority: str | None = None


@attrs.define(frozen=True, kw_only=True, repr=False)
class BankCardResult(WireModel):
    """cv/ocr/bankcard. WeChat's own examples send the number as ``id``: it fills ``number``."""

    wire_fallbacks: ClassVar[dict[str, str]] = {"number": "id"}

    number: str | None = None
    id: str | None = None


@attrs.define(frozen=True, kw_only=True, repr=False)
class VehicleLicenseResult(WireModel):
    """cv/ocr/driving: a vehicle licence (行驶证)."""

    plate_num: str | None = None
    vehicle_type: str | None = None
    owner: str | None = None
    addr: str | None = None
    use_character: str | None = None
    model: str | None = None
    vin: str | None = None
    engine_num: str | None = None
    register_date: str | None = None
    issue_date: str | None = None
    plate_num_b: str | None = None
    record: str | None = None
    passengers_num: str | None = None
    total_quality: str | None = None
    prepare_quality: str | None = None
    overall_size: str | None = None
    card_position_front: CardPosition | None = None
    card_position_back: CardPosition | None = None
    img_size: ImageSize | None = None


@attrs.define(frozen=True, kw_only=True, repr=False)
class DriverLicenseResult(WireModel):
    """cv/ocr/drivinglicense: a driver licence (驾驶证)."""

    id_num: str | None = None
    name: str | None = None
    sex: str | None = None
    nationality: str | None = None
    address: str | None = None
    birth_date: str | None = None
    issue_date: str | None = None
    car_class: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    official_seal: str | None = None


@attrs.define(frozen=True, kw_only=True, repr=False)
class BusinessLicenseResult(WireModel):
    """cv/ocr/bizlicense: a business licence (营业执照); only the fields found are sent."""

    reg_num: str | None = None
    serial: str | None = None
    legal_representative: str | None = None
    enterprise_name: str | None = None
    type_of_organization: str | None = None
    address: str | None = None
    type_of_enterprise: str | None = None
    business_scope: str | None = None
    registered_capital: str | None = None
    paid_in_capital: str | None = None
    valid_period: str | None = None
    registered_date: str | None = None
    cert_position: CardPosition | None = None
    img_size: ImageSize | None = None


@attrs.define(frozen=True, kw_only=True, repr=False)
class TextItem(WireModel):
    """One recognised line of printed text."""

    text: str | None = None
    pos: Corners | None = None


@attrs.define(frozen=True, kw_only=True, repr=False)
class PrintedTextResult(WireModel):
    """cv/ocr/comm: printed text, line by line (``items`` may be empty)."""

    items: list[TextItem] | None = None
    img_size: ImageSize | None = None


@attrs.define(frozen=True, kw_only=True, repr=False)
class PlateNumberResult(WireModel):
    """cv/ocr/platenum: a licence plate."""

    number: str | None = None


@attrs.define(frozen=True, kw_only=True, repr=False)
class MenuItem(WireModel):
    """One dish and its price."""

    name: str | None = None
    price: float | None = None


@attrs.define(frozen=True, kw_only=True, repr=False)
class MenuContent(WireModel):
    """The decoded ``content`` of a menu reply."""

    json_string_accepted: ClassVar[bool] = True

    menu_items: list[MenuItem] | None = None


@attrs.define(frozen=True, kw_only=True, repr=False)
class MenuResult(WireModel):
    """cv/ocr/menu. ``content`` is decoded whether WeChat sent a JSON string or an object."""

    content: MenuContent | None = None


M = TypeVar("M", bound=WireModel)


def marked_engine(result: M, engine: str) -> M:
    """``result`` marked with the engine that produced it (``result.engine``)."""
    if engine != "wechat":
        object.__setattr__(result, "_engine", engine)  # the models' own field, set once
    return result
