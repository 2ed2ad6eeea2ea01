"""Running the app with uvicorn: one process, or ``workers`` processes on one socket.

Each worker is a fresh interpreter (uvicorn starts them with ``spawn``) that builds its own
app and store from the settings (:func:`worker_app`): stores are not shared between
processes. SIGTERM or Ctrl-C stops accepting connections, lets requests in flight finish
(at most ``graceful_timeout`` seconds) and ends long-polls and event streams.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import signal
from collections.abc import Iterator
from typing import Any

import uvicorn

from .app import app_from_settings
from .lane import ServeApp
from .protocol import GuardedProtocol
from .settings import SETTINGS_VAR, ServeSettings

__all__ = ["LOG_CONFIG", "run", "uvicorn_config", "worker_app"]

LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "access": {"format": "%(asctime)s %(message)s"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stderr",
        },
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "access",
            "stream": "ext://sys.stderr",
        },
    },
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        "dc43_delta_store.serve": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "dc43_delta_store.serve.access": {
            "handlers": ["access"],
            "level": "INFO",
            "propagate": False,
        },
    },
}


def worker_app() -> ServeApp:
    """The app of one worker process, built from the settings in its environment."""
    settings = ServeSettings.from_env()
    GuardedProtocol.limits = settings.limits
    _lighter_log_records()
    return app_from_settings(settings)[0]


def uvicorn_config(
    app: Any, settings: ServeSettings, *, log_config: dict[str, Any] | None = LOG_CONFIG
) -> uvicorn.Config:
    """uvicorn's configuration for ``app`` (an app, or the import string of a factory);
    ``log_config`` None leaves logging as it is."""
    GuardedProtocol.limits = settings.limits
    return uvicorn.Config(
        app,
        factory=isinstance(app, str),
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        http=GuardedProtocol,
        lifespan="on",
        access_log=False,  # the front writes one line per request, with its duration
        log_config=log_config,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=int(settings.graceful_timeout) or None,
        backlog=4096,
        server_header=False,
    )


def run(settings: ServeSettings, app: ServeApp | None = None) -> None:
    """Serve until stopped (``app``: already built, for one process); a stop asked for by
    SIGTERM or Ctrl-C is a clean exit (status 0)."""
    _more_file_descriptors()
    _lighter_log_records()
    if settings.workers == 1:
        server = uvicorn.Server(uvicorn_config(app or worker_app_from(settings), settings))
        with _stopping_is_success():
            server.run()
        return
    os.environ[SETTINGS_VAR] = settings.to_env()
    config = uvicorn_config("dc43_delta_store.serve.server:worker_app", settings)
    from uvicorn.supervisors import Multiprocess

    Multiprocess(config, sockets=[config.bind_socket()]).run()


@contextlib.contextmanager
def _stopping_is_success() -> Iterator[None]:
    """uvicorn raises the stop signal again once it has shut down: let it end with 0."""

    def stopped(number: int, frame: Any) -> None:
        raise SystemExit(0)

    previous = {sig: signal.signal(sig, stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def worker_app_from(settings: ServeSettings) -> ServeApp:
    return app_from_settings(settings)[0]


def _lighter_log_records() -> None:
    """Log records without the thread and process names nobody formats: a line per
    request costs less (the worker processes do the same in :func:`worker_app`)."""
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def _more_file_descriptors() -> None:
    """Raise the soft limit on open files to the hard one: connections are files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
