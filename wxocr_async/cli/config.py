"""The client a command uses, configured from the environment (never the command line):
a :class:`~wxocr_async.config.ClientConfig` from the ``WXOCR_*`` variables.

``WXOCR_APPID`` + ``WXOCR_SECRET``, or ``WXOCR_TOKEN``; ``WXOCR_BASE_URL`` to point
elsewhere (the emulator, a proxy); ``WXOCR_REDIS_URL`` (or ``--store``) to share the token
and the daily quota between processes.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Mapping
from typing import Any

from ..client import OcrClient
from ..config import ENV_APPID, ENV_SECRET, ENV_TOKEN, ClientConfig
from ..errors import WxOcrError
from ..redis_store import RedisStore
from .errors import CommandError, say

#: seconds Redis has to answer the check a command makes before its first input
STORE_CHECK_TIMEOUT = 10.0


def client_from_env(
    env: Mapping[str, str] | None = None, *, store_url: str | None = None, **fields: Any
) -> tuple[OcrClient, RedisStore | None]:
    """An :class:`OcrClient` from ``ClientConfig.from_env(env, **fields)``, and the Redis
    store it shares its token and quota through (``store_url``: ``--store``, before
    ``WXOCR_REDIS_URL``; None offline or without one), for :func:`check_store`. With no
    credentials and no ``WXOCR_BASE_URL``, the local engine (``[local]``) reads the images
    in this process (``local_workers`` processes; 0: a thread), saying so on stderr."""
    if store_url:
        fields["redis_url"] = store_url
    try:
        config = ClientConfig.from_env(env, **fields).resolved(env)
        store = None
        if config.engine == "wechat" and config.redis_url is not None:
            store = _redis_store(config.redis_url)
        if config.engine == "local":
            say(
                f"wxocr: no {ENV_APPID}/{ENV_SECRET} or {ENV_TOKEN} set: recognising locally "
                "(RapidOCR, offline)"
            )
        return config.build(env, **({} if store is None else {"store": store})), store
    except WxOcrError as exc:
        raise CommandError(exc.errmsg) from None


async def check_store(store: RedisStore | None) -> None:
    """Stop the command now, in one line naming Redis (never its password), when the
    client's store does not answer: not once per input. (None: no store to check.)"""
    if store is None:
        return
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


def _redis_store(url: str) -> RedisStore:
    # the URL may hold a password: it is never repeated in a message
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise CommandError("the store must be a redis://, rediss:// or unix:// URL")
    try:
        return RedisStore.from_url(url)
    except WxOcrError as exc:
        raise CommandError(exc.errmsg) from None


def client_options(args: argparse.Namespace) -> dict[str, Any]:
    """The client options the common flags give (``--timeout``: already a positive number,
    ``--shrink``)."""
    return {"timeout": args.timeout, "shrink_images": args.shrink}
