"""WeChat's reply shapes: ``{"errcode": ..., "errmsg": ...}`` with its texts, as JSON."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from aiohttp import web

Reply = dict[str, Any]

#: errmsg WeChat sends with each code these servers can produce
ERRMSGS: dict[int, str] = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40013: "invalid appid",
    40014: "invalid access_token",
    40125: "invalid appsecret",
    40164: "invalid ip 127.0.0.1, not in whitelist",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41005: "media data missing",
    42001: "access_token expired",
    43002: "require POST method",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit mustslower retry next minute",
    48001: "api unauthorized",
    61007: "api is unauthorized to component",
    101000: "invalid image url",
    101001: "certificate not found",
    101002: "decode image failed",
    101003: "not enough market quota",
}


def error_reply(errcode: int, errmsg: str | None = None) -> Reply:
    """WeChat's error reply: ``errmsg`` (default WeChat's text for the code) with a
    ``rid`` suffix, as WeChat adds to every error."""
    text = errmsg if errmsg is not None else ERRMSGS.get(errcode, "error")
    if errcode != 0 and " rid: " not in text:
        text = f"{text} rid: {secrets.token_hex(4)}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"
    return {"errcode": errcode, "errmsg": text}


def json_response(reply: Mapping[str, Any], status: int = 200) -> web.Response:
    """``reply`` as WeChat sends it: UTF-8 JSON, non-ASCII characters unescaped."""
    return web.Response(
        status=status,
        body=json.dumps(reply, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; encoding=utf-8"},
    )
