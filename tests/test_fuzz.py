"""Property-based fuzzing of the public API and the command line with hostile values.

Whatever is thrown at them: only typed errors (``ContractStoreError``; on the command line a
documented exit code other than 1 and never a traceback), the table version unchanged after
every refusal, and every acknowledged version still read back exactly as it was put.

Size: ``DC43_FUZZ_EXAMPLES`` (default 15: API runs of up to 20 steps each, and four times as
many command lines); ``DC43_FUZZ_SEED`` fixes hypothesis' seed. For example
``DC43_FUZZ_EXAMPLES=500 DC43_FUZZ_SEED=1 .venv/bin/python -m pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, seed, settings
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from dc43_delta_store import ContractStoreError, DeltaContractStore
from dc43_delta_store.cli import EXIT_CODES, cli
from dc43_delta_store.cli.support import ENVIRONMENT
from dc43_delta_store.core.canonical import strip_nulls

EXAMPLES = int(os.environ.get("DC43_FUZZ_EXAMPLES", "15"))
SEED = os.environ.get("DC43_FUZZ_SEED")
SECRET = "fuzz-secret-7f3a"


class Huge(int):
    """An integer too long for Python to print by default, that hypothesis can still show."""

    def __repr__(self) -> str:
        return f"Huge(<{self.bit_length()}-bit int>)"


def seeded(test: Any) -> Any:
    return seed(int(SEED))(test) if SEED else test


# -- hostile values ------------------------------------------------------------------------------

nasty_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "\udc00",
            "x\ud800y",
            "cafe\u0301",
            "café",
            "h.\u200bbase",
            "\u202esales",
            "a\u00a0b",
            "\ufeff",
            "1.0.0",
            "v1",
            "1.2.0-rc.1",
            "0x1F",
            "1e-400",
            "99999999999999999999",
            "-1",
            "nan",
            "true",
            "yes",
            "2024-01-01",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00Z",
            "'; DROP TABLE contracts; --",
            "sales.orders",
            "x" * 1001,
        ]
    ),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**63, -(2**63) - 1, Huge(10**4400)]),
    st.floats(allow_nan=True, allow_infinity=True),
    nasty_text,
    st.dates(),
    st.datetimes(timezones=st.sampled_from([None, dt.UTC, dt.timezone(dt.timedelta(hours=5))])),
    st.binary(max_size=4),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(nasty_text, st.integers()), inner, max_size=3),
        st.frozensets(st.integers(), max_size=2),
    ),
    max_leaves=6,
)
ids = st.one_of(st.sampled_from(["sales.orders", "fin.invoices", "x"]), nasty_text, scalars)
versions = st.one_of(st.sampled_from(["1.0.0", "1.1.0", "2.0.0-rc.1", "10.0"]), nasty_text)
good_documents = st.builds(
    lambda i, v, extra: {"id": i, "version": v, **extra},
    st.sampled_from(["sales.orders", "fin.invoices", "x", "caf\u00e9"]),
    st.sampled_from(["1.0.0", "1.1.0", "2.0.0-rc.1", "10.0", "3"]),
    st.dictionaries(
        st.sampled_from(["name", "status", "domain", "x"]), st.text(max_size=5), max_size=2
    ),
)
documents = st.one_of(
    good_documents,
    good_documents,
    st.builds(
        lambda i, v, extra: {
            "apiVersion": "v3.1.0",
            "kind": "DataContract",
            "id": i,
            "version": v,
            "status": "active",
            **extra,
        },
        ids,
        versions,
        st.dictionaries(nasty_text, values, max_size=3),
    ),
    st.dictionaries(st.sampled_from(["id", "version", "uuid", "status", "name"]), values),
    nasty_text,
    st.sampled_from(
        [
            "id: a\nversion: 1.10\n",
            "id: a\nversion: '1'\nx: 1e-400\n",
            "id: a\nversion: '1'\nx: !!binary aGk=\n",
            '{"id": "a", "version": "1", "x": 1e400}',
            "id: a\nversion: '1'\nv: no\nt: 12:30\n",
            "id: [a\n",
            "/nonexistent/file.yaml",
            "a\x00.yaml",
        ]
    ),
    values,
)
column_names = st.one_of(
    st.sampled_from(
        ["owner", "OWNER", "Owner", "status", "Status", "json", "kind", "score", "_order"]
    ),
    nasty_text,
)
column_types = st.one_of(
    st.sampled_from(["string", "boolean", "long", "double", "date", "timestamp"]), nasty_text
)
as_ofs = st.one_of(
    st.none(),
    st.integers(min_value=-3, max_value=12),
    st.sampled_from([2**63, 2**70, -(2**70)]),
    st.datetimes(timezones=st.sampled_from([None, dt.UTC])),
    nasty_text,
    st.floats(),
)
SQL_PIECES = [
    "SELECT * FROM contracts",
    "SELECT count(*) FROM contracts_latest",
    "SELECT * FROM read_csv('{dir}/secret.csv')",
    "SELECT * FROM READ_PARQUET('{dir}/secret.parquet')",
    "WITH x AS (SELECT * FROM read_ndjson('{dir}/s.ndjson')) SELECT * FROM x",
    "SELECT version FROM contracts WHERE name = 'a; b -- c'",
    "/* x */ SELECT 1",
    "; DROP TABLE contracts",
    "UNION ALL SELECT * FROM read_ipc('{dir}/s.ipc')",
    " -- ",
    "\n",
    "'",
    '"',
    "$$",
    "COPY contracts TO '{dir}/out.csv'",
]
queries = st.one_of(
    st.lists(st.sampled_from(SQL_PIECES), min_size=1, max_size=3).map(" ".join), nasty_text
)


def typed_or_raise(call: Any) -> tuple[bool, Any]:
    """(True, answer) or (False, the typed error); anything untyped fails the test."""
    try:
        return True, call()
    except ContractStoreError as error:
        return False, error


# -- the public API ------------------------------------------------------------------------------


class StoreMachine(RuleBasedStateMachine):
    keys = Bundle("keys")

    @initialize()
    def open_store(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="dc43-fuzz-"))
        (self.folder / "secret.csv").write_text(f"a\n{SECRET}\n", encoding="utf-8")
        self.store = DeltaContractStore(
            path=self.folder / "t",
            validation="off",
            metadata_columns={"owner": "string", "score": "long", "flag": "boolean"},
        )
        self.acked: dict[tuple[str, str], dict[str, Any]] = {}
        for contract_id, version in (("sales.orders", "1.0.0"), ("fin.invoices", "2.0.0")):
            document = {"id": contract_id, "version": version, "status": "active"}
            self.store.put(document, metadata={"owner": "seed"})
            self.acked[(contract_id, version)] = document

    def teardown(self) -> None:
        if hasattr(self, "folder"):
            shutil.rmtree(self.folder, ignore_errors=True)

    def attempt(self, call: Any, *, writes: bool = False) -> tuple[bool, Any]:
        before = self.store.table_version
        ok, answer = typed_or_raise(call)
        if not ok:
            assert self.store.table_version == before, f"a refusal moved the table: {answer}"
        elif not writes:
            assert self.store.table_version == before
        return ok, answer

    def remember(self, result: Any, document: Any) -> None:
        key = (result.contract_id, result.version)
        stored = self.store.get(*key)
        if key not in self.acked:
            self.acked[key] = stored
        assert stored == self.acked[key]
        if isinstance(document, dict) and result.outcome == "inserted":
            assert stored == strip_nulls(_as_json(document))

    @rule(
        target=keys,
        document=documents,
        metadata=st.one_of(st.none(), st.dictionaries(column_names, values, max_size=2)),
    )
    def put(self, document: Any, metadata: Any) -> Any:
        ok, result = self.attempt(lambda: self.store.put(document, metadata=metadata), writes=True)
        if ok:
            self.remember(result, document)
            return (result.contract_id, result.version)
        return ("sales.orders", "1.0.0")

    @rule(
        batch=st.lists(documents, max_size=3),
        on_error=st.sampled_from(["raise", "skip", "bogus", None]),
    )
    def put_many(self, batch: list[Any], on_error: Any) -> None:
        ok, result = self.attempt(
            lambda: self.store.put_many(batch, on_error=on_error), writes=True
        )
        if ok:
            for item in result.results:
                self.remember(item, None)

    @rule(key=keys, contract_id=ids, version=versions, as_of=as_ofs)
    def get(self, key: tuple[str, str], contract_id: Any, version: Any, as_of: Any) -> None:
        ok, document = self.attempt(lambda: self.store.get(*key))
        if key in self.acked:
            assert ok and document == self.acked[key]
        self.attempt(lambda: self.store.get(contract_id, version, as_of=as_of))

    @rule(
        contract_id=ids,
        filters=st.dictionaries(column_names, values, max_size=2),
        as_of=as_ofs,
        pre=values,
    )
    def latest(self, contract_id: Any, filters: dict[Any, Any], as_of: Any, pre: Any) -> None:
        filters = {k: v for k, v in filters.items() if isinstance(k, str) and k.isidentifier()}
        ok, answer = self.attempt(
            lambda: self.store.latest(contract_id, as_of=as_of, include_prereleases=pre, **filters)
        )
        if ok and answer is not None and as_of is None:
            assert answer in self.acked.values()

    @rule(
        key=keys,
        changes=st.dictionaries(column_names, values, max_size=2),
        match=st.one_of(st.none(), st.dictionaries(column_names, values, max_size=1)),
    )
    def update_metadata(self, key: tuple[str, str], changes: Any, match: Any) -> None:
        self.attempt(lambda: self.store.update_metadata(*key, changes, if_match=match), writes=True)

    @rule(columns=st.dictionaries(column_names, column_types, max_size=2))
    def add_metadata_columns(self, columns: dict[Any, Any]) -> None:
        self.attempt(lambda: self.store.add_metadata_columns(columns), writes=True)

    @rule(query=queries, as_of=as_ofs)
    def sql(self, query: str, as_of: Any) -> None:
        query = query.replace("{dir}", str(self.folder))
        ok, frame = self.attempt(lambda: self.store.sql(query, as_of=as_of))
        if ok:
            assert SECRET not in str(frame.rows())
        assert not (self.folder / "out.csv").exists()

    @rule(as_of=as_ofs)
    def reads(self, as_of: Any) -> None:
        self.attempt(lambda: self.store.list_contracts(as_of=as_of))
        self.attempt(lambda: self.store.scan(as_of=as_of))

    @invariant()
    def acknowledged_versions_are_intact(self) -> None:
        if not hasattr(self, "store"):
            return
        for key, document in self.acked.items():
            assert self.store.get(*key) == document


def _as_json(document: dict[str, Any]) -> Any:
    """The mapping as JSON holds it (dates as ISO text), independently of the store."""
    return json.loads(json.dumps(document, default=lambda value: value.isoformat()))


def test_the_api_gives_only_typed_errors_and_loses_nothing() -> None:
    runs = settings(
        max_examples=EXAMPLES,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    run_state_machine_as_test(seeded(StoreMachine), settings=runs)


# -- the command line ----------------------------------------------------------------------------

COMMANDS = [
    "validate", "put", "ingest", "get", "latest", "list", "versions", "history", "sql",
    "set-metadata", "add-columns", "optimize", "vacuum",
]  # fmt: skip
TOKENS = [
    "--json", "--nl", "--as-of", "--limit", "--filter", "--status", "--metadata", "--who",
    "--why", "--if-match", "--validation", "--policy", "--dry-run", "--skip-bad", "--apply",
    "--retention-hours", "--target-file-size", "--include-prereleases", "--junit-xml", "--help",
    "sales.orders", "1.0.0", "1.1.0", "owner=x", "score=5", "score=abc", "flag=maybe",
    "flag=true", "status=Validated", "OWNER=string", "Status=string", "x=varchar", "-1", "0",
    "99999999999999999999", "1e20", "2024-01-01", "2024-01-01T00:00:00Z", "yesterday",
    "{contract}", "{folder}", "{missing}", "/proc/x.xml", "strict", "bogus",
    "SELECT * FROM contracts", "SELECT * FROM read_csv('{secret}')", "", "\x00", "caf\u00e9",
    "SELECT CAST(1.5 AS DECIMAL(10,2)) AS d, INTERVAL '1 day' AS i FROM contracts",
    "SELECT CAST(json AS BLOB) AS b, CAST('nan' AS DOUBLE) AS n, ARRAY_AGG(version) AS a "
    "FROM contracts",
]  # fmt: skip
argv = st.tuples(
    st.lists(st.sampled_from(["--table", "--path", "--warehouse", "--debug", "x.y"]), max_size=2),
    st.sampled_from(COMMANDS),
    st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=6)), max_size=6),
)


@pytest.fixture(scope="module")
def cli_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli-fuzz")
    (folder / "contracts").mkdir()
    (folder / "contracts" / "c.yaml").write_text(
        "apiVersion: v3.1.0\nkind: DataContract\nid: sales.orders\nversion: 1.0.0\n"
        "status: active\n",
        encoding="utf-8",
    )
    (folder / "secret.csv").write_text(f"a\n{SECRET}\n", encoding="utf-8")
    store = DeltaContractStore(
        path=folder / "t",
        validation="off",
        metadata_columns={"owner": "string", "score": "long", "flag": "boolean"},
    )
    store.put(folder / "contracts" / "c.yaml")
    return folder


@seeded
@settings(
    max_examples=4 * EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(args=argv)
def test_the_command_line_never_prints_a_traceback(
    cli_table: Path, args: tuple[list[str], str, list[str]]
) -> None:
    before, command, rest = args
    table = DeltaContractStore(path=cli_table / "t")
    version = table.table_version
    replace = {
        "{contract}": str(cli_table / "contracts" / "c.yaml"),
        "{folder}": str(cli_table / "contracts"),
        "{missing}": str(cli_table / "missing.yaml"),
        "{secret}": str(cli_table / "secret.csv"),
    }
    tokens = [replace.get(token, token.replace("{secret}", replace["{secret}"])) for token in rest]
    line = [
        "--path",
        str(cli_table / "t"),
        *(t for t in before if t != "--debug"),
        command,
        *tokens,
    ]
    unset: dict[str, str | None] = {name: None for name in ENVIRONMENT.values()}
    with tempfile.TemporaryDirectory() as empty, contextlib.chdir(empty):  # for a stray "."
        result = CliRunner().invoke(cli, line, env=unset)
    assert result.exit_code in EXIT_CODES.values(), (line, result.output)
    assert result.exit_code != EXIT_CODES["error"], (line, result.output)
    assert "Traceback" not in result.output, (line, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        line,
        repr(result.exception),
    )
    assert SECRET not in result.output
    if result.exit_code != 0:
        assert DeltaContractStore(path=cli_table / "t").table_version == version, line
