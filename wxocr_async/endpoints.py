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


IDCARD = Endpoint("idcard", "cv/ocr/idcard", IdCardResult, ("idcard",))
BANKCARD = Endpoint("bankcard", "cv/ocr/bankcard", BankCardResult, ("bankcard",))
VEHICLE_LICENSE = Endpoint(
    "driving", "cv/ocr/driving", VehicleLicenseResult, ("drivingLicense", "vehicleLicense")
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
