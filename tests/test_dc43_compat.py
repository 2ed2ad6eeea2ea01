"""dc43 code runs unchanged on the adapter: models in, models out, dc43's own backend on top."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from dc43_core.odcs import build_odcs, fingerprint
from dc43_service_backends.contracts.backend.local import LocalContractServiceBackend
from dc43_service_backends.contracts.backend.stores.interface import ContractStore
from deltalake import DeltaTable
from open_data_contract_standard.model import (
    OpenDataContractStandard,
    SchemaObject,
    SchemaProperty,
)

from dc43_delta_store import (
    ContractNotFoundError,
    ContractValidationError,
    ContractValidationWarning,
    Dc43ContractStore,
    DeltaContractStore,
    StoreUnavailableError,
    VersionConflictError,
)
from dc43_delta_store.cli import cli
from dc43_delta_store.core.validation import validate_document

from .conftest import ROOT, minimal
from .servers import MotoS3


def dc43_contract(version: str = "1.0.0", *, usage: str | None = None) -> OpenDataContractStandard:
    """A contract as dc43 builds one: apiVersion without the v, DatasetContract, no status."""
    return build_odcs(
        contract_id="sales.orders",
        version=version,
        kind="DatasetContract",
        api_version="3.0.2",
        name="orders",
        description=usage,
        properties=[SchemaProperty(name="order_id", physicalType="bigint", required=True)],
    )


def test_dc43_backend_on_the_adapter(tmp_path: Path) -> None:
    adapter = Dc43ContractStore(path=tmp_path / "t", validation="off")
    assert isinstance(adapter, ContractStore)
    backend = LocalContractServiceBackend(adapter)
    for version in ("1.0.0", "1.10.0", "1.9.0", "2.0.0-rc1"):
        backend.put(OpenDataContractStandard.model_validate(minimal(version=version)))
    got = backend.get("sales.orders", "1.9.0")
    assert isinstance(got, OpenDataContractStandard) and got.version == "1.9.0"
    latest = backend.latest("sales.orders")
    assert latest is not None and latest.version == "1.10.0"  # dc43's own key crashes on rc1
    assert list(backend.list_versions("sales.orders")) == ["1.0.0", "1.9.0", "1.10.0", "2.0.0-rc1"]
    assert adapter.list_contracts() == ["sales.orders"]
    assert adapter.latest("other") is None
    with pytest.raises(KeyError):
        backend.get("sales.orders", "3.0.0")


def test_dc43_numbered_versions_order_as_dc43_orders_them(tmp_path: Path) -> None:
    adapter = Dc43ContractStore(path=tmp_path / "t")
    for version in ("0.9.0.0", "0.32.0.0rc2", "0.10.0.0", "0.32.0.0", "0.31.0.0.post1"):
        adapter.put(dc43_contract(version))
    assert adapter.list_versions("sales.orders") == [
        "0.9.0.0",
        "0.10.0.0",
        "0.31.0.0.post1",
        "0.32.0.0rc2",
        "0.32.0.0",
    ]
    assert adapter.latest("sales.orders").version == "0.32.0.0"  # type: ignore[union-attr]


def test_an_rc_is_a_prerelease_that_latest_skips(tmp_path: Path) -> None:
    adapter = Dc43ContractStore(path=tmp_path / "t")
    adapter.put(dc43_contract("0.31.0.0"))
    adapter.put(dc43_contract("0.32.0.0rc2"))
    assert adapter.latest("sales.orders").version == "0.31.0.0"  # type: ignore[union-attr]
    found = adapter.store.latest("sales.orders", include_prereleases=True)
    assert found is not None and found["version"] == "0.32.0.0rc2"


def test_not_found_is_what_every_dc43_store_raises(tmp_path: Path) -> None:
    adapter = Dc43ContractStore(path=tmp_path / "t")
    adapter.put(dc43_contract())
    for missing in (("sales.orders", "9.9.9"), ("nope", "1.0.0")):
        with pytest.raises(ContractNotFoundError) as caught:
            adapter.get(*missing)
        error = caught.value
        assert isinstance(error, KeyError)  # dc43's SQL and Delta stores
        assert isinstance(error, FileNotFoundError)  # dc43's filesystem store and web app
        assert error.errno == 2 and missing[1] in str(error) and missing[0] in str(error)
    with pytest.raises(FileNotFoundError):
        DeltaContractStore(path=tmp_path / "t").get("sales.orders", "9.9.9")


def test_a_changed_reput_is_a_conflict_that_dc43s_app_can_answer(tmp_path: Path) -> None:
    from starlette.exceptions import HTTPException

    adapter = Dc43ContractStore(path=tmp_path / "t")
    adapter.put(dc43_contract(usage="first"))
    adapter.put(dc43_contract(usage="first"))  # the same content again: a no-op
    with pytest.raises(VersionConflictError) as caught:
        adapter.put(dc43_contract(usage="second"))
    error = caught.value
    assert isinstance(error, HTTPException) and error.status_code == 409
    assert error.detail == str(error) and "already exists with fingerprint" in str(error)
    assert repr(error).startswith("VersionConflictError(")
    assert error.contract_id == "sales.orders" and error.version == "1.0.0"
    assert error.stored_fingerprint == fingerprint(dc43_contract(usage="first"))
    assert adapter.get("sales.orders", "1.0.0").description.usage == "first"  # type: ignore[union-attr]


def test_an_unreachable_store_is_503_for_dc43s_app() -> None:
    from starlette.exceptions import HTTPException

    options = {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "max_retries": "0",
    }
    adapter = Dc43ContractStore(path="s3://bucket/contracts", storage_options=options)
    with pytest.raises(StoreUnavailableError) as caught:
        adapter.list_contracts()
    assert isinstance(caught.value, HTTPException) and caught.value.status_code == 503
    assert "cannot read table s3://bucket/contracts" in caught.value.detail


def test_the_adapter_is_importable_from_the_root_and_registered_without_importing_dc43_first(
    tmp_path: Path,
) -> None:
    code = f"""
