"""The local engine's errors told as the local engine's, with WeChat's errcodes kept (so
code that handles WeChat's errors handles both)."""

from __future__ import annotations

from ..errors import RequestTimeout, WxOcrError

#: what each endpoint (by wire name) looks for, as a person would say it
DOCUMENTS = {
    "idcard": "ID card",
    "bankcard": "bank card",
    "driving": "vehicle licence",
    "drivinglicense": "driver licence",
    "bizlicense": "business licence",
    "comm": "printed text",
    "platenum": "licence plate",
    "menu": "menu",
}


def local_error(exc: WxOcrError, endpoint: str) -> WxOcrError:
    """``exc``, raised from the local engine's reply for ``endpoint``, reworded to say so
    (WeChat's own text kept in brackets) and marked ``origin="local"``."""
    document = DOCUMENTS.get(endpoint, "document")
    said = exc.errmsg
    if exc.errcode == 101001:
        text = f"the local engine found no {document} in the image ({said})"
    elif exc.errcode == 101002:
        text = f"the local engine could not read the image ({said})"
    elif exc.errcode == -1:
        text = f"the local engine failed to recognise the image ({said}); it may be busy"
    else:
        text = f"the local engine answered {exc.errcode} ({said})"
    exc.errmsg = text
    exc.args = (exc.errcode, text)
    exc.origin = "local"
    return exc


def local_timeout(seconds: float | None, endpoint_path: str) -> RequestTimeout:
    """The local engine took longer than ``seconds`` on one image, from the moment a
    worker took it."""
    err = RequestTimeout(
        f"the local engine did not finish recognising the image within {seconds} s "
        "(counted from when a worker took it)",
        endpoint=endpoint_path,
    )
    err.origin = "local"
    return err
