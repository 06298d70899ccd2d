"""``wxocr serve``'s server: WeChat's OCR API answered by the local engine, for a network.

On WeChat's HTTP surface it adds its own authentication (:class:`ServerAuth`), images
bounded before they are decoded (in the engine), ``img_url`` fetched under
:class:`~wxocr_async.fetch.ImageFetcher`'s rules (no private addresses unless allowed),
slow clients dropped, ``GET /healthz`` and ``GET /metrics``, and a try-it page at ``GET /``
(:mod:`.tryit`) with a route of its own showing what the engine saw. It has none of the
emulator's conveniences: no canned replies, no faults, no ``/_emulator`` routes, and no
token for credentials it was not given.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress

import attrs
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ..errors import InvalidInput
from ..fetch import DEFAULT_FETCH_TIMEOUT, ImageFetcher
from ..inspection import Inspection
from ..local.backend import RECOGNITION_TIMEOUT, LocalBackend
from ..local.engine import BUSY, EngineBusy, LocalEngine
from ..surface import (
    OCR_NAMES,
    ReceivedImage,
    Reply,
    TokenTable,
    WeChatSurface,
    body_too_large,
    error_reply,
    json_response,
)
from . import tryit
from .auth import ServerAuth, is_loopback_host
from .metrics import CONTENT_TYPE, ServerMetrics
from .watchdog import MAX_CONNECTIONS, Watchdogs

#: seconds a client has to deliver a whole request (``--request-timeout``)
DEFAULT_REQUEST_TIMEOUT = 30.0
#: seconds requests in flight get to finish when the server stops
SHUTDOWN_GRACE = 30.0
#: inspect answers carrying their fetched image (up to 2.7 MB of base64) sent at once
MAX_ECHOES = 4


class OcrServer(WeChatSurface):
    """WeChat's OCR API on ``engine``.

    ``auth``: who may call (see :class:`ServerAuth`); an open server refuses to listen
    beyond loopback unless ``allow_open``. ``allow_private_urls``: fetch ``img_url`` from
    private addresses too. ``request_timeout``: seconds a client has to deliver a whole
    request; ``max_connections``: connections open at once (more are closed at once).
    Nothing is read from a request whose ``Content-Length`` is over the cap or whose OCR
    call carries no valid token: it is answered and its connection closed. Start with
    :meth:`start` (listening, ``/healthz`` 503), then :meth:`load_models` (200)."""

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
        max_connections: int = MAX_CONNECTIONS,
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
        self.watchdogs = Watchdogs(request_timeout, max_connections=max_connections)
        self.metrics = ServerMetrics(engine, self.watchdogs, tokens)
        engine.on_recognised = self.metrics.recognised
        self.ready = False
        self.base_url = ""
        self._echoes = asyncio.Semaphore(MAX_ECHOES)
        #: an open server on loopback answers requests named for loopback alone
        self._loopback_names_only = False
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
        self._loopback_names_only = self.auth.is_open and is_loopback_host(host)
        app = self.make_app()
        app.middlewares.extend([self._before_the_body(), self.watchdogs.middleware()])
        app.on_response_prepare.append(_plain_server_header)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=SHUTDOWN_GRACE)
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
            self.watchdogs.abort_idle()  # a client half-way through a request is not waited for
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

    def _before_the_body(self) -> Middleware:
        """Refuses what can be refused from the head alone, leaving the body unread and
        closing the connection: an open server's request named for another host than
        loopback (403), a ``Content-Length`` over the cap (413), an OCR call
        without a valid token, a body where no route takes one (another method, another
        path). A stranger cannot make the server read (and hold) 2 MB."""

        @web.middleware
        async def before_the_body(request: web.Request, handler: Handler) -> web.StreamResponse:
            refusal = self._head_refusal(request)
            if refusal is None:
                return await handler(request)
            refusal.force_close()
            return refusal

        return before_the_body

    def _head_refusal(self, request: web.Request) -> web.Response | None:
        if self._loopback_names_only and not _names_loopback(request.host):
            return json_response(
                error_reply(403, "this open server answers requests to its loopback address only"),
                status=403,
            )
        length = request.content_length
        if length is not None and length > self.max_body:
            return json_response(body_too_large(self.max_body), status=413)
        name = request.match_info.get("name")
        if request.method == "POST" and name in OCR_NAMES:
            err = self.access_error(request)
            if err is not None:
                self.answered(name, err)
                if request.path.startswith(tryit.INSPECT_PREFIX):
                    return tryit.refused(name, err)
                return json_response(err)
        elif request.body_exists and request.path != "/cgi-bin/stable_token":
            return _no_body_here(request, name)
        return None

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
        app.router.add_get("/", self._page)
        app.router.add_get(tryit.ABOUT_PATH, self._about)
        app.router.add_route("*", tryit.INSPECT_PREFIX + "{name}", self._inspect)

    # -- the try-it page ----------------------------------------------------------------------

    async def _page(self, request: web.Request) -> web.Response:
        return tryit.page_response()

    async def _about(self, request: web.Request) -> web.Response:
        auth = self.auth
        return web.json_response(
            tryit.about(needs_token=not auth.is_open, issues_tokens=auth.appid is not None)
        )

    async def _inspect(self, request: web.Request) -> web.StreamResponse:
        """What ``/cv/ocr/{name}`` answers, with the lines the engine read and where each
        field came from (:func:`tryit.inspect_response`), under the same authentication."""
        name = request.match_info["name"]
        if name not in OCR_NAMES:
            raise web.HTTPNotFound()
        if request.method != "POST":
            return tryit.refused(name, error_reply(43002))
        err = self.access_error(request)
        if err is None:
            image = await self.read_image(name, request)
            err = image if not isinstance(image, ReceivedImage) else None
        if err is not None or not isinstance(image, ReceivedImage):
            self.answered(name, err or {})
            return tryit.refused(name, err or error_reply(-1))
        timeout = self.backend.timeout
        try:
            found = await self.engine.inspect(name, image.data, wait=False, timeout=timeout)
            found = attrs.evolve(found, image=image.data)
        except EngineBusy:
            found, timed_out = Inspection(name, dict(BUSY), "local"), None
        except TimeoutError:
            found, timed_out = Inspection(name, dict(BUSY), "local"), timeout
        else:
            timed_out = None
        self.answered(name, dict(found.reply))
        if "img_url" not in request.query or found.seconds is None or self._echoes.locked():
            return tryit.inspect_response(found, timed_out=timed_out)
        return await self._echoing(request, found)

    async def _echoing(self, request: web.Request, found: Inspection) -> web.StreamResponse:
        """The answer with the image fetched from ``img_url`` in it, for the page to draw
        on: ``MAX_ECHOES`` at once at most (past that, answers go without it), each sent
        within the request timeout (a client that does not read it is cut), so that no
        number of clients makes the server hold more than a few images."""
        image = found.image
        async with self._echoes:
            response = tryit.inspect_response(found, image=image)
            try:
                async with asyncio.timeout(self.watchdogs.timeout):
                    await response.prepare(request)
                    await response.write_eof()
            except TimeoutError:
                if request.transport is not None:
                    request.transport.abort()
            return response

    async def _healthz(self, request: web.Request) -> web.Response:
        if self.ready:
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "loading"}, status=503)

    async def _metrics(self, request: web.Request) -> web.Response:
        body = self.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def _names_loopback(host: str) -> bool:
    """Whether a request's ``Host`` names loopback: a loopback address, or ``localhost``.
    Any other name is refused by an open server on loopback, even one resolving there: a
    web page whose name was pointed at 127.0.0.1 (DNS rebinding) must not reach it."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name.startswith("[") and "]" in name:
        name = name[1 : name.index("]")]
    name = name.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _no_body_here(request: web.Request, name: str | None) -> web.Response:
    """The answer, from the head alone, to a request carrying a body where none is taken
    (only an OCR call's POST and a ``stable_token`` request carry one): a path that is
    not an API is 404, an OCR path asked with another method 43002, any other 400."""
    missing = request.match_info.http_exception
    if (missing is not None and missing.status == 404) or (
        name is not None and name not in OCR_NAMES
    ):
        return json_response(
            error_reply(404, f"not found: no API at {request.path[:200]}"), status=404
        )
    if name is not None:
        return json_response(error_reply(43002))
    return json_response(error_reply(400, "this request takes no body"), status=400)


async def _plain_server_header(request: web.Request, response: web.StreamResponse) -> None:
    """``Server: wxocr``: no versions of Python and aiohttp for a stranger to look up."""
    response.headers["Server"] = "wxocr"
