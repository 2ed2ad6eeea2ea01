"""Unity Catalog names, against a local server speaking the UC REST API over HTTP, data in moto."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dc43_delta_store import (
    DeltaContractStore,
    InvalidLocationError,
    StoreUnavailableError,
)
from dc43_delta_store.table import catalog as catalog_module
from dc43_delta_store.table.catalog import UnityCatalog

from .conftest import EXAMPLES, minimal
from .servers import AuthenticatingS3, CatalogState, MotoS3, UnityCatalogServer

TOKEN = "dapi-test-token-0123456789"
NAME = "main.governance.contracts"


@pytest.fixture
def catalog(moto_s3: MotoS3) -> Iterator[UnityCatalogServer]:
    vended = {"AWS_ACCESS_KEY_ID": "vended-key-id", "AWS_SECRET_ACCESS_KEY": "vended-secret-value"}
    server = UnityCatalogServer(CatalogState(TOKEN, {"main.governance"}, vended))
    server.bucket = moto_s3.bucket()  # type: ignore[attr-defined]
    yield server
    server.stop()


def endpoint_options(moto_s3: MotoS3) -> dict[str, str]:
    """What the user configures: where S3 is; the keys come from the catalog."""
    return {
        "AWS_ENDPOINT_URL": moto_s3.endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
    }


def test_a_registered_table_resolves_and_is_written_and_read(
    catalog: UnityCatalogServer, moto_s3: MotoS3
) -> None:
    location = f"s3://{catalog.bucket}/tables/contracts"  # type: ignore[attr-defined]
    catalog.register(NAME, location)
    store = DeltaContractStore(
        table=NAME,
        catalog=UnityCatalog(catalog.url, token=TOKEN),
        storage_options=endpoint_options(moto_s3),
        validation="off",
    )
    assert store.location.uri == location and store.location.name == NAME
    store.put(minimal())
    assert store.latest("sales.orders")["version"] == "1.0.0"
    assert catalog.state.calls["get_table"] == 1 and catalog.state.calls["table_credentials"] == 1
    assert "vended-secret-value" not in repr(store) + repr(store.location)


def test_a_new_table_is_created_and_registered_when_a_storage_root_is_given(
    catalog: UnityCatalogServer, moto_s3: MotoS3
) -> None:
    root = f"s3://{catalog.bucket}/warehouse"  # type: ignore[attr-defined]
    store = DeltaContractStore(
        table=NAME,
        catalog=UnityCatalog(catalog.url, token=TOKEN),
        catalog_storage_root=root,
        storage_options=endpoint_options(moto_s3),
        metadata_columns={"owner": "string"},
    )
    registered = catalog.state.tables[NAME]
    assert registered["storage_location"] == f"{root}/main/governance/contracts"
    assert registered["table_type"] == "EXTERNAL" and registered["data_source_format"] == "DELTA"
    assert [c["name"] for c in registered["columns"]][:2] == ["contract_id", "version"]
    assert registered["columns"][-1]["name"] == "owner"
    assert catalog.state.calls["path_credentials"] == 1
    store.put_many(sorted(EXAMPLES.rglob("*.odcs.*")))
    assert store.latest("sales.orders", status="active")["version"] == "1.1.0"
    # a second store finds it registered and does not create anything
    again = DeltaContractStore(
        table=NAME,
        catalog=UnityCatalog(catalog.url, token=TOKEN),
        storage_options=endpoint_options(moto_s3),
    )
    assert again.list_contracts() == ["finance.invoices", "sales.customers", "sales.orders"]
    assert catalog.state.calls["create_table"] == 1


def test_credentials_are_renewed_before_they_expire(
    catalog: UnityCatalogServer, moto_s3: MotoS3
) -> None:
    catalog.register(NAME, f"s3://{catalog.bucket}/tables/renew")  # type: ignore[attr-defined]
    catalog.state.credential_seconds = 301.5  # renewal starts 300 s before expiry
    store = DeltaContractStore(
        table=NAME,
        catalog=UnityCatalog(catalog.url, token=TOKEN),
        storage_options=endpoint_options(moto_s3),
        validation="off",
    )
    store.put(minimal())
    store.latest("sales.orders")
    assert catalog.state.calls["table_credentials"] == 1  # still valid: not fetched again
    time.sleep(1.6)
    store.put(minimal(version="1.1.0"))  # renewal starts, on a thread of its own
    deadline = time.monotonic() + 10
    while catalog.state.calls["table_credentials"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert catalog.state.calls["table_credentials"] == 2
    assert store.latest("sales.orders")["version"] == "1.1.0"


def test_renewal_never_makes_a_call_wait_and_one_lookup_opens_every_store(
    catalog: UnityCatalogServer, moto_s3: MotoS3
) -> None:
    """Credentials within their renewal margin are renewed in the background while calls go
    on with the valid ones (a slow catalog does not slow them); a second store object of the
    table in the process asks the catalog nothing."""
    catalog.register(NAME, f"s3://{catalog.bucket}/tables/shared")  # type: ignore[attr-defined]
    catalog.state.credential_seconds = 302.0
    uc = UnityCatalog(catalog.url, token=TOKEN)
    options = endpoint_options(moto_s3)
    store = DeltaContractStore(table=NAME, catalog=uc, storage_options=options, validation="off")
    store.put(minimal())
    assert dict(catalog.state.calls) == {"get_table": 1, "table_credentials": 1}
    time.sleep(2.1)  # within the 300 s margin now, valid for 300 s more
    catalog.state.delay = 2.0  # the catalog answers slowly from now on
    started = time.monotonic()
    assert store.latest("sales.orders")["version"] == "1.0.0"
    assert time.monotonic() - started < 1.0  # the call did not wait for the renewal
    other = DeltaContractStore(table=NAME, catalog=uc, storage_options=options)
    assert other.latest("sales.orders")["version"] == "1.0.0"
    assert catalog.state.calls["get_table"] == 1  # the second store: no lookup


def test_a_fresh_process_resolves_writes_and_reads_through_the_environment(
    catalog: UnityCatalogServer, moto_s3: MotoS3, tmp_path: Path
) -> None:
    catalog.register(NAME, f"s3://{catalog.bucket}/tables/cli")  # type: ignore[attr-defined]
    env = dict(os.environ, DATABRICKS_HOST=catalog.url, DATABRICKS_TOKEN=TOKEN)
    options = [
        arg
        for key, value in endpoint_options(moto_s3).items()
        for arg in ("--storage-option", f"{key}={value}")
    ]
    cli = [sys.executable, "-m", "dc43_delta_store", "--table", NAME, *options]
    put = subprocess.run([*cli, "ingest", str(EXAMPLES)], env=env, capture_output=True, text=True)
    assert put.returncode == 0, put.stderr
    latest = subprocess.run(
        [*cli, "latest", "sales.orders", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(latest.stdout)["version"] == "2.0.0"


def test_catalog_errors_name_the_table_and_never_the_token(
    catalog: UnityCatalogServer, moto_s3: MotoS3
) -> None:
    catalog.register(NAME, f"s3://{catalog.bucket}/tables/errors")  # type: ignore[attr-defined]
    options = endpoint_options(moto_s3)
    with pytest.raises(StoreUnavailableError) as wrong_token:
        DeltaContractStore(
            table=NAME,
            catalog=UnityCatalog(catalog.url, token="dapi-wrong-token-99"),
            storage_options=options,
        ).put(minimal())
    assert f"did not accept the token for table '{NAME}': UNAUTHENTICATED" in str(wrong_token.value)
    assert "dapi-wrong-token-99" not in str(wrong_token.value)
    with pytest.raises(InvalidLocationError, match=r"'main\.governance\.other' is not registered"):
        DeltaContractStore(
            table="main.governance.other",
            catalog=UnityCatalog(catalog.url, token=TOKEN),
            storage_options=options,
        )
    catalog.state.readers_only.add(NAME)
    with pytest.raises(
        StoreUnavailableError, match=r"denied access for table .* PERMISSION_DENIED"
    ):
        DeltaContractStore(
            table=NAME, catalog=UnityCatalog(catalog.url, token=TOKEN), storage_options=options
        ).latest("x")
    with pytest.raises(StoreUnavailableError, match="is unreachable for table") as unreachable:
        DeltaContractStore(
            table=NAME,
            catalog=UnityCatalog("http://127.0.0.1:9", token=TOKEN),
            storage_options=options,
        )
    assert TOKEN not in str(unreachable.value)


def test_vended_temporary_credentials_work_with_their_token_and_are_never_shown(
    s3_with_auth: AuthenticatingS3,
) -> None:
    # moto checks credentials: the role's temporary keys work only with their session token
    vended = s3_with_auth.temporary_credentials()
    state = CatalogState(
        TOKEN, {"main.governance"}, vended, session_token=vended["AWS_SESSION_TOKEN"]
    )
    server = UnityCatalogServer(state)
    try:
        server.register(NAME, f"s3://{s3_with_auth.bucket_name}/catalog/contracts")
        options = {
            "AWS_ENDPOINT_URL": s3_with_auth.aws_errors,
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
        }

        def store() -> DeltaContractStore:
            catalog = UnityCatalog(server.url, token=TOKEN)
            return DeltaContractStore(table=NAME, catalog=catalog, storage_options=options)

        store().put(minimal())
        assert store().latest("sales.orders")["version"] == "1.0.0"
        # the catalog vends a token S3 refuses, and S3 repeats it in its answer (to a new
        # process: this one shares what the catalog resolved among its store objects)
        state.session_token = "revoked-" + vended["AWS_SESSION_TOKEN"]
        catalog_module._RESOLVED.clear()
        with pytest.raises(StoreUnavailableError) as caught:
            store().latest("sales.orders")
        assert "InvalidToken" in str(caught.value) and NAME in str(caught.value)
        message = str(caught.value)
        assert "<Token-0>***</Token-0>" in message  # S3 repeated it; the message hides it
        assert vended["AWS_SESSION_TOKEN"][:16] not in message
        assert vended["AWS_SECRET_ACCESS_KEY"] not in message
    finally:
        server.stop()


def test_cli_exit_codes_for_catalog_errors(catalog: UnityCatalogServer, moto_s3: MotoS3) -> None:
    env = dict(os.environ, DATABRICKS_HOST=catalog.url, DATABRICKS_TOKEN="dapi-wrong-token-99")
    run = subprocess.run(
        [sys.executable, "-m", "dc43_delta_store", "--table", NAME, "list"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 6 and "dapi-wrong-token-99" not in run.stderr
    env["DATABRICKS_TOKEN"] = TOKEN
    run = subprocess.run(
        [sys.executable, "-m", "dc43_delta_store", "--table", "main.governance.none", "list"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and "is not registered in Unity Catalog" in run.stderr


def test_catalog_from_environment_variables() -> None:
    assert UnityCatalog.from_env({}) is None
    uc = UnityCatalog.from_env({"UNITY_CATALOG_URL": "http://uc:8080", "UNITY_CATALOG_TOKEN": "t"})
    assert uc is not None and uc.url == "http://uc:8080"
    db = UnityCatalog.from_env(
        {"DATABRICKS_HOST": "adb-1.azuredatabricks.net", "DATABRICKS_TOKEN": "dapi-secret-xyz"}
    )
    assert db is not None and db.url == "https://adb-1.azuredatabricks.net"
    assert "dapi-secret-xyz" not in repr(db)


@pytest.mark.skipif(
    not os.environ.get("DC43_TEST_GCS_URI"),
    reason="GCS needs real credentials: set DC43_TEST_GCS_URI (gs://bucket/prefix) and "
    "GOOGLE_APPLICATION_CREDENTIALS to run it",
)
def test_gcs_with_real_credentials() -> None:
    uri = os.environ["DC43_TEST_GCS_URI"].rstrip("/") + f"/dc43-test-{int(time.time())}"
    store = DeltaContractStore(path=uri, validation="off")
    store.put(minimal())
    assert store.latest("sales.orders")["version"] == "1.0.0"
    assert store.put(minimal()).outcome == "unchanged"


def renewed(store: DeltaContractStore) -> None:
    """Start the renewal of the store's vended credentials (they are within their renewal
    margin) and wait until it is done."""
    credentials = store.location.credentials
    assert credentials is not None
    before = credentials.generation
    store.location.options()
    deadline = time.monotonic() + 10
    while credentials.generation == before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert credentials.generation == before + 1


def test_renewed_credentials_replace_the_ones_the_table_was_opened_with(
    s3_with_auth: AuthenticatingS3,
) -> None:
    """Once the store renews vended credentials it reads and writes with the new ones: a
    token the catalog has since revoked stops working, and working ones work again."""
    vended = s3_with_auth.temporary_credentials()
    token = vended["AWS_SESSION_TOKEN"]
    state = CatalogState(TOKEN, {"main.governance"}, vended, session_token=token)
    state.credential_seconds = 301.5  # renewed 1.5 s after each fetch
    server = UnityCatalogServer(state)
    try:
        server.register(NAME, f"s3://{s3_with_auth.bucket_name}/catalog/renewed")
        options = {
            "AWS_ENDPOINT_URL": s3_with_auth.endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
        }
        catalog = UnityCatalog(server.url, token=TOKEN)
        store = DeltaContractStore(table=NAME, catalog=catalog, storage_options=options)
        store.put(minimal())
        state.session_token = "revoked-" + token
        time.sleep(1.6)
        renewed(store)  # in the background: calls go on with the valid ones meanwhile
        with pytest.raises(StoreUnavailableError, match=NAME):
            store.put(minimal(version="1.1.0"))
        state.session_token = token
        time.sleep(1.6)
        renewed(store)
        assert store.put(minimal(version="1.1.0")).outcome == "inserted"
        assert store.list_versions("sales.orders") == ["1.0.0", "1.1.0"]
    finally:
        server.stop()


def test_with_both_catalogs_in_the_environment_unity_catalog_url_wins() -> None:
    """A Databricks workspace's variables often linger in a shell: the explicit Unity
    Catalog endpoint (and its own token) is the one used."""
    both = {
        "DATABRICKS_HOST": "adb-1.azuredatabricks.net",
        "DATABRICKS_TOKEN": "dapi-secret-xyz",
        "UNITY_CATALOG_URL": "http://uc:8080",
        "UNITY_CATALOG_TOKEN": "uc-token",
    }
    chosen = UnityCatalog.from_env(both)
    assert chosen is not None and chosen.url == "http://uc:8080"


def test_a_table_dropped_from_the_catalog_after_opening_is_store_unavailable(
    catalog: UnityCatalogServer, moto_s3: MotoS3
) -> None:
    catalog.register(NAME, f"s3://{catalog.bucket}/tables/dropped")  # type: ignore[attr-defined]
    store = DeltaContractStore(
        table=NAME,
        catalog=UnityCatalog(catalog.url, token=TOKEN),
        storage_options=endpoint_options(moto_s3),
    )
    del catalog.state.tables[NAME]  # before the store asked for credentials
    with pytest.raises(StoreUnavailableError, match=r"answered HTTP 404 for table") as caught:
        store.put(minimal())
    assert NAME in str(caught.value) and "TABLE_DOES_NOT_EXIST" in str(caught.value)
