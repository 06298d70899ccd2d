"""The eight OCR endpoints as data: path, result model, wx-server-sdk cloud names."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import attrs

from .models import (
    BankCardResult,
    BusinessLicenseResult,
    DriverLicenseResult,
    IdCardResult,
    MenuResult,
    PlateNumberResult,
    PrintedTextResult,
    VehicleLicenseResult,
    WireModel,
)

R = TypeVar("R", bound=WireModel)


@attrs.frozen
class Endpoint(Generic[R]):
    """One OCR endpoint."""

    #: the last path segment, e.g. ``"driving"``; also the emulator's key
    name: str
    #: the path below the API host, e.g. ``"cv/ocr/driving"``
    path: str
    result_type: type[R]
    #: wx-server-sdk names under ``openapi.ocr`` (empty: not cloud-callable)
    cloud_names: tuple[str, ...] = ()
    #: whether the endpoint takes WeChat's legacy ``type=photo|scan`` (``mode=``)
    takes_mode: bool = False


IDCARD = Endpoint("idcard", "cv/ocr/idcard", IdCardResult, ("idcard",), takes_mode=True)
BANKCARD = Endpoint("bankcard", "cv/ocr/bankcard", BankCardResult, ("bankcard",), takes_mode=True)
VEHICLE_LICENSE = Endpoint(
    "driving",
    "cv/ocr/driving",
    VehicleLicenseResult,
    ("drivingLicense", "vehicleLicense"),
    takes_mode=True,
)
DRIVER_LICENSE = Endpoint(
    "drivinglicense", "cv/ocr/drivinglicense", DriverLicenseResult, ("driverLicense",)
)
BUSINESS_LICENSE = Endpoint(
    "bizlicense", "cv/ocr/bizlicense", BusinessLicenseResult, ("businessLicense",)
)
PRINTED_TEXT = Endpoint("comm", "cv/ocr/comm", PrintedTextResult, ("printedText",))
PLATE_NUMBER = Endpoint("platenum", "cv/ocr/platenum", PlateNumberResult)
MENU = Endpoint("menu", "cv/ocr/menu", MenuResult)

ENDPOINTS: tuple[Endpoint[Any], ...] = (
    IDCARD,
    BANKCARD,
    VEHICLE_LICENSE,
    DRIVER_LICENSE,
    BUSINESS_LICENSE,
    PRINTED_TEXT,
    PLATE_NUMBER,
    MENU,
)
BY_NAME: dict[str, Endpoint[Any]] = {e.name: e for e in ENDPOINTS}
BY_CLOUD_NAME: dict[str, Endpoint[Any]] = {n: e for e in ENDPOINTS for n in e.cloud_names}
#: OcrClient method name -> endpoint
BY_METHOD: dict[str, Endpoint[Any]] = {
    "idcard": IDCARD,
    "bankcard": BANKCARD,
    "vehicle_license": VEHICLE_LICENSE,
    "driver_license": DRIVER_LICENSE,
    "business_license": BUSINESS_LICENSE,
    "printed_text": PRINTED_TEXT,
    "plate_number": PLATE_NUMBER,
    "menu": MENU,
}
#: wire name -> OcrClient method name
METHOD_OF: dict[str, str] = {e.name: method for method, e in BY_METHOD.items()}


def lookup(name: str) -> Endpoint[Any] | None:
    """The endpoint ``name`` names: a wire name (``"driving"``) or a method name with
    ``_`` or ``-`` (``"vehicle_license"``, ``"vehicle-license"``); None for no endpoint."""
    if not isinstance(name, str):
        return None
    return BY_NAME.get(name) or BY_METHOD.get(name.replace("-", "_"))


def names_text() -> str:
    """Every endpoint once, for help and messages: ``idcard, ..., vehicle-license (driving),
    ...``: the method name, then the wire name where they differ."""
    return ", ".join(
        method.replace("_", "-") + (f" ({e.name})" if e.name != method else "")
        for method, e in BY_METHOD.items()
    )
