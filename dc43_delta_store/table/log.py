"""The table's commit files (``_delta_log/<version>.json``), read through deltalake's own
object-store access (``deltalake.fs.DeltaStorageHandler``), so local folders, S3, Azure and
GCS are read the same way, with the same storage options and credentials as the table.

A commit file holds one JSON action per line (``commitInfo``, ``add``, ``remove``,
``metaData``, ``protocol``…); its modification time is the commit's time for Delta's time
travel. ``optimize()`` removes commit files older than ``delta.logRetentionDuration`` once a
checkpoint covers them, so the oldest versions may be gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .location import TableLocation
from .log_reader import commit_actions
from .objects import TableFiles

if TYPE_CHECKING:
    from deltalake.fs import DeltaStorageHandler

__all__ = ["DeltaLog", "LogEntry"]

_LOG = "_delta_log"


@dataclass(frozen=True)
class LogEntry:
    """One commit: its table ``version`` and its ``actions`` in order."""

    version: int
    actions: tuple[Mapping[str, Any], ...]


class DeltaLog:
    """Reads commit files of the table at ``location`` (errors are the caller's to map)."""

    def __init__(self, location: TableLocation, files: TableFiles | None = None) -> None:
        self._location = location
        self._files = files or TableFiles(location)  # reads each commit file once
        self._handler: DeltaStorageHandler | None = None
        self._generation = -1

    def read(self, version: int) -> LogEntry | None:
        """Commit ``version``, or None when its file does not exist (not yet, or cleaned up)."""
        path = _commit_path(version)
        data = self._files.get(path)
        if data is None:
            return None
        return LogEntry(version, commit_actions(data, f"table {self._location}: {path}"))

    def modified(self, version: int) -> datetime | None:
        """The time of commit ``version`` as time travel sees it, or None if its file is gone."""
        import pyarrow.fs as pafs

        (info,) = self._storage().get_file_info([_commit_path(version)])
        return None if info.type == pafs.FileType.NotFound else info.mtime

    def earliest(self) -> int | None:
        """The oldest version whose commit file is still there, or None without a log."""
        import pyarrow.fs as pafs

        selector = pafs.FileSelector(_LOG, allow_not_found=True)
        versions = [
            int(name[:-5])
            for info in self._storage().get_file_info_selector(selector)
            if (name := info.path.rsplit("/", 1)[-1]).endswith(".json") and name[:-5].isdigit()
        ]
        return min(versions, default=None)

    def _storage(self) -> DeltaStorageHandler:
        from deltalake.fs import DeltaStorageHandler  # imports pyarrow.fs: only when needed

        generation = self._location.credentials_generation
        if self._handler is None or generation != self._generation:
            self._handler = DeltaStorageHandler(self._location.uri, self._location.options())
            self._generation = generation
        return self._handler


def _commit_path(version: int) -> str:
    return f"{_LOG}/{version:020d}.json"
