"""The gate cannot be bypassed: policies are checked when written and when read, malformed
documents are breaking changes, a version is checked against its neighbours on both sides
(also when two processes race), and a version the order cannot place is refused."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from deltalake import DeltaTable

from dc43_delta_store import CompatibilityError, DeltaContractStore, diff
from dc43_delta_store.cli import EXIT_CODES, cli
from dc43_delta_store.compatibility import Policy
from dc43_delta_store.errors import IncompatibleTableError, InvalidRequestError

from .conftest import ROOT
from .test_compatibility_gate import version, write

ID = "sales.customers"


def run(*args: str) -> Result:
    """The command line, in this process."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def with_column(number: str, name: str, **fields: Any) -> dict[str, Any]:
    """The example contract at ``number`` with one more (optional) column."""
    doc = version(number)
    doc["schema"][0]["properties"].append({"name": name, "logicalType": "string", **fields})
    return doc


def foreign_properties(path: Path, **properties: str) -> None:
    """Table properties as another tool (Spark's ALTER TABLE ... SET TBLPROPERTIES) writes
    them."""
    DeltaTable(str(path)).alter.set_table_properties(
        {key.replace("_", "."): value for key, value in properties.items()},
        raise_if_not_exists=False,
    )


# -- policies are validated when written and when read ---------------------------------------


