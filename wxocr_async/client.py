"""OcrClient: the public async client."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import os
import time
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, TypeAlias, TypeVar, overload

import attrs

from .batch import Outcome, as_source, image_or_url, resolve_endpoint, run_batch
from .cloud import OpenApi
from .credentials import AppCredentialSource
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
from .errors import (
    ClientClosed,
    InvalidCredential,
    InvalidInput,
    QuotaExceeded,
    RequestTimeout,
    WxOcrError,
)
from .fetch import ImageFetcher
from .images import ImageInput, PreparedImage, is_file_object, is_path, load
from .limits import Limits, QuotaScope, check_positive_number
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
from .observe import Attempt, AttemptHook, report
from .observe import log as observe_log
from .protocol import (
    ImageMode,
    OcrRequest,
    build_ocr_request,
    check_mode,
    check_one_source,
    check_reply,
    check_request,
    compose_url,
    decode_reply,
    structure_result,
)
from .redact import Redactor
from .retry import RetryPolicy
from .shrink import pillow_available
from .store import MemoryStore, TokenStore
from .token import (
    Clock,
    CloudbaseTokenSource,
    NoTokenSource,
    StaticTokenSource,
    TokenEndpoint,
    TokenSource,
)
from .transport import AiohttpTransport, SendProgress, Transport

if TYPE_CHECKING:
    import aiohttp

    from .local.engine import LocalEngine

#: where recognition happens
EngineName: TypeAlias = Literal["wechat", "local"]

log = logging.getLogger("wxocr_async.client")

R = TypeVar("R", bound=WireModel)
T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.weixin.qq.com"
DEFAULT_TIMEOUT = 30.0
#: aiohttp's own default connection limit: a burst of calls waits on the client's
#: semaphore instead of all building requests at once (None: no bound)
DEFAULT_CONCURRENCY = 100
#: images in flight at once in :meth:`OcrClient.batch`
DEFAULT_BATCH_CONCURRENCY = 16
#: seconds close() waits for cancelled calls and background work to wind down
CLOSE_TIMEOUT = 5.0


class NotGiven(enum.Enum):
    """Marks an argument that was not passed, so that ``None`` can mean "no timeout"."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven.NOT_GIVEN
