"""The files under a table's root, one request each: read, list, create-if-absent.

On an object store every request is a network round trip (and billed), and deltalake's own
readers fetch the same small file many times in ranged reads. The store reads the files it
parses itself — the log, checkpoints, the data files of point reads — through this module:
a file in one GET (a range of a large one in one ranged GET), a listing in one LIST, a
commit in one conditional PUT. Delta files are immutable once written (every name is
written once), so what was read is kept, keyed by path, in at most ``cache_bytes``; only
``_delta_log/_last_checkpoint`` changes in place and is never kept.

Object stores go through ``obstore`` (the ``object_store`` crate that delta-rs uses, with
the same option names); a local folder through the file system, where a create-if-absent is
a hard link of a finished temporary file, as delta-rs commits locally.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..errors import ContractStoreError, StoreUnavailableError
from .location import TableLocation, describe

__all__ = ["DEFAULT_FILE_CACHE_BYTES", "Listed", "TableFiles", "obstore_for"]

DEFAULT_FILE_CACHE_BYTES = 32 * 1024 * 1024
MUTABLE = frozenset({"_delta_log/_last_checkpoint"})
_CLIENT_KEYS = frozenset(  # obstore takes these apart from the store's configuration
    {
        "allow_http",
        "allow_invalid_certificates",
        "connect_timeout",
        "default_content_type",
        "http1_only",
        "http2_keep_alive_interval",
        "http2_keep_alive_timeout",
        "http2_keep_alive_while_idle",
        "http2_only",
        "pool_idle_timeout",
        "pool_max_idle_per_host",
        "proxy_url",
        "proxy_ca_certificate",
        "proxy_excludes",
        "randomize_addresses",
        "read_timeout",
        "timeout",
        "user_agent",
    }
)
_RETRY: Any = {
    "max_retries": 3,
    "retry_timeout": timedelta(seconds=30),
    "backoff": {
        "init_backoff": timedelta(milliseconds=100),
        "max_backoff": timedelta(seconds=2),
        "base": 2,
    },
}


@dataclass(frozen=True)
class Listed:
    """One object of a listing: its name (relative to the listed folder), size and tag
    (the ETag, or on a local folder the inode and modification time)."""

    name: str
    size: int
    tag: str


class TableFiles:
    """The files under ``location``'s root (safe to share between threads)."""

    def __init__(
        self, location: TableLocation, *, cache_bytes: int = DEFAULT_FILE_CACHE_BYTES
    ) -> None:
        self.location = location
        self._root = location.local_path
        self._store: Any = None
        self._generation = -1
        self._cache: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
        self._cached = 0
        self._cache_bytes = cache_bytes
        self._lock = threading.Lock()

    # -- reading -------------------------------------------------------------------------

    def get(self, path: str) -> bytes | None:
        """The whole file at ``path`` (relative to the root), or None when there is none."""
        key = (path, 0, -1)
        found = self._cached_bytes(key)
        if found is not None:
            return found
        with self._errors("read", path):
            if self._root is not None:
                try:
                    with open(self._root / path, "rb") as source:
                        data = source.read()
                except FileNotFoundError:
                    return None
            else:
                import obstore

                try:
                    data = bytes(obstore.get(self._obstore(), path).bytes())
                except FileNotFoundError:
                    return None
        self._keep(key, data)
        return data

    def get_range(self, path: str, start: int, length: int) -> bytes:
        """``length`` bytes of the file at ``path`` from ``start`` (a negative ``start``:
        the last ``-start`` bytes, and ``length`` is ignored)."""
        key = (path, start, length)
        found = self._cached_bytes(key)
        if found is not None:
            return found
        with self._errors("read", path):
            if self._root is not None:
                with open(self._root / path, "rb") as source:
                    source.seek(start, os.SEEK_END if start < 0 else os.SEEK_SET)
                    data = source.read(-1 if start < 0 else length)
            else:
                import obstore

                store = self._obstore()
                if start < 0:
                    options: Any = {"range": {"suffix": -start}}
                    data = bytes(obstore.get(store, path, options=options).bytes())
                else:
                    data = bytes(obstore.get_range(store, path, start=start, length=length))
        self._keep(key, data)
        return data

    def list_after(self, folder: str, after: str) -> list[Listed]:
        """The files directly in ``folder`` whose names sort after ``after``, in name order
        (one LIST on an object store: S3's ``start-after``)."""
        with self._errors("read", folder):
            if self._root is not None:
                directory = self._root / folder
                try:
                    names = sorted(n for n in os.listdir(directory) if n > after)
                except FileNotFoundError:
                    return []
                found = []
                for name in names:
                    with suppress(FileNotFoundError):
                        info = os.stat(directory / name)
                        tag = f"{info.st_ino}:{info.st_mtime_ns}"
                        found.append(Listed(name, info.st_size, tag))
                return found
            import obstore

            prefix = folder.rstrip("/") + "/"
            listed = []
            for chunk in obstore.list(
                self._obstore(), prefix, offset=prefix + after, chunk_size=1000
            ):
                for meta in chunk:
                    name = str(meta["path"])[len(prefix) :]
                    if name and "/" not in name:
                        listed.append(Listed(name, int(meta["size"]), str(meta.get("e_tag"))))
            return sorted(listed, key=lambda item: item.name)

    # -- writing -------------------------------------------------------------------------

    def put(self, path: str, data: bytes) -> None:
        """Write the file at ``path`` (a new name: data files are never overwritten)."""
        with self._errors("write", path):
            if self._root is not None:
                target = self._root / path
                target.parent.mkdir(parents=True, exist_ok=True)
                temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
                temporary.write_bytes(data)
                os.replace(temporary, target)
            else:
                import obstore

                obstore.put(self._obstore(), path, data)

    def create(self, path: str, data: bytes) -> bool:
        """Write the file at ``path`` unless it exists: True if written, False if another
        writer's file is there (a conditional PUT; locally a hard link)."""
        with self._errors("write", path):
            if self._root is not None:
                target = self._root / path
                temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
                temporary.write_bytes(data)
                try:
                    os.link(temporary, target)
                except FileExistsError:
                    return False
                finally:
                    temporary.unlink()
                return True
            import obstore
            from obstore.exceptions import AlreadyExistsError, PreconditionError

            try:
                obstore.put(self._obstore(), path, data, mode="create")
            except (AlreadyExistsError, PreconditionError):
                return False
            return True

    def delete(self, path: str) -> None:
        """Delete the file at ``path`` (nothing if it is not there)."""
        with self._errors("write", path):
            if self._root is not None:
                with suppress(FileNotFoundError):
                    os.unlink(self._root / path)
            else:
                import obstore

                with suppress(FileNotFoundError):
                    obstore.delete(self._obstore(), path)

    def forget(self) -> None:
        """Drop what was read (the table at the root was replaced)."""
        with self._lock:
            self._cache.clear()
            self._cached = 0

    # -- internals -----------------------------------------------------------------------

    def _cached_bytes(self, key: tuple[str, int, int]) -> bytes | None:
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
            return found

    def _keep(self, key: tuple[str, int, int], data: bytes) -> None:
        if key[0] in MUTABLE or len(data) > self._cache_bytes:
            return
        with self._lock:
            if key in self._cache:
                return
            self._cache[key] = data
            self._cached += len(data)
            while self._cached > self._cache_bytes:
                _, dropped = self._cache.popitem(last=False)
                self._cached -= len(dropped)

    def _obstore(self) -> Any:
        generation = self.location.credentials_generation
        if self._store is None or generation != self._generation:
            self._store = obstore_for(self.location)
            self._generation = generation
        return self._store

    @contextmanager
    def _errors(self, action: str, path: str) -> Iterator[None]:
        try:
            yield
        except ContractStoreError:
            raise
        except Exception as exc:  # obstore's errors, OS errors: never with credentials
            raise StoreUnavailableError(
                f"cannot {action} table {self.location}: {path}: "
                + describe(_OneLine(_summary(str(exc))), self.location)
            ) from None


