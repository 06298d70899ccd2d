"""wxocr_async: an asyncio client for WeChat's OCR server API (cv/ocr/*)."""

import logging

from . import jobs
from .batch import Outcome
from .client import DEFAULT_BASE_URL, NOT_GIVEN, OcrClient
from .config import ClientConfig
from .credentials import AppCredentialSource
from .endpoints import ENDPOINTS, Endpoint
from .errors import (
    BadAppCredentials,
    BadResponse,
    CertificateNotFound,
    ClientClosed,
    CloudCallError,
    ConnectionFailed,
    CredentialMissing,
    DiskError,
    HTTPStatusError,
    ImageTooLarge,
    InvalidCredential,
    InvalidImageData,
    InvalidImageUrl,
    InvalidInput,
    IpNotWhitelisted,
    QuotaExceeded,
    RateLimited,
    RequestTimeout,
    ResultsFileBusy,
    StoreUnavailable,
    SystemBusy,
    TokenRefreshLimited,
    TokenUnavailable,
    TransportError,
    Unauthorized,
    WxOcrError,
)
from .images import MAX_IMAGE_BYTES
from .inspection import FieldSource, Inspection, SeenLine
from .limits import QuotaScope
from .models import (
    BankCardResult,
    BusinessLicenseResult,
    CardPosition,
    Corners,
    DriverLicenseResult,
    IdCardResult,
    ImageSize,
    MenuContent,
    MenuItem,
    MenuResult,
    PlateNumberResult,
    Point,
    PrintedTextResult,
    TextItem,
    VehicleLicenseResult,
)
from .observe import Attempt
from .redis_store import RedisStore
from .retry import NO_RETRY, RetryPolicy
from .store import ForceRefreshPolicy, MemoryStore, TokenStore
from .token import CloudbaseTokenSource, NoTokenSource, StaticTokenSource, TokenSource

__version__ = "0.1.0"

# a library's loggers stay quiet until the application configures logging
logging.getLogger("wxocr_async").addHandler(logging.NullHandler())

__all__ = [
    "DEFAULT_BASE_URL",
    "ENDPOINTS",
    "MAX_IMAGE_BYTES",
    "NOT_GIVEN",
    "NO_RETRY",
    "AppCredentialSource",
    "Attempt",
    "BadAppCredentials",
    "BadResponse",
    "BankCardResult",
    "BusinessLicenseResult",
    "CardPosition",
    "CertificateNotFound",
    "ClientClosed",
    "ClientConfig",
    "CloudCallError",
    "CloudbaseTokenSource",
    "ConnectionFailed",
    "Corners",
    "CredentialMissing",
    "DiskError",
    "DriverLicenseResult",
    "Endpoint",
    "FieldSource",
    "ForceRefreshPolicy",
    "HTTPStatusError",
    "IdCardResult",
    "ImageSize",
    "ImageTooLarge",
    "Inspection",
    "InvalidCredential",
    "InvalidImageData",
    "InvalidImageUrl",
    "InvalidInput",
    "IpNotWhitelisted",
    "MemoryStore",
    "MenuContent",
    "MenuItem",
    "MenuResult",
    "NoTokenSource",
    "OcrClient",
    "Outcome",
    "PlateNumberResult",
    "Point",
    "PrintedTextResult",
    "QuotaExceeded",
    "QuotaScope",
    "RateLimited",
    "RedisStore",
    "RequestTimeout",
    "ResultsFileBusy",
    "RetryPolicy",
    "SeenLine",
    "StaticTokenSource",
    "StoreUnavailable",
    "SystemBusy",
    "TextItem",
    "TokenRefreshLimited",
    "TokenSource",
    "TokenStore",
    "TokenUnavailable",
    "TransportError",
    "Unauthorized",
    "VehicleLicenseResult",
    "WxOcrError",
    "__version__",
    "jobs",
]
