"""dc43_delta_store: ODCS data contracts in a Delta Lake table, without Spark.

>>> from dc43_delta_store import DeltaContractStore
>>> store = DeltaContractStore(table="governance.meta.contracts")
>>> store.put("examples/contracts/sales/orders-1.0.0.odcs.yaml").outcome
'inserted'
>>> store.latest("sales.orders", status="active")["name"]
'Orders'

Threads: a store (:class:`DeltaContractStore`, ``Dc43ContractStore``) may be shared by any
number of threads; every value the API returns (``PutResult``, ``Resolution``, ``Commit``...)
is a frozen dataclass, and the documents and mappings in it are a fresh copy per call, the
caller's own.
"""

import typing

__version__ = "0.1.0"

from .compatibility import CompatibilitySettings, DiffResult, Override, Policy, diff
from .core.batch import BatchResult, PutResult
from .core.health import HealthReport
from .core.validation import ContractValidationWarning
from .core.versions import is_prerelease, sort_versions, version_sort_key
from .errors import (
    BatchError,
    BatchProblem,
    CompatibilityError,
    ContractNotFoundError,
    ContractStoreError,
    ContractValidationError,
    CursorExpiredError,
    DuplicateVersionError,
    IncompatibleTableError,
    InvalidContractError,
    InvalidLocationError,
    InvalidRequestError,
    ModelConversionError,
    QueryLimitError,
    StoreUnavailableError,
    TableBusyError,
    TableNotFoundError,
    UnsafeEndpointError,
    UpdateConflictError,
    ValidationIssue,
    VersionConflictError,
)
from .feed.events import ChangeEvent, Changes
from .resolution.explain import Candidate, Resolution
from .resolution.ranges import VersionRange, parse_range
from .store import DeltaContractStore
from .table.adopt import AdoptionResult
from .table.history import Commit
from .table.log_view import Freshness
from .table.maintenance import OptimizeResult, VacuumResult

if typing.TYPE_CHECKING:
    from .dc43_compat import Dc43ContractStore

__all__ = [
    "AdoptionResult",
    "BatchError",
    "BatchProblem",
    "BatchResult",
    "Candidate",
    "ChangeEvent",
    "Changes",
    "Commit",
    "CompatibilityError",
    "CompatibilitySettings",
    "ContractNotFoundError",
    "ContractStoreError",
    "ContractValidationError",
    "ContractValidationWarning",
    "CursorExpiredError",
    "Dc43ContractStore",
    "DeltaContractStore",
    "DiffResult",
    "DuplicateVersionError",
    "Freshness",
    "HealthReport",
    "IncompatibleTableError",
    "InvalidContractError",
    "InvalidLocationError",
    "InvalidRequestError",
    "ModelConversionError",
    "OptimizeResult",
    "Override",
    "Policy",
    "PutResult",
    "QueryLimitError",
    "Resolution",
    "StoreUnavailableError",
    "TableBusyError",
    "TableNotFoundError",
    "UnsafeEndpointError",
    "UpdateConflictError",
    "VacuumResult",
    "ValidationIssue",
    "VersionConflictError",
    "VersionRange",
    "__version__",
    "diff",
    "is_prerelease",
    "parse_range",
    "sort_versions",
    "version_sort_key",
]


def __getattr__(name: str) -> object:
    """``Dc43ContractStore`` is imported on first use: it loads the ODCS models and dc43."""
    if name == "Dc43ContractStore":
        from .dc43_compat import Dc43ContractStore

        globals()[name] = Dc43ContractStore
        return Dc43ContractStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