def test_none_cannot_be_transitive(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.set_compatibility("full")
    before = store.table_version
    for text in ("none_transitive", "NONE-transitive"):
        with pytest.raises(InvalidRequestError, match=f"'{text}' is not one of"):
            store.set_compatibility(text)
    with pytest.raises(InvalidRequestError, match=r"none checks nothing, so it cannot be tr"):
        Policy("none", True)
    with pytest.raises(InvalidRequestError, match="none cannot be transitive"):
        DeltaContractStore(path=tmp_path / "t", compatibility="none_transitive")
    table = ["--path", str(tmp_path / "t")]
    refused = run(*table, "compatibility", "set", "none", "--transitive")
    assert refused.exit_code == EXIT_CODES["usage"]
    assert "'none_transitive' is not allowed" in refused.stderr
    assert "backward_transitive, forward_transitive, full_transitive" in refused.stderr
    assert store.table_version == before
    assert DeltaTable(str(tmp_path / "t")).metadata().configuration["dc43.compatibility"] == "full"


@pytest.mark.parametrize("value", ["none_transitive", "strict", "FULL TRANSITIVE"])
def test_an_unreadable_policy_refuses_writes_and_diffs_and_names_the_repair(
    tmp_path: Path, value: str
) -> None:
    """Never read as ``none``: a put that would have been refused must not go in."""
    path = tmp_path / "t"
    store = DeltaContractStore(path=path, validation="off")
    store.put(version("1.0.0"))
    foreign_properties(path, dc43_compatibility=value)
    before = store.table_version
    for attempt in (
        lambda: store.put(version("1.0.1", drop_email=True)),
        lambda: store.diff(f"{ID}@1.0.0", version("1.0.1")),
        store.compatibility_settings,
    ):
        with pytest.raises(IncompatibleTableError) as caught:
            attempt()
        message = str(caught.value)
        assert f"dc43.compatibility holds {value!r}" in message
        assert "repair it: dc43-delta-store compatibility set" in message
    assert store.table_version == before and store.list_versions(ID) == ["1.0.0"]
    table = ["--path", str(path)]
    for command in (["compatibility", "show"], ["diff", f"{ID}@1.0.0", f"{ID}@1.0.0"]):
        shown = run(*table, *command)
        assert shown.exit_code == EXIT_CODES["table"], shown.stderr
        assert shown.stderr.count("\n") == 1 and value in shown.stderr
    repaired = run(*table, "compatibility", "set", "full")  # the repair is never blocked
    assert repaired.exit_code == 0, repaired.stderr
    with pytest.raises(CompatibilityError):
        store.put(version("1.0.1", drop_email=True))


def test_unreadable_per_contract_policies_and_overrides_are_repaired_one_by_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t"
    store = DeltaContractStore(path=path, validation="off")
    store.set_compatibility("full")
    store.set_compatibility("none", contract_id="legacy.feed")
    foreign_properties(
        path,
        dc43_compatibility_contracts=json.dumps({"legacy.feed": "none", "b": "lenient"}),
        dc43_compatibility_overrides='[{"rule": "no-such-rule"}]',
    )
    with pytest.raises(IncompatibleTableError) as caught:
        store.put(version("1.0.0"))
    message = str(caught.value)
    assert "(contract 'b') holds 'lenient'" in message
    assert "compatibility set default --contract b" in message
    assert "dc43.compatibility.overrides holds" in message and "no-such-rule" in message
    assert "compatibility override --clear" in message
    table = ["--path", str(path)]
    # repairing one part keeps the others as they were, readable or not
    assert run(*table, "compatibility", "set", "default", "--contract", "b").exit_code == 0
    configuration = DeltaTable(str(path)).metadata().configuration
    assert json.loads(configuration["dc43.compatibility.contracts"]) == {"legacy.feed": "none"}
    assert configuration["dc43.compatibility.overrides"] == '[{"rule": "no-such-rule"}]'
    cleared = run(*table, "compatibility", "override", "--clear", "--why", "GOV-3")
    assert cleared.exit_code == 0, cleared.stderr
    settings = store.compatibility_settings()
    assert settings.policy == Policy("full") and settings.overrides == ()
    assert settings.contracts == {"legacy.feed": Policy("none")}


def test_the_repair_of_one_property_leaves_another_unreadable_one_reported(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t"
    DeltaContractStore(path=path, validation="off").put(version("1.0.0"))
    foreign_properties(path, dc43_compatibility="strict", dc43_compatibility_contracts="[1]")
    table = ["--path", str(path)]
    partial = run(*table, "compatibility", "set", "full")
    assert partial.exit_code == 0
    assert "warning: table property dc43.compatibility.contracts holds '[1]'" in partial.stderr
    configuration = DeltaTable(str(path)).metadata().configuration
    assert configuration["dc43.compatibility"] == "full"
    assert configuration["dc43.compatibility.contracts"] == "[1]"  # not silently dropped
    assert run(*table, "compatibility", "set", "none", "--contract", "x").exit_code == 0
    assert json.loads(
        DeltaTable(str(path)).metadata().configuration["dc43.compatibility.contracts"]
    ) == {"x": "none"}


def test_check_reports_an_unreadable_policy_and_its_fix_works(tmp_path: Path) -> None:
    path = tmp_path / "t"
    store = DeltaContractStore(path=path, validation="off")
    store.put(version("1.0.0"))
    foreign_properties(path, dc43_compatibility="none_transitive")
    report = store.check()
    (finding,) = [f for f in report.findings if f.check == "compatibility_settings"]
    assert finding.severity == "error" and "'none_transitive'" in finding.message
    assert finding.details["property"] == "dc43.compatibility"
    table = ["--path", str(path)]
    checked = run(*table, "check")
    assert checked.exit_code == EXIT_CODES["table"]
    assert "fix: dc43-delta-store compatibility set" in checked.stdout
    fix = ["compatibility", "set", "none"]  # the fix, as a user would follow it
    assert run(*table, *fix).exit_code == 0
    assert run(*table, "check").exit_code == 0
    assert store.check().healthy


# -- documents the differ cannot read --------------------------------------------------------


@pytest.mark.parametrize(
    "properties",
    [
        [{"name": "id", "logicalType": "integer", "required": True}, "x"],
        {"id": {"logicalType": "integer", "required": True}},
        "id, email, tier",
    ],
)
def test_properties_in_a_shape_odcs_does_not_give_are_a_breaking_change(
    tmp_path: Path, properties: Any
) -> None:
    """The default validation (warn) stores a document the schema refuses: the gate must not
    wave it in as a patch."""
    store = DeltaContractStore(path=tmp_path / "t", compatibility="full")
    store.put(version("1.0.0"))
    malformed = version("1.0.1")
    malformed["schema"][0]["properties"] = properties
    result = diff(version("1.0.0"), malformed)
    assert result.required_bump == "major"
    assert "malformed-changed" in [change.rule for change in result.changes]
    with pytest.raises(CompatibilityError, match=r"malformed-changed at schema\.customers"):
        store.put(malformed)
    assert store.list_versions(ID) == ["1.0.0"]
    assert store.put({**malformed, "version": "2.0.0"}).inserted  # a major bump may


def test_non_object_elements_are_reported_at_their_own_position() -> None:
    new = version("1.0.1")
    properties = new["schema"][0]["properties"]
    properties.insert(1, "x")
    properties[2]["description"] = "changed"  # email, now at index 2
    changes = {change.rule: change for change in diff(version("1.0.0"), new).changes}
    assert changes["malformed-changed"].pointer == "/schema/0/properties/1"
    assert changes["description-changed"].pointer == "/schema/0/properties/2/description"


# -- neighbours on both sides ----------------------------------------------------------------


@pytest.mark.parametrize("policy", ["full", "full_transitive", "backward"])
def test_a_version_put_below_a_stored_one_is_checked_against_it(
    tmp_path: Path, policy: str
) -> None:
    """1.2.0 adds ``y``; 1.1.0 then adds ``x``, which 1.2.0 does not have: 1.1.0 -> 1.2.0
    would drop a column under a minor bump."""
    store = DeltaContractStore(path=tmp_path / "t", validation="off", compatibility=policy)
    store.put(version("1.0.0"))
    store.put(with_column("1.2.0", "y"))
    before = store.table_version
    with pytest.raises(CompatibilityError) as caught:
        store.put(with_column("1.1.0", "x"))
    error = caught.value
    assert (error.version, error.baseline, error.later) == ("1.1.0", "1.2.0", True)
    assert "incompatible with the later version '1.2.0'" in str(error)
    assert "1.1.0 -> 1.2.0 is a minor bump" in str(error)
    assert store.table_version == before and store.list_versions(ID) == ["1.0.0", "1.2.0"]
    fits = store.put(version("1.1.0"))  # 1.0.0 again: 1.2.0 only adds y to it
    assert fits.inserted and fits.compatibility == (
        "compatible with 1.0.0, 1.2.0 (none bump needed, 1.0.0 -> 1.1.0 is a minor bump)"
    )


def test_transitive_policies_check_every_higher_release_of_the_major(tmp_path: Path) -> None:
    """1.3.0 drops ``x`` deprecated in 1.2.0 (a minor change from 1.2.0): under a transitive
    policy a 1.1.0 that adds ``x`` without deprecating it is refused because of 1.3.0."""
    deprecated = with_column("1.2.0", "x", tags=["deprecated"])
    for policy, accepted in (("full", True), ("full_transitive", False)):
        store = DeltaContractStore(path=tmp_path / policy, validation="off", compatibility=policy)
        store.put_many([version("1.0.0"), deprecated, version("1.3.0"), version("2.0.0")])
        if accepted:
            assert store.put(with_column("1.1.0", "x")).inserted
        else:
            with pytest.raises(CompatibilityError, match=r"the later version '1\.3\.0'"):
                store.put(with_column("1.1.0", "x"))


def test_a_batch_below_stored_versions_is_checked_against_them(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off", compatibility="full")
    store.put(version("1.0.0"))
    store.put(with_column("1.2.0", "y"))
    batch = [with_column("1.1.0", "x"), version("1.1.5")]
    result = store.put_many(batch, on_error="skip")
    assert [(r.version, r.outcome) for r in result.results] == [("1.1.5", "inserted")]
    assert [p.error.version for p in result.problems] == ["1.1.0"]  # type: ignore[attr-defined]


def _ready(seconds: float) -> None:
    time.sleep(seconds)


def _put_at(path: str, document: dict[str, Any], start: float) -> str:
    store = DeltaContractStore(path=path, validation="off")
    store.list_versions(ID)  # warm: the race is between the writes
    time.sleep(max(0.0, start - time.time()))
    try:
        return store.put(document).outcome
    except CompatibilityError:
        return "refused"


@pytest.mark.slow
def test_racing_writers_below_and_above_never_store_an_incompatible_pair(
    tmp_path: Path,
) -> None:
    """Two processes put 1.2.0 (adds y) and 1.1.0 (adds x) at the same moment: whichever
    commits first, the other is compared with it (both sides, serialized by the gate's
    Delta transaction) and refused. Before, 1.1.0 was never compared with 1.2.0 and both
    went in whenever 1.2.0 won (4 of 8 rounds)."""
    context = multiprocessing.get_context("spawn")
    winners = set()
    with context.Pool(2) as pool:
        pool.map(_ready, [0.5, 0.5])  # both workers have imported the store
        for round_ in range(8):
            path = str(tmp_path / f"t{round_}")
            store = DeltaContractStore(path=path, validation="off")
            store.set_compatibility("full")
            store.put(version("1.0.0"))
            start = time.time() + 0.3
            jobs = [
                (path, with_column("1.2.0", "y"), start),
                (path, with_column("1.1.0", "x"), start),
            ]
            outcomes = pool.starmap(_put_at, jobs)
            assert sorted(outcomes) == ["inserted", "refused"], (round_, outcomes)
            stored = DeltaContractStore(path=path).list_versions(ID)
            assert stored in (["1.0.0", "1.1.0"], ["1.0.0", "1.2.0"]), (round_, stored)
            winners.add(stored[1])
    print(f"winners over 8 rounds: {sorted(winners)}")


# -- versions the order cannot place ---------------------------------------------------------


def test_a_version_outside_the_order_is_refused_under_a_policy(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.set_compatibility("full")
    store.put_many([version("1.0.0"), version("1.0.1")])
    for text in ("2024-01-01", "latest"):
        with pytest.raises(InvalidRequestError) as caught:
            store.put(version(text, drop_email=True))
        assert f"version {text!r} cannot be placed in the version order" in str(caught.value)
        assert "compatibility set none --contract sales.customers" in str(caught.value)
    assert store.list_versions(ID) == ["1.0.0", "1.0.1"]
    table = ["--path", str(tmp_path / "t")]
    write(tmp_path / "d.json", version("2024-01-01"))
    refused = run(*table, "put", str(tmp_path / "d.json"))
    assert refused.exit_code == EXIT_CODES["invalid"] and "2024-01-01" in refused.stderr
    plain = DeltaContractStore(path=tmp_path / "t", validation="off", compatibility="none")
    assert plain.put(version("2024-01-01", drop_email=True)).inserted  # no policy: stored
    # stored unordered versions are no baseline: the next release is compared with 1.0.1
    result = store.put(version("1.0.2"))
    assert result.inserted and result.compatibility is not None
    assert result.compatibility.startswith("compatible with 1.0.1 ")


def test_a_version_of_equal_precedence_gives_no_bump(tmp_path: Path) -> None:
    """``1.0`` ranks next to ``1.0.0`` (same numbers; by text, just below it): changes
    between them must need no bump, whichever side they are on."""
    store = DeltaContractStore(path=tmp_path / "t", validation="off", compatibility="full")
    store.put_many([version("1.0.0"), version("1.0.1")])
    with pytest.raises(CompatibilityError, match=r"1\.0 -> 1\.0\.0 is no bump"):
        store.put(version("1.0", drop_email=True))
    with pytest.raises(CompatibilityError, match=r"1\.0\.1 -> 1\.0\.1\+b2 is no bump"):
        store.put(version("1.0.1+b2", drop_email=True))
    assert store.put(version("1.0", status="retired")).inserted  # needs no bump
    assert store.list_versions(ID) == ["1.0", "1.0.0", "1.0.1"]


# -- overrides as mappings -------------------------------------------------------------------


def test_diff_takes_overrides_in_the_shape_of_an_overrides_file(tmp_path: Path) -> None:
    store = DeltaContractStore(path=tmp_path / "t", validation="off")
    store.put(version("1.0.0"))
    new = version("1.1.0", drop_email=True)
    ignored = store.diff(f"{ID}@1.0.0", new, overrides=[{"rule": "*", "bump": "none"}])
    assert ignored.required_bump == "none" and ignored.changes[0].overridden
    assert diff(version("1.0.0"), new, overrides=[{"rule": "property-*"}]).compatible
    for bad, field in (
        ([{"rule": "*", "bumps": "none"}], "unknown keys: bumps"),
        ([{"rule": "*", "bump": 3}], "overrides[0].bump must be text"),
        ([{"rule": "*", "bump": "huge"}], "override bump must be one of"),
        ([{"bump": "none"}], "overrides[0] must be a mapping with a 'rule'"),
        ({"rule": "*"}, "overrides must be a list of overrides"),
        ("*", "overrides must be a list of overrides"),
    ):
        with pytest.raises(
            InvalidRequestError, match=field.replace("[", r"\[").replace("]", r"\]")
        ):
            store.diff(f"{ID}@1.0.0", new, overrides=bad)  # type: ignore[arg-type]


# -- the README ------------------------------------------------------------------------------


def _printed(code: str) -> list[str]:
    """What the comments of a README example say its prints print (on the line, or on the
    comment line right after it)."""
    lines = code.splitlines()
    expected = []
    for number, line in enumerate(lines):
        if line.lstrip().startswith("print("):
            comment = line if "#" in line else lines[number + 1]
            expected.append(comment.split("#", 1)[1].strip())
    return expected


def test_the_compatibility_example_runs_after_the_quick_start(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = re.search(r"```python\n(.*?)```", readme, re.S)
    section = readme.split("\n## Compatibility\n", 1)[1]
    example = re.search(r"```python\n(.*?)```", section, re.S)
    assert quick_start is not None and example is not None
    env = dict(os.environ, DC43_DELTA_STORE_WAREHOUSE=str(tmp_path))
    for _ in range(2):  # and again: it runs as written on the tables it left
        ran = subprocess.run(
            [sys.executable, "-c", quick_start.group(1) + example.group(1)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert ran.stdout.splitlines()[-3:] == _printed(example.group(1))
