"""A table dropped and created again at the same path under a long-lived store: every read
answers from the new table, and what the store remembered of the old one is dropped."""

from __future__ import annotations

import shutil
from pathlib import Path

import boto3
import pytest

from dc43_delta_store import DeltaContractStore

from .conftest import minimal
from .servers import MotoS3


def document(version: str, usage: str) -> dict[str, object]:
    return minimal("c", version, description={"usage": usage})


@pytest.mark.parametrize("new_commits", [1, 6])  # fewer and more commits than the old table
def test_a_long_lived_store_follows_a_replaced_table(tmp_path: Path, new_commits: int) -> None:
    path = tmp_path / "t"
    service = DeltaContractStore(path=path)
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        service.put(document(version, "old"))
    assert service.latest("c")["version"] == "1.2.0"
    assert service.get("c", "1.0.0")["description"]["usage"] == "old"
    assert service.resolve("c", "^1", explain=True).chosen == "1.2.0"

    shutil.rmtree(path)
    other = DeltaContractStore(path=path)
    versions = [f"0.{n}.0" for n in range(1, new_commits + 1)]
    for version in versions:
        other.put(document(version, "new"))

    assert service.latest("c")["version"] == versions[-1]
    assert service.list_versions("c") == versions
    assert service.list_contracts() == ["c"]
    assert not service.exists("c", "1.0.0")
    assert service.resolve("c", "^1", explain=True).chosen is None
    assert service.get("c", "0.1.0")["description"]["usage"] == "new"
    assert service.put(document("2.0.0", "after")).outcome == "inserted"  # writes follow too
    assert DeltaContractStore(path=path).list_versions("c") == [*versions, "2.0.0"]


def test_a_long_lived_store_follows_a_table_replaced_on_s3(moto_s3: MotoS3) -> None:
    """On an object store the refresh's LIST shows the commit file of the version known as
    another object (another ETag): the table is opened anew."""
    bucket = moto_s3.bucket()
    uri, options = f"s3://{bucket}/t", moto_s3.options()
    service = DeltaContractStore(path=uri, storage_options=options)
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        service.put(document(version, "old"))
    assert service.latest("c")["version"] == "1.2.0"
    client = boto3.client(
        "s3",
        endpoint_url=moto_s3.endpoint,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        region_name="us-east-1",
    )
    for item in client.list_objects_v2(Bucket=bucket)["Contents"]:
        client.delete_object(Bucket=bucket, Key=item["Key"])
    other = DeltaContractStore(path=uri, storage_options=options)
    for version in ("0.1.0", "0.2.0", "0.3.0", "0.4.0"):  # as many commits as before, and one
        other.put(document(version, "new"))
    assert service.latest("c")["version"] == "0.4.0"
    assert service.list_versions("c") == ["0.1.0", "0.2.0", "0.3.0", "0.4.0"]
    assert service.get("c", "0.1.0")["description"]["usage"] == "new"
    assert not service.exists("c", "1.2.0")
