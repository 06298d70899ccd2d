"""The client a command uses, configured from the environment (never the command line):
a :class:`~wxocr_async.config.ClientConfig` from the ``WXOCR_*`` variables.

``WXOCR_APPID`` + ``WXOCR_SECRET``, or ``WXOCR_TOKEN``; ``WXOCR_BASE_URL`` to point
elsewhere (the emulator, a proxy); ``WXOCR_REDIS_URL`` (or ``--store``) to share the token
and the daily quota between processes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Mapping
from typing import Any

from ..client import OcrClient
from ..config import ENV_APPID, ENV_REDIS_URL, ENV_SECRET, ENV_TOKEN, ClientConfig
from ..errors import WxOcrError
from ..redis_store import RedisStore
from .errors import CommandError, say

#: seconds Redis has to answer the check a command makes before its first input
STORE_CHECK_TIMEOUT = 10.0


def client_from_env(
    env: Mapping[str, str] | None = None, *, store_url: str | None = None, **fields: Any
) -> OcrClient:
    """An :class:`OcrClient` from ``ClientConfig.from_env(env, **fields)`` (``store_url``:
    ``--store``, before ``WXOCR_REDIS_URL``). With no credentials and no
    ``WXOCR_BASE_URL``, the local engine (``[local]``) reads the images in this process
    (``local_workers`` processes; 0: a thread), saying so on stderr."""
    if store_url:
        fields["redis_url"] = store_url
    try:
        config = ClientConfig.from_env(env, **fields).resolved(env)
        if config.engine == "wechat" and config.redis_url is not None:
            _check_redis_scheme(config.redis_url)
        if config.engine == "local":
            say(
                f"wxocr: no {ENV_APPID}/{ENV_SECRET} or {ENV_TOKEN} set: recognising locally "
                "(RapidOCR, offline)"
            )
        return config.build(env)
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


def _check_redis_scheme(url: str) -> None:
    # the URL may hold a password: it is never repeated in a message
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise CommandError("the store must be a redis://, rediss:// or unix:// URL")


def _redis_store(url: str) -> RedisStore:
    _check_redis_scheme(url)
    try:
        return RedisStore.from_url(url)
    except WxOcrError as exc:
        raise CommandError(exc.errmsg) from None


def client_options(args: argparse.Namespace) -> dict[str, Any]:
    """The client options the common flags give (``--timeout``, ``--shrink``)."""
    if args.timeout is not None and not args.timeout > 0:
        raise CommandError(f"--timeout must be a positive number of seconds, not {args.timeout}")
    return {"timeout": args.timeout, "shrink_images": args.shrink}
