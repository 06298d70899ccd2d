"""WeChatEmulator: an aiohttp.web application that behaves like api.weixin.qq.com.

It serves ``cgi-bin/token``, ``cgi-bin/stable_token`` and the eight ``cv/ocr/*``
endpoints with the documented reply shapes and error codes, issues tokens that
expire, enforces the 2 MB image limit, fetches ``img_url`` as WeChat does, and
takes scripted faults. Its counters tell tests what reached it.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import math
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Protocol, Self

import aiohttp
import attrs
from aiohttp import web

from ..images import MAX_IMAGE_BYTES, sniff_image_type
from .faults import Fault
from .pictures import sample_image
from .replies import DEFAULT_REPLIES, ERRMSGS, SAMPLE_ENDPOINTS, SAMPLE_REPLIES, Reply

DEFAULT_APPID = "wx0123456789emulat"
DEFAULT_SECRET = "emulator-appsecret-0123456789abcd"
OCR_NAMES = tuple(DEFAULT_REPLIES)
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


class WeChatEmulator:
    """A local stand-in for api.weixin.qq.com.

    >>> async with WeChatEmulator() as emu:
    ...     async with OcrClient(emu.appid, emu.secret, base_url=emu.base_url) as ocr:
    ...         await ocr.idcard(sample_image("idcard_front.png"))

    ``token_lifetime``: seconds a token lives; ``token_grace``: seconds an old token stays
    valid after a new one is issued (WeChat: 300); ``clock``: the time source for expiry
    (inject a manual clock to test expiry without waiting); ``require_token=False``
    emulates Cloud Run's open-API service; ``daily_quota``: OCR calls per endpoint before
    101003; ``ip_whitelist``: client IPs allowed to fetch tokens (else 40164).
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
        self.appid = appid
        self.secret = secret
        self.token_lifetime = token_lifetime
        self.token_grace = token_grace
        self.clock = clock
        self.require_token = require_token
        self.cloudbase_tokens = set(cloudbase_tokens)
        self.daily_quota = daily_quota
        self.ip_whitelist = ip_whitelist
        #: seconds every OCR reply is delayed by (server-side latency)
        self.latency = latency
        #: recognition in place of the canned replies (e.g. the local engine)
        self.backend = backend
        #: issue tokens to any appid/secret (a local server standing in for WeChat)
        self.any_credentials = any_credentials
        self.stats = EmulatorStats()
        #: endpoint name -> reply for images with no reply of their own
        self.replies: dict[str, Reply] = {k: copy.deepcopy(v) for k, v in DEFAULT_REPLIES.items()}
        #: (endpoint or "*", sha256 of the image) -> reply
        self._by_image: dict[tuple[str, str], Reply] = {}
        self._recognised_sizes: set[int] = set()
        for name, reply in SAMPLE_REPLIES.items():
            self.recognise(sample_image(name).read_bytes(), reply, endpoint=SAMPLE_ENDPOINTS[name])
        self._faults: dict[str, deque[Fault]] = {}
        self._hosted: dict[str, tuple[bytes, str]] = {}
        self._valid_tokens: dict[str, float] = {}
        self._current: dict[str, str] = {}  # "token"/"stable_token" -> newest value
        self._quota_used: Counter[str] = Counter()
        self._runner: web.AppRunner | None = None
        self._fetcher: aiohttp.ClientSession | None = None
        #: served by emulator.thread.run_in_thread: no asyncio events from the caller's loop
        self._served_from_thread = False
        self.base_url = ""
        self.app = self._make_app()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(appid={self.appid!r}, base_url={self.base_url!r})"

    # -- scripting -------------------------------------------------------------------

    def recognise(
        self, image: bytes, reply: Mapping[str, Any], *, endpoint: str | None = None
    ) -> None:
        """Answer ``reply`` whenever exactly these image bytes are sent (or fetched) to
        ``endpoint`` (by default, to any endpoint); elsewhere they get that endpoint's
        default reply, as an unknown image does."""
        if endpoint is not None and endpoint not in self.replies:
            raise KeyError(f"unknown OCR endpoint {endpoint!r}; one of {', '.join(OCR_NAMES)}")
        self._by_image[(endpoint or ANY_OCR, hashlib.sha256(image).hexdigest())] = dict(reply)
        self._recognised_sizes.add(len(image))

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
        self._valid_tokens.clear()
        self._current.clear()

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
        self._valid_tokens[value] = math.inf

    def is_valid_token(self, value: str) -> bool:
        expires = self._valid_tokens.get(value)
        return expires is not None and self.clock() < expires

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
        if self._fetcher is not None:
            await self._fetcher.close()
            self._fetcher = None
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

    # -- the application ------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_route("*", "/cgi-bin/token", self._token)
        app.router.add_route("*", "/cgi-bin/stable_token", self._stable_token)
        app.router.add_route("*", "/cv/ocr/{name}", self._ocr)
        app.router.add_get("/_emulator/samples/{name}", self._sample)
        app.router.add_get("/_emulator/files/{key}/{name}", self._hosted_file)
        app.router.add_get("/_emulator/stats", self._stats)
        return app

    async def _stats(self, request: web.Request) -> web.Response:
        """The counters as JSON, for processes that cannot read ``stats`` directly."""
        s = self.stats
        return _json(
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

    # -- tokens ---------------------------------------------------------------------------

    def _issue(self, kind: str) -> tuple[str, float]:
        now = self.clock()
        old = self._current.get(kind)
        if old is not None and old in self._valid_tokens:
            # WeChat keeps the previous token usable for a while after issuing a new one
            self._valid_tokens[old] = min(self._valid_tokens[old], now + self.token_grace)
        value = secrets.token_urlsafe(48)
        self._valid_tokens[value] = now + self.token_lifetime
        self._current[kind] = value
        self.stats.tokens_issued += 1
        return value, self.token_lifetime

    def _credential_error(self, request: web.Request, appid: Any, secret: Any) -> Reply | None:
        if self.any_credentials and appid and secret:
            return None
        if self.ip_whitelist is not None and request.remote not in self.ip_whitelist:
            return _error(40164, f"invalid ip {request.remote}, not in whitelist")
        if not appid:
            return _error(41002)
        if appid != self.appid:
            return _error(40013)
        if not secret:
            return _error(41004)
        if secret != self.secret:
            return _error(40125)
        return None

    async def _token(self, request: web.Request) -> web.StreamResponse:
        self.stats.token_requests += 1
        fault = self._next_fault("token")
        if fault is not None and (resp := await self._apply(fault)) is not None:
            return resp
        q = request.query
        if q.get("grant_type") != "client_credential":
            return _json(_error(40002))
        err = self._credential_error(request, q.get("appid"), q.get("secret"))
        if err is not None:
            return _json(err)
        value, lifetime = self._issue("token")
        return _json({"access_token": value, "expires_in": int(lifetime)})

    async def _stable_token(self, request: web.Request) -> web.StreamResponse:
        self.stats.stable_token_requests += 1
        fault = self._next_fault("stable_token")
        if fault is not None and (resp := await self._apply(fault)) is not None:
            return resp
        if request.method != "POST":
            return _json(_error(43002))
        try:
            body = json.loads(await request.read())
        except ValueError:
            return _json(_error(-1))
        if not isinstance(body, dict) or body.get("grant_type") != "client_credential":
            return _json(_error(40002))
        err = self._credential_error(request, body.get("appid"), body.get("secret"))
        if err is not None:
            return _json(err)
        current = self._current.get("stable_token")
        now = self.clock()
        remaining = self._valid_tokens.get(current, now) - now if current else 0.0
        early = min(self.token_grace, self.token_lifetime / 4)
        if body.get("force_refresh") is True:
            self.stats.forced_refreshes += 1
        if body.get("force_refresh") is True or remaining <= early:
            value, lifetime = self._issue("stable_token")
            return _json({"access_token": value, "expires_in": int(lifetime)})
        assert current is not None
        return _json({"access_token": current, "expires_in": math.floor(remaining)})

    def _token_error(self, query: Mapping[str, str]) -> Reply | None:
        if not self.require_token:
            return None
        value = query.get("access_token")
        if value is None:
            cloudbase = query.get("cloudbase_access_token")
            if cloudbase is not None:
                return None if cloudbase in self.cloudbase_tokens else _error(40001)
            self.stats.missing_tokens += 1
            return _error(41001)
        expires = self._valid_tokens.get(value)
        if expires is None:
            self.stats.invalid_tokens += 1
            return _error(40001)
        if self.clock() >= expires:
            self.stats.expired_tokens += 1
            return _error(42001)
        return None

    # -- OCR ------------------------------------------------------------------------------

    async def _ocr(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in self.replies:
            return web.Response(status=404, text="404 Not Found")
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
            if request.method != "POST":
                return _json(_error(43002))
            err = self._token_error(request.query)
            if err is not None:
                return _json(err)
            image, digest, err = await self._read_image(request)
            if err is not None:
                return _json(err)
            assert image is not None
            if len(image) >= MAX_IMAGE_BYTES or sniff_image_type(image) is None:
                return _json(_error(101002))
            if self.daily_quota is not None:
                if self._quota_used[name] >= self.daily_quota:
                    return _json(_error(101003))
                self._quota_used[name] += 1
            if self.backend is not None:
                recognised = await self.backend.reply(name, image)
                if recognised.get("errcode") == 0:
                    stats.ocr_results[name] += 1
                return _json(recognised)
            reply = self.replies[name]
            if len(image) in self._recognised_sizes:  # hash only what could match
                digest = digest or hashlib.sha256(image).hexdigest()  # an upload's: once
                own = self._by_image.get((name, digest))
                reply = own if own is not None else self._by_image.get((ANY_OCR, digest), reply)
            stats.ocr_results[name] += 1
            return _json(reply)
        finally:
            stats.in_flight -= 1

    async def _read_image(
        self, request: web.Request
    ) -> tuple[bytes | None, str | None, Reply | None]:
        """The image (uploaded or fetched), an upload's SHA-256, or the error reply."""
        name = request.match_info["name"]
        query = {
            k: "<token>" if k in ("access_token", "cloudbase_access_token") else v
            for k, v in request.query.items()
        }
        body = await request.read()
        media_type = _media_type(request)
        seen = SeenRequest(name, request.method, query, media_type, len(body))
        img_url = request.query.get("img_url")
        part = None
        if img_url is None and media_type == "multipart/form-data":
            part = _file_part(body, request.headers.get("Content-Type", ""), "img")
        if part is not None:
            seen = attrs.evolve(
                seen,
                part_name=part[0],
                part_filename=part[1],
                part_content_type=part[2],
                part_sha256=hashlib.sha256(part[3]).hexdigest(),
            )
        self.stats.seen.append(seen)
        if img_url is not None:
            fetched, err = await self._fetch_image(img_url)
            return fetched, None, err
        if part is None:
            return None, None, _error(41005)
        return part[3], seen.part_sha256, None

    async def _fetch_image(self, url: str) -> tuple[bytes | None, Reply | None]:
        if not url.startswith(("http://", "https://")):
            return None, _error(101000)
        if self._fetcher is None:
            self._fetcher = aiohttp.ClientSession()
        try:
            async with self._fetcher.get(url, timeout=aiohttp.ClientTimeout(total=10)) as resp:
                if resp.status != 200:
                    return None, _error(101000)
                return await resp.read(), None
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None, _error(101000)

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
                return _json({"errcode": fault.errcode, "errmsg": fault.errmsg})
            return _json(_error(fault.errcode))
        if fault.status is not None:
            return web.Response(
                status=fault.status, body=fault.body, content_type=fault.content_type
            )
        return None


def _media_type(request: web.Request) -> str:
    """The Content-Type's media type, without aiohttp's costly full header parse."""
    return request.headers.get("Content-Type", "").partition(";")[0].strip().lower()


def _file_part(
    body: bytes, content_type: str, field: str
) -> tuple[str | None, str | None, str | None, bytes] | None:
    """``(name, filename, content type, data)`` of the image part of a
    ``multipart/form-data`` body, parsed in one pass (the emulator must stay cheaper than
    the clients it measures): the part named ``field``, else the first part with a
    filename (WxJava names it ``file``), else the first with a Content-Type other than
    ``text/*``; None if there is no such part (form fields such as ``type=photo`` are not
    images)."""
    _, _, params = content_type.partition(";")
    boundary = next(
        (
            v.strip().strip('"')
            for k, _, v in (p.strip().partition("=") for p in params.split(";"))
            if k.lower() == "boundary"
        ),
        "",
    )
    if not boundary:
        return None
    delimiter = b"--" + boundary.encode()
    # (name, filename, content type, data start, data end) of the fallbacks seen so far
    with_filename: tuple[str | None, str | None, str | None, int, int] | None = None
    with_type: tuple[str | None, str | None, str | None, int, int] | None = None
    pos = body.find(delimiter)
    while pos != -1:
        start = pos + len(delimiter)
        if body[start : start + 2] == b"--":
            break  # the closing delimiter
        head_end = body.find(b"\r\n\r\n", start)
        if head_end == -1:
            break
        end = body.find(b"\r\n" + delimiter, head_end + 4)
        if end == -1:
            break
        headers = body[start:head_end].decode("utf-8", "replace").split("\r\n")
        disposition = next((h for h in headers if h.lower().startswith("content-disposition:")), "")
        part_type = next(
            (h.split(":", 1)[1].strip() for h in headers if h.lower().startswith("content-type:")),
            None,
        )
        name = _disposition_param(disposition, "name")
        filename = _disposition_param(disposition, "filename")
        if name == field:
            return name, filename, part_type, body[head_end + 4 : end]
        if filename and with_filename is None:
            with_filename = (name, filename, part_type, head_end + 4, end)
        elif part_type and not part_type.lower().startswith("text/") and with_type is None:
            with_type = (name, filename, part_type, head_end + 4, end)
        pos = end + 2
    chosen = with_filename or with_type
    if chosen is None:
        return None
    name, filename, part_type, data_start, data_end = chosen
    return name, filename, part_type, body[data_start:data_end]


def _disposition_param(disposition: str, key: str) -> str | None:
    for piece in disposition.split(";")[1:]:
        k, _, v = piece.strip().partition("=")
        if k.lower() == key:
            return v.strip().strip('"')
    return None


def _error(errcode: int, errmsg: str | None = None) -> Reply:
    text = errmsg if errmsg is not None else ERRMSGS.get(errcode, "error")
    if errcode != 0 and " rid: " not in text:
        text = f"{text} rid: {secrets.token_hex(4)}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"
    return {"errcode": errcode, "errmsg": text}


def _json(reply: Mapping[str, Any]) -> web.Response:
    return web.Response(
        body=json.dumps(reply, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; encoding=utf-8"},
    )
