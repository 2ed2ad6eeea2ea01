"""Reading the change feed: the commit files after a cursor, turned into events.

The feed reads commit actions from ``_delta_log`` rather than Delta's change data feed
(``load_cdf``): CDF needs a table property (and a writer-protocol bump) on every table,
delta-rs' CDF reader refuses ranges that start before CDF was enabled and fails once vacuum
has removed the files it points to, and its rows carry neither who nor why nor the commit's
provenance. Commit actions are on every Delta table, written by any engine, and the store's
commit info already names what each commit did.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from ..errors import CursorExpiredError, InvalidRequestError
from ..table.log import DeltaLog, LogEntry
from .events import ChangeEvent, events_of
from .touched import NOTHING, Stats, Touched, parse_stats, touched_by

__all__ = ["MAX_FOLLOWED_COMMITS", "read_changes", "read_touched"]

MAX_FOLLOWED_COMMITS = 100
"""Beyond this many commits, recomputing answers costs less than reading the log."""


def read_changes(log: DeltaLog, since: int, upto: int, table: str) -> list[ChangeEvent]:
    """Events of the commits ``since + 1`` to ``upto`` (the current version), oldest first.

    ``table`` names the table in errors. Raises :class:`~..errors.CursorExpiredError` when
    log cleanup removed commits after ``since``.
    """
    if isinstance(since, bool) or not isinstance(since, int) or since < -1:
        raise InvalidRequestError(
            f"since must be a table version (an int, -1 for the beginning), not {since!r}"
        )
    if since > upto:
        raise InvalidRequestError(
            f"cursor {since} is ahead of table {table}, which is at version {upto}: "
            "was the table replaced? Start again from since=-1"
        )
    events: list[ChangeEvent] = []
    for version in range(since + 1, upto + 1):
        entry = log.read(version)
        if entry is None:
            raise _expired(log, since, version, table)
        events.extend(events_of(version, entry.actions))
    return events


def _expired(log: DeltaLog, since: int, missing: int, table: str) -> CursorExpiredError:
    earliest = log.earliest()
    resume = (
        f"; to read what the log still holds, pass since={earliest - 1}"
        if earliest is not None and earliest > missing
        else ""
    )
    return CursorExpiredError(
        f"changes of table {table} since table version {since} are no longer in its log: "
        f"the commit of table version {missing} was removed by log cleanup (oldest left: "
        f"{'none' if earliest is None else earliest}). Publishes can still be recovered: "
        "versions are never deleted and keep their created_at, e.g. SELECT contract_id, "
        "version, created_at FROM contracts WHERE created_at > '<time of your last read>'"
        f"{resume}",
        since=since,
        earliest=earliest,
    )


def read_touched(
    log: DeltaLog,
    since: int,
    upto: int,
    stats_before: Callable[[str], Stats | None],
    *,
    limit: int = MAX_FOLLOWED_COMMITS,
) -> tuple[Touched, list[LogEntry]]:
    """What the commits ``since + 1`` to ``upto`` touched (see :mod:`.touched`), and those
    commits (empty when they were not all read).

    ``stats_before(path)`` gives the statistics of a file of snapshot ``since``, for a
    removed file whose remove action has none (files added in between are known from their
    add actions). More than ``limit`` commits, or one the log no longer holds, touch
    everything.
    """
    if upto - since > limit:
        return Touched(everything=True, data=True, reason=f"{upto - since} commits"), []
    added: dict[str, Stats] = {}
    entries: list[LogEntry] = []

    def stats_of(path: str) -> Stats | None:
        return added[path] if path in added else stats_before(path)

    result = NOTHING
    for version in range(since + 1, upto + 1):
        entry = log.read(version)
        if entry is None:
            return Touched(everything=True, data=True, reason=f"commit {version} is gone"), []
        entries.append(entry)
        if not result.everything:
            result = result | touched_by(entry.actions, stats_of)
        for action in entry.actions:
            add = action.get("add")
            if isinstance(add, dict) and isinstance(add.get("path"), str):
                stats = parse_stats(add.get("stats"))
                if stats is not None:
                    added[unquote(add["path"])] = stats
    return result, entries
