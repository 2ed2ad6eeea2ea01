"""``as_of`` naming a table version whose data files vacuum deleted: an InvalidRequestError
that says so and names the versions still readable (not "unavailable, try again")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from deltalake import DeltaTable

from dc43_delta_store import DeltaContractStore, InvalidRequestError

from .conftest import minimal


@pytest.fixture
def vacuumed(tmp_path: Path) -> DeltaContractStore:
    """Versions 1-3 written, rewritten by optimize (4), then vacuumed with no retention
    (VACUUM START at 6): the files of versions 1-3 are gone."""
    store = DeltaContractStore(path=tmp_path / "t", auto_compact=None)
    store.put(minimal("c", "1.0.0"))
    store.put(minimal("c", "1.1.0"))
    store.update_metadata("c", "1.0.0", {"status": "retired"})
    store.optimize()
    DeltaTable(str(tmp_path / "t")).alter.set_table_properties(
        {"delta.deletedFileRetentionDuration": "interval 0 hours"}
    )
    assert store.vacuum(dry_run=False, retention_hours=0).files
    return store


READS = {
    "get": lambda s, v: s.get("c", "1.0.0", as_of=v),
    "latest": lambda s, v: s.latest("c", as_of=v),
    "list_versions": lambda s, v: s.list_versions("c", as_of=v),
    "list_contracts": lambda s, v: s.list_contracts(as_of=v),
    "resolve explain": lambda s, v: s.resolve("c", "^1", as_of=v, explain=True),
}


@pytest.mark.parametrize("read", READS)
def test_a_vacuumed_version_is_an_invalid_request_naming_it(
    vacuumed: DeltaContractStore, read: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        READS[read](vacuumed, 2)
    message = str(caught.value)
    assert (
        "version 2 cannot be read: its data files were deleted by vacuum at table version 6"
        in message
    )
    assert message.endswith("versions 6 to 7 are readable")
    assert READS[read](vacuumed, 7) is not None  # the versions it names are


def test_cli_get_of_a_vacuumed_version_exits_2_with_one_line(
    vacuumed: DeltaContractStore,
) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dc43_delta_store",
            "--path",
            vacuumed.location.uri,
            "get",
            "c",
            "1.0.0",
            "--as-of",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "deleted by vacuum at table version 6" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
