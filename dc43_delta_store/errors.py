"""Exceptions raised by dc43_delta_store.

Every error derives from one base and, where one fits, from a builtin too::

    ContractStoreError
    ├── InvalidContractError (ValueError)     the document cannot be stored
    │   └── ContractValidationError           it breaks the ODCS JSON Schema
    ├── ContractNotFoundError (KeyError,       no such contract or version; dc43's stores
    │   FileNotFoundError)                     raise these, its web app maps the latter to 404
    ├── VersionConflictError                   the version exists with other content
    │                                          (from Dc43ContractStore: also HTTP 409)
    ├── BatchError                             put_many refused a batch: every problem listed
    ├── CompatibilityError                     the version bump is too small for the changes
    ├── UpdateConflictError                    a metadata update's if_match no longer holds
    ├── TableBusyError                         concurrent commits outlasted the retries
    ├── IncompatibleTableError                 the table's schema or protocol is foreign
    ├── TableNotFoundError (LookupError)       no table at the location, for an operation
    │                                          that needs one (upkeep, time travel)
    ├── UnsafeEndpointError                    the object store does not refuse a second
    │                                          put-if-absent: concurrent commits would be lost
    ├── DuplicateVersionError                  another writer stored one version twice,
    │                                          with different content
    ├── ModelConversionError                   Dc43ContractStore: a stored document dc43's
    │                                          ODCS model cannot hold (ODCS v2); HTTP 409
    ├── InvalidLocationError (ValueError)      a table name or path that cannot be used
    ├── InvalidRequestError (ValueError)       an unknown column, a bad as_of, a refused SQL
    │   ├── CursorExpiredError                 the change feed's log before a cursor is gone
    │   └── QueryLimitError                    a SQL query past a limit: depth, size, time, memory
    └── StoreUnavailableError (OSError)        the location cannot be read or written

Messages name the contract, version, field, file or table involved, and never
contain credentials.
"""

from __future__ import annotations

import errno
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BatchError",
    "BatchProblem",
    "CompatibilityError",
    "ContractNotFoundError",
    "ContractStoreError",
    "ContractValidationError",
    "CursorExpiredError",
    "DuplicateVersionError",
    "IncompatibleTableError",
    "InvalidContractError",
    "InvalidLocationError",
    "InvalidRequestError",
    "ModelConversionError",
    "QueryLimitError",
    "StoreUnavailableError",
    "TableBusyError",
    "TableNotFoundError",
    "UnsafeEndpointError",
    "UpdateConflictError",
    "ValidationIssue",
    "VersionConflictError",
]


class ContractStoreError(Exception):
    """Base class of every error raised by this package."""


class InvalidContractError(ContractStoreError, ValueError):
    """The input is not a storable ODCS document; nothing was written.

    ``source`` names where the document came from (a file path, "text", "mapping").
    """

    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(f"{source}: {message}" if source else message)
        self.source = source


