"""The exception tree.

Every error the library raises about a call is a :class:`WxOcrError` carrying
``errcode`` and ``errmsg``. Server replies are mapped to a subclass through
:data:`ERRCODE_CLASSES`; unknown codes fall back to :class:`WxOcrError` itself,
still carrying the number.

Errors raised without a server reply carry a local, negative code that WeChat
never uses (WeChat's own negative codes are ``-1`` and the cloud ``-60xxxx``):

=========================  ========  ====================================
constant                   errcode   raised as
=========================  ========  ====================================
``ERRCODE_CONNECTION``     -10001    :class:`ConnectionFailed`
``ERRCODE_TIMEOUT``        -10002    :class:`RequestTimeout`
``ERRCODE_HTTP_STATUS``    -10003    :class:`HTTPStatusError`
``ERRCODE_BAD_RESPONSE``   -10004    :class:`BadResponse`
``ERRCODE_INVALID_INPUT``  -10100    :class:`InvalidInput`
``ERRCODE_IMAGE_TOO_LARGE`` -10101   :class:`ImageTooLarge`
``ERRCODE_LOCAL_QUOTA``    -10200    :class:`QuotaExceeded` (local budget)
``ERRCODE_FORCE_REFRESH``  -10300    :class:`TokenRefreshLimited`
``ERRCODE_TOKEN_WAIT``     -10301    :class:`TokenUnavailable`
``ERRCODE_STORE``          -10400    :class:`StoreUnavailable`
``ERRCODE_CLOSED``         -10500    :class:`ClientClosed`
``ERRCODE_DISK``           -10600    :class:`DiskError`, :class:`ResultsFileBusy`
=========================  ========  ====================================

Messages are built from the endpoint path and the code, never from a URL, so
no access_token or appsecret can appear in them.
"""

from __future__ import annotations

ERRCODE_CONNECTION = -10001
ERRCODE_TIMEOUT = -10002
ERRCODE_HTTP_STATUS = -10003
ERRCODE_BAD_RESPONSE = -10004
ERRCODE_INVALID_INPUT = -10100
ERRCODE_IMAGE_TOO_LARGE = -10101
ERRCODE_LOCAL_QUOTA = -10200
ERRCODE_FORCE_REFRESH = -10300
ERRCODE_TOKEN_WAIT = -10301
ERRCODE_STORE = -10400
ERRCODE_CLOSED = -10500
ERRCODE_DISK = -10600

#: a server's errmsg is kept in errors up to this many characters
MAX_ERRMSG_CHARS = 1000

QUOTA_MESSAGE = "not enough market quota"


class WxOcrError(Exception):
    """Base of every error about a call: ``errcode`` and ``errmsg`` as WeChat names them."""

    #: whether the same request may succeed if sent again unchanged
    retryable: bool = False
    #: where it happened: ``"wechat"`` (WeChat's reply, or the way to it), ``"local"``
    #: (the local engine: the errcode is still WeChat's, so handling code serves both),
    #: ``"store"`` (Redis), ``"input"`` (the call's arguments: nothing was sent),
    #: ``"client"`` (this client, e.g. closed), ``"disk"`` (a job's files)
    origin: str = "wechat"

    def __init__(self, errcode: int, errmsg: str, *, endpoint: str | None = None) -> None:
        super().__init__(errcode, errmsg)
        self.errcode = errcode
        self.errmsg = errmsg
        self.endpoint = endpoint

    def __str__(self) -> str:
        where = f" [{self.endpoint}]" if self.endpoint else ""
        return f"errcode {self.errcode}: {self.errmsg}{where}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(errcode={self.errcode!r}, errmsg={self.errmsg!r}, "
            f"endpoint={self.endpoint!r})"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.errcode, self.errmsg, self.endpoint, self.__dict__))


def _rebuild(
    cls: type[WxOcrError], errcode: int, errmsg: str, endpoint: str | None, state: dict[str, object]
) -> WxOcrError:
    err = cls.__new__(cls)
    WxOcrError.__init__(err, errcode, errmsg, endpoint=endpoint)
    err.__dict__.update(state)
    return err


# -- errors WeChat answers with -------------------------------------------------


