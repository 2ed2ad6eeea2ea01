"""Starting ``serve`` for the tests, on 127.0.0.1: in this process (a uvicorn thread), or as
the real command line in a child process (stopped with SIGTERM, by its pid)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from dc43_delta_store.serve import Limits, ServeApp, ServeSettings
from dc43_delta_store.serve.server import uvicorn_config

from .servers import free_port


@contextmanager
def serving(app: ServeApp, limits: Limits | None = None) -> Iterator[str]:
    """``app`` served by uvicorn, with ``serve``'s protocol and limits, in a thread."""
    settings = ServeSettings(port=0, limits=limits or app.runtime.limits, graceful_timeout=2)
    config = uvicorn_config(app, settings, log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


class CliServer:
    """``dc43-delta-store ... serve ...`` in a child process."""

    def __init__(
        self, args: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(cwd or ".") / f"serve-{self.port}.log"
        self._log_file = self.log.open("wb")
        command = [sys.executable, "-m", "dc43_delta_store", *args, "--port", str(self.port)]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=self._log_file,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited {self.process.returncode}: {self.stderr()}")
            try:
                httpx.get(self.url + "/health", timeout=1)  # any answer: it listens
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"serve did not answer within {timeout} s: {self.stderr()}")

    def stderr(self) -> str:
        if not self._log_file.closed:
            self._log_file.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log_file.close()
        return self.process.returncode


@contextmanager
def cli_server(args: list[str], **kwargs: Any) -> Iterator[CliServer]:
    server = CliServer(args, **kwargs)
    try:
        yield server
    finally:
        server.stop()