@dataclass(frozen=True)
class ValidationIssue:
    """One JSON-Schema violation: where (a JSON path such as ``$.schema[0].name``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def describe_issues(label: str, issues: Sequence[ValidationIssue], shown: int = 5) -> str:
    """``"<label> breaks the ODCS JSON Schema: $.a: ...; $.b: ... (and N more)"``."""
    listed = "; ".join(str(issue) for issue in issues[:shown])
    more = f" (and {len(issues) - shown} more)" if len(issues) > shown else ""
    return f"{label} breaks the ODCS JSON Schema: {listed}{more}"


class ContractValidationError(InvalidContractError):
    """The document breaks the ODCS JSON Schema of its ``apiVersion``; ``issues`` lists all."""

    def __init__(
        self, issues: Sequence[ValidationIssue], *, label: str, source: str | None = None
    ) -> None:
        super().__init__(describe_issues(label, issues), source=source)
        self.issues = list(issues)


class ContractNotFoundError(ContractStoreError, KeyError, FileNotFoundError):
    """No row for the requested contract (and version).

    A ``KeyError`` as dc43's SQL and Delta stores raise, and a ``FileNotFoundError``
    (``errno.ENOENT``) as its filesystem store raises and its web app answers with 404, so
    code written for any of dc43's stores catches it.
    """

    def __init__(self, contract_id: str, version: str | None = None, *, detail: str = "") -> None:
        what = f"contract {contract_id!r}" + (f" version {version!r}" if version else "")
        message = f"{what} not found{detail}"
        super().__init__(message)
        self.errno, self.strerror = errno.ENOENT, message
        self.contract_id = contract_id
        self.version = version
        self.detail = detail

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (multiprocessing) as it was built
        return (_not_found, (self.contract_id, self.version, self.detail))


def _not_found(contract_id: str, version: str | None, detail: str) -> ContractNotFoundError:
    return ContractNotFoundError(contract_id, version, detail=detail)


class VersionConflictError(ContractStoreError):
    """A version is immutable: the same (contract_id, version) already holds other content."""

    def __init__(
        self,
        contract_id: str,
        version: str,
        *,
        stored_fingerprint: str,
        new_fingerprint: str,
        message: str | None = None,
    ) -> None:
        super().__init__(
            message
            or f"contract {contract_id!r} version {version!r} already exists with fingerprint "
            f"{stored_fingerprint}; the new content has fingerprint {new_fingerprint}. "
            "Versions are immutable: publish the change under a new version"
        )
        self.contract_id = contract_id
        self.version = version
        self.stored_fingerprint = stored_fingerprint
        self.new_fingerprint = new_fingerprint


@dataclass(frozen=True)
class BatchProblem:
    """Why item ``index`` of a batch (read from ``source``) was refused."""

    index: int
    source: str
    error: ContractStoreError

    def __str__(self) -> str:
        text = str(self.error)
        prefix = f"{self.source}: "
        return f"[{self.index}] " + (text if text.startswith(prefix) else prefix + text)


class BatchError(ContractStoreError):
    """``put_many`` wrote nothing because of ``problems`` (all of them, not just the first)."""

    def __init__(self, problems: Sequence[BatchProblem], *, total: int) -> None:
        shown = "\n  ".join(str(problem) for problem in problems[:20])
        more = f"\n  (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(
            f"batch of {total} contracts refused, nothing written; "
            f"{len(problems)} problem(s):\n  {shown}{more}"
        )
        self.problems = list(problems)


class CompatibilityError(ContractStoreError):
    """The compatibility policy refused a version: its changes need a larger version bump.

    Names the contract, both versions, the bump given and the bump needed, and lists the
    changes that need more (``changes``: rule id, path, bump); nothing was written. With
    ``later``, ``baseline`` is a stored version *above* the refused one, and the changes are
    those from the refused version to it.
    """

    def __init__(
        self,
        contract_id: str,
        version: str,
        *,
        baseline: str,
        policy: str,
        given_bump: str | None,
        needed_bump: str,
        suggested_version: str | None,
        changes: Sequence[tuple[str, str, str]],
        later: bool = False,
    ) -> None:
        step = f"{version} -> {baseline}" if later else f"{baseline} -> {version}"
        given = (
            f"{step} is not a SemVer increase"
            if given_bump is None
            else f"{step} is {'no' if given_bump == 'none' else 'a ' + given_bump} bump"
        )
        listed = "; ".join(f"{rule} at {path} ({bump})" for rule, path, bump in changes[:10])
        more = f"; and {len(changes) - 10} more" if len(changes) > 10 else ""
        hint = f" ({suggested_version} or higher)" if suggested_version else ""
        other, changed = (
            (f"the later version {baseline!r}", f"the changes from it to {baseline!r} need")
            if later
            else (f"version {baseline!r}", "its changes need")
        )
        super().__init__(
            f"contract {contract_id!r} version {version!r} is incompatible with {other} "
            f"under the {policy} compatibility policy: {changed} a {needed_bump} bump{hint}, "
            f"but {given}. Changes that need more: {listed}{more}. Nothing was written"
        )
        self.contract_id = contract_id
        self.version = version
        self.baseline = baseline
        self.policy = policy
        self.given_bump = given_bump
        self.needed_bump = needed_bump
        self.suggested_version = suggested_version
        self.changes = list(changes)
        self.later = later


class UpdateConflictError(ContractStoreError):
    """``update_metadata(..., if_match=...)``: the row changed since; nothing was changed."""


class TableBusyError(ContractStoreError):
    """Concurrent commits kept winning until the retries ran out; nothing was written."""


class IncompatibleTableError(ContractStoreError):
    """The table exists but its schema or Delta protocol cannot be used by this store."""


class TableNotFoundError(ContractStoreError, LookupError):
    """No Delta table at the location, and the operation needs one; nothing was created.

    ``location`` names the table (without credentials).
    """

    def __init__(self, location: str, action: str) -> None:
        super().__init__(
            f"no table at {location}: nothing to {action} (nothing has been written there; "
            "check the table name or path)"
        )
        self.location = location
        self.action = action

    def __str__(self) -> str:  # LookupError would quote the message
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (multiprocessing) as it was built
        return (type(self), (self.location, self.action))


class UnsafeEndpointError(ContractStoreError):
    """Writes refused: the table's object store endpoint does not enforce conditional writes.

    delta-rs commits a table version with a put-if-absent (S3: ``If-None-Match: *``); an
    endpoint that ignores the condition lets a second writer of the same version overwrite
    the first, whose rows vanish without an error. The message names the endpoint (never
    credentials) and the fix; nothing was written, and the probe object was deleted.
    """


class ModelConversionError(ContractStoreError):
    """A stored document that the ODCS pydantic model dc43 uses cannot represent (an ODCS v2
    document, keys the model forbids): :class:`~.dc43_compat.Dc43ContractStore` cannot hand
    it to dc43's code. ``DeltaContractStore.get`` reads it as it is."""


