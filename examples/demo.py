"""`make demo`: publish the example contracts into a local Delta table and query it.

Run it twice: the second run finds every version already stored and writes nothing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from dc43_delta_store import DeltaContractStore, VersionConflictError

HERE = Path(__file__).parent


def main() -> int:
    store = DeltaContractStore(table="demo.governance.contracts", validation="strict")
    print(f"table demo.governance.contracts -> {store.location.uri}\n")

    print("publishing examples/contracts:")
    for path in sorted((HERE / "contracts").rglob("*.odcs.*")):
        started = time.perf_counter()
        result = store.put(path)
        elapsed = (time.perf_counter() - started) * 1000
        print(
            f"  {result.outcome:<9} {result.contract_id:<17} {result.version:<11} "
            f"{elapsed:6.1f} ms  ({path.relative_to(HERE)})"
        )

    print("\ninventory:")
    print(f"  {'contract':<17} {'versions':<36} {'latest':<8} latest active")
    for contract_id in store.list_contracts():
        versions = ", ".join(store.list_versions(contract_id))
        latest = store.latest(contract_id)
        active = store.latest(contract_id, status="active")
        print(
            f"  {contract_id:<17} {versions:<36} {latest['version'] if latest else '-':<8} "
            f"{active['version'] if active else '-'}"
        )

    fresh = DeltaContractStore(table="demo.governance.contracts")
    started = time.perf_counter()
    orders = fresh.latest("sales.orders", status="active")
    first = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    fresh.latest("sales.orders", status="active")
    again = (time.perf_counter() - started) * 1000
    assert orders is not None
    columns = [prop["name"] for prop in orders["schema"][0]["properties"]]
    print(
        f"\nlatest active sales.orders: {orders['version']} "
        f"({first:.1f} ms from a new store object, {again:.2f} ms asked again), "
        f"columns {columns}"
    )
    rc = store.latest("sales.orders", include_prereleases=True, status="active")
    print(f"same, prereleases included: {rc['version'] if rc else '-'}")

    tampered = dict(orders, name="Orders (edited in place)")
    try:
        store.put(tampered)
    except VersionConflictError as exc:
        print(f"\nrewriting a published version is refused:\n  {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