class _OneLine(Exception):
    pass


_MESSAGE = re.compile(r'(?:message|body): (?:Some\(\s*)?"((?:[^"\\]|\\.)*)"')


def _summary(text: str) -> str:
    """An ``obstore`` error in one line: its summary, and the innermost message of its
    debug output (the OS error, the server's body) where the summary lacks it.

    >>> _summary('S3 error: GET failed\\n\\nDebug source:\\n  message: "Connection refused",')
    'S3 error: GET failed: Connection refused'
    """
    summary, _, debug = text.partition("\n\nDebug source:")
    summary = " ".join(summary.split())
    found = _MESSAGE.findall(debug)
    if found and found[-1] not in summary:
        summary = f"{summary}: {found[-1]}"
    return summary


def obstore_for(location: TableLocation) -> Any:
    """An ``obstore`` store for the table's root, configured from the storage options
    deltalake takes; options ``obstore`` does not know are left out, as deltalake ignores
    what it does not know (some are its own alone: ``AWS_S3_LOCKING_PROVIDER``,
    ``AWS_PROFILE``...). The environment's ``AWS_*``/``AZURE_*``/``GOOGLE_*`` variables
    apply as for deltalake."""
    from obstore.exceptions import UnknownConfigurationKeyError
    from obstore.store import from_url

    url = location.uri
    if url.lower().startswith("gcs://"):
        url = "gs://" + url[len("gcs://") :]
    config: Any = {}  # obstore types it per store: S3Config, AzureConfig, GCSConfig
    client: Any = {"timeout": "30s", "connect_timeout": "5s"}
    for key, value in location.options().items():
        name = key.lower()
        bare = name.split("_", 1)[1] if name.startswith(("aws_", "azure_", "google_")) else name
        if bare in _CLIENT_KEYS:
            client[bare] = value
        else:
            config[name] = value
    while True:
        try:
            return from_url(url, config=config, client_options=client, retry_config=_RETRY)
        except UnknownConfigurationKeyError as exc:
            unknown = _UNKNOWN_KEY.search(str(exc))
            if unknown is None or unknown.group(1) not in config:
                raise _unconfigured(location, exc) from None
            del config[unknown.group(1)]
        except Exception as exc:
            raise _unconfigured(location, exc) from None


_UNKNOWN_KEY = re.compile(r"Configuration key: '([^']+)' is not valid")


def _unconfigured(location: TableLocation, exc: Exception) -> StoreUnavailableError:
    return StoreUnavailableError(
        f"cannot reach table {location}: the storage options do not configure a client for "
        f"its endpoint: {describe(exc, location)}"
    )
