"""``wxocr idcard PATH|URL`` and the other endpoint commands: one image, the reply on
stdout as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..batch import image_or_url
from ..client import OcrClient
from ..endpoints import BY_METHOD, Endpoint
from ..errors import QuotaExceeded, WxOcrError
from ..naming import Naming
from ..protocol import structure_result
from .config import client_from_env, client_options
from .errors import EXIT_FAILED, EXIT_TEMPFAIL, CommandError, describe
from .parser import COMMAND_METHODS


async def recognise_one(
    ocr: OcrClient,
    endpoint: Endpoint[Any],
    source: str,
    *,
    naming: Naming,
    mode: Any = None,
) -> int:
    """Recognise ``source`` (a path or an ``http(s)://`` URL) and print the reply."""
    image, img_url = image_or_url(source)
    try:
        payload = await ocr.request_ocr(endpoint, image=image, img_url=img_url, mode=mode)  # type: ignore[arg-type]
    except WxOcrError as exc:
        # a spent quota is temporary: EX_TEMPFAIL tells a script to try again later
        status = EXIT_TEMPFAIL if isinstance(exc, QuotaExceeded) else EXIT_FAILED
        raise CommandError(describe(exc, ocr.base_url), exit_status=status) from None
    result = structure_result(endpoint, payload)
    json.dump(result.to_dict(naming), sys.stdout, ensure_ascii=False, indent=2)
    print()
    return 0


async def single_command(args: argparse.Namespace) -> int:
    """``wxocr ENDPOINT PATH|URL``: the exit status."""
    endpoint = BY_METHOD[COMMAND_METHODS[args.command]]
    ocr, _ = client_from_env(store_url=args.store, **client_options(args))
    async with ocr:
        return await recognise_one(
            ocr, endpoint, args.source, naming=args.naming, mode=getattr(args, "mode", None)
        )
