"""The WeChat caller: requests to WeChat's API, through one attempt loop (the token, the
limits, the deadline, the send, the retry decision, the quota marking) that serves the OCR
calls and the token fetch alike. Requests are built by :mod:`wxocr_async.protocol` and
sent by a :class:`~wxocr_async.transport.Transport`; nothing here knows HTTP's details.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .endpoints import Endpoint
from .errors import InvalidCredential, QuotaExceeded, RequestTimeout, WxOcrError
from .limits import Limits
from .observe import AttemptHook, AttemptTrace, observe_attempt
from .protocol import OcrRequest, compose_url, decode_reply
from .redact import Redactor
from .retry import RetryPolicy
from .timeouts import DEFAULT_TIMEOUT
from .token import TokenSource
from .transport import SendProgress, Transport

log = logging.getLogger("wxocr_async.caller")

T = TypeVar("T")


class WeChatCaller:
    """Sends requests to WeChat at ``base_url`` and decodes the replies (errors raised)."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: Transport,
        tokens: TokenSource,
        limits: Limits,
        retry: RetryPolicy,
        redactor: Redactor,
        timeout: float | None,
    ) -> None:
        self.base_url = base_url
        self.transport = transport
        self.tokens = tokens
        self.limits = limits
        #: when and how failed requests are sent again
        self.retry = retry
        self.redactor = redactor
        #: the client's own timeout (the token fetch's, with a default when None)
        self.timeout = timeout
        #: called with an :class:`~wxocr_async.observe.Attempt` after each OCR request
        self.on_attempt: AttemptHook | None = None

    # -- the one attempt loop ------------------------------------------------------------

    async def _attempts(
        self,
        where: str,
        once: Callable[[int], Awaitable[T]],
        *,
        renewed: Callable[[WxOcrError], Awaitable[bool]] | None = None,
        failed: Callable[[int, WxOcrError, bool], None] | None = None,
    ) -> T:
        """``once(attempt)`` until it returns or the retry policy gives up (its last
        error raised). ``renewed(error)``: whether a failure was mended (a rejected token
        replaced) so that the same attempt may run again without spending the retry
        budget; ``failed(attempt, error, will_retry)`` hears of each failure."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        attempt = 1
        while True:
            try:
                return await once(attempt)
            except WxOcrError as exc:
                error = exc
            self.redactor.scrub(error)  # before any hook or log line sees it
            if renewed is not None and await renewed(error):
                if failed is not None:
                    failed(attempt, error, True)
                continue
            delay = self._retry_delay(error, attempt, started)
            if failed is not None:
                failed(attempt, error, delay is not None)
            if delay is None:
                raise error  # outside the except blocks: no implicit __context__
            log.info(
                "%s failed with errcode %d; attempt %d of %d in %.2f s",
                where,
                error.errcode,
                attempt + 1,
                self.retry.attempts,
                delay,
            )
            await self.retry.sleep(delay)
            attempt += 1

    def _retry_delay(self, error: WxOcrError, attempt: int, started: float) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None if ``attempt`` (failed
        with ``error``) was the last."""
        retry = self.retry
        delay = retry.delay(error, attempt)
        elapsed = asyncio.get_running_loop().time() - started
        if retry.should_retry(error, attempt) and retry.within_deadline(elapsed, delay):
            return delay
        return None

    # -- OCR calls ------------------------------------------------------------------------

    async def ocr(
        self, endpoint: Endpoint[Any], build: Callable[[], OcrRequest], timeout: float | None
    ) -> dict[str, Any]:
        """One OCR call: attempts, with one token refresh and the retry policy between
        them; a fresh request (body and multipart boundary) from ``build`` for each.

        Each attempt ends within ``timeout`` seconds: waiting for (or fetching) a token,
        every store operation, the reservation, the request and the reply body all count;
        time spent queued for a concurrency slot or a ``rate_limit`` turn does not.
        """
        loop = asyncio.get_running_loop()
        state: dict[str, Any] = {"token": None, "trace": None, "token_retried": False}

        async def once(attempt: int) -> dict[str, Any]:
            request = build()
            trace = state["trace"] = AttemptTrace(loop.time())
            state["token"] = None
            try:
                end = None if timeout is None else loop.time() + timeout
                async with asyncio.timeout_at(end) as deadline:
                    token = state["token"] = await self.tokens.get(self.token_http)
                    self.redactor.add(token)
                    payload = await self._exchange(endpoint, request, token, deadline, trace)
            except TimeoutError:  # the attempt's deadline (the transport raises ours)
                payload = None
            if payload is None:  # raised outside the except block: no implicit __context__
                raise RequestTimeout(f"no reply within {timeout} s", endpoint=request.path)
            self._observe(endpoint, attempt, trace, None, will_retry=False)
            return payload

        async def renewed(error: WxOcrError) -> bool:
            token = state["token"]
            if not isinstance(error, InvalidCredential) or state["token_retried"] or not token:
                return False
            if not await self.bounded(self.tokens.reject(token), timeout, endpoint.path):
                return False
            state["token_retried"] = True  # a token retry does not spend the retry budget
            log.info(
                "%s rejected the token (errcode %d); refreshing it and retrying once",
                endpoint.path,
                error.errcode,
            )
            return True

        def failed(attempt: int, error: WxOcrError, will_retry: bool) -> None:
            self._observe(endpoint, attempt, state["trace"], error, will_retry=will_retry)

        return await self._attempts(endpoint.path, once, renewed=renewed, failed=failed)

    def _observe(
        self,
        endpoint: Endpoint[Any],
        attempt: int,
        trace: AttemptTrace,
        error: WxOcrError | None,
        *,
        will_retry: bool,
    ) -> None:
        observe_attempt(
            endpoint.path,
            endpoint.name,
            attempt,
            trace,
            error,
            will_retry=will_retry,
            now=asyncio.get_running_loop().time(),
            hook=self.on_attempt,
        )

    async def _exchange(
        self,
        endpoint: Endpoint[Any],
        request: OcrRequest,
        token: str | None,
        deadline: asyncio.Timeout,
        trace: AttemptTrace,
    ) -> dict[str, Any]:
        """One request under the attempt's ``deadline``, which is held while the call is
        queued for a slot and a rate turn. A reservation whose request never went out (or
        that WeChat refused for its token) is given back."""
        limits, tokens = self.limits, self.tokens
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
                resp = await self.transport.send(
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

    # -- the token endpoints --------------------------------------------------------------

    async def token_http(
        self, method: str, path: str, *, query: str, json_body: dict[str, Any] | None
    ) -> dict[str, Any]:
        """A token endpoint request, retried under the client's policy like an OCR call."""
        url = compose_url(self.base_url, path, query, None)
        body = (json.dumps(json_body).encode(),) if json_body is not None else ()
        timeout = self.timeout if self.timeout is not None else DEFAULT_TIMEOUT

        async def once(attempt: int) -> dict[str, Any]:
            resp = await self.transport.send(
                method,
                url,
                body=body,
                content_type="application/json" if json_body is not None else None,
                timeout=timeout,
                where=path,
            )
            log.debug("%s %s -> HTTP %d", method, path, resp.status)
            return decode_reply(resp.status, resp.content_type, resp.body, path)

        return await self._attempts(path, once)

    async def bounded(self, work: Awaitable[T], timeout: float | None, where: str) -> T:
        """``work`` within ``timeout`` seconds, else :class:`RequestTimeout`."""
        try:
            async with asyncio.timeout(timeout):
                return await work
        except TimeoutError:
            pass
        raise RequestTimeout(f"no reply within {timeout} s", endpoint=where)