Timeout: TypeAlias = "float | NotGiven | None"


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
        timeout = _check_timeout(timeout)
        if session is not None and transport is not None:
            raise InvalidInput("pass session= or transport=, not both")
        self.appid = appid
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        if shrink_images and not pillow_available():
            raise InvalidInput("shrink_images=True needs Pillow: pip install 'wxocr_async[images]'")
        store = store if store is not None else MemoryStore(clock=clock)
        self._store: TokenStore = store
        self._tokens = _choose_token_source(
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
        #: when and how failed requests are sent again
        self.retry = retry if retry is not None else RetryPolicy()
        self._shrink = shrink_images
        self._transport: Transport = transport or AiohttpTransport(session)
        self._closed = False
        #: tasks running a call now, and those of them that close() cancelled
        self._calls: set[asyncio.Task[Any]] = set()
        self._closing: set[asyncio.Task[Any]] = set()
        self._redactor = Redactor()
        self._redactor.add(secret, fixed=True)
        if isinstance(token, str):
            self._redactor.add(token, fixed=True)
        if isinstance(cloudbase_token, str):
            self._redactor.add(cloudbase_token, fixed=True)
        #: wx-server-sdk parity: ``await client.openapi.ocr.idcard({"imgUrl": ...})``
        self.openapi = OpenApi(self)
        if engine not in ("wechat", "local"):
            raise InvalidInput(f"engine must be 'wechat' or 'local', not {engine!r}")
        if fallback not in (None, "local"):
            raise InvalidInput(f"fallback must be 'local' or None, not {fallback!r}")
        #: where recognition happens: WeChat's API, or the local engine in this process
        self.engine: EngineName = engine
        self.fallback = fallback
        self._local_engine = local_engine
        self._owns_local_engine = local_engine is None
        if type(local_workers) is not int or local_workers < 0:
            raise InvalidInput(f"local_workers must be an integer >= 0, not {local_workers!r}")
        self._local_workers = local_workers
        if local_threads is not None and (type(local_threads) is not int or local_threads < 1):
            raise InvalidInput(f"local_threads must be a positive integer, not {local_threads!r}")
        self._local_threads = local_threads
        #: downloads img_url for the local engine, under WeChat's rules
        self._fetcher = ImageFetcher(allow_private=bool(allow_private_urls))
        if on_attempt is not None and not callable(on_attempt):
            raise InvalidInput(f"on_attempt must be a callable, not {on_attempt!r}")
        #: called with an :class:`~wxocr_async.observe.Attempt` after each request
        self.on_attempt = on_attempt
        if (engine == "local" or fallback == "local") and local_engine is None:
            from .local.recognizer import model_available

            if not model_available():
                raise InvalidInput(
                    "the local engine needs RapidOCR: pip install 'wxocr_async[local]'"
                )

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
        if self._closed:
            return
        self._closed = True
        me, loop = asyncio.current_task(), asyncio.get_running_loop()
        calls = [t for t in self._calls if t is not me and not t.done() and t.get_loop() is loop]
        for task in calls:
            self._closing.add(task)
            task.cancel()
        if calls:
            await asyncio.wait(calls, timeout=CLOSE_TIMEOUT)
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
            if self._local_engine is not None and self._owns_local_engine:
                await self._local_engine.close()

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
        if self._closed:
            raise ClientClosed("the client is closed; create a new one", endpoint=found.path)
        source = as_source(items)

        async def call(item: object) -> Any:
            image, url = image_or_url(item)
            payload, engine = await self._request(found, image, url, mode, timeout)  # type: ignore[arg-type]
            return _from_engine(structure_result(found, payload), engine)

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
        payload, engine = await self._request(endpoint, image, img_url, mode, timeout)
        return _from_engine(structure_result(endpoint, payload), engine)

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
        payload, _ = await self._request(endpoint, image, img_url, mode, timeout)
        return payload

    async def _request(
        self,
        endpoint: Endpoint[Any],
        image: ImageInput | PreparedImage | None,
        img_url: str | None,
        mode: str | None,
        timeout: Timeout,
    ) -> tuple[dict[str, Any], EngineName]:
        """The decoded reply, and which engine gave it."""
        seconds = self._resolve(timeout)
        check_one_source(image, img_url)  # before reading any file
        check_mode(endpoint, mode)

        async def work() -> tuple[dict[str, Any], EngineName]:
            prepared = await self._prepare(image) if image is not None else None

            def build() -> OcrRequest:
                return build_ocr_request(endpoint, image=prepared, img_url=img_url, mode=mode)

            if self.engine == "local":
                check_request(endpoint, prepared, img_url, mode)  # the checks a WeChat call gets
                return await self._local(endpoint, prepared, img_url, seconds), "local"
            try:
                return await self._send_ocr(endpoint, build, seconds), "wechat"
            except QuotaExceeded:
                if self.fallback != "local":
                    raise
                log.info("%s: the quota is spent; recognising locally", endpoint.path)
                return await self._local(endpoint, prepared, img_url, seconds), "local"

        return await self._guarded(endpoint.path, work)

    async def _local(
        self,
        endpoint: Endpoint[Any],
        image: PreparedImage | None,
        img_url: str | None,
        timeout: float | None,
    ) -> dict[str, Any]:
        """The local engine's reply, decoded like WeChat's (its errors raised)."""
        from .local.messages import local_error, local_timeout

        try:
            async with asyncio.timeout(timeout):  # the download, if any
                data = image.data if image is not None else await self._download(img_url)
        except TimeoutError:
            raise RequestTimeout(
                f"img_url was not downloaded within {timeout} s", endpoint=endpoint.path
            ) from None
        # starting the engine and waiting for a slot or a worker are not the image's time
        engine = await self._local_engine_started()
        async with self._limits.slot():
            try:
                reply = await engine.recognise(endpoint.name, data, timeout=timeout)
            except TimeoutError:
                raise local_timeout(timeout, endpoint.path) from None
        try:
            return check_reply(reply, endpoint.path)
        except WxOcrError as exc:
            raise local_error(exc, endpoint.name) from None

    async def warm_up(self) -> None:
        """Start the local engine's workers and load their models now, not in the first
        call that needs them (whose ``timeout`` does not count that time either). Does
        nothing for a client that reads with WeChat alone."""
        if self.engine != "local" and self.fallback != "local":
            return
        await self._guarded("local engine", self._local_engine_started)

    async def _local_engine_started(self) -> LocalEngine:
        if self._local_engine is None:
            from .local.engine import LocalEngine

            self._local_engine = LocalEngine(
                workers=self._local_workers, threads=self._local_threads
            )
        await self._local_engine.start()
        return self._local_engine

    async def _download(self, img_url: str | None) -> bytes:
        """The image at ``img_url``, fetched as WeChat would (under 2 MB, no redirect, no
        private address unless ``allow_private_urls``)."""
        assert img_url is not None
        return await self._fetcher.fetch(img_url)

    async def _guarded(self, where: str, work: Callable[[], Awaitable[T]]) -> T:
        """Every public call runs here: refused once the client is closed; close() cancels
        it and it raises :class:`ClientClosed` (unless its caller cancelled it too); every
        error is scrubbed of secret values."""
        if self._closed:
            raise ClientClosed("the client is closed; create a new one", endpoint=where)
        task = asyncio.current_task()
        assert task is not None
        self._calls.add(task)
        try:
            return await work()
        except WxOcrError as exc:
            self._redactor.scrub(exc)
            raise
        except asyncio.CancelledError:
            if task in self._closing and task.uncancel() == 0:
                raise ClientClosed(
                    "the client was closed during this call", endpoint=where
                ) from None
            raise
        finally:
            self._calls.discard(task)
            self._closing.discard(task)

    async def _prepare(self, image: ImageInput | PreparedImage) -> PreparedImage:
        if isinstance(image, PreparedImage):
            return image
        if is_path(image) or is_file_object(image) or self._shrink:
            # file I/O (capped) or re-encoding: off the event loop
            return await asyncio.to_thread(load, image, shrink=self._shrink)
        return load(image)

    async def _send_ocr(
        self, endpoint: Endpoint[Any], build: Callable[[], OcrRequest], timeout: float | None
    ) -> dict[str, Any]:
        """Attempts, with one token refresh and the retry policy between them.

        Each attempt ends within ``timeout`` seconds: waiting for (or fetching) a token,
        every store operation, the reservation, the request and the reply body all count;
        time spent queued for a concurrency slot or a ``rate_limit`` turn does not.
        """
        tokens = self._tokens
        request = build()
        loop = asyncio.get_running_loop()
        started = loop.time()
        attempt = 1
        token_retried = False
        while True:
            token: str | None = None
            error: WxOcrError
            trace = _Trace(loop.time())
            try:
                end = None if timeout is None else loop.time() + timeout
                async with asyncio.timeout_at(end) as deadline:
                    token = await tokens.get(self._token_http)
                    self._redactor.add(token)
                    payload = await self._exchange(endpoint, request, token, deadline, trace)
                self._observe(endpoint, attempt, trace, None, will_retry=False)
                return payload
            except TimeoutError:  # the attempt's deadline (the transport raises ours)
                error = RequestTimeout(f"no reply within {timeout} s", endpoint=request.path)
            except WxOcrError as exc:
                error = exc
            self._redactor.scrub(error)  # before any hook or log line sees it
            if (
                isinstance(error, InvalidCredential)
                and not token_retried
                and token is not None
                and await self._bounded(tokens.reject(token), timeout, request.path)
            ):
                token_retried = True  # a token retry does not spend the retry budget
                self._observe(endpoint, attempt, trace, error, will_retry=True)
                log.info(
                    "%s rejected the token (errcode %d); refreshing it and retrying once",
                    request.path,
                    error.errcode,
                )
                continue
            delay = self._retry_delay(error, attempt, started)
            self._observe(endpoint, attempt, trace, error, will_retry=delay is not None)
            if delay is None:
                raise error  # outside the except blocks: no implicit __context__
            await self._pause_to_retry(error, attempt, delay, request.path)
            attempt += 1
            request = build()  # a fresh body (and multipart boundary) for the new attempt

    def _observe(
        self,
        endpoint: Endpoint[Any],
        attempt: int,
        trace: _Trace,
        error: WxOcrError | None,
        *,
        will_retry: bool,
    ) -> None:
        if self.on_attempt is None and not observe_log.isEnabledFor(logging.DEBUG):
            return  # nobody is watching: no record to build on the hot path
        report(
            Attempt(
                endpoint=endpoint.name,
                path=endpoint.path,
                attempt=attempt,
                status=trace.status,
                errcode=0 if error is None else error.errcode,
                elapsed=asyncio.get_running_loop().time() - trace.started,
                bytes_sent=trace.bytes_sent,
                error=error,
                will_retry=will_retry,
            ),
            self.on_attempt,
        )

    async def _exchange(
        self,
        endpoint: Endpoint[Any],
        request: OcrRequest,
        token: str | None,
        deadline: asyncio.Timeout,
        trace: _Trace,
    ) -> dict[str, Any]:
        """One request under the attempt's ``deadline``, which is held while the call is
        queued for a slot and a rate turn. A reservation whose request never went out (or
        that WeChat refused for its token) is given back."""
        limits, tokens = self._limits, self._tokens
        param = (tokens.query_name, token) if token and tokens.query_name else None
        url = compose_url(self.base_url, request.path, request.query, param)
        end, loop = deadline.when(), asyncio.get_running_loop()
        budget: float | None = None  # time left, kept while queued (queueing is not timed)
        if end is not None and limits.may_queue():
            budget = end - loop.time()
            deadline.reschedule(None)
        async with limits.slot():
            await limits.pace()
            if budget is not None:
                deadline.reschedule(loop.time() + budget)
            reservation = await limits.reserve(endpoint.name, request.path)
            progress = SendProgress()
            try:
                resp = await self._transport.send(
                    "POST",
                    url,
                    body=request.body,
                    content_type=request.content_type,
                    timeout=None,  # the attempt's deadline bounds it
                    where=request.path,
                    progress=progress,
                )
            except BaseException:
                if not progress.sent:
                    limits.give_back(reservation)  # never reached WeChat: not billed
                raise
            finally:
                if progress.sent:
                    trace.bytes_sent = request.size
        trace.status = resp.status
        try:
            return decode_reply(resp.status, resp.content_type, resp.body, request.path)
        except InvalidCredential:
            limits.give_back(reservation)  # refused before any recognition
            raise
        except QuotaExceeded as exc:
            spent = exc
        # remembered here at once; in the store if it answers in time (the error stands)
        end = deadline.when()
        deadline.reschedule(None)
        with contextlib.suppress(WxOcrError, TimeoutError):
            async with asyncio.timeout_at(end):
                await limits.mark_exhausted(endpoint.name, endpoint.path)
        raise spent

    async def _bounded(self, work: Awaitable[T], timeout: float | None, where: str) -> T:
        try:
            async with asyncio.timeout(timeout):
                return await work
        except TimeoutError:
            pass
        raise RequestTimeout(f"no reply within {timeout} s", endpoint=where)

    def _retry_delay(self, error: WxOcrError, attempt: int, started: float) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None if ``attempt`` (failed
        with ``error``) was the last."""
        retry = self.retry
        delay = retry.delay(error, attempt)
        elapsed = asyncio.get_running_loop().time() - started
        if retry.should_retry(error, attempt) and retry.within_deadline(elapsed, delay):
            return delay
        return None

    async def _pause_to_retry(
        self, error: WxOcrError, attempt: int, delay: float, where: str
    ) -> None:
        log.info(
            "%s failed with errcode %d; attempt %d of %d in %.2f s",
            where,
            error.errcode,
            attempt + 1,
            self.retry.attempts,
            delay,
        )
        await self.retry.sleep(delay)

    async def quota_remaining(self, endpoint: str) -> int | None:
        """Calls left today for ``endpoint`` (``"idcard"``, ``"vehicle_license"`` or
        ``"driving"``...) under ``daily_quota`` (0 once WeChat said it is spent); None
        when no limit applies. Bounded by the client's ``timeout``."""
        found = lookup(endpoint)
        if found is None:
            raise InvalidInput(f"unknown endpoint {endpoint!r}; one of: {names_text()}")
        return await self._guarded(
            found.path,
            lambda: self._bounded(self._limits.remaining(found.name), self.timeout, found.path),
        )

    async def _token_http(
        self, method: str, path: str, *, query: str, json_body: dict[str, Any] | None
    ) -> dict[str, Any]:
        """A token endpoint request, retried under the client's policy like an OCR call."""
        url = compose_url(self.base_url, path, query, None)
        body = (json.dumps(json_body).encode(),) if json_body is not None else ()
        timeout = self.timeout if self.timeout is not None else DEFAULT_TIMEOUT
        started = asyncio.get_running_loop().time()
        attempt = 1
        while True:
            try:
                resp = await self._transport.send(
                    method,
                    url,
                    body=body,
                    content_type="application/json" if json_body is not None else None,
                    timeout=timeout,
                    where=path,
                )
                log.debug("%s %s -> HTTP %d", method, path, resp.status)
                return decode_reply(resp.status, resp.content_type, resp.body, path)
            except WxOcrError as exc:
                error = exc
            delay = self._retry_delay(error, attempt, started)
            if delay is None:
                raise error
            await self._pause_to_retry(error, attempt, delay, path)
            attempt += 1

    def _resolve(self, timeout: Timeout) -> float | None:
        if timeout is NOT_GIVEN:
            return self.timeout
        return _check_timeout(timeout)


@attrs.define
class _Trace:
    """What one attempt got as far as: filled in by :meth:`OcrClient._exchange`."""

    started: float
    status: int | None = None
    bytes_sent: int = 0


def _from_engine(result: R, engine: EngineName) -> R:
    """``result`` marked with the engine that produced it (``result.engine``)."""
    if engine != "wechat":
        object.__setattr__(result, "_engine", engine)
    return result


def _check_timeout(timeout: object) -> float | None:
    """``timeout`` if it is None or a positive finite number of seconds."""
    if timeout is None:
        return None
    try:
        return check_positive_number("timeout (seconds)", timeout)
    except InvalidInput:
        raise InvalidInput(
            f"timeout must be a positive finite number of seconds or None, not {timeout!r}"
        ) from None


def _choose_token_source(
    appid: str | None,
    secret: str | None,
    token: str | Callable[[], Awaitable[str]] | None,
    cloudbase_token: str | os.PathLike[str] | Callable[[], Awaitable[str]] | None,
    token_source: TokenSource | None,
    token_endpoint: TokenEndpoint,
    store: TokenStore | None,
    clock: Clock,
) -> TokenSource:
    given = [
        name
        for name, value in (
            ("token=", token),
            ("cloudbase_token=", cloudbase_token),
            ("token_source=", token_source),
            ("appid=/secret=", secret),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise InvalidInput(f"pass only one of {' or '.join(given)}")
    if token is not None:
        if not (callable(token) or (isinstance(token, str) and token)):
            raise InvalidInput("token must be a non-empty string or an async callable")
        return StaticTokenSource(token)
    if cloudbase_token is not None:
        if isinstance(cloudbase_token, os.PathLike):
            return CloudbaseTokenSource(path=cloudbase_token)
        if not (callable(cloudbase_token) or cloudbase_token):
            raise InvalidInput("cloudbase_token must be a non-empty string, a path or a callable")
        return CloudbaseTokenSource(cloudbase_token)
    if token_source is not None:
        return token_source
    if secret:
        if not appid:
            raise InvalidInput("secret= needs appid= too")
        return AppCredentialSource(appid, secret, endpoint=token_endpoint, store=store, clock=clock)
    if appid:
        raise InvalidInput(
            "appid= needs secret= (or pass token=; pass neither for Cloud Run's open-API service)"
        )
    return NoTokenSource()
