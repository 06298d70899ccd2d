"""``wxocr serve``'s server: WeChat's OCR API answered by the local engine, for a network.

On WeChat's HTTP surface it adds its own authentication (:class:`ServerAuth`), images
bounded before they are decoded (in the engine), ``img_url`` fetched under
:class:`~wxocr_async.fetch.ImageFetcher`'s rules (no private addresses unless allowed),
slow clients dropped, ``GET /healthz`` and ``GET /metrics``. It has none of the
emulator's conveniences: no canned replies, no faults, no ``/_emulator`` routes, and no
token for credentials it was not given.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from ..errors import InvalidInput
from ..fetch import DEFAULT_FETCH_TIMEOUT, ImageFetcher
from ..local.backend import RECOGNITION_TIMEOUT, LocalBackend
from ..local.engine import LocalEngine
from ..surface import ReceivedImage, Reply, TokenTable, WeChatSurface
from .auth import ServerAuth, is_loopback_host
from .metrics import CONTENT_TYPE, ServerMetrics
from .watchdog import Watchdogs

#: seconds a client has to deliver a whole request (``--request-timeout``)
DEFAULT_REQUEST_TIMEOUT = 30.0
#: seconds requests in flight get to finish when the server stops
SHUTDOWN_GRACE = 30.0


class OcrServer(WeChatSurface):
    """WeChat's OCR API on ``engine``.

    ``auth``: who may call (see :class:`ServerAuth`); an open server refuses to listen
    beyond loopback unless ``allow_open``. ``allow_private_urls``: fetch ``img_url`` from
    private addresses too. ``request_timeout``: seconds a client has to deliver a whole
    request. Start with :meth:`start` (listening, ``/healthz`` 503), then
    :meth:`load_models` (``/healthz`` 200)."""

    def __init__(
        self,
        engine: LocalEngine,
        auth: ServerAuth,
        *,
        allow_open: bool = False,
        allow_private_urls: bool = False,
        fetch_timeout: float = DEFAULT_FETCH_TIMEOUT,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        recognition_timeout: float = RECOGNITION_TIMEOUT,
    ) -> None:
        if not request_timeout > 0:
            raise InvalidInput(f"request_timeout must be positive, not {request_timeout!r}")
        tokens = TokenTable(auth.appid, auth.secret)
        if auth.token is not None:
            tokens.accept(auth.token)
        super().__init__(
            tokens=tokens,
            fetcher=ImageFetcher(allow_private=allow_private_urls, timeout=fetch_timeout),
        )
        self.engine = engine
        self.auth = auth
        self.allow_open = allow_open
        self.backend = LocalBackend(engine, timeout=recognition_timeout)
        self.watchdogs = Watchdogs(request_timeout)
        self.metrics = ServerMetrics(engine, self.watchdogs, tokens)
        engine.on_recognised = self.metrics.recognised
        self.ready = False
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None

    def __repr__(self) -> str:
        return f"OcrServer({self.auth.describe()}, base_url={self.base_url!r})"

    # -- running ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0: any free port); the base URL. An open server
        (no credentials) listens on loopback only, unless ``allow_open``."""
        if self.auth.is_open and not self.allow_open and not is_loopback_host(host):
            raise InvalidInput(
                f"refusing to serve on {host} without authentication: set WXOCR_TOKEN, or "
                "WXOCR_APPID and WXOCR_SECRET (or pass --no-auth to serve it open)"
            )
        app = self.make_app()
        app.middlewares.append(self.watchdogs.middleware())
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_GRACE
        )
        await self._runner.setup()
        assert self._runner.server is not None
        loop = asyncio.get_running_loop()
        try:
            self._listener = await loop.create_server(
                self.watchdogs.protocol_factory(self._runner.server), host, port
            )
        except BaseException:
            await self.stop()
            raise
        bound = self._listener.sockets[0].getsockname()
        shown = f"[{host.strip('[]')}]" if ":" in host else host
        self.base_url = f"http://{shown}:{bound[1]}"
        return self.base_url

    async def load_models(self) -> None:
        """Start the engine's workers with their models; then ``/healthz`` answers 200."""
        await self.engine.start()
        self.ready = True

    async def stop(self) -> None:
        """Stop listening, let requests in flight finish (``SHUTDOWN_GRACE``), close."""
        self.ready = False
        if self._listener is not None:
            self._listener.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._listener is not None:
            self.watchdogs.abort_all()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._listener.wait_closed(), 5)
            self._listener = None
        await self.fetcher.close()

    # -- WeChat's surface, decided ------------------------------------------------------------

    def access_error(self, request: web.Request) -> Reply | None:
        if self.auth.is_open:
            return None
        return super().access_error(request)

    def answered(self, name: str, reply: Reply) -> None:
        self.metrics.answered(name, reply.get("errcode", "?"))

    async def answer(self, name: str, image: ReceivedImage) -> Reply:
        return dict(await self.backend.reply(name, image.data))

    # -- health and metrics -------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)

    async def _healthz(self, request: web.Request) -> web.Response:
        if self.ready:
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "loading"}, status=503)

    async def _metrics(self, request: web.Request) -> web.Response:
        body = self.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