class DuplicateVersionError(ContractStoreError):
    """One (contract_id, version) is in the table more than once, with different content.

    Delta has no unique keys: a writer other than this store (a plain append, a Spark job)
    can store a version twice. Identical copies read as one; different ones cannot be
    told apart, so reads of that version refuse instead of picking one. ``fingerprints``
    lists the distinct contents (a row without a fingerprint counts by its JSON, shown as
    None), ``rows`` how many rows hold the key.
    """

    def __init__(
        self, contract_id: str, version: str, fingerprints: Sequence[str | None], rows: int
    ) -> None:
        listed = ", ".join(str(fingerprint) for fingerprint in fingerprints)
        super().__init__(
            f"contract {contract_id!r} version {version!r} is stored {rows} times with "
            f"different content (fingerprints {listed}): another writer duplicated the key. "
            "Keep the right row and delete the others (`dc43-delta-store check` lists every "
            "duplicated key)"
        )
        self.contract_id = contract_id
        self.version = version
        self.fingerprints = tuple(fingerprints)
        self.rows = rows

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (multiprocessing) as it was built
        return (type(self), (self.contract_id, self.version, self.fingerprints, self.rows))


class InvalidLocationError(ContractStoreError, ValueError):
    """A table name, path or URI that cannot be used."""


class InvalidRequestError(ContractStoreError, ValueError):
    """A request that cannot be carried out as asked: unknown column, bad ``as_of``, refused SQL."""


class CursorExpiredError(InvalidRequestError):
    """``changes(since=...)``: the commits after ``since`` are no longer in the log.

    ``earliest`` is the oldest table version the log still holds (None: no log at all).
    Publishes stay recoverable from the rows' ``created_at`` (versions are never deleted).
    """

    def __init__(self, message: str, *, since: int, earliest: int | None) -> None:
        super().__init__(message)
        self.since = since
        self.earliest = earliest


class QueryLimitError(InvalidRequestError):
    """``store.sql`` stopped a query at one of its limits; nothing else was affected.

    ``limit`` names it: ``"depth"``, ``"size"`` or ``"length"`` (refused before it ran, see
    :mod:`.core.sql_bounds`), ``"timeout"`` or ``"memory"`` (stopped while it ran, see
    :mod:`.table.sql_pool`).
    """

    def __init__(self, message: str, *, limit: str) -> None:
        super().__init__(message)
        self.limit = limit

    def __reduce__(self) -> tuple[Any, ...]:  # pickles as it was built
        return (_query_limit, (str(self), self.limit))


def _query_limit(message: str, limit: str) -> QueryLimitError:
    return QueryLimitError(message, limit=limit)


class StoreUnavailableError(ContractStoreError, OSError):
    """The table location cannot be read or written (permissions, network, missing bucket)."""
