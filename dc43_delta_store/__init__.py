"""dc43_delta_store: ODCS data contracts in a Delta Lake table, without Spark.

>>> from dc43_delta_store import DeltaContractStore
>>> store = DeltaContractStore(table="governance.meta.contracts")
>>> store.put("examples/contracts/sales/orders-1.0.0.odcs.yaml").outcome
'inserted'
>>> store.latest("sales.orders", status="active")["name"]
'Orders'
"""


__version__ = "0.1.0"

from .batch import BatchResult, PutResult
from .errors import (
    BatchError,
    BatchProblem,
    ContractNotFoundError,
    ContractStoreError,
    ContractValidationError,
    IncompatibleTableError,
    InvalidContractError,
    InvalidLocationError,
    InvalidQueryError,
    StoreUnavailableError,
    TableBusyError,
    ValidationIssue,
    VersionConflictError,
)
from .store import DeltaContractStore
from .validation import ContractValidationWarning
from .versions import is_prerelease, sort_versions, version_sort_key

__all__ = [
    "BatchError",
    "BatchProblem",
    "BatchResult",
    "ContractNotFoundError",
    "ContractStoreError",
    "ContractValidationError",
    "ContractValidationWarning",
    "DeltaContractStore",
    "IncompatibleTableError",
    "InvalidContractError",
    "InvalidLocationError",
    "InvalidQueryError",
    "PutResult",
    "StoreUnavailableError",
    "TableBusyError",
    "ValidationIssue",
    "VersionConflictError",
    "__version__",
    "is_prerelease",
    "sort_versions",
    "version_sort_key",
]
