"""WeChatEmulator: api.weixin.qq.com's stand-in for tests and demos.

On WeChat's HTTP surface (:mod:`wxocr_async.surface`: ``cgi-bin/token``,
``cgi-bin/stable_token`` and the eight ``cv/ocr/*`` endpoints with their reply shapes and
error codes, the 2 MB image limit, ``img_url``) it adds what tests need: canned replies,
tokens minted for its own appid/secret, scripted faults, a daily quota, counters, and
``/_emulator/*`` routes serving sample and hosted images. It fetches ``img_url`` from
loopback too (its test images live there): it is no server to put on a network; that is
``wxocr serve`` (:mod:`wxocr_async.server`).
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import time
import warnings
from collections import Counter, deque
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Protocol, Self

import attrs
from aiohttp import web

from ..fetch import ImageFetcher
from ..surface import (
    OCR_NAMES,
    ReceivedImage,
    Reply,
    TokenTable,
    WeChatSurface,
    error_reply,
    json_response,
    media_type,
)
from .faults import Fault
from .pictures import sample_image
from .replies import DEFAULT_REPLIES, SAMPLE_ENDPOINTS, SAMPLE_REPLIES

DEFAULT_APPID = "wx0123456789emulat"
DEFAULT_SECRET = "emulator-appsecret-0123456789abcd"
#: keys for fault queues besides the OCR endpoint names
TOKEN_KEYS = ("token", "stable_token")
ANY_OCR = "*"


@attrs.frozen
class SeenRequest:
    """What one OCR request looked like on the wire (token values left out)."""

    endpoint: str
    method: str
    #: query parameters, with any token's value replaced by "<token>"
    query: dict[str, str]
    content_type: str
    body_length: int
    #: the multipart part the image was taken from, if there was one (its name as sent)
    part_name: str | None = None
    part_filename: str | None = None
    part_content_type: str | None = None
    #: SHA-256 (hex) of the uploaded image, to tell which image a request carried
    part_sha256: str | None = None


@attrs.define
class EmulatorStats:
    """What reached the emulator."""

    #: requests to cgi-bin/token and cgi-bin/stable_token (answered or not)
    token_requests: int = 0
    stable_token_requests: int = 0
    #: tokens newly issued (a stable_token call that hands back the current one issues none)
    tokens_issued: int = 0
    #: stable_token calls with force_refresh=true
    forced_refreshes: int = 0
    #: OCR requests received, per endpoint name, whatever their outcome
    ocr_calls: Counter[str] = attrs.field(factory=Counter)
    #: OCR requests answered with a recognition result
    ocr_results: Counter[str] = attrs.field(factory=Counter)
    #: OCR requests refused for their token: missing, unknown/revoked, expired
    missing_tokens: int = 0
    invalid_tokens: int = 0
    expired_tokens: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    #: the most recent OCR requests, oldest first
    seen: deque[SeenRequest] = attrs.field(factory=lambda: deque(maxlen=1000))

    @property
    def token_fetches(self) -> int:
        """Requests to either token endpoint."""
        return self.token_requests + self.stable_token_requests

    @property
    def total_ocr_calls(self) -> int:
        return sum(self.ocr_calls.values())


class RecognitionBackend(Protocol):
    """What answers an OCR request in place of the canned replies."""

    async def reply(self, endpoint: str, image: bytes) -> Mapping[str, Any]:
        """WeChat's whole reply (``errcode`` included) for ``image`` sent to ``endpoint``
        (its wire name, e.g. ``"driving"``)."""
        ...


class WeChatEmulator(WeChatSurface):
    """A local stand-in for api.weixin.qq.com.

    >>> async with WeChatEmulator() as emu:
    ...     async with OcrClient(emu.appid, emu.secret, base_url=emu.base_url) as ocr:
    ...         await ocr.idcard(sample_image("idcard_front.png"))

    ``token_lifetime``: seconds a token lives; ``token_grace``: seconds an old token stays
    valid after a new one is issued (WeChat: 300); ``clock``: the time source for expiry
    (inject a manual clock to test expiry without waiting); ``require_token=False``
    emulates Cloud Run's open-API service; ``daily_quota``: OCR calls per endpoint before
    101003; ``ip_whitelist``: client IPs allowed to fetch tokens (else 40164);
    ``backend``: recognition in place of the canned replies; ``any_credentials``: issue
    tokens to any appid/secret.
    """

    def __init__(
        self,
        *,
        appid: str = DEFAULT_APPID,
        secret: str = DEFAULT_SECRET,
        token_lifetime: float = 7200,
        token_grace: float = 300,
        clock: Callable[[], float] = time.monotonic,
        require_token: bool = True,
        cloudbase_tokens: tuple[str, ...] = (),
        daily_quota: int | None = None,
        ip_whitelist: frozenset[str] | None = None,
        latency: float = 0.0,
        backend: RecognitionBackend | None = None,
        any_credentials: bool = False,
    ) -> None:
        # its test images are served from loopback: it fetches private addresses
        super().__init__(
            tokens=TokenTable(
                appid, secret, lifetime=token_lifetime, grace=token_grace, clock=clock
            ),
            fetcher=ImageFetcher(allow_private=True),
            max_body=32 * 1024 * 1024,
        )
        self.appid = appid
        self.secret = secret
        self.require_token = require_token
        self.cloudbase_tokens = set(cloudbase_tokens)
        self.daily_quota = daily_quota
        self.ip_whitelist = ip_whitelist
        #: seconds every OCR reply is delayed by (server-side latency)
        self.latency = latency
        #: recognition in place of the canned replies (e.g. the local engine)
        self.backend = backend
        #: issue tokens to any appid/secret
        self.any_credentials = any_credentials
        self.stats = EmulatorStats()
        #: endpoint name -> reply for images with no reply of their own
        self.replies: dict[str, Reply] = {k: copy.deepcopy(v) for k, v in DEFAULT_REPLIES.items()}
        #: (endpoint or "*", sha256 of the image) -> reply
        self._by_image: dict[tuple[str, str], Reply] = {}
        self._recognised_sizes: set[int] = set()
        for name, reply in SAMPLE_REPLIES.items():
            self.register_reply(
                sample_image(name).read_bytes(), reply, endpoint=SAMPLE_ENDPOINTS[name]
            )
        self._faults: dict[str, deque[Fault]] = {}
        self._hosted: dict[str, tuple[bytes, str]] = {}
        self._quota_used: Counter[str] = Counter()
        self._runner: web.AppRunner | None = None
        #: served by emulator.thread.run_in_thread: no asyncio events from the caller's loop
        self._served_from_thread = False
        self.base_url = ""
        self.app = self.make_app()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(appid={self.appid!r}, base_url={self.base_url!r})"

    @property
    def token_lifetime(self) -> float:
        return self.tokens.lifetime

    @property
    def token_grace(self) -> float:
        return self.tokens.grace

    @property
    def clock(self) -> Callable[[], float]:
        return self.tokens.clock

    # -- scripting -------------------------------------------------------------------

    def register_reply(
        self, image: bytes, reply: Mapping[str, Any], *, endpoint: str | None = None
    ) -> None:
        """Answer ``reply`` whenever exactly these image bytes are sent (or fetched) to
        ``endpoint`` (by default, to any endpoint); elsewhere they get that endpoint's
        default reply, as an unknown image does."""
        if endpoint is not None and endpoint not in self.replies:
            raise KeyError(f"unknown OCR endpoint {endpoint!r}; one of {', '.join(OCR_NAMES)}")
        self._by_image[(endpoint or ANY_OCR, hashlib.sha256(image).hexdigest())] = dict(reply)
        self._recognised_sizes.add(len(image))

    def recognise(
        self, image: bytes, reply: Mapping[str, Any], *, endpoint: str | None = None
    ) -> None:
        """Deprecated: the old name of :meth:`register_reply` (it recognises nothing)."""
        warnings.warn(
            "WeChatEmulator.recognise() is deprecated: use register_reply()",
            DeprecationWarning,
            stacklevel=2,
        )
        self.register_reply(image, reply, endpoint=endpoint)

    def set_reply(self, endpoint: str, reply: Mapping[str, Any]) -> None:
        """The reply ``endpoint`` gives for any image without a reply of its own."""
        if endpoint not in self.replies:
            raise KeyError(f"unknown OCR endpoint {endpoint!r}; one of {', '.join(OCR_NAMES)}")
        self.replies[endpoint] = dict(reply)

    def push_faults(self, key: str, *faults: Fault) -> None:
        """Queue faults for the next requests to ``key``: an OCR endpoint name
        (``"idcard"``), ``"*"`` for any OCR endpoint, ``"token"`` or ``"stable_token"``."""
        if key not in OCR_NAMES and key not in TOKEN_KEYS and key != ANY_OCR:
            raise KeyError(f"unknown fault key {key!r}")
        if self._served_from_thread and any(
            f.hold is not None or f.arrived is not None for f in faults
        ):
            raise ValueError(
                "Fault.held cannot reach an emulator served from another thread (its asyncio "
                "events belong to one loop): use `async with WeChatEmulator()` in the test"
            )
        self._faults.setdefault(key, deque()).extend(faults)

    def pending_faults(self, key: str) -> int:
        """How many queued faults ``key`` has not consumed yet."""
        return len(self._faults.get(key, ()))

    def revoke_tokens(self) -> None:
        """Invalidate every token issued so far (as a refresh elsewhere would)."""
        self.tokens.revoke()

    def issued_tokens(self) -> list[str]:
        """The tokens issued since the last revocation, oldest first, expired ones too (to
        look for leaks in tests)."""
        return self.tokens.issued()

    def host(self, data: bytes, name: str = "image.png", content_type: str = "image/png") -> str:
        """Serve ``data`` from the emulator and return its URL (for ``img_url`` calls)."""
        key = hashlib.sha256(data).hexdigest()[:16]
        self._hosted[f"{key}/{name}"] = (data, content_type)
        return f"{self.base_url}/_emulator/files/{key}/{name}"

    def sample_url(self, name: str) -> str:
        """The URL the emulator serves a shipped sample image at."""
        sample_image(name)  # raises if there is none
        return f"{self.base_url}/_emulator/samples/{name}"

    def accept_token(self, value: str) -> None:
        """Accept ``value`` as an access token that never expires (a server's own token)."""
        self.tokens.accept(value)

    def is_valid_token(self, value: str) -> bool:
        return self.tokens.state(value) == "valid"

    def reset_quota(self) -> None:
        """Start a new day for ``daily_quota``."""
        self._quota_used.clear()

    # -- running -----------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0: any free port); returns the base URL."""
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = self._runner.addresses
        bound_port = sockets[0][1]
        self.base_url = f"http://{host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        await self.fetcher.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- the emulator's own routes ---------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/_emulator/samples/{name}", self._sample)
        app.router.add_get("/_emulator/files/{key}/{name}", self._hosted_file)
        app.router.add_get("/_emulator/stats", self._stats)

    async def _stats(self, request: web.Request) -> web.Response:
        """The counters as JSON, for processes that cannot read ``stats`` directly."""
        s = self.stats
        return json_response(
            {
                "token_fetches": s.token_fetches,
                "token_requests": s.token_requests,
                "stable_token_requests": s.stable_token_requests,
                "ocr_calls": dict(s.ocr_calls),
                "ocr_results": dict(s.ocr_results),
                "max_in_flight": s.max_in_flight,
                "invalid_tokens": s.invalid_tokens,
                "expired_tokens": s.expired_tokens,
            }
        )

    async def _sample(self, request: web.Request) -> web.Response:
        try:
            data = sample_image(request.match_info["name"]).read_bytes()
        except FileNotFoundError:
            return web.Response(status=404, text="no such sample")
        return web.Response(body=data, content_type="image/png")

    async def _hosted_file(self, request: web.Request) -> web.Response:
        key = f"{request.match_info['key']}/{request.match_info['name']}"
        if key not in self._hosted:
            return web.Response(status=404, text="not hosted")
        data, content_type = self._hosted[key]
        return web.Response(body=data, content_type=content_type)

    # -- tokens: counted, faulted, whitelisted ----------------------------------------------

    async def before_token(self, kind: str, request: web.Request) -> web.StreamResponse | None:
        if kind == "token":
            self.stats.token_requests += 1
        else:
            self.stats.stable_token_requests += 1
        fault = self._next_fault(kind)
        return await self._apply(fault) if fault is not None else None

    def credential_error(self, request: web.Request, appid: object, secret: object) -> Reply | None:
        if self.any_credentials and appid and secret:
            return None
        if self.ip_whitelist is not None and request.remote not in self.ip_whitelist:
            return error_reply(40164, f"invalid ip {request.remote}, not in whitelist")
        return super().credential_error(request, appid, secret)

    def issued(self, count: int, *, forced: bool = False) -> None:
        self.stats.tokens_issued += count
        self.stats.forced_refreshes += forced

    def access_error(self, request: web.Request) -> Reply | None:
        if not self.require_token:
            return None
        query = request.query
        if "access_token" not in query and "cloudbase_access_token" in query:
            return (
                None
                if query["cloudbase_access_token"] in self.cloudbase_tokens
                else (error_reply(40001))
            )
        err = super().access_error(request)
        if err is not None:
            code = err["errcode"]
            if code == 41001:
                self.stats.missing_tokens += 1
            elif code == 42001:
                self.stats.expired_tokens += 1
            else:
                self.stats.invalid_tokens += 1
        return err

    # -- OCR: counted, faulted, delayed, rationed, answered from the script ------------------

    async def handle_ocr(self, name: str, request: web.Request) -> web.StreamResponse:
        stats = self.stats
        stats.ocr_calls[name] += 1
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            fault = self._next_fault(name) or self._next_fault(ANY_OCR)
            if fault is not None and (resp := await self._apply(fault, request)) is not None:
                return resp
            if self.latency:
                await asyncio.sleep(self.latency)
            return await super().handle_ocr(name, request)
        finally:
            stats.in_flight -= 1

    def note_request(
        self, name: str, request: web.Request, body: bytes, upload: ReceivedImage | None
    ) -> None:
        query = {
            k: "<token>" if k in ("access_token", "cloudbase_access_token") else v
            for k, v in request.query.items()
        }
        seen = SeenRequest(name, request.method, query, media_type(request), len(body))
        if upload is not None and upload.part is not None:
            part = upload.part
            seen = attrs.evolve(
                seen,
                part_name=part.name,
                part_filename=part.filename,
                part_content_type=part.content_type,
                part_sha256=upload.sha256,  # computed once: the reply lookup reuses it
            )
        self.stats.seen.append(seen)

    async def answer(self, name: str, image: ReceivedImage) -> Reply:
        if self.daily_quota is not None:
            if self._quota_used[name] >= self.daily_quota:
                return error_reply(101003)
            self._quota_used[name] += 1
        if self.backend is not None:
            recognised = dict(await self.backend.reply(name, image.data))
            if recognised.get("errcode") == 0:
                self.stats.ocr_results[name] += 1
            return recognised
        reply = self.replies[name]
        if len(image.data) in self._recognised_sizes:  # hash only what could match
            own = self._by_image.get((name, image.sha256))
            reply = own if own is not None else self._by_image.get((ANY_OCR, image.sha256), reply)
        self.stats.ocr_results[name] += 1
        return reply

    # -- faults ---------------------------------------------------------------------------

    def _next_fault(self, key: str) -> Fault | None:
        queue = self._faults.get(key)
        return queue.popleft() if queue else None

    async def _apply(
        self, fault: Fault, request: web.Request | None = None
    ) -> web.StreamResponse | None:
        """Carry out ``fault``; a response to send instead, or None to go on normally."""
        if fault.arrived is not None:
            fault.arrived.set()
        if fault.revoke_tokens:
            self.revoke_tokens()
        if fault.hold is not None:
            await fault.hold.wait()
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.reset:
            if request is not None and request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)  # never reaches the client: the socket is gone
        if fault.errcode is not None:
            if fault.errmsg is not None:
                return json_response({"errcode": fault.errcode, "errmsg": fault.errmsg})
            return json_response(error_reply(fault.errcode))
        if fault.status is not None:
            return web.Response(
                status=fault.status, body=fault.body, content_type=fault.content_type
            )
        return None
