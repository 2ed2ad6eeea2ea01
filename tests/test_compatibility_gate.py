"""The gate on real Delta tables: the policy lives in the table, every writer enforces it,
too small a bump is refused with nothing written, and the CLI says so with exit code 7."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from dc43_delta_store import BatchError, CompatibilityError, DeltaContractStore
from dc43_delta_store.cli.commands import EXIT_CODES
from dc43_delta_store.compatibility import Override, Policy
from dc43_delta_store.compatibility.examples import BASE
from dc43_delta_store.core.records import build_row
from dc43_delta_store.errors import InvalidRequestError
from dc43_delta_store.table.delta_table import CommitFailedError, ContractTable

from .conftest import EXAMPLES


def version(number: str, *, drop_email: bool = False, **changes: Any) -> dict[str, Any]:
    """The example contract at ``number``, without its email column if asked."""
    doc = copy.deepcopy(BASE)
    doc["version"] = number
    if drop_email:
        del doc["schema"][0]["properties"][1]
    doc.update(changes)
    return doc


def test_full_policy_refuses_a_minor_bump_that_removes_a_column(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off", compatibility="full")
    store.put(version("1.0.0"))
    before = store.table_version
    with pytest.raises(CompatibilityError) as caught:
        store.put(version("1.1.0", drop_email=True))
    message = str(caught.value)
    assert "schema.customers.properties.email" in message and "property-removed" in message
    assert "need a major bump" in message
    assert "'1.0.0'" in message and "'1.1.0'" in message and "2.0.0 or higher" in message
    assert (caught.value.given_bump, caught.value.needed_bump) == ("minor", "major")
    assert store.table_version == before and store.list_versions("sales.customers") == ["1.0.0"]
    assert store.put(version("2.0.0", drop_email=True)).outcome == "inserted"


def test_the_policy_is_a_table_property_every_writer_reads(tmp_path: Path) -> None:
    admin = DeltaContractStore(path=tmp_path / "t", validation="off")
    settings = admin.set_compatibility("full_transitive", who="governance", why="GOV-7")
    assert settings.policy == Policy("full", True)
    dt = DeltaTable(str(tmp_path / "t"))
    assert dt.metadata().configuration["dc43.compatibility"] == "full_transitive"
    protocol = dt.protocol()
    assert (protocol.min_reader_version, protocol.min_writer_version) == (1, 2)
    assert protocol.writer_features is None and protocol.reader_features is None
    writer = DeltaContractStore(path=tmp_path / "t", validation="off")  # no policy of its own
    writer.put(version("1.0.0"))
    with pytest.raises(CompatibilityError):
        writer.put(version("1.0.1", drop_email=True))
    assert (
        DeltaContractStore(path=tmp_path / "t", compatibility="none")
        .put(version("1.0.1", drop_email=True))
        .inserted
    )  # a store object may replace the table's policy for itself
    assert admin.history(limit=10)[-2].user == "governance"


def test_per_contract_policy_and_overrides(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.set_compatibility("full")
    store.set_compatibility("none", contract_id="legacy.feed")
    store.put([version("1.0.0", id="legacy.feed"), version("1.0.0")][0])
    store.put(version("1.0.0"))
    assert store.put(version("1.0.1", id="legacy.feed", drop_email=True)).inserted
    with pytest.raises(CompatibilityError):
        store.put(version("1.0.1", drop_email=True))
    store.set_compatibility_overrides(
        [Override("property-removed", path="*.email", contract="sales.*", bump="patch",
                  reason="column unused, see GOV-9")]
    )  # fmt: skip
    result = store.put(version("1.0.1", drop_email=True))
    assert result.inserted and "compatible with 1.0.0" in (result.compatibility or "")
    report = store.diff("sales.customers@1.0.0", "sales.customers@1.0.1")
    (change,) = report.changes
    assert change.overridden and (change.bump, change.rule_bump) == ("patch", "major")
    settings = store.set_compatibility(None, contract_id="legacy.feed")
    assert settings.contracts == {} and settings.policy == Policy("full")
    with pytest.raises(InvalidRequestError, match="matches no rule"):
        store.set_compatibility_overrides([{"rule": "no-such-rule"}])
    with pytest.raises(InvalidRequestError):
        store.set_compatibility(None)


def test_a_batch_is_checked_in_version_order_and_refused_whole(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off", compatibility="full")
    batch = [version("1.1.0", drop_email=True), version("1.0.0"), version("2.0.0", drop_email=True)]
    with pytest.raises(BatchError) as caught:
        store.put_many(batch)
    assert [type(p.error) for p in caught.value.problems] == [CompatibilityError]
    assert caught.value.problems[0].index == 0
    assert store.table_version is None  # nothing written, not even the table
    skipped = store.put_many(batch, on_error="skip")
    assert [(r.version, r.outcome) for r in skipped.results] == [
        ("1.0.0", "inserted"),
        ("2.0.0", "inserted"),
    ]
    assert skipped.results[1].compatibility == (
        "compatible with 1.0.0 (major bump needed, 1.0.0 -> 2.0.0 is a major bump)"
    )


def test_transitive_checks_every_release_of_the_major(tmp_path: Path) -> None:
    deprecated = version("1.1.0")
    deprecated["schema"][0]["properties"][1]["tags"] = ["deprecated"]
    removed = version("1.2.0", drop_email=True)
    for policy, accepted in (("full", True), ("full_transitive", False)):
        store = DeltaContractStore(path=tmp_path / policy, validation="off", compatibility=policy)
        store.put_many([version("1.0.0"), deprecated])
        if accepted:
            assert store.put(removed).inserted  # deprecated in 1.1.0, so only a minor change
        else:
            with pytest.raises(CompatibilityError, match=r"incompatible with version '1\.0\.0'"):
                store.put(removed)


def test_zero_major_prereleases_and_first_versions(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off", compatibility="full")
    assert store.put(version("0.1.0", drop_email=True)).inserted  # first version
    assert store.put(version("0.2.0")).inserted  # 0.y.z: a minor bump may break
    with pytest.raises(CompatibilityError, match=r"need a minor bump"):
        store.put(version("0.2.1", drop_email=True))
    rc = store.put(version("0.2.1-rc.1", drop_email=True))
    assert (
        rc.inserted and rc.compatibility is not None and rc.compatibility.startswith("prerelease")
    )
    assert store.put(version("0.3.0", drop_email=True)).inserted  # compared with 0.2.0, not the rc


def test_a_policy_change_makes_a_concurrent_write_retry_under_it(tmp_path: Path) -> None:
    writer = DeltaContractStore(path=tmp_path / "t", validation="off")
    writer.put(version("1.0.0"))
    stale = DeltaTable(str(tmp_path / "t"))  # what a write read before the policy was set
    DeltaContractStore(path=tmp_path / "t").set_compatibility("full")
    row = build_row(version("1.1.0", drop_email=True))
    with pytest.raises(CommitFailedError, match=r"[Mm]etadata changed"):
        ContractTable(writer.location).insert_new(stale, [row], {}, {})
    with pytest.raises(CompatibilityError):  # the store re-reads, and the policy applies
        writer.put(version("1.1.0", drop_email=True))


# -- the command line ------------------------------------------------------------------------

SCRIPT = Path(sys.executable).with_name("dc43-delta-store")


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dc43_delta_store", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[1])},
    )


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def test_cli_diff_json_and_exit_codes(tmp_path: Path) -> None:
    old = write(tmp_path / "old.json", version("1.0.0"))
    new = write(tmp_path / "new.json", version("1.1.0", drop_email=True))
    shown = run("diff", str(old), str(new), "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["required_bump"] == "major" and data["compatible"] is False
    (change,) = data["changes"]
    assert change["rule"] == "property-removed"
    assert change["path"] == "schema.customers.properties.email"
    assert change["bump"] == "major" and change["overridden"] is False
    assert {"old", "new", "consumers", "producers", "line"} <= set(change)
    assert run("diff", str(old), str(new), "--check").returncode == EXIT_CODES["incompatible"] == 7
    assert run("diff", str(old), str(new), "--fail-on", "major").returncode == 7
    assert run("diff", str(old), str(old), "--fail-on", "patch").returncode == 0
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("- rule: property-removed\n  bump: minor\n  reason: unused\n")
    relaxed = run("diff", str(old), str(new), "--check", "--overrides", str(overrides))
    assert relaxed.returncode == 0 and "overridden: the rule says major; unused" in relaxed.stdout
    overrides.write_text("- rule: property-removed\n  bump: [minor\n")
    broken = run("diff", str(old), str(new), "--overrides", str(overrides))
    assert broken.returncode == EXIT_CODES["usage"]
    assert broken.stderr.startswith(f"error: overrides file {overrides}: invalid YAML")
    overrides.write_bytes(b"\xff- rule: x\n")
    undecodable = run("diff", str(old), str(new), "--overrides", str(overrides))
    assert undecodable.returncode == EXIT_CODES["usage"]
    assert f"cannot read overrides file {overrides}" in undecodable.stderr
    github = run("diff", str(old), str(new), "--format", "github")
    assert github.stdout.startswith(f"::error file={new},line=")
    junit = tmp_path / "diff.xml"
    run("diff", str(old), str(new), "--junit-xml", str(junit))
    assert 'failures="2"' in junit.read_text()
    missing = run("diff", str(tmp_path / "nope.yaml"), str(new))
    assert missing.returncode == EXIT_CODES["usage"] and "neither a file" in missing.stderr


def test_cli_gate_put_ingest_and_policy_commands(tmp_path: Path) -> None:
    table = ["--path", str(tmp_path / "t")]
    assert run(*table, "compatibility", "set", "full", "--who", "gov").returncode == 0
    shown = run(*table, "compatibility", "show", "--json")
    assert json.loads(shown.stdout)["policy"] == "full"
    folder = tmp_path / "contracts"
    folder.mkdir()
    write(folder / "c-1.0.0.json", version("1.0.0"))
    assert run(*table, "ingest", str(folder)).returncode == 0
    write(folder / "c-1.1.0.json", version("1.1.0", drop_email=True))
    plan = run(*table, "ingest", str(folder), "--dry-run", "--json")
    assert plan.returncode == EXIT_CODES["incompatible"]
    rows = {row["source"].rsplit("/", 1)[1]: row for row in json.loads(plan.stdout)}
    assert rows["c-1.1.0.json"]["outcome"] == "incompatible"
    assert "schema.customers.properties.email" in rows["c-1.1.0.json"]["message"]
    assert rows["c-1.0.0.json"]["outcome"] == "unchanged"
    refused = run(*table, "put", str(folder / "c-1.1.0.json"))
    assert refused.returncode == 7 and "need a major bump" in refused.stderr
    write(folder / "c-1.1.0.json", version("2.0.0", drop_email=True))
    accepted = run(*table, "ingest", str(folder))
    assert accepted.returncode == 0 and "compatible with 1.0.0" in accepted.stdout
    by_ref = run(*table, "diff", "sales.customers@1.0.0", "sales.customers@2.0.0", "--json")
    assert json.loads(by_ref.stdout)["changes"][0]["line"] is None
    override = run(*table, "compatibility", "override", "sla-*", "--bump", "minor")
    assert override.returncode == 0
    assert json.loads(run(*table, "compatibility", "show", "--json").stdout)["overrides"] == [
        {"rule": "sla-*", "bump": "minor"}
    ]
    assert run(*table, "compatibility", "override", "sla-*", "--remove").returncode == 0
    assert run(*table, "compatibility", "override", "sla-*", "--remove").returncode == 2
    listed = run("compatibility", "rules", "--json")
    assert {row["rule"] for row in json.loads(listed.stdout)} >= {
        "property-removed",
        "sla-weakened",
    }


def test_the_examples_folder_fails_the_full_policy_where_it_should(tmp_path: Path) -> None:
    """orders 1.1.0 adds a required column under a minor bump: producers must now fill it."""
    store = DeltaContractStore(path=tmp_path / "t", validation="off", compatibility="full")
    plan = store.put_many(sorted(EXAMPLES.rglob("*.odcs.*")), dry_run=True)
    refused = {(p.error.contract_id, p.error.version) for p in plan.problems}  # type: ignore[attr-defined]
    assert refused == {("sales.orders", "1.1.0")}


def _with_phone(number: str) -> dict[str, Any]:
    """The example contract at ``number`` with one more optional column (a minor change)."""
    doc = version(number)
    doc["schema"][0]["properties"].append({"name": "phone", "logicalType": "string"})
    return doc


def test_a_breaking_change_tried_in_a_prerelease_is_still_refused_in_the_release(
    tmp_path: Path,
) -> None:
    """Prereleases are never refused, and never a baseline: a release is compared with the
    release before it, so a break first published as ``1.1.0-rc.1`` does not slip into
    ``1.1.0``, and a release that drops what only its rc added is no change at all."""
    store = DeltaContractStore(path=tmp_path / "t", validation="off", compatibility="full")
    store.put(version("1.0.0"))
    assert store.put(version("1.1.0-rc.1", drop_email=True)).inserted  # not enforced
    with pytest.raises(CompatibilityError, match=r"incompatible with version '1\.0\.0'"):
        store.put(version("1.1.0", drop_email=True))
    assert store.put(_with_phone("1.2.0-rc.1")).inserted
    result = store.put(version("1.2.0"))  # the rc's phone column dropped again
    assert result.inserted and "compatible with 1.0.0" in (result.compatibility or "")


def test_transitive_policies_stay_within_the_major(tmp_path: Path) -> None:
    """``full_transitive`` checks a version against every earlier release of its own major:
    2.1.0 is not refused because 2.0.0 broke 1.x (that break was a major bump)."""
    store = DeltaContractStore(
        path=tmp_path / "t", validation="off", compatibility="full_transitive"
    )
    store.put(version("1.0.0"))
    assert store.put(version("2.0.0", drop_email=True)).inserted
    result = store.put(_with_phone("2.1.0"))
    assert result.inserted and "compatible with 2.0.0" in (result.compatibility or "")
    assert "1.0.0" not in (result.compatibility or "")


def test_a_contracts_own_override_beats_the_table_wide_one(tmp_path: Path) -> None:
    """Overrides naming a contract are tried before table-wide ones, whatever their order:
    a table that ignores removed columns can still hold one contract to the rule."""
    store = DeltaContractStore(path=tmp_path / "t", validation="off", compatibility="full")
    store.set_compatibility_overrides(
        [
            {"rule": "property-removed", "bump": "none", "reason": "table-wide"},
            {"rule": "property-removed", "contract": "sales.customers", "bump": "major"},
        ]
    )
    store.put(version("1.0.0"))
    store.put(version("1.0.0", id="legacy.feed"))
    assert store.put(version("1.0.1", id="legacy.feed", drop_email=True)).inserted
    with pytest.raises(CompatibilityError, match="need a major bump"):
        store.put(version("1.0.1", drop_email=True))
    (change,) = store.diff("sales.customers@1.0.0", version("1.0.1", drop_email=True)).changes
    assert change.bump == "major" and change.override is not None
    assert change.override.contract == "sales.customers"


def test_the_refusal_suggests_the_lowest_version_that_bumps_enough(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off", compatibility="full")
    store.put(version("1.4.2"))
    with pytest.raises(CompatibilityError) as minor:
        store.put(_with_phone("1.4.3"))
    assert minor.value.suggested_version == "1.5.0" and "(1.5.0 or higher)" in str(minor.value)
    with pytest.raises(CompatibilityError) as major:
        store.put(version("1.5.0", drop_email=True))
    assert major.value.suggested_version == "2.0.0" and "(2.0.0 or higher)" in str(major.value)


def test_cli_diff_check_passes_a_prerelease_and_applies_the_tables_settings(
    tmp_path: Path,
) -> None:
    """``diff --check`` agrees with the gate: a prerelease is reported, never refused; and a
    side read from the table (``ID@VERSION``) brings the table's overrides with it."""
    old = write(tmp_path / "old.json", version("1.0.0"))
    rc = write(tmp_path / "rc.json", version("1.1.0-rc.1", drop_email=True))
    assert run("diff", str(old), str(rc), "--check").returncode == 0
    assert run("diff", str(old), str(rc), "--fail-on", "major").returncode == 7
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(version("1.0.0"))
    store.set_compatibility_overrides(
        [{"rule": "property-removed", "bump": "minor", "reason": "GOV-9"}]
    )
    new = write(tmp_path / "new.json", version("1.1.0", drop_email=True))
    table = ["--path", str(tmp_path / "t")]
    checked = run(*table, "diff", "sales.customers@1.0.0", str(new), "--check", "--json")
    assert checked.returncode == 0, checked.stderr
    (change,) = json.loads(checked.stdout)["changes"]
    assert change["overridden"] and change["bump"] == "minor"
    assert change["override"]["reason"] == "GOV-9"
    assert run("diff", str(old), str(new), "--check").returncode == 7  # files: no table