import sys
import dc43_delta_store
assert "dc43_service_backends" not in sys.modules, "import dc43_delta_store loaded dc43"
assert "dc43_delta_store.dc43_compat" not in sys.modules
from dc43_delta_store import Dc43ContractStore
adapter = Dc43ContractStore(path={str(tmp_path / "t")!r})
from dc43_service_backends.contracts.backend.stores.interface import ContractStore
assert isinstance(adapter, ContractStore)
print("ok")
"""
    assert run_python(code) == "ok"


def test_the_adapter_works_without_dc43(tmp_path: Path) -> None:
    code = f"""
import sys
sys.modules["dc43_service_backends"] = None  # as if dc43 were not installed
from dc43_delta_store import Dc43ContractStore
adapter = Dc43ContractStore(path={str(tmp_path / "t")!r}, validation="off")
adapter.put({{"id": "a", "version": "0.10.0.0", "apiVersion": "v3.1.0", "kind": "DataContract"}})
adapter.put({{"id": "a", "version": "0.9.0.0", "apiVersion": "v3.1.0", "kind": "DataContract"}})
print(adapter.latest("a").version)
"""
    assert run_python(code) == "0.10.0.0"


def run_python(code: str) -> str:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


# dc43's validation dialect


def test_contracts_dc43_builds_pass_strict_validation_and_are_stored_as_written(
    tmp_path: Path,
) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="strict")
    contracts = [
        dc43_contract("1.0.0"),
        build_odcs(
            contract_id="c", version="1", kind="DataContract", api_version="3.1.0", name="c"
        ),
        OpenDataContractStandard(  # as dc43's own store tests build them
            version="2.0.0",
            kind="DataContract",
            apiVersion="3.0.2",
            id="sales.orders",
            name="Orders",
            schema=[SchemaObject(name="orders", properties=[SchemaProperty(name="id")])],
        ),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for contract in contracts:
            assert store.put(contract).validation_issues == ()
            assert DeltaContractStore(path=tmp_path / "t", validation="warn").put(contract)
    stored = store.get("sales.orders", "1.0.0")
    assert stored["apiVersion"] == "3.0.2" and stored["kind"] == "DatasetContract"
    assert "status" not in stored
    assert validate_document(stored).dialect == "dc43"


def test_the_dialect_excuses_only_what_dc43_writes(tmp_path: Path) -> None:
    dialect = json.loads(dc43_contract().model_dump_json(by_alias=True, exclude_none=True))
    broken = {
        **dialect,
        "schema": [{"name": "orders", "properties": [{"name": "id", "logicalType": "uuid"}]}],
    }
    report = validate_document(broken)
    assert report.dialect == "dc43" and report.schema == "3.0.2"
    assert [issue.path for issue in report.issues] == ["$.schema[0].properties[0].logicalType"]
    with pytest.raises(ContractValidationError):
        DeltaContractStore(path=tmp_path / "t", validation="strict").put(broken)
    with pytest.warns(ContractValidationWarning, match="dc43's dialect, against ODCS v3.0.2"):
        DeltaContractStore(path=tmp_path / "t").put(broken)
    # with the "v", a document claims the official spelling and is held to it
    official = validate_document({**dialect, "apiVersion": "v3.0.2"})
    assert official.dialect is None
    assert {issue.path for issue in official.issues} == {"$", "$.kind"}  # status, kind
    # other kinds are not excused, nor are apiVersions that have no schema
    assert [i.path for i in validate_document({**dialect, "kind": "Nope"}).issues] == ["$.kind"]
    assert validate_document({**dialect, "apiVersion": "3.9.9"}).schema is None


# rows written before dc43-style versions were ordered


def test_stale_version_keys_of_older_rows_do_not_mislead_sql_or_the_cli(tmp_path: Path) -> None:
    table = tmp_path / "t"
    store = DeltaContractStore(path=table, validation="off")
    for version in ("0.9.0.0", "0.10.0.0", "0.31.0.0", "0.32.0.0rc2"):
        store.put(minimal(contract_id="old", version=version))
    for version in ("1.9.0", "1.10.0", "2.0.0-rc.1"):
        store.put(minimal(contract_id="semver", version=version))
    # what the previous release stored for versions it did not order: unordered, no prerelease
    DeltaTable(str(table)).update(
        predicate="contract_id = 'old'",
        updates={"version_sort_key": "concat('0 ', version)", "prerelease": "false"},
    )
    assert store.latest("old")["version"] == "0.31.0.0"  # type: ignore[index]
    latest = store.sql("SELECT contract_id, version FROM contracts_latest ORDER BY contract_id")
    assert latest.rows() == [("old", "0.31.0.0"), ("semver", "1.10.0")]
    listed = CliRunner().invoke(cli, ["--path", str(table), "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [row["latest"] for row in json.loads(listed.output)] == ["0.31.0.0", "1.10.0"]


def test_the_readme_drop_in_snippet_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Using it from dc43") :]
    snippet = section[section.index("```python\n") + 10 : section.index("```\n")]
    monkeypatch.setenv("DC43_DELTA_STORE_WAREHOUSE", str(tmp_path))
    namespace: dict[str, object] = {}
    exec(snippet, namespace)
    backend = namespace["backend"]
    assert isinstance(backend, LocalContractServiceBackend)
    backend.put(dc43_contract("0.10.0.0"))
    backend.put(dc43_contract("0.9.0.0"))
    assert backend.latest("sales.orders").version == "0.10.0.0"  # type: ignore[union-attr]
    assert type(namespace["app"]).__name__ == "FastAPI"
    assert (tmp_path / "governance" / "meta" / "contracts" / "_delta_log").is_dir()


def test_the_adapter_warns_and_stores_what_dc43s_own_stores_accept(tmp_path: Path) -> None:
    """dc43's stores keep whatever the model holds; the adapter's default, ``warn``, stores a
    contract that breaks the ODCS JSON Schema (a logicalType it does not list) with a warning,
    and dc43 code reads it back; ``validation="strict"`` is the opt-in refusal."""
    from dc43_delta_store import ContractValidationError, ContractValidationWarning

    loose = minimal(
        schema=[{"name": "orders", "properties": [{"name": "id", "logicalType": "uuid"}]}]
    )
    adapter = Dc43ContractStore(path=tmp_path / "t")
    with pytest.warns(ContractValidationWarning, match="logicalType"):
        adapter.put(loose)
    assert adapter.list_versions("sales.orders") == ["1.0.0"]
    assert adapter.get("sales.orders", "1.0.0").schema_[0].properties[0].name == "id"
    strict = Dc43ContractStore(path=tmp_path / "strict", validation="strict")
    with pytest.raises(ContractValidationError):
        strict.put(loose)
    assert strict.list_contracts() == []


def test_the_adapter_reaches_an_object_store_with_its_storage_options(moto_s3: MotoS3) -> None:
    path = f"s3://{moto_s3.bucket()}/dc43-adapter"
    adapter = Dc43ContractStore(path=path, storage_options=moto_s3.options())
    adapter.put(minimal())
    assert adapter.list_versions("sales.orders") == ["1.0.0"]
    assert adapter.get("sales.orders", "1.0.0").version == "1.0.0"
