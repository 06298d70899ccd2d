"""The routes and request reading that every WeChat-compatible server here shares."""

from __future__ import annotations

import functools
import hashlib
import json
import logging

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ..endpoints import BY_NAME
from ..errors import WxOcrError
from ..fetch import ImageFetcher
from ..images import MAX_IMAGE_BYTES, sniff_image_type
from .multipart import FilePart, file_part, media_type
from .tokens import TokenTable
from .wire import ERRMSGS, Reply, error_reply, json_response

log = logging.getLogger("wxocr_async.server")

#: the OCR endpoints' wire names (``/cv/ocr/{name}``)
OCR_NAMES = tuple(BY_NAME)
#: an upload's image plus the multipart framing around it, with room to spare
MAX_REQUEST_BODY = MAX_IMAGE_BYTES + 64 * 1024
#: a stable_token request's JSON body at most
MAX_TOKEN_REQUEST = 4096


class ReceivedImage:
    """The image a request carried, uploaded (``part``) or fetched from ``img_url``."""

    def __init__(self, data: bytes, part: FilePart | None = None) -> None:
        self.data = data
        self.part = part

    @functools.cached_property
    def sha256(self) -> str:
        """Hex SHA-256 of the data, computed once."""
        return hashlib.sha256(self.data).hexdigest()


