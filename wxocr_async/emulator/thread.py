"""Serve a :class:`~wxocr_async.emulator.WeChatEmulator` from a thread of its own.

The emulator then answers any caller: a test running in another event loop (whichever
pytest plugin made it), or plain synchronous code (``urllib``, ``requests``)::

    with run_in_thread(WeChatEmulator(daily_quota=5)) as emu:
        urllib.request.urlopen(emu.sample_url("idcard_front.png"))

The scripting methods (``push_faults``, ``set_reply``, ``recognise``, ``host``,
``revoke_tokens``, ``reset_quota``) and ``stats`` only touch dicts, deques and counters,
so they are safe to use from the caller's thread. ``Fault.held`` is not: its asyncio
events cannot be shared between two loops, and pushing one raises ``ValueError`` here
(use ``async with WeChatEmulator()`` in the test's own loop for held replies).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

from .server import WeChatEmulator

#: seconds to wait for the emulator to start listening, and to shut down
DEFAULT_TIMEOUT = 30.0


@contextlib.contextmanager
def run_in_thread(
    emulator: WeChatEmulator,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    timeout: float = DEFAULT_TIMEOUT,
) -> Iterator[WeChatEmulator]:
    """Run ``emulator`` in a new thread with its own event loop; yields it listening on
    ``host:port`` (0: any free port; see ``emulator.base_url``). On exit the server and
    the emulator's own HTTP session are closed and the thread's loop is closed. Waits for
    each of start and stop at most ``timeout`` seconds (else ``TimeoutError``); an error
    raised while starting or stopping is raised here, in the caller's thread."""
    server = _ServerThread(emulator, host, port)
    server.start(timeout)
    try:
        yield emulator
    finally:
        server.stop(timeout)


class _ServerThread:
    """One emulator served by ``asyncio.Runner`` in a daemon thread."""

    def __init__(self, emulator: WeChatEmulator, host: str, port: int) -> None:
        self._emulator = emulator
        self._host = host
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._stop_requested = asyncio.Event()
        self._listening = threading.Event()  # set once started, or once start failed
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="wxocr-emulator", daemon=True)

    def start(self, timeout: float) -> None:
        self._emulator._served_from_thread = True
        self._thread.start()
        if not self._listening.wait(timeout):
            self._shut_down(timeout)
            raise TimeoutError(f"the emulator did not start within {timeout} s")
        if self._error is not None:
            self._shut_down(timeout)
            raise self._error

    def stop(self, timeout: float) -> None:
        if not self._shut_down(timeout):
            raise TimeoutError(f"the emulator did not stop within {timeout} s")
        if self._error is not None:
            raise self._error

    def _shut_down(self, timeout: float) -> bool:
        """Ask the loop to stop serving; whether the thread ended within ``timeout``."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: the thread is ending
            self._loop.call_soon_threadsafe(self._request_stop)
        self._thread.join(timeout)
        if self._thread.is_alive():
            return False
        self._emulator._served_from_thread = False
        return True

    def _request_stop(self) -> None:
        """In the loop: end serving, or cancel a start still under way."""
        self._stop_requested.set()
        if self._task is not None and not self._listening.is_set():
            self._task.cancel()

    def _run(self) -> None:
        try:
            with asyncio.Runner(loop_factory=lambda: self._loop) as runner:
                runner.run(self._serve())
        except asyncio.CancelledError:
            pass  # a start that took too long, cancelled on request
        except BaseException as exc:  # handed over to the caller's thread
            self._error = exc
        finally:
            self._listening.set()

    async def _serve(self) -> None:
        self._task = asyncio.current_task()
        if self._stop_requested.is_set():
            return
        try:
            await self._emulator.start(self._host, self._port)
            self._listening.set()
            await self._stop_requested.wait()
        finally:
            await self._emulator.stop()