def test_store_diff_judges_in_the_mode_asked_for(tmp_path: Path) -> None:
    """``mode=`` wins over the contract's policy: a removed column breaks consumers (major
    under full) but not producers (minor under forward)."""
    store = DeltaContractStore(path=tmp_path / "t", validation="off", compatibility="full")
    store.put(version("1.0.0"))
    new = version("1.1.0", drop_email=True)
    assert store.diff("sales.customers@1.0.0", new).required_bump == "major"
    forward = store.diff("sales.customers@1.0.0", new, mode="forward")
    assert forward.required_bump == "minor" and forward.compatible
    assert store.diff("sales.customers@1.0.0", new, mode="none").required_bump == "minor"


def test_an_unknown_diff_mode_is_a_request_error_naming_the_modes(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    with pytest.raises(InvalidRequestError, match=r"none, backward, forward, full, not 'bogus'"):
        store.diff(version("1.0.0"), version("1.1.0"), mode="bogus")  # type: ignore[arg-type]


def test_cli_diff_json_names_each_side_and_the_line_in_the_new_file(tmp_path: Path) -> None:
    old = write(tmp_path / "old.json", version("1.0.0"))
    new_doc = version("1.1.0")
    new_doc["schema"][0]["properties"][1]["description"] = "where to write"
    new = write(tmp_path / "new.json", new_doc)
    shown = run("diff", str(old), str(new), "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert (data["old"]["source"], data["new"]["source"]) == (str(old), str(new))
    (change,) = data["changes"]
    line = new.read_text(encoding="utf-8").splitlines()[change["line"] - 1]
    assert '"description": "where to write"' in line


def test_store_diff_judges_under_the_stores_policy_and_the_settings_as_of(tmp_path: Path) -> None:
    """Without ``mode``: the store's own ``compatibility=`` wins over the table's, and with
    ``as_of`` the table's policy is the one it had then."""
    path = tmp_path / "t"
    forward = DeltaContractStore(path=path, validation="off", compatibility="forward")
    forward.put(version("1.0.0"))
    new = version("1.1.0", drop_email=True)  # breaks consumers (full), not producers
    result = forward.diff("sales.customers@1.0.0", new)
    assert (result.mode, result.required_bump) == ("forward", "minor")

    admin = DeltaContractStore(path=path, validation="off")
    admin.set_compatibility("forward")
    then = admin.table_version
    admin.set_compatibility("full")
    assert admin.diff("sales.customers@1.0.0", new).mode == "full"
    earlier = admin.diff("sales.customers@1.0.0", new, as_of=then)
    assert (earlier.mode, earlier.required_bump) == ("forward", "minor")