class SystemBusy(WxOcrError):
    """-1 ``system error``: WeChat is busy; the same request may succeed later."""

    retryable = True


class InvalidCredential(WxOcrError):
    """40001 / 40014 / 42001: the access_token is invalid, superseded or expired."""


class CredentialMissing(WxOcrError):
    """41001 ``access_token missing`` (on Cloud Run: the open-API service is not active)."""


class BadAppCredentials(WxOcrError):
    """40002 / 40013 / 40125 / 41002 / 41004 / 40243 / 50004 / 50007: the appid or
    appsecret (or the account) cannot be used to get a token; fix the configuration."""


class IpNotWhitelisted(WxOcrError):
    """40164 (and the admin-confirmation codes 89501/89503/89506/89507): this machine's IP
    is not on the account's API IP whitelist."""


class Unauthorized(WxOcrError):
    """48001 ``api unauthorized`` / 61007 ``api is unauthorized to component``: the account
    (or third-party platform) lacks the permission for this API."""


class RateLimited(WxOcrError):
    """45011: the per-minute frequency limit was hit; slow down and retry next minute."""

    retryable = True


class QuotaExceeded(WxOcrError):
    """A daily quota is spent: 101003 / 45009 / any "not enough market quota" reply, or
    the client's own daily budget (errcode ``ERRCODE_LOCAL_QUOTA``)."""


class InvalidImageUrl(WxOcrError):
    """101000: WeChat could not fetch or use ``img_url``."""


class CertificateNotFound(WxOcrError):
    """101001: no card or certificate was found in the image."""


class InvalidImageData(WxOcrError):
    """101002: WeChat could not decode the image (bad data, or too large)."""


#: server errcode -> exception class; anything not listed raises plain WxOcrError
ERRCODE_CLASSES: dict[int, type[WxOcrError]] = {
    -1: SystemBusy,
    40001: InvalidCredential,
    40014: InvalidCredential,
    42001: InvalidCredential,
    41001: CredentialMissing,
    40002: BadAppCredentials,
    40013: BadAppCredentials,
    40125: BadAppCredentials,
    40243: BadAppCredentials,
    41002: BadAppCredentials,
    41004: BadAppCredentials,
    50004: BadAppCredentials,
    50007: BadAppCredentials,
    40164: IpNotWhitelisted,
    89501: IpNotWhitelisted,
    89503: IpNotWhitelisted,
    89506: IpNotWhitelisted,
    89507: IpNotWhitelisted,
    48001: Unauthorized,
    61007: Unauthorized,
    45011: RateLimited,
    45009: QuotaExceeded,
    101003: QuotaExceeded,
    101000: InvalidImageUrl,
    101001: CertificateNotFound,
    101002: InvalidImageData,
}


def error_from_reply(errcode: int, errmsg: str, endpoint: str | None = None) -> WxOcrError:
    """The exception for a WeChat error reply (pure; does not raise). ``errmsg`` is kept
    up to :data:`MAX_ERRMSG_CHARS` characters."""
    if len(errmsg) > MAX_ERRMSG_CHARS:
        errmsg = f"{errmsg[:MAX_ERRMSG_CHARS]}... ({len(errmsg)} characters)"
    if QUOTA_MESSAGE in errmsg:
        return QuotaExceeded(errcode, errmsg, endpoint=endpoint)
    cls = ERRCODE_CLASSES.get(errcode, WxOcrError)
    return cls(errcode, errmsg, endpoint=endpoint)


# -- errors raised without a server reply ------------------------------------------


class TransportError(WxOcrError):
    """No usable reply: the connection failed, timed out, or the reply was not WeChat's.

    Its ``errcode`` is the subclass's local code (see the module docstring).
    """

    retryable = True
    local_errcode: int = ERRCODE_CONNECTION

    def __init__(self, errmsg: str, *, endpoint: str | None = None) -> None:
        super().__init__(self.local_errcode, errmsg, endpoint=endpoint)


class ConnectionFailed(TransportError):
    """The connection could not be made or was reset (errcode ``ERRCODE_CONNECTION``)."""

    local_errcode = ERRCODE_CONNECTION


class RequestTimeout(TransportError):
    """No reply within the timeout (errcode ``ERRCODE_TIMEOUT``)."""

    local_errcode = ERRCODE_TIMEOUT