class WeChatSurface:
    """WeChat's HTTP API on ``aiohttp.web``; subclasses say who gets tokens, who may call
    and what answers.

    Every reply is WeChat's JSON shape, unknown paths (HTTP 404) and oversized bodies
    (HTTP 413) included. An image must be a known format under 2 MB (else 101002); an
    ``img_url`` is fetched by ``fetcher`` under its rules (else 101000)."""

    def __init__(
        self, *, tokens: TokenTable, fetcher: ImageFetcher, max_body: int = MAX_REQUEST_BODY
    ) -> None:
        self.tokens = tokens
        self.fetcher = fetcher
        self.max_body = max_body

    def make_app(self) -> web.Application:
        """The application: WeChat's routes, then :meth:`add_routes`'s own."""
        app = web.Application(
            client_max_size=self.max_body, middlewares=[_json_errors(self.max_body)]
        )
        app.router.add_route("*", "/cgi-bin/token", self._token)
        app.router.add_route("*", "/cgi-bin/stable_token", self._stable_token)
        app.router.add_route("*", "/cv/ocr/{name}", self._ocr)
        self.add_routes(app)
        return app

    # -- what an assembly adds or decides --------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        """Routes of the assembly's own."""

    async def before_token(self, kind: str, request: web.Request) -> web.StreamResponse | None:
        """Called first on each token request: a response to send instead, or None."""
        return None

    def credential_error(self, request: web.Request, appid: object, secret: object) -> Reply | None:
        """WeChat's error for a token request with this pair, or None to issue."""
        return self.tokens.credential_error(appid, secret)

    async def handle_ocr(self, name: str, request: web.Request) -> web.StreamResponse:
        """One OCR request to a known endpoint: method, token, image, then :meth:`answer`.
        An assembly may wrap it (counters, faults) and call it."""
        reply = await self._ocr_reply(name, request)
        self.answered(name, reply)
        return json_response(reply)

    async def _ocr_reply(self, name: str, request: web.Request) -> Reply:
        if request.method != "POST":
            return error_reply(43002)
        err = self.access_error(request)
        if err is not None:
            return err
        image = await self.read_image(name, request)
        return await self.answer(name, image) if isinstance(image, ReceivedImage) else image

    def answered(self, name: str, reply: Reply) -> None:
        """Called with every OCR reply (a server counts them)."""

    def access_error(self, request: web.Request) -> Reply | None:
        """WeChat's error for the request's ``access_token``, or None if it may call."""
        value = request.query.get("access_token")
        if value is None:
            return error_reply(41001)
        state = self.tokens.state(value)
        if state == "expired":
            return error_reply(42001)
        return None if state == "valid" else error_reply(40001)

    def note_request(
        self, name: str, request: web.Request, body: bytes, upload: ReceivedImage | None
    ) -> None:
        """Called with every OCR request's body once read, and the uploaded image found in
        it (an emulator records them)."""

    async def answer(self, name: str, image: ReceivedImage) -> Reply:
        """WeChat's reply (``errcode`` included) for ``image`` sent to ``name``."""
        raise NotImplementedError

    # -- the shared part -------------------------------------------------------------------

    async def read_image(self, name: str, request: web.Request) -> ReceivedImage | Reply:
        """The image (uploaded or fetched) or WeChat's error reply."""
        body = await request.read()
        img_url = request.query.get("img_url")
        upload = None
        if img_url is None and media_type(request) == "multipart/form-data":
            part = file_part(body, request.headers.get("Content-Type", ""), "img")
            upload = ReceivedImage(part.data, part) if part is not None else None
        self.note_request(name, request, body, upload)
        if img_url is not None:
            try:
                image = ReceivedImage(await self.fetcher.fetch(img_url))
            except WxOcrError as exc:  # WeChat's text for the code, then what went wrong
                code = exc.errcode if exc.errcode == 101002 else 101000
                return error_reply(code, f"{ERRMSGS[code]}: {exc.errmsg}")
        elif upload is not None:
            image = upload
        else:
            return error_reply(41005)
        if len(image.data) >= MAX_IMAGE_BYTES or sniff_image_type(image.data) is None:
            return error_reply(101002)
        return image

    async def _token(self, request: web.Request) -> web.StreamResponse:
        early = await self.before_token("token", request)
        if early is not None:
            return early
        q = request.query
        if q.get("grant_type") != "client_credential":
            return json_response(error_reply(40002))
        err = self.credential_error(request, q.get("appid"), q.get("secret"))
        if err is not None:
            return json_response(err)
        value, lifetime = self.tokens.issue("token")
        self.issued(1)
        return json_response({"access_token": value, "expires_in": int(lifetime)})

    async def _stable_token(self, request: web.Request) -> web.StreamResponse:
        early = await self.before_token("stable_token", request)
        if early is not None:
            return early
        if request.method != "POST":
            return json_response(error_reply(43002))
        raw = await request.read()
        if len(raw) > MAX_TOKEN_REQUEST:  # an appid and a secret: a few hundred bytes
            return json_response(body_too_large(MAX_TOKEN_REQUEST), status=413)
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            return json_response(error_reply(-1))
        if not isinstance(body, dict) or body.get("grant_type") != "client_credential":
            return json_response(error_reply(40002))
        err = self.credential_error(request, body.get("appid"), body.get("secret"))
        if err is not None:
            return json_response(err)
        force = body.get("force_refresh") is True
        value, expires_in, new = self.tokens.stable(force)
        self.issued(int(new), forced=force)
        return json_response({"access_token": value, "expires_in": expires_in})

    def issued(self, count: int, *, forced: bool = False) -> None:
        """Called after a token request is granted: ``count`` new tokens (0 or 1)."""

    async def _ocr(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in OCR_NAMES:
            raise web.HTTPNotFound()
        return await self.handle_ocr(name, request)


#: the errcode answered with each HTTP error status aiohttp raises (413 has its own reply)
_HTTP_ERRCODES = {404: 404, 405: 43002}


def body_too_large(max_body: int) -> Reply:
    """The reply to a request body over ``max_body`` (HTTP 413)."""
    return error_reply(101002, f"request body too large: at most {max_body} bytes")


def _json_errors(max_body: int) -> Middleware:
    """aiohttp's own errors (404, 413, ...) and our failures in WeChat's JSON shape, not
    its text pages."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            if exc.status == 413:
                return json_response(body_too_large(max_body), status=413)
            if exc.status == 404:
                errmsg = f"not found: no API at {request.path[:200]}"
            else:
                errmsg = exc.reason
            errcode = _HTTP_ERRCODES.get(exc.status, -1)
            return json_response(error_reply(errcode, errmsg), status=exc.status)
        except Exception:  # a bug of ours: WeChat's system error, the traceback logged
            log.exception("answering %s failed", request.path[:200])
            return json_response(error_reply(-1), status=500)

    return middleware
