"""OcrClient: the public async client."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar, overload

from .batch import Outcome, as_source, image_or_url, resolve_endpoint, run_batch
from .caller import WeChatCaller
from .calls import CallsInFlight
from .cloud import OpenApi
from .endpoints import (
    BANKCARD,
    BUSINESS_LICENSE,
    DRIVER_LICENSE,
    IDCARD,
    MENU,
    PLATE_NUMBER,
    PRINTED_TEXT,
    VEHICLE_LICENSE,
    Endpoint,
    lookup,
    names_text,
)
from .engines import (
    Answer,
    Engine,
    EngineName,
    LocalRecognition,
    QuotaFallback,
    Recognition,
    WeChatEngine,
)
from .errors import ClientClosed, InvalidInput, WxOcrError
from .fetch import ImageFetcher
from .images import ImageInput, PreparedImage, is_file_object, is_path, load
from .inspection import Inspection
from .limits import Limits, QuotaScope
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
from .observe import AttemptHook
from .protocol import ImageMode, check_mode, check_one_source, structure_result
from .redact import Redactor
from .retry import RetryPolicy
from .shrink import pillow_available
from .store import MemoryStore, TokenStore
from .timeouts import (
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    NotGiven,
    Timeout,
    check_timeout,
    resolve_timeout,
)
from .token import Clock, TokenEndpoint, TokenSource, choose_token_source
from .transport import AiohttpTransport, Transport

if TYPE_CHECKING:
    import aiohttp

    from .local.engine import LocalEngine

log = logging.getLogger("wxocr_async.client")

R = TypeVar("R", bound=WireModel)

DEFAULT_BASE_URL = "https://api.weixin.qq.com"
#: aiohttp's own default connection limit: a burst of calls waits on the client's
#: semaphore instead of all building requests at once (None: no bound)
DEFAULT_CONCURRENCY = 100
#: images in flight at once in :meth:`OcrClient.batch`
DEFAULT_BATCH_CONCURRENCY = 16
#: seconds close() waits for cancelled calls and background work to wind down
CLOSE_TIMEOUT = 5.0


class OcrClient:
    """Async client for WeChat's OCR server API.

    Where the token comes from, in order:

    * ``token=``: a string or an async callable you manage (a central token service,
      a third-party ``authorizer_access_token``); asked again once if WeChat rejects it;
    * ``cloudbase_token=``: a ``cloudbase_access_token`` value, async callable, or the path
      of the file WeChat Cloud Run mounts (a ``pathlib.Path``; re-read when it changes);
    * ``token_source=``: any :class:`~wxocr_async.token.TokenSource`;
    * ``appid=`` and ``secret=``: fetched from ``cgi-bin/stable_token`` (or
      ``cgi-bin/token`` with ``token_endpoint="token"``), cached, refreshed early;
      ``store=wx.RedisStore.from_url(...)`` shares them across processes;
    * none of these: no token at all (WeChat Cloud Run's open-API service, which
      wants ``base_url="http://api.weixin.qq.com"``).

    ``session``: an ``aiohttp.ClientSession`` of yours, used and never closed; by default
    the client makes its own inside the running loop and closes it on exit.
    ``concurrency``: requests in flight at most (default 100, aiohttp's connection limit;
    None: unbounded); ``rate_limit``, ``daily_quota``, ``quota_scope``: see
    :mod:`wxocr_async.limits`; ``retry``: a :class:`~wxocr_async.retry.RetryPolicy`.
    ``timeout``: seconds for each HTTP request (None: no limit); each method takes
    ``timeout=`` too. ``on_attempt``: called with an :class:`~wxocr_async.observe.Attempt`
    after every request sent to WeChat (for metrics). ``allow_private_urls``: the local
    engine fetches ``img_url`` from loopback and private addresses too (WeChat cannot
    reach them, so by default neither does it; see :class:`~wxocr_async.fetch.ImageFetcher`).
    ``engine="local"`` recognises offline (``[local]``), ``fallback="local"`` when WeChat's
    quota is spent; ``local_workers`` processes (0: a thread) of ``local_threads`` ONNX
    Runtime threads each. A client belongs to its process and cannot be pickled: other
    processes build their own from a :class:`~wxocr_async.config.ClientConfig`.
    """

    def __init__(
        self,
        appid: str | None = None,
        secret: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        session: aiohttp.ClientSession | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        token: str | Callable[[], Awaitable[str]] | None = None,
        cloudbase_token: str | os.PathLike[str] | Callable[[], Awaitable[str]] | None = None,
        token_source: TokenSource | None = None,
        token_endpoint: TokenEndpoint = "stable_token",
        store: TokenStore | None = None,
        concurrency: int | None = DEFAULT_CONCURRENCY,
        rate_limit: float | None = None,
        daily_quota: int | None = None,
        quota_scope: QuotaScope = "endpoint",
        retry: RetryPolicy | None = None,
        shrink_images: bool = False,
        transport: Transport | None = None,
        clock: Clock = time.time,
        engine: EngineName = "wechat",
        fallback: Literal["local"] | None = None,
        local_engine: LocalEngine | None = None,
        local_workers: int = 0,
        local_threads: int | None = None,
        on_attempt: AttemptHook | None = None,
        allow_private_urls: bool = False,
    ) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise InvalidInput(f"base_url must be an http(s) URL, not {base_url!r}")
        timeout = check_timeout(timeout)
        if session is not None and transport is not None:
            raise InvalidInput("pass session= or transport=, not both")
        self.appid = appid
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        if shrink_images and not pillow_available():
            raise InvalidInput("shrink_images=True needs Pillow: pip install 'wxocr_async[images]'")
        store = store if store is not None else MemoryStore(clock=clock)
        self._store: TokenStore = store
        self._tokens = choose_token_source(
            appid, secret, token, cloudbase_token, token_source, token_endpoint, store, clock
        )
        self._limits = Limits(
            appid=appid,
            store=store,
            clock=clock,
            concurrency=concurrency,
            rate_limit=rate_limit,
            daily_quota=daily_quota,
            quota_scope=quota_scope,
        )
        self._shrink = shrink_images
        self._transport: Transport = transport or AiohttpTransport(session)
        self._redactor = Redactor()
        self._redactor.add(secret, fixed=True)
        if isinstance(token, str):
            self._redactor.add(token, fixed=True)
        if isinstance(cloudbase_token, str):
            self._redactor.add(cloudbase_token, fixed=True)
        #: the calls in flight, which close() ends
        self._calls = CallsInFlight(self._redactor)
        #: requests to WeChat (the OCR calls and the token fetch), retried
        self._caller = WeChatCaller(
            self.base_url,
            transport=self._transport,
            tokens=self._tokens,
            limits=self._limits,
            retry=retry if retry is not None else RetryPolicy(),
            redactor=self._redactor,
            timeout=timeout,
        )
        #: wx-server-sdk parity: ``await client.openapi.ocr.idcard({"imgUrl": ...})``
        self.openapi = OpenApi(self)
        if engine not in ("wechat", "local"):
            raise InvalidInput(f"engine must be 'wechat' or 'local', not {engine!r}")
        if fallback not in (None, "local"):
            raise InvalidInput(f"fallback must be 'local' or None, not {fallback!r}")
        #: where recognition happens: WeChat's API, or the local engine in this process
        self.engine: EngineName = engine
        self.fallback = fallback
        if type(local_workers) is not int or local_workers < 0:
            raise InvalidInput(f"local_workers must be an integer >= 0, not {local_workers!r}")
        if local_threads is not None and (type(local_threads) is not int or local_threads < 1):
            raise InvalidInput(f"local_threads must be a positive integer, not {local_threads!r}")
        if on_attempt is not None and not callable(on_attempt):
            raise InvalidInput(f"on_attempt must be a callable, not {on_attempt!r}")
        self.on_attempt = on_attempt
        if (engine == "local" or fallback == "local") and local_engine is None:
            from .local.recognizer import model_available

            if not model_available():
                raise InvalidInput(
                    "the local engine needs RapidOCR: pip install 'wxocr_async[local]'"
                )
        #: downloads img_url for the local engine, under WeChat's rules
        self._fetcher = ImageFetcher(allow_private=bool(allow_private_urls))
        local = LocalRecognition(
            self._limits,
            self._fetcher,
            engine=local_engine,
            workers=local_workers,
            threads=local_threads,
        )
        wechat = WeChatEngine(self._caller)
        #: where each call is recognised
        self._route: Engine = (
            local if engine == "local" else QuotaFallback(wechat, local) if fallback else wechat
        )

    @property
    def retry(self) -> RetryPolicy:
        """When and how failed requests are sent again."""
        return self._caller.retry

    @retry.setter
    def retry(self, policy: RetryPolicy) -> None:
        self._caller.retry = policy

    @property
    def on_attempt(self) -> AttemptHook | None:
        """Called with an :class:`~wxocr_async.observe.Attempt` after each request."""
        return self._caller.on_attempt

    @on_attempt.setter
    def on_attempt(self, hook: AttemptHook | None) -> None:
        self._caller.on_attempt = hook

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(appid={self.appid!r}, base_url={self.base_url!r}, "
            f"token_source={self._tokens!r})"
        )

    def __reduce_ex__(self, protocol: object) -> Any:
        # copies of one client in several processes would each fetch a token and each
        # spend the whole daily quota, silently: the config travels instead
        raise TypeError(
            "an OcrClient cannot be pickled or copied (its session, token cache and limits "
            "belong to its process): send a wx.ClientConfig and build() a client in each "
            "process"
        )

    # -- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """End the calls in flight (each raises :class:`ClientClosed`), then release the
        session (if the client made it), any token fetch in flight, and the store's
        connections (a RedisStore closes only a client it made). Safe to call twice."""
        if self._calls.closed:
            return
        await self._calls.end(CLOSE_TIMEOUT)
        await self._limits.settle(CLOSE_TIMEOUT)
        try:
            for step in (self._tokens.close, self._store.close):
                try:
                    async with asyncio.timeout(CLOSE_TIMEOUT):
                        await step()
                except (TimeoutError, WxOcrError) as exc:  # a stalled store: let go of it
                    log.warning("closing: %s did not finish: %s", step.__qualname__, exc)
        finally:
            await self._transport.close()
            await self._fetcher.close()
            await self._route.close()

    # -- the eight endpoints -------------------------------------------------------------

    async def idcard(
        self,
        image: ImageInput | None = None,
        *,
        img_url: str | None = None,
        mode: ImageMode | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> IdCardResult:
        """ID card (身份证), front or back: ``cv/ocr/idcard``. ``mode`` sends the legacy
        ``type=photo|scan``."""
        return await self._recognise(IDCARD, image, img_url, mode, timeout)

    async def bankcard(
        self,
        image: ImageInput | None = None,
        *,
        img_url: str | None = None,
        mode: ImageMode | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> BankCardResult:
        """Bank card (银行卡): ``cv/ocr/bankcard``."""
        return await self._recognise(BANKCARD, image, img_url, mode, timeout)

    async def vehicle_license(
        self,
        image: ImageInput | None = None,
        *,
        img_url: str | None = None,
        mode: ImageMode | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> VehicleLicenseResult:
        """Vehicle licence (行驶证): ``cv/ocr/driving``."""
        return await self._recognise(VEHICLE_LICENSE, image, img_url, mode, timeout)

    async def driver_license(
        self,
        image: ImageInput | None = None,
        *,
        img_url: str | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> DriverLicenseResult:
        """Driver licence (驾驶证): ``cv/ocr/drivinglicense``."""
        return await self._recognise(DRIVER_LICENSE, image, img_url, None, timeout)

    async def business_license(
        self,
        image: ImageInput | None = None,
        *,
        img_url: str | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> BusinessLicenseResult:
        """Business licence (营业执照): ``cv/ocr/bizlicense``."""
        return await self._recognise(BUSINESS_LICENSE, image, img_url, None, timeout)

    async def printed_text(
        self,
        image: ImageInput | None = None,
        *,
        img_url: str | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> PrintedTextResult:
        """Printed text (通用印刷体), line by line: ``cv/ocr/comm``."""
        return await self._recognise(PRINTED_TEXT, image, img_url, None, timeout)

    async def plate_number(
        self,
        image: ImageInput | None = None,
        *,
        img_url: str | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> PlateNumberResult:
        """Licence plate (车牌): ``cv/ocr/platenum``."""
        return await self._recognise(PLATE_NUMBER, image, img_url, None, timeout)

    async def menu(
        self,
        image: ImageInput | None = None,
        *,
        img_url: str | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> MenuResult:
        """Menu (菜单): ``cv/ocr/menu``; ``content`` decoded into typed menu items."""
        return await self._recognise(MENU, image, img_url, None, timeout)

    # -- many images ---------------------------------------------------------------------

    @overload
    def batch(
        self,
        endpoint: Endpoint[R],
        items: Iterable[object] | AsyncIterable[object],
        *,
        concurrency: int = DEFAULT_BATCH_CONCURRENCY,
        ordered: bool = False,
        mode: ImageMode | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> AsyncGenerator[Outcome[R], None]: ...

    @overload
    def batch(
        self,
        endpoint: str,
        items: Iterable[object] | AsyncIterable[object],
        *,
        concurrency: int = DEFAULT_BATCH_CONCURRENCY,
        ordered: bool = False,
        mode: ImageMode | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> AsyncGenerator[Outcome[Any], None]: ...

    def batch(
        self,
        endpoint: str | Endpoint[Any],
        items: Iterable[object] | AsyncIterable[object],
        *,
        concurrency: int = DEFAULT_BATCH_CONCURRENCY,
        ordered: bool = False,
        mode: ImageMode | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> AsyncGenerator[Outcome[Any], None]:
        """Recognise many images with one endpoint, ``concurrency`` at a time.

        ``endpoint``: a method name (``"vehicle_license"``) or wire name (``"driving"``).
        ``items``: an iterable or async iterable of paths, bytes, binary file objects or
        ``img_url`` strings (``http(s)://...``), read lazily. Yields one
        :class:`~wxocr_async.batch.Outcome` per item, as calls complete (``ordered=True``:
        in input order). Once the daily quota is spent, the items left come out
        ``"not_attempted"`` at once. Leaving the ``async for`` early cancels the calls in
        flight (``contextlib.aclosing`` makes that immediate)::

            async for outcome in ocr.batch("idcard", paths, concurrency=16):
                print(outcome.item, outcome.status, outcome.result or outcome.error)
        """
        found = resolve_endpoint(endpoint)
        if type(concurrency) is not int or concurrency < 1:
            raise InvalidInput(f"concurrency must be a positive integer, not {concurrency!r}")
        self._resolve(timeout)  # a bad timeout is refused now, not once per item
        check_mode(found, mode)  # likewise a mode the endpoint does not take
        if self._calls.closed:
            raise ClientClosed("the client is closed; create a new one", endpoint=found.path)
        source = as_source(items)

        async def call(item: object) -> Any:
            image, url = image_or_url(item)
            answer = await self._request(found, image, url, mode, timeout)  # type: ignore[arg-type]
            return structure_result(found, answer.reply, engine=answer.engine)

        return run_batch(call, source, concurrency=concurrency, ordered=bool(ordered))

    # -- the machinery ------------------------------------------------------------------

    async def _recognise(
        self,
        endpoint: Endpoint[R],
        image: ImageInput | None,
        img_url: str | None,
        mode: ImageMode | None,
        timeout: Timeout,
    ) -> R:
        answer = await self._request(endpoint, image, img_url, mode, timeout)
        return structure_result(endpoint, answer.reply, engine=answer.engine)

    async def request_ocr(
        self,
        endpoint: Endpoint[Any],
        *,
        image: ImageInput | PreparedImage | None = None,
        img_url: str | None = None,
        mode: str | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> dict[str, Any]:
        """One OCR call returning WeChat's decoded JSON reply (errors raised)."""
        return (await self._request(endpoint, image, img_url, mode, timeout)).reply

    async def inspect(
        self,
        endpoint: str | Endpoint[Any],
        image: ImageInput | None = None,
        *,
        img_url: str | None = None,
        mode: ImageMode | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> Inspection:
        """One recognition with what its reply was read from: the text lines the local
        engine read (their corners in image pixels) and the lines each field came from;
        from WeChat, the positions its reply gives (``comm``'s items, ``cert_position``).
        ``endpoint``: a wire or method name (``"idcard"``, ``"vehicle_license"``). Errors
        are raised as by the endpoint methods."""
        found = endpoint if isinstance(endpoint, Endpoint) else lookup(endpoint)
        if found is None:
            raise InvalidInput(f"unknown endpoint {endpoint!r}; one of: {names_text()}")
        answer = await self._request(found, image, img_url, mode, timeout, inspect=True)
        assert answer.inspection is not None
        return answer.inspection

    async def _request(
        self,
        endpoint: Endpoint[Any],
        image: ImageInput | PreparedImage | None,
        img_url: str | None,
        mode: str | None,
        timeout: Timeout,
        *,
        inspect: bool = False,
    ) -> Answer:
        """The decoded reply, and which engine gave it."""
        seconds = self._resolve(timeout)
        check_one_source(image, img_url)  # before reading any file
        check_mode(endpoint, mode)

        async def work() -> Answer:
            prepared = await self._prepare(image) if image is not None else None
            job = Recognition(endpoint, prepared, img_url, mode, seconds, inspect)
            return await self._route.recognise(job)

        return await self._calls.guarded(endpoint.path, work)

    async def warm_up(self) -> None:
        """Start the local engine's workers and load their models now, not in the first
        call that needs them (whose ``timeout`` does not count that time either). Does
        nothing for a client that reads with WeChat alone."""
        if self.engine == "local" or self.fallback == "local":
            await self._calls.guarded("local engine", self._route.start)

    async def _prepare(self, image: ImageInput | PreparedImage) -> PreparedImage:
        if isinstance(image, PreparedImage):
            return image
        if is_path(image) or is_file_object(image) or self._shrink:
            # file I/O (capped) or re-encoding: off the event loop
            return await asyncio.to_thread(load, image, shrink=self._shrink)
        return load(image)

    async def quota_remaining(self, endpoint: str) -> int | None:
        """Calls left today for ``endpoint`` (``"idcard"``, ``"vehicle_license"`` or
        ``"driving"``...) under ``daily_quota`` (0 once WeChat said it is spent); None
        when no limit applies. Bounded by the client's ``timeout``."""
        found = lookup(endpoint)
        if found is None:
            raise InvalidInput(f"unknown endpoint {endpoint!r}; one of: {names_text()}")
        return await self._calls.guarded(
            found.path,
            lambda: self._caller.bounded(
                self._limits.remaining(found.name), self.timeout, found.path
            ),
        )

    def _resolve(self, timeout: Timeout) -> float | None:
        return resolve_timeout(timeout, self.timeout)


__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "NOT_GIVEN", "NotGiven", "OcrClient", "Timeout"]
