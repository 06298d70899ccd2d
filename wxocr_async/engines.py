"""Where recognition happens, each behind one ``recognise``: WeChat, the local engine, and
WeChat with the local engine taking over once the daily quota is spent."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias

import attrs

from .caller import WeChatCaller
from .endpoints import Endpoint
from .errors import QuotaExceeded, RequestTimeout, WxOcrError
from .fetch import ImageFetcher
from .images import PreparedImage
from .inspection import Inspection, from_wechat_reply
from .limits import Limits
from .protocol import OcrRequest, build_ocr_request, check_reply, check_request

if TYPE_CHECKING:
    from .local.engine import LocalEngine

#: where recognition happens
EngineName: TypeAlias = Literal["wechat", "local"]

log = logging.getLogger("wxocr_async.engines")


@attrs.frozen
class Answer:
    """An engine's answer: WeChat's decoded reply, the engine that gave it, and, when the
    recognition asked for it, what the reply was read from."""

    reply: dict[str, Any]
    engine: EngineName
    inspection: Inspection | None = None


@attrs.frozen
class Recognition:
    """One image (or ``img_url``) to recognise for ``endpoint``, each attempt within
    ``timeout`` seconds."""

    endpoint: Endpoint[Any]
    image: PreparedImage | None
    img_url: str | None
    mode: str | None
    timeout: float | None
    #: also say what the reply was read from (:class:`~wxocr_async.inspection.Inspection`)
    inspect: bool = False


class Engine(Protocol):
    """Recognises an image (or ``img_url``) for an endpoint: WeChat's decoded reply (its
    errors raised), and the name of the engine that gave it."""

    async def recognise(self, job: Recognition) -> Answer: ...

    async def start(self) -> None:
        """Be ready before the first call (load models)."""

    async def close(self) -> None: ...


class WeChatEngine:
    """WeChat's API, through the :class:`~wxocr_async.caller.WeChatCaller`."""

    def __init__(self, caller: WeChatCaller) -> None:
        self.caller = caller

    async def recognise(self, job: Recognition) -> Answer:
        def build() -> OcrRequest:
            return build_ocr_request(
                job.endpoint, image=job.image, img_url=job.img_url, mode=job.mode
            )

        reply = await self.caller.ocr(job.endpoint, build, job.timeout)
        seen = None
        if job.inspect:
            seen = from_wechat_reply(job.endpoint.name, reply)
            seen = attrs.evolve(seen, image=job.image.data if job.image is not None else None)
        return Answer(reply, "wechat", seen)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


class LocalRecognition:
    """The local engine in this process (``[local]``): ``img_url`` fetched under WeChat's
    rules, the client's concurrency bound held, WeChat's replies and errcodes given back
    (errors naming the local engine). ``engine``: one of the caller's, else one of
    ``workers`` processes of ``threads`` threads, made at the first call and closed here."""

    def __init__(
        self,
        limits: Limits,
        fetcher: ImageFetcher,
        *,
        engine: LocalEngine | None = None,
        workers: int = 0,
        threads: int | None = None,
    ) -> None:
        self._limits = limits
        self._fetcher = fetcher
        self._engine = engine
        self._owned = engine is None
        self._workers = workers
        self._threads = threads

    async def recognise(self, job: Recognition) -> Answer:
        from .local.messages import local_error, local_timeout

        endpoint, image, timeout = job.endpoint, job.image, job.timeout
        check_request(endpoint, image, job.img_url, job.mode)  # the checks a WeChat call gets
        try:
            async with asyncio.timeout(timeout):  # the download, if any
                data = image.data if image is not None else await self._download(job.img_url)
        except TimeoutError:
            raise RequestTimeout(
                f"img_url was not downloaded within {timeout} s", endpoint=endpoint.path
            ) from None
        # starting the engine and waiting for a slot or a worker are not the image's time
        engine = await self.started()
        seen = None
        async with self._limits.slot():
            try:
                if job.inspect:
                    seen = await engine.inspect(endpoint.name, data, timeout=timeout)
                    seen = attrs.evolve(seen, image=data)
                    reply = dict(seen.reply)
                else:
                    reply = await engine.recognise(endpoint.name, data, timeout=timeout)
            except TimeoutError:
                raise local_timeout(timeout, endpoint.path) from None
        try:
            return Answer(check_reply(reply, endpoint.path), "local", seen)
        except WxOcrError as exc:
            raise local_error(exc, endpoint.name) from None

    async def _download(self, img_url: str | None) -> bytes:
        """The image at ``img_url``, fetched as WeChat would (under 2 MB, no redirect, no
        private address unless allowed); a failure says the local engine's download
        failed (WeChat was never asked), with WeChat's errcode (101000, 101002)."""
        assert img_url is not None
        try:
            return await self._fetcher.fetch(img_url)
        except WxOcrError as exc:
            text = f"the local engine could not download img_url: {exc.errmsg}"
            exc.errmsg = text
            exc.args = (exc.errcode, text)
            exc.origin = "local"
            raise

    async def started(self) -> LocalEngine:
        """The engine, its workers started and their models loaded."""
        if self._engine is None:
            from .local.engine import LocalEngine

            self._engine = LocalEngine(workers=self._workers, threads=self._threads)
        await self._engine.start()
        return self._engine

    async def start(self) -> None:
        await self.started()

    async def close(self) -> None:
        if self._engine is not None and self._owned:
            await self._engine.close()


class QuotaFallback:
    """WeChat first; once WeChat's (or the client's) daily quota is spent, the local
    engine."""

    def __init__(self, wechat: Engine, local: Engine) -> None:
        self.wechat = wechat
        self.local = local

    async def recognise(self, job: Recognition) -> Answer:
        try:
            return await self.wechat.recognise(job)
        except QuotaExceeded:
            log.info("%s: the quota is spent; recognising locally", job.endpoint.path)
        return await self.local.recognise(job)

    async def start(self) -> None:
        await self.local.start()

    async def close(self) -> None:
        await self.local.close()
