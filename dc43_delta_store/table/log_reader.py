"""The table's log read by the store itself, with as few requests as the log allows.

Opening: ``_last_checkpoint`` (one GET), the checkpoint it names (one GET per part), one LIST
of the commits after it, one GET per commit — no listing from version 0, and no file read
twice (see :mod:`.objects`). Following: one LIST of the commit files after the version
known (locally a probe of the next commit file), one GET per new commit.

Tables this reader does not replay — v2 checkpoints with sidecars, a log with gaps — raise
:class:`NotReplayed`, and the caller falls back to deltalake.

A table dropped and created again at the same place shows up as the commit file of the
version known being another file than before (another ETag, inode or time): the caller
then opens the table anew (:attr:`Followed.replaced`).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..core.log_state import LogState
from ..errors import IncompatibleTableError
from .objects import Listed, TableFiles

__all__ = ["Followed", "LogReader", "NotReplayed", "commit_actions"]

LOG = "_delta_log"
_COMMIT = re.compile(r"^(\d{20})\.json$")
_REPLAY_LIMIT = 200  # more new commits than this: reopen from the newest checkpoint


class NotReplayed(Exception):
    """A log this reader does not replay (deltalake reads it instead)."""


@dataclass(frozen=True)
class Followed:
    """A refresh's outcome: the newer ``state`` (the same one when nothing changed), the
    commits read on the way (version, actions), and whether the table was ``replaced``."""

    state: LogState | None
    commits: tuple[tuple[int, tuple[Mapping[str, Any], ...]], ...] = ()
    replaced: bool = False


class LogReader:
    """Replays the log of the table whose files ``files`` reads (safe to share)."""

    def __init__(self, files: TableFiles) -> None:
        self._files = files
        self._tags: dict[int, str] = {}  # version -> tag of its commit file, as first seen

    def open(self) -> LogState | None:
        """The table's newest state; None when there is no table. Raises
        :class:`NotReplayed` for a log this reader does not replay."""
        last = self._last_checkpoint()
        state: LogState | None = None
        after = ""
        if last is not None:
            state = self._checkpoint(last)
            after = f"{state.version:020d}.checkpoint"
        listed = self._files.list_after(LOG, after)
        versions = _commits(listed)
        if state is None:
            if not versions:
                return None
            if versions[0] != 0:
                raise NotReplayed(f"the log starts at version {versions[0]}, without checkpoint")
            state = LogState.replay(-1, ())
        for version in versions:
            if version <= state.version:
                continue
            if version != state.version + 1:
                raise NotReplayed(f"the log has no commit {state.version + 1}")
            state = state.advance(version, self.commit(version))
        self._remember(listed)
        return state

    def follow(self, state: LogState) -> Followed:
        """``state`` brought up to the newest version (one LIST, one GET per new commit)."""
        if self._files.location.local_path is not None:
            return self._probe(state)
        listed = self._files.list_after(LOG, f"{state.version - 1:020d}.json")
        mine = f"{state.version:020d}.json"
        tags = {item.name: item.tag for item in listed}
        known = self._tags.get(state.version)
        if known is not None and tags.get(mine, known) != known:
            return Followed(None, replaced=True)
        versions = [v for v in _commits(listed) if v > state.version]
        if len(versions) > _REPLAY_LIMIT or (versions and versions[0] != state.version + 1):
            return Followed(self.open())  # from the newest checkpoint
        commits: list[tuple[int, tuple[Mapping[str, Any], ...]]] = []
        for version in versions:
            actions = self.commit(version)
            commits.append((version, actions))
            state = state.advance(version, actions)
        self._remember(listed)
        return Followed(state, tuple(commits))

    def commit(self, version: int) -> tuple[Mapping[str, Any], ...]:
        """The actions of commit ``version`` (read once, then remembered)."""
        data = self._files.get(f"{LOG}/{version:020d}.json")
        if data is None:
            raise FileNotFoundError(f"{LOG}/{version:020d}.json")
        return commit_actions(data, f"table {self._files.location}: {LOG}/{version:020d}.json")

    # -- internals -----------------------------------------------------------------------

    def _probe(self, state: LogState) -> Followed:
        """Locally: read the next commit files until one is missing (no listing). A
        checkpoint past that point means the commits in between were cleaned up: the
        table is opened from it (a write must never take a cleaned-up version number)."""
        commits: list[tuple[int, tuple[Mapping[str, Any], ...]]] = []
        while True:
            version = state.version + 1
            data = self._files.get(f"{LOG}/{version:020d}.json")
            if data is None:
                last = self._last_checkpoint()
                if last is not None and int(last["version"]) > state.version:
                    return Followed(self.open())
                return Followed(state, tuple(commits))
            actions = commit_actions(data, f"table {self._files.location}: commit {version}")
            commits.append((version, actions))
            state = state.advance(version, actions)

    def _remember(self, listed: list[Listed]) -> None:
        for item in listed:
            found = _COMMIT.match(item.name)
            if found:
                self._tags.setdefault(int(found.group(1)), item.tag)
        if len(self._tags) > 64:
            for version in sorted(self._tags)[:-32]:
                del self._tags[version]

    def _last_checkpoint(self) -> Mapping[str, Any] | None:
        data = self._files.get(f"{LOG}/_last_checkpoint")
        if data is None:
            return None
        try:
            found = json.loads(data)
        except ValueError:
            return None  # being rewritten, or foreign: list from the start
        return (
            found if isinstance(found, Mapping) and isinstance(found.get("version"), int) else None
        )

    def _checkpoint(self, last: Mapping[str, Any]) -> LogState:
        version = int(last["version"])
        if last.get("v2Checkpoint") is not None:
            raise NotReplayed("a v2 checkpoint")
        parts = last.get("parts")
        names = (
            [
                f"{version:020d}.checkpoint.{i:010d}.{parts:010d}.parquet"
                for i in range(1, parts + 1)
            ]
            if isinstance(parts, int) and parts > 1
            else [f"{version:020d}.checkpoint.parquet"]
        )
        actions: list[Mapping[str, Any]] = []
        for name in names:
            data = self._files.get(f"{LOG}/{name}")
            if data is None:
                raise NotReplayed(f"checkpoint {name} is gone")  # cleaned up meanwhile
            actions.extend(_checkpoint_actions(data))
        if any("sidecar" in action or "checkpointMetadata" in action for action in actions):
            raise NotReplayed("a checkpoint with sidecars")
        return LogState.replay(version, actions)


def commit_actions(data: bytes, label: str) -> tuple[Mapping[str, Any], ...]:
    """The actions of a commit file's bytes (one JSON object per line)."""
    actions = []
    # JSON lines end at "\n" only: splitlines() also breaks at U+2028, U+0085... which a
    # commit's text may hold raw
    for number, line in enumerate(data.decode("utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            action = json.loads(line)
        except ValueError:
            action = None
        if not isinstance(action, dict):
            raise IncompatibleTableError(f"{label}: line {number} is not a JSON object")
        actions.append(action)
    return tuple(actions)


def _commits(listed: list[Listed]) -> list[int]:
    return sorted(int(m.group(1)) for item in listed if (m := _COMMIT.match(item.name)))


# a checkpoint's removes are tombstones of files no longer in the table: not needed
_ACTION_COLUMNS = ("add", "metaData", "protocol", "txn", "sidecar", "checkpointMetadata")


def _checkpoint_actions(data: bytes) -> Iterator[Mapping[str, Any]]:
    """The actions of a checkpoint Parquet file's bytes, as the log's JSON would hold them."""
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    for name in _ACTION_COLUMNS:
        if name not in table.column_names:
            continue
        column = table.column(name)
        for value in column.to_pylist():
            if value is not None and not (name == "add" and value.get("path") is None):
                yield {name: _json_like(value)}


def _json_like(value: Any) -> Any:
    """Parquet's reading of a checkpoint action as the JSON action: maps (read as lists of
    pairs) become objects, nested values likewise."""
    if isinstance(value, dict):
        return {key: _json_like(item) for key, item in value.items()}
    if isinstance(value, list):
        if all(isinstance(item, tuple) and len(item) == 2 for item in value) and value:
            return {key: _json_like(item) for key, item in value}
        return [_json_like(item) for item in value]
    return value
