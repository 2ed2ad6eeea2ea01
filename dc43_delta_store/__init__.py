"""dc43_delta_store: ODCS data contracts in a Delta Lake table, without Spark.

>>> from dc43_delta_store import DeltaContractStore
>>> store = DeltaContractStore(table="governance.meta.contracts")
>>> store.put("examples/contracts/sales/orders-1.0.0.odcs.yaml").outcome
'inserted'
>>> store.latest("sales.orders", status="active")["name"]
'Orders'
"""

__version__ = "0.1.0"

from .compatibility import CompatibilitySettings, DiffResult, Override, Policy, diff
from .core.batch import BatchResult, PutResult
from .core.validation import ContractValidationWarning
from .core.versions import is_prerelease, sort_versions, version_sort_key
from .errors import (
    BatchError,
    BatchProblem,
    CompatibilityError,
    ContractNotFoundError,
    ContractStoreError,
    ContractValidationError,
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
from .store import DeltaContractStore
from .table.history import Commit
from .table.maintenance import OptimizeResult, VacuumResult

__all__ = [
    "BatchError",
    "BatchProblem",
    "BatchResult",
    "Commit",
    "CompatibilityError",
    "CompatibilitySettings",
    "ContractNotFoundError",
    "ContractStoreError",
    "ContractValidationError",
    "ContractValidationWarning",
    "DeltaContractStore",
    "DiffResult",
    "IncompatibleTableError",
    "InvalidContractError",
    "InvalidLocationError",
    "InvalidRequestError",
    "OptimizeResult",
    "Override",
    "Policy",
    "PutResult",
    "StoreUnavailableError",
    "TableBusyError",
    "UpdateConflictError",
    "VacuumResult",
    "ValidationIssue",
    "VersionConflictError",
    "__version__",
    "diff",
    "is_prerelease",
    "sort_versions",
    "version_sort_key",
]
