"""dc43_delta_store: ODCS data contracts in a Delta Lake table, without Spark.

>>> from dc43_delta_store import DeltaContractStore
>>> store = DeltaContractStore(table="governance.meta.contracts")
>>> store.put("examples/contracts/sales/orders-1.0.0.odcs.yaml").outcome
'inserted'
>>> store.latest("sales.orders", status="active")["name"]
'Orders'
"""

__version__ = "0.1.0"

from .core.batch import BatchResult, PutResult
from .core.validation import ContractValidationWarning
from .core.versions import is_prerelease, sort_versions, version_sort_key
from .errors import (
    BatchError,
    BatchProblem,
    ContractNotFoundError,
    ContractStoreError,
    ContractValidationError,
    CursorExpiredError,
    IncompatibleTableError,
    InvalidContractError,
    InvalidLocationError,
    InvalidRequestError,
    StoreUnavailableError,
    TableBusyError,
    UpdateConflictError,
    ValidationIssue,
    VersionConflictError,
)
from .feed.events import ChangeEvent, Changes
from .resolution.explain import Candidate, Resolution
from .resolution.ranges import VersionRange, parse_range
from .store import DeltaContractStore
from .table.history import Commit
from .table.maintenance import OptimizeResult, VacuumResult

__all__ = [
    "BatchError",
    "BatchProblem",
    "BatchResult",
    "Candidate",
    "ChangeEvent",
    "Changes",
    "Commit",
    "ContractNotFoundError",
    "ContractStoreError",
    "ContractValidationError",
    "ContractValidationWarning",
    "CursorExpiredError",
    "DeltaContractStore",
    "IncompatibleTableError",
    "InvalidContractError",
    "InvalidLocationError",
    "InvalidRequestError",
    "OptimizeResult",
    "PutResult",
    "Resolution",
    "StoreUnavailableError",
    "TableBusyError",
    "UpdateConflictError",
    "VacuumResult",
    "ValidationIssue",
    "VersionConflictError",
    "VersionRange",
    "__version__",
    "is_prerelease",
    "parse_range",
    "sort_versions",
    "version_sort_key",
]
