"""`wxocr serve` as a real process for the tests: started, read, measured, stopped."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import pytest

from .conftest import ROOT

#: seconds any wait on the server may take before the test fails (a hang guard)
HANG_GUARD = 120.0
#: the most of the server's stderr kept (it logs tracebacks at ERROR)
STDERR_CAP = 4 * 1024 * 1024


class ServeProcess:
    """``wxocr serve ARGS`` in a process of its own, on a free port of 127.0.0.1 (unless
    ``--host``/``--port`` are given), with ``env`` added to ours less WXOCR_*."""

    def __init__(self, *args: str, env: Mapping[str, str] | None = None) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith("WXOCR_")}
        command = [sys.executable, "-m", "wxocr_async", "serve", "--workers", "1"]
        if "--port" not in args:
            command += ["--port", "0"]
        self.proc = subprocess.Popen(
            [*command, *args],
            env={**base, "PYTHONPATH": str(ROOT), **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        self._stdout: queue.Queue[bytes] = queue.Queue()
        self._stderr = bytearray()
        self._lock = threading.Condition()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._threads = [
            threading.Thread(target=self._pump_lines, args=(self.proc.stdout,), daemon=True),
            threading.Thread(target=self._pump_stderr, args=(self.proc.stderr,), daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self.base_url = ""

    def wait_ready(self) -> str:
        """The base URL, once the server says it serves (models loaded)."""
        line = self.next_line()
        match = re.search(r"on (http://\S+) ", line)
        assert match, (line, self.stderr)
        self.base_url = match.group(1)
        return self.base_url

    def next_line(self) -> str:
        try:
            return self._stdout.get(timeout=HANG_GUARD).decode()
        except queue.Empty:
            raise AssertionError(f"no output from wxocr serve: {self.stderr}") from None

    @property
    def stderr(self) -> str:
        with self._lock:
            return self._stderr.decode(errors="replace")

    def wait_stderr(self, text: str) -> None:
        """Until the server has written ``text`` to stderr (or the hang guard fails)."""
        with self._lock:
            found = self._lock.wait_for(
                lambda: text.encode() in self._stderr or self.proc.poll() is not None,
                HANG_GUARD,
            )
            assert found and text.encode() in self._stderr, self._stderr.decode()

    def pids(self) -> list[int]:
        """The server's process and its workers."""
        found = [self.proc.pid]
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*"):
            children = task / "children"
            if children.exists():
                found += [int(pid) for pid in children.read_text().split()]
        return found

    def peak_memory(self) -> dict[int, int]:
        """Each process's peak resident memory so far (VmHWM), in bytes."""
        peaks = {}
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except FileNotFoundError:
                continue
            match = re.search(r"VmHWM:\s+(\d+) kB", status)
            if match:
                peaks[pid] = int(match.group(1)) * 1024
        return peaks

    def stop(self) -> int:
        """SIGTERM, then the exit status (killed if it does not end in time)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(HANG_GUARD)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(HANG_GUARD)
            raise AssertionError(f"wxocr serve did not end on SIGTERM: {self.stderr}") from None
        for thread in self._threads:
            thread.join(HANG_GUARD)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()
        return code

    def _pump_lines(self, pipe: IO[bytes]) -> None:
        for line in iter(pipe.readline, b""):
            self._stdout.put(line)

    def _pump_stderr(self, pipe: IO[bytes]) -> None:
        for chunk in iter(lambda: pipe.read1(65536), b""):  # type: ignore[attr-defined]
            with self._lock:
                if len(self._stderr) < STDERR_CAP:
                    self._stderr += chunk
                self._lock.notify_all()


def run_serve(*args: str, env: Mapping[str, str] | None = None) -> tuple[int, str, str]:
    """``wxocr serve ARGS`` expected to end by itself: (status, stdout, stderr)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("WXOCR_")}
    run = subprocess.run(
        [sys.executable, "-m", "wxocr_async", "serve", *args],
        env={**base, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        timeout=HANG_GUARD,
        stdin=subprocess.DEVNULL,
    )
    return run.returncode, run.stdout.decode(), run.stderr.decode()


@contextlib.contextmanager
def serving(*args: str, env: Mapping[str, str] | None = None) -> Iterator[ServeProcess]:
    """A ready ``wxocr serve ARGS``, stopped (and its clean exit checked) afterwards."""
    server = ServeProcess(*args, env=env)
    try:
        server.wait_ready()
        yield server
    finally:
        code = server.stop()
    assert code == 0, server.stderr


def server_fixture(*args: str, env: Mapping[str, str] | None = None) -> Any:
    """A module-scoped fixture: ``wxocr serve ARGS`` with ``env``, ready, stopped after."""

    @pytest.fixture(scope="module")
    def server() -> Iterator[ServeProcess]:
        with serving(*args, env=env) as running:
            yield running

    return server