class HTTPStatusError(TransportError):
    """An HTTP error status instead of a JSON reply (errcode ``ERRCODE_HTTP_STATUS``)."""

    local_errcode = ERRCODE_HTTP_STATUS

    def __init__(self, status: int, errmsg: str, *, endpoint: str | None = None) -> None:
        super().__init__(errmsg, endpoint=endpoint)
        self.status = status
        self.retryable = status >= 500 or status == 429


class BadResponse(TransportError):
    """A reply that is not WeChat's JSON: an HTML error page, plain text, broken JSON
    (errcode ``ERRCODE_BAD_RESPONSE``)."""

    local_errcode = ERRCODE_BAD_RESPONSE


class InvalidInput(WxOcrError, ValueError):
    """The call's arguments are wrong (errcode ``ERRCODE_INVALID_INPUT``); nothing was sent."""

    origin = "input"

    def __init__(self, errmsg: str, *, errcode: int = ERRCODE_INVALID_INPUT) -> None:
        super().__init__(errcode, errmsg)


class ImageTooLarge(InvalidInput):
    """The image is 2 MB or more, which WeChat refuses (errcode ``ERRCODE_IMAGE_TOO_LARGE``)."""

    def __init__(self, errmsg: str) -> None:
        super().__init__(errmsg, errcode=ERRCODE_IMAGE_TOO_LARGE)


class TokenRefreshLimited(WxOcrError):
    """WeChat rejected a token, a normal fetch handed the same one back, and a forced
    refresh is not allowed now (20 a day, 30 s apart) (errcode ``ERRCODE_FORCE_REFRESH``)."""

    def __init__(self, errmsg: str, *, endpoint: str | None = None) -> None:
        super().__init__(ERRCODE_FORCE_REFRESH, errmsg, endpoint=endpoint)


class TokenUnavailable(WxOcrError):
    """No token could be had in time: another process held the refresh lock without
    storing one, the refresh did not finish, or the caller's token callable failed
    (errcode ``ERRCODE_TOKEN_WAIT``)."""

    retryable = True

    def __init__(self, errmsg: str, *, endpoint: str | None = None) -> None:
        super().__init__(ERRCODE_TOKEN_WAIT, errmsg, endpoint=endpoint)


class StoreUnavailable(WxOcrError):
    """The shared store (Redis) could not be reached or answered with an error
    (errcode ``ERRCODE_STORE``)."""

    origin = "store"

    retryable = True

    def __init__(self, errmsg: str) -> None:
        super().__init__(ERRCODE_STORE, errmsg)


class ClientClosed(WxOcrError):
    """The client was closed while this call was waiting or in flight, or before it
    started (errcode ``ERRCODE_CLOSED``)."""

    origin = "client"

    def __init__(
        self, errmsg: str = "the client was closed", *, endpoint: str | None = None
    ) -> None:
        super().__init__(ERRCODE_CLOSED, errmsg, endpoint=endpoint)


class DiskError(WxOcrError):
    """A job's file (its inputs, its results) could not be read or written: a full disk,
    a missing permission (errcode ``ERRCODE_DISK``)."""

    origin = "disk"

    def __init__(self, errmsg: str) -> None:
        super().__init__(ERRCODE_DISK, errmsg)


class ResultsFileBusy(DiskError):
    """Another run holds the results file (one writer at a time)."""


class CloudCallError(WxOcrError):
    """A failed wx-server-sdk style call (``ocr.openapi.ocr.<name>(...)``).

    ``errCode`` is WeChat's code (or the local code of a failure without a reply, or
    -604100 for a name with no cloud API) and ``errMsg`` is
    ``"openapi.ocr.<name>:fail <errmsg>"``, as wx-server-sdk's CloudSDKError has them.
    The typed error behind it, if any, is ``__cause__``.
    """

    def __init__(self, errCode: int, errMsg: str, *, endpoint: str | None = None) -> None:
        super().__init__(errCode, errMsg, endpoint=endpoint)

    @property
    def errCode(self) -> int:
        return self.errcode

    @property
    def errMsg(self) -> str:
        return self.errmsg

    def __str__(self) -> str:
        return f"errCode: {self.errcode} | errMsg: {self.errmsg}"
