"""What ``serve`` was asked to do: the table, the dc43 configuration, access, limits.

Settings travel to worker processes as JSON in an environment variable (``--workers``
starts fresh interpreters that build the app again): file names and options — the storage
options given on the command line included, as the parent process holds them — never a
token (each worker reads the tokens from their file or environment).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from ..core.validation import ValidationMode

__all__ = ["SETTINGS_VAR", "Limits", "ServeSettings"]

SETTINGS_VAR = "DC43_DELTA_STORE_SERVE_SETTINGS"


@dataclass(frozen=True)
class Limits:
    """What one request or connection may take before it is refused or cut off.

    >>> Limits().max_body_bytes
    4194304
    """

    max_body_bytes: int = 4 * 2**20  # 413 above (documents are ~1-100 KB)
    body_timeout: float = 30.0  # 408 when a body takes longer to arrive
    header_timeout: float = 10.0  # a connection that sends no complete headers is closed
    max_header_bytes: int = 64 * 2**10  # 431 above
    max_connections: int = 8192  # further connections are closed at once
    max_in_flight: int = 512  # 503 (with Retry-After) above
    max_wait: float = 60.0  # longest long-poll of /changes
    stream_seconds: float = 3600.0  # an event stream is ended after this (clients resume)
    cache_bytes: int = 64 * 2**20  # answers kept in memory while the table is unchanged


@dataclass(frozen=True)
class ServeSettings:
    """Everything ``serve`` needs to build the app, in one process or in each worker."""

    table: str | None = None
    path: str | None = None
    warehouse: str | None = None
    storage_options: dict[str, str] = field(default_factory=dict, repr=False)
    dc43_config: str | None = None
    validation: ValidationMode = "warn"
    read_only: bool = False
    tokens_file: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    poll_interval: float | None = None  # None: 0.05 s on a local table, 1 s elsewhere
    graceful_timeout: float = 10.0
    access_log: bool = True
    limits: Limits = field(default_factory=Limits)

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ServeSettings:
        data: dict[str, Any] = json.loads((os.environ if env is None else env)[SETTINGS_VAR])
        return cls(**{**data, "limits": Limits(**data.get("limits", {}))})
