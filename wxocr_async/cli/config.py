"""The client a command uses, configured from the environment (never the command line).

``WXOCR_APPID`` + ``WXOCR_SECRET``, or ``WXOCR_TOKEN``; ``WXOCR_BASE_URL`` to point
elsewhere (the emulator, a proxy); ``WXOCR_REDIS_URL`` (or ``--store``) to share the token
and the daily quota between processes.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from typing import Any

from ..client import DEFAULT_BASE_URL, OcrClient
from ..errors import WxOcrError
from ..redis_store import RedisStore
from .errors import CommandError

ENV_APPID = "WXOCR_APPID"
ENV_SECRET = "WXOCR_SECRET"
ENV_TOKEN = "WXOCR_TOKEN"
ENV_BASE_URL = "WXOCR_BASE_URL"
ENV_REDIS_URL = "WXOCR_REDIS_URL"
#: seconds Redis has to answer the check a command makes before its first input
STORE_CHECK_TIMEOUT = 10.0


def client_from_env(
    env: Mapping[str, str] | None = None,
    *,
    store_url: str | None = None,
    local_workers: int = 0,
    **options: Any,
) -> OcrClient:
    """An :class:`OcrClient` from the environment; ``options`` go to its constructor.

    With no credentials and no ``WXOCR_BASE_URL``, the local engine (``[local]``) reads the
    images in this process (``local_workers`` processes; 0: a thread), saying so on stderr.
    """
    env = os.environ if env is None else env
    appid, secret = env.get(ENV_APPID) or None, env.get(ENV_SECRET) or None
    token = env.get(ENV_TOKEN) or None
    base_url = env.get(ENV_BASE_URL) or None
    if (appid is None) != (secret is None) and token is None:
        have, missing = (ENV_APPID, ENV_SECRET) if appid else (ENV_SECRET, ENV_APPID)
        raise CommandError(f"{have} is set but {missing} is not: set both")
    if appid is None and token is None and base_url is None:
        from ..local import model_available

        if not model_available():
            raise CommandError(
                f"no credentials: set {ENV_APPID} and {ENV_SECRET} (or {ENV_TOKEN}) in the "
                f"environment ({ENV_BASE_URL} points the command at another server), or "
                "pip install 'wxocr_async[local]' to recognise offline"
            )
        print(
            f"wxocr: no {ENV_APPID}/{ENV_SECRET} or {ENV_TOKEN} set: recognising locally "
            "(RapidOCR, offline)",
            file=sys.stderr,
            flush=True,
        )
        options.pop("daily_quota", None)  # nothing to ration offline
        return OcrClient(engine="local", local_workers=local_workers, **options)
    store_url = redis_url(store_url, env)
    if store_url is not None:
        options["store"] = _redis_store(store_url)
    try:
        return OcrClient(
            appid if token is None else None,
            secret if token is None else None,
            token=token,
            base_url=base_url or DEFAULT_BASE_URL,
            **options,
        )
    except WxOcrError as exc:
        raise CommandError(exc.errmsg) from None


def redis_url(given: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """The Redis URL a command uses: ``--store``, else ``WXOCR_REDIS_URL``, else None."""
    env = os.environ if env is None else env
    return given or env.get(ENV_REDIS_URL) or None


async def check_store(ocr: OcrClient, url: str | None) -> None:
    """Stop the command now, in one line naming Redis (never its password), when the
    store at ``url`` does not answer: not once per input. Offline, there is no store."""
    if url is None or ocr.engine == "local":
        return
    store = _redis_store(url)
    try:
        async with asyncio.timeout(STORE_CHECK_TIMEOUT):
            await store.ping()
    except TimeoutError:
        raise CommandError(
            f"the {store!r} did not answer in {STORE_CHECK_TIMEOUT:g} s: is Redis running "
            "there (--store, WXOCR_REDIS_URL)?"
        ) from None
    except WxOcrError as exc:
        raise CommandError(f"{exc.errmsg} (--store, WXOCR_REDIS_URL)") from None
    finally:
        await store.close()


def _redis_store(url: str) -> RedisStore:
    # the URL may hold a password: it is never repeated in a message
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise CommandError("the store must be a redis://, rediss:// or unix:// URL")
    try:
        return RedisStore.from_url(url)
    except WxOcrError as exc:
        raise CommandError(exc.errmsg) from None
