"""Table names, warehouse folders, paths and URIs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dc43_delta_store import DeltaContractStore, InvalidLocationError, StoreUnavailableError
from dc43_delta_store.table.location import WAREHOUSE_ENV, TableLocation, resolve_location

from .conftest import minimal


def test_a_three_part_name_maps_into_the_warehouse(tmp_path: Path) -> None:
    store = DeltaContractStore(table="governance.meta.contracts", warehouse=tmp_path)
    assert store.location.uri == str(tmp_path / "governance" / "meta" / "contracts")
    assert store.location.name == "governance.meta.contracts"
    store.put(minimal())
    assert (tmp_path / "governance" / "meta" / "contracts" / "_delta_log").is_dir()


def test_the_warehouse_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WAREHOUSE_ENV, str(tmp_path / "wh"))
    assert resolve_location(table="a.b.c").uri == str(tmp_path / "wh" / "a" / "b" / "c")


def test_the_default_warehouse_is_spark_warehouse_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(WAREHOUSE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert resolve_location(table="a.b.c").uri == str(
        tmp_path / "spark-warehouse" / "a" / "b" / "c"
    )


def test_a_uri_warehouse_gives_uri_tables() -> None:
    location = resolve_location(table="gov.meta.contracts", warehouse="s3://bucket/wh/")
    assert location.uri == "s3://bucket/wh/gov/meta/contracts"
    assert location.local_path is None


@pytest.mark.parametrize(
    "name",
    ["..", "a..b", "a.b.c.d", "../etc", "/etc/passwd", "a/b", "a.b.", "", "a b", "a.$x", ".hidden"],
)
def test_names_that_could_escape_or_mean_nothing_are_rejected(name: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidLocationError, match="table name"):
        DeltaContractStore(table=name, warehouse=tmp_path)


def test_exactly_one_of_table_and_path() -> None:
    with pytest.raises(InvalidLocationError, match="exactly one"):
        DeltaContractStore()
    with pytest.raises(InvalidLocationError, match="exactly one"):
        DeltaContractStore(table="a.b.c", path="/tmp/x")


def test_paths_and_uris(tmp_path: Path) -> None:
    assert resolve_location(path=tmp_path / "t").uri == str(tmp_path / "t")
    assert resolve_location(path=f"file://{tmp_path}/t").uri == str(tmp_path / "t")
    assert resolve_location(path="s3://bucket/contracts/").uri == "s3://bucket/contracts"
    with pytest.raises(InvalidLocationError, match="unsupported path scheme 'ftp'"):
        resolve_location(path="ftp://host/x")


def test_storage_option_secrets_stay_out_of_reprs_and_messages() -> None:
    options = {"AWS_SECRET_ACCESS_KEY": "s3cr3t-value", "AWS_REGION": "eu-west-1"}
    store = DeltaContractStore(path="s3://bucket/contracts", storage_options=options)
    assert "s3cr3t" not in repr(store) and "s3cr3t" not in repr(store.location)
    location = TableLocation("s3://bucket/contracts", options)
    assert location.redact("denied for s3cr3t-value in eu-west-1") == "denied for *** in eu-west-1"


def test_a_read_only_location_is_a_store_unavailable_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # root writes anywhere: use sysfs, which nobody can
        folder = Path("/sys/dc43-delta-store-test")
    try:
        with pytest.raises(StoreUnavailableError, match=f"cannot create table {folder}"):
            DeltaContractStore(path=folder / "t").put(minimal())
    finally:
        (tmp_path / "ro").chmod(0o755)


def test_uri_schemes_in_any_case(tmp_path: Path) -> None:
    assert resolve_location(path="S3://bucket/contracts/").uri == "S3://bucket/contracts"
    assert resolve_location(path="ABFSS://c@acct.dfs.core.windows.net/t").uri.endswith("/t")
    assert resolve_location(path=f"FILE://{tmp_path}/t").uri == str(tmp_path / "t")
