"""store.sql is a sandbox: the two views, allowed functions, nothing from files or the network.

Every escape attempt below is refused with InvalidRequestError naming what was refused, the
secret files' contents never come back, the local HTTP server never sees a request, and the
table does not move. Allowed functions give the same answer as Polars run directly.
"""

from __future__ import annotations

import datetime as dt
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import polars as pl
import pytest
from click.testing import CliRunner
from deltalake import DeltaTable, write_deltalake

from dc43_delta_store import DeltaContractStore, InvalidRequestError
from dc43_delta_store.cli import EXIT_CODES, cli
from dc43_delta_store.core.sql_guard import ALLOWED_FUNCTIONS, MAX_QUERY_CHARS, sandboxed
from dc43_delta_store.table.sql import run_sql

from .conftest import EXAMPLES, minimal

SECRET = "hunter2"


class Recorder(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Recorder.hits.append(self.path)
        body = f"AWS_SECRET,x\n{SECRET},1\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def secrets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("secrets")
    frame = pl.DataFrame({"AWS_SECRET": [SECRET]})
    frame.write_csv(folder / "secret.csv")
    frame.write_parquet(folder / "secret.parquet")
    frame.write_ipc(folder / "secret.ipc")
    frame.write_ndjson(folder / "secret.ndjson")
    return folder


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> DeltaContractStore:
    store = DeltaContractStore(path=tmp_path_factory.mktemp("t") / "t", validation="off")
    store.put_many(sorted(EXAMPLES.rglob("*.odcs.*")))
    return store


# (id, query: {dir} is the secrets folder, {url} the HTTP server; text the refusal names)
ESCAPES: list[tuple[str, str, str]] = [
    ("read_csv", "SELECT * FROM read_csv('{dir}/secret.csv')", "table function READ_CSV"),
    ("read_parquet", "SELECT * FROM read_parquet('{dir}/secret.parquet')", "READ_PARQUET"),
    ("read_ipc", "SELECT * FROM read_ipc('{dir}/secret.ipc')", "read_ipc"),
    ("read_json", "SELECT * FROM read_json('{dir}/secret.ndjson')", "read_json"),
    ("read_ndjson", "SELECT * FROM read_ndjson('{dir}/secret.ndjson')", "read_ndjson"),
    ("generate_series", "SELECT * FROM generate_series(1, 3)", "GENERATE_SERIES"),
    ("range", "SELECT * FROM range(3)", "RANGE(3)"),
    ("unnest", "SELECT * FROM unnest([1, 2]) AS u(x)", "table source UNNEST"),
    ("read_csv over HTTP", "SELECT * FROM read_csv('{url}/x.csv')", "READ_CSV"),
    ("read_parquet from S3", "SELECT * FROM read_parquet('s3://bucket/x.parquet')", "READ_PARQUET"),
    ("upper case", "SELECT * FROM READ_CSV('{dir}/secret.csv')", "READ_CSV"),
    ("mixed case", "select * from ReAd_CsV('{dir}/secret.csv')", "READ_CSV"),
    ("double-quoted name", "SELECT * FROM \"read_csv\"('{dir}/secret.csv')", "READ_CSV"),
    ("backquoted name", "SELECT * FROM `read_csv`('{dir}/secret.csv')", "READ_CSV"),
    ("with an alias", "SELECT t.* FROM read_csv('{dir}/secret.csv') AS t(a)", "READ_CSV"),
    (
        "in a CTE",
        "WITH x AS (SELECT * FROM read_csv('{dir}/secret.csv')) SELECT * FROM x",
        "READ_CSV",
    ),
    (
        "CTE named like the function",
        "WITH read_csv AS (SELECT 1 AS a) SELECT * FROM read_csv('{dir}/secret.csv')",
        "READ_CSV",
    ),
    (
        "derived table",
        "SELECT * FROM (SELECT * FROM read_csv('{dir}/secret.csv')) AS s",
        "READ_CSV",
    ),
    (
        "scalar subquery",
        "SELECT (SELECT max(AWS_SECRET) FROM read_csv('{dir}/secret.csv')) FROM contracts",
        "READ_CSV",
    ),
    (
        "IN subquery",
        "SELECT * FROM contracts WHERE name IN (SELECT AWS_SECRET FROM read_csv('{dir}/secret.csv'))",
        "READ_CSV",
    ),
    (
        "EXISTS subquery",
        "SELECT 1 FROM contracts WHERE EXISTS (SELECT 1 FROM read_ipc('{dir}/secret.ipc'))",
        "read_ipc",
    ),
    (
        "UNION",
        "SELECT name FROM contracts UNION ALL SELECT AWS_SECRET FROM read_csv('{dir}/secret.csv')",
        "READ_CSV",
    ),
    ("JOIN", "SELECT * FROM contracts JOIN read_csv('{dir}/secret.csv') ON true", "READ_CSV"),
    ("comma join", "SELECT * FROM contracts, read_parquet('{dir}/secret.parquet')", "READ_PARQUET"),
    (
        "LATERAL",
        "SELECT * FROM contracts, LATERAL (SELECT * FROM read_csv('{dir}/secret.csv')) AS l",
        "READ_CSV",
    ),
    ("scalar call", "SELECT read_csv('{dir}/secret.csv') FROM contracts", "function READ_CSV"),
    (
        "VALUES hiding a subquery",
        "SELECT * FROM (VALUES ((SELECT 1 FROM read_csv('{dir}/secret.csv')))) AS v(a)",
        "READ_CSV",
    ),
    (
        "after a line comment",
        "SELECT * FROM contracts -- just the views\nUNION ALL SELECT * FROM read_csv('{dir}/secret.csv')",
        "READ_CSV",
    ),
    ("comment inside the call", "SELECT * FROM read_csv/* x */('{dir}/secret.csv')", "READ_CSV"),
    (
        "backslash before a quote",
        "SELECT 'a\\' AS x, * FROM read_csv('{dir}/secret.csv') -- '",
        "READ_CSV",
    ),
    (
        "dollar-quoted string",
        "SELECT $$ ' $$ AS x, * FROM read_csv('{dir}/secret.csv')",
        "READ_CSV",
    ),
    (
        "second statement",
        "SELECT 1; SELECT * FROM read_csv('{dir}/secret.csv')",
        "one statement at a time",
    ),
    (
        "second statement after a comment",
        "SELECT 1 -- c\n; SELECT * FROM read_csv('{dir}/secret.csv')",
        "one statement at a time",
    ),
    ("string as a table", "SELECT * FROM '{dir}/secret.csv'", "refused: table"),
    ("quoted path as a table", 'SELECT * FROM "{dir}/secret.csv"', "refused: table"),
    ("schema-qualified view", "SELECT * FROM other.contracts", "refused: table other.contracts"),
    ("catalog table", "SELECT * FROM cat.sch.contracts", "refused: table cat.sch.contracts"),
    (
        "time-travel qualifier",
        "SELECT * FROM contracts FOR SYSTEM_TIME AS OF '2020-01-01'",
        "refused: table contracts",
    ),
    ("COPY out", "COPY contracts TO '{dir}/out.csv'", "not COPY"),
    (
        "CREATE TABLE AS",
        "CREATE TABLE x AS SELECT * FROM read_csv('{dir}/secret.csv')",
        "not CREATE",
    ),
    ("SELECT INTO", "SELECT * INTO x FROM contracts", "SELECT ... INTO"),
    ("EXPLAIN", "EXPLAIN SELECT * FROM read_csv('{dir}/secret.csv')", "not EXPLAIN"),
    ("SHOW", "SHOW TABLES", "not SHOW"),
    ("SET", "SET x = 1", "not SET"),
    ("ATTACH", "ATTACH '{dir}/db' AS y", "store.sql"),
    ("INSTALL", "INSTALL httpfs", "not INSTALL"),
    ("parameter", "SELECT * FROM contracts WHERE name = $1", "takes no parameters"),
    ("unicode-escaped name", "SELECT * FROM U&\"read\\005fcsv\"('{dir}/secret.csv')", "store.sql"),
    ("NUL byte", "SELECT * FROM contracts\x00; SELECT * FROM read_csv('{dir}/secret.csv')", "NUL"),
    ("nested too deep", "SELECT " + "(" * 5000 + "1" + ")" * 5000, "store.sql"),
    ("huge query", "SELECT 1" + " " * 200_000, "characters"),
]


def fill(query: str, folder: Path, url: str) -> str:
    return query.replace("{dir}", str(folder)).replace("{url}", url)


@pytest.mark.parametrize(("query", "names"), [pytest.param(*c[1:], id=c[0]) for c in ESCAPES])
def test_escape_attempts_are_refused(
    store: DeltaContractStore, secrets: Path, url: str, query: str, names: str
) -> None:
    version, hits = store.table_version, len(Recorder.hits)
    with pytest.raises(InvalidRequestError) as caught:
        store.sql(fill(query, secrets, url))
    assert names.lower() in str(caught.value).lower()
    assert SECRET not in str(caught.value)
    assert len(Recorder.hits) == hits, "sql() made an HTTP request"
    assert store.table_version == version
    assert not (secrets / "out.csv").exists()


def test_every_polars_table_function_is_in_the_list() -> None:
    listed = " ".join(query.lower() for _, query, _ in ESCAPES)
    for name in ("read_csv", "read_parquet", "read_ipc", "read_json", "read_ndjson"):
        assert f"from {name}(" in listed
    for name in ("generate_series", "range", "unnest"):
        assert f"from {name}(" in listed
    assert len(ESCAPES) >= 30


def test_the_cli_refuses_them_too(store: DeltaContractStore, secrets: Path, url: str) -> None:
    hits = len(Recorder.hits)
    for _, query, _ in ESCAPES:
        result = CliRunner().invoke(
            cli, ["--path", store.location.uri, "sql", fill(query, secrets, url)]
        )
        assert result.exit_code == EXIT_CODES["usage"], (query, result.output)
        assert SECRET not in result.output and "Traceback" not in result.output
        assert "store.sql" in result.stderr
    assert len(Recorder.hits) == hits


def test_comments_and_literals_cannot_hide_or_break_anything(
    store: DeltaContractStore, secrets: Path
) -> None:
    # a semicolon and "--" inside a literal are text, not a second statement or a comment
    assert store.sql("SELECT count(*) AS n FROM contracts WHERE name = 'a; b -- c'").item() == 0
    # a table function inside a (nested) comment is not run: Polars gets no comments at all
    hidden = f"SELECT count(*) AS n FROM contracts /* /* */ , read_csv('{secrets}/secret.csv') */"
    assert store.sql(hidden).item() == 6
    assert store.sql('SELECT count(*) AS "n;--" FROM CONTRACTS_LATEST').item() == 3


def test_the_views_work_whatever_the_spelling(store: DeltaContractStore) -> None:
    for query in (
        "select count(*) from contracts",
        'SELECT count(*) FROM "contracts"',
        "SELECT count(*) FROM `contracts`",
        "WITH c AS (SELECT * FROM contracts) SELECT count(*) FROM c",
        "SELECT count(*) FROM contracts c JOIN contracts_latest l USING (contract_id)",
    ):
        assert store.sql(query).item() == 6, query


SAMPLES = {
    "CASE": "CASE WHEN n > 1 THEN 'x' ELSE 'y' END",
    "CAST": "CAST(n AS VARCHAR)",
    "TRY_CAST": "TRY_CAST(s AS INT)",
    "EXTRACT": "EXTRACT(YEAR FROM d)",
    "EXISTS": "EXISTS (SELECT 1 FROM contracts)",
    "IF": "IF(n > 1, 'b', 'c')",
    "COALESCE": "COALESCE(s, 'z')",
    "IFNULL": "IFNULL(s, 'z')",
    "NULLIF": "NULLIF(s, 'x')",
    "GREATEST": "GREATEST(n, 2)",
    "LEAST": "LEAST(n, 2)",
    "COUNT": "COUNT(*)",
    "COUNT_IF": "COUNT_IF(n > 1)",
    "SUM": "SUM(n)",
    "AVG": "AVG(n)",
    "MIN": "MIN(n)",
    "MAX": "MAX(n)",
    "MEDIAN": "MEDIAN(n)",
    "FIRST": "FIRST(s)",
    "LAST": "LAST(s)",
    "ARRAY_AGG": "ARRAY_AGG(s)",
    "STRING_AGG": "STRING_AGG(s, ',')",
    "STDDEV": "STDDEV(f)",
    "STDDEV_SAMP": "STDDEV_SAMP(f)",
    "STDEV": "STDEV(f)",
    "VARIANCE": "VARIANCE(f)",
    "VAR": "VAR(f)",
    "VAR_SAMP": "VAR_SAMP(f)",
    "CORR": "CORR(n, f)",
    "COVAR": "COVAR(n, f)",
    "COVAR_POP": "COVAR_POP(n, f)",
    "COVAR_SAMP": "COVAR_SAMP(n, f)",
    "QUANTILE_CONT": "QUANTILE_CONT(f, 0.5)",
    "QUANTILE_DISC": "QUANTILE_DISC(f, 0.5)",
    "BIT_COUNT": "BIT_COUNT(n)",
    "ROW_NUMBER": "ROW_NUMBER() OVER (PARTITION BY s ORDER BY n DESC)",
    "RANK": "RANK() OVER (ORDER BY n)",
    "DENSE_RANK": "DENSE_RANK() OVER (ORDER BY n)",
    "PERCENT_RANK": "PERCENT_RANK() OVER (ORDER BY n)",
    "CUME_DIST": "CUME_DIST() OVER (ORDER BY n)",
    "NTILE": "NTILE(2) OVER (ORDER BY n)",
    "LAG": "LAG(n) OVER (ORDER BY n)",
    "LEAD": "LEAD(n) OVER (ORDER BY n)",
    "FIRST_VALUE": "FIRST_VALUE(n) OVER (ORDER BY n)",
    "LAST_VALUE": "LAST_VALUE(n) OVER (ORDER BY n)",
    "NTH_VALUE": "NTH_VALUE(n, 1) OVER (ORDER BY n)",
    "LENGTH": "LENGTH(s)",
    "CHAR_LENGTH": "CHAR_LENGTH(s)",
    "CHARACTER_LENGTH": "CHARACTER_LENGTH(s)",
    "OCTET_LENGTH": "OCTET_LENGTH(s)",
    "BIT_LENGTH": "BIT_LENGTH(s)",
    "LOWER": "LOWER(s)",
    "UPPER": "UPPER(s)",
    "INITCAP": "INITCAP(s)",
    "TRIM": "TRIM(s)",
    "LTRIM": "LTRIM(s)",
    "RTRIM": "RTRIM(s)",
    "LPAD": "LPAD(s, 3, '0')",
    "RPAD": "RPAD(s, 3, '0')",
    "LEFT": "LEFT(s, 1)",
    "RIGHT": "RIGHT(s, 1)",
    "SUBSTR": "SUBSTR(s, 1, 1)",
    "SUBSTRING": "SUBSTRING(s, 1, 1)",
    "STRPOS": "STRPOS(s, 'x')",
    "REPLACE": "REPLACE(s, 'x', 'y')",
    "REVERSE": "REVERSE(s)",
    "CONCAT": "CONCAT(s, 'z')",
    "CONCAT_WS": "CONCAT_WS('-', s, s)",
    "SPLIT_PART": "SPLIT_PART(s, ',', 1)",
    "STARTS_WITH": "STARTS_WITH(s, 'x')",
    "ENDS_WITH": "ENDS_WITH(s, 'x')",
    "NORMALIZE": "NORMALIZE(s)",
    "STRING_TO_ARRAY": "STRING_TO_ARRAY(s, ',')",
    "REGEXP_LIKE": "REGEXP_LIKE(s, 'x')",
    "REGEXP_REPLACE": "REGEXP_REPLACE(s, 'x', 'y')",
    "ARRAY_CONTAINS": "ARRAY_CONTAINS(l, 1)",
    "ARRAY_GET": "ARRAY_GET(l, 1)",
    "ARRAY_LENGTH": "ARRAY_LENGTH(l)",
    "ARRAY_LOWER": "ARRAY_LOWER(l)",
    "ARRAY_UPPER": "ARRAY_UPPER(l)",
    "ARRAY_MEAN": "ARRAY_MEAN(l)",
    "ARRAY_SUM": "ARRAY_SUM(l)",
    "ARRAY_REVERSE": "ARRAY_REVERSE(l)",
    "ARRAY_UNIQUE": "ARRAY_UNIQUE(l)",
    "ARRAY_TO_STRING": "ARRAY_TO_STRING(l, ',')",
    "ABS": "ABS(n)",
    "CEIL": "CEIL(f)",
    "CEILING": "CEILING(f)",
    "FLOOR": "FLOOR(f)",
    "ROUND": "ROUND(f, 1)",
    "TRUNC": "TRUNC(f)",
    "TRUNCATE": "TRUNCATE(f)",
    "SIGN": "SIGN(n)",
    "MOD": "MOD(n, 2)",
    "DIV": "DIV(n, 2)",
    "POW": "POW(n, 2)",
    "POWER": "POWER(n, 2)",
    "SQRT": "SQRT(f)",
    "CBRT": "CBRT(f)",
    "EXP": "EXP(f)",
    "LN": "LN(f)",
    "LOG": "LOG(10, f)",
    "LOG10": "LOG10(f)",
    "LOG1P": "LOG1P(f)",
    "LOG2": "LOG2(f)",
    "PI": "PI()",
    "DEGREES": "DEGREES(f)",
    "RADIANS": "RADIANS(f)",
    "SIN": "SIN(f)",
    "COS": "COS(f)",
    "TAN": "TAN(f)",
    "COT": "COT(f)",
    "ASIN": "ASIN(0.5)",
    "ACOS": "ACOS(0.5)",
    "ATAN": "ATAN(f)",
    "ATAN2": "ATAN2(f, 1)",
    "SIND": "SIND(f)",
    "COSD": "COSD(f)",
    "TAND": "TAND(f)",
    "COTD": "COTD(f)",
    "ASIND": "ASIND(0.5)",
    "ACOSD": "ACOSD(0.5)",
    "ATAND": "ATAND(f)",
    "ATAN2D": "ATAN2D(f, 1)",
    "DATE": "DATE('2024-01-01')",
    "TIMESTAMP": "TIMESTAMP('2024-01-01 10:00:00')",
    "DATE_DIFF": "DATE_DIFF('day', d, DATE '2024-03-01')",
    "DATE_PART": "DATE_PART('year', d)",
    "DATE_TRUNC": "DATE_TRUNC('month', t)",
    "STRFTIME": "STRFTIME(t, '%Y')",
    "STRPTIME": "STRPTIME('2024', '%Y')",
    "NOW": "NOW()",
    "CURRENT_DATE": "CURRENT_DATE",
    "CURRENT_TIME": "CURRENT_TIME",
    "CURRENT_TIMESTAMP": "CURRENT_TIMESTAMP",
}
OPERATORS = [
    "LOG(f, 2)",
    "DATE_PART('month', t)",
    "SUBSTRING(s FROM 2 FOR 1)",
    "POSITION('y' IN s)",
    "t + INTERVAL '1 day'",
    "s || 'z'",
    "s ~ 'y'",
    "s !~ 'y'",
    "s ~* 'Y'",
    "s ILIKE 'X%'",
    "s NOT LIKE 'x%'",
    "s IN ('y')",
    "n BETWEEN 1 AND 1",
    "n::varchar",
    "n % 2",
    "l[1]",
    "COUNT(DISTINCT s)",
    "TRIM(BOTH 'x' FROM s)",
    "EXTRACT(EPOCH FROM t)",
    "DATE '2024-01-02' > d",
    "s IS DISTINCT FROM 'x'",
    "(SELECT MAX(n) FROM contracts)",
    "n = ANY(SELECT n FROM contracts)",
    "'it''s'",
    "'a\\b'",
    "$$dollar$$",
    "'café'",
    "STRING_AGG(s, ',' ORDER BY s)",
]


def frame() -> pl.LazyFrame:
    # built per test, not at import: a process forked after Polars ran hangs in Polars
    # (mutmut forks one per mutant from a process that imported the tests)
    return pl.LazyFrame(
        {
            "n": [1, 2],
            "f": [1.5, 2.5],
            "s": ["x,y", "y"],
            "l": [[1, 2], [3]],
            "d": [dt.date(2024, 1, 1)] * 2,
            "t": [dt.datetime(2024, 1, 1)] * 2,
        }
    )


CLOCK = {"NOW", "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP"}


def test_every_allowed_function_has_a_sample() -> None:
    assert set(SAMPLES) == ALLOWED_FUNCTIONS


@pytest.mark.parametrize("expression", [*SAMPLES.values(), *OPERATORS])
def test_allowed_sql_gives_what_polars_gives(expression: str) -> None:
    query = f"SELECT {expression} AS r FROM contracts"
    frames = {"contracts": frame()}
    sandboxed_answer = run_sql(query, frames)
    if not any(expression.startswith(name) for name in CLOCK):
        assert sandboxed_answer.equals(pl.SQLContext(frames=frames).execute(query, eager=True))
    assert sandboxed(sandboxed(query)) == sandboxed(query)  # regenerating is stable


def test_query_errors_are_request_errors(store: DeltaContractStore) -> None:
    for query, message in [
        ("SELECT nope FROM contracts", "cannot run the query"),
        ("SELECT CAST(name AS INT) FROM contracts", "cannot run the query"),
        ("SELECT FROM WHERE", "cannot parse the query"),
        ("", "empty query"),
        ("  -- nothing\n", "empty query"),
    ]:
        with pytest.raises(InvalidRequestError, match=message):
            store.sql(query)


def test_a_query_that_fails_while_running_is_a_bad_query_in_one_line(
    store: DeltaContractStore,
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        store.sql("SELECT regexp_like(contract_id, '(') FROM contracts")
    message = str(caught.value)
    assert message.startswith("cannot run the query: regex error: regex parse error: ( ^ error:")
    assert "unclosed group" in message and "\n" not in message


def test_a_long_engine_error_is_cut_to_one_line_of_2000_characters(
    store: DeltaContractStore,
) -> None:
    name = "x" * 3000
    with pytest.raises(InvalidRequestError) as caught:
        store.sql(f'SELECT "{name}" FROM contracts')
    message = str(caught.value)
    assert message == "cannot run the query: " + f'unable to find column "{name}"'[:2000]


def test_a_table_lacking_the_derived_version_columns_orders_and_skips_prereleases(
    tmp_path: Path,
) -> None:
    for dropped in ("version_sort_key", "prerelease", None):
        path = tmp_path / str(dropped)
        DeltaContractStore(path=path, validation="off").put_many(
            [minimal(version=v) for v in ("1.9.0", "1.10.0", "2.0.0-rc.1")]
        )
        data = DeltaTable(str(path)).to_pyarrow_table()
        if dropped:
            data = data.drop_columns([dropped])
        write_deltalake(str(path), data, mode="overwrite", schema_mode="overwrite")
        latest = DeltaContractStore(path=path).sql("SELECT version FROM contracts_latest")
        assert latest["version"].to_list() == ["1.10.0"], dropped


VIEWS_ONLY = "store.sql reads only the contracts and contracts_latest views; refused: "


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (123, "store.sql takes the query as text, not int"),
        ("", "store.sql got an empty query"),
        ("SELECT 1\x00", "store.sql refused a query containing a NUL character"),
        pytest.param(
            "SELECT 'a\udcff'",
            "store.sql refused a query holding an unpaired surrogate at character 10",
            id="surrogate",
        ),
        ("SELECT 1 INTO t FROM contracts", "store.sql is read-only: SELECT ... INTO is refused"),
        (
            "WITH x AS (DELETE FROM contracts RETURNING *) SELECT * FROM x",
            "store.sql is read-only: only queries run, not DELETE",
        ),
        ("SELECT * FROM other", VIEWS_ONLY + "table other"),
        (
            "SELECT * FROM contracts, LATERAL (SELECT 1)",
            VIEWS_ONLY + "table source LATERAL (SELECT 1)",
        ),
        (  # a long refused call is shown cut to 200 characters
            "SELECT * FROM read_csv('" + "a" * 300 + "')",
            VIEWS_ONLY + "table function READ_CSV('" + "a" * 187 + "...",
        ),
        (  # one of 200 is shown whole
            "SELECT * FROM read_csv('" + "a" * 188 + "')",
            VIEWS_ONLY + "table function READ_CSV('" + "a" * 188 + "')",
        ),
        ("SELECT * FROM ?", VIEWS_ONLY + "table source ?"),
        ("SELECT * FROM ROWS FROM (f(1))", VIEWS_ONLY + "table source ROWS FROM (F(1))"),
        ("delete from contracts", "store.sql is read-only: only queries run, not DELETE"),
        (
            "SELECT " + "(" * 1000 + "1" + ")" * 1000 + " FROM contracts",
            "store.sql refused a query nested too deeply",
        ),
        (
            "SELECT my_udf(version) /* why */ FROM contracts",
            "store.sql refused the function MY_UDF in MY_UDF(version): only scalar, aggregate "
            "and window functions from the documented list are allowed",
        ),
        (
            "SELECT FROM WHERE",
            "store.sql cannot parse the query: Expected table name but got <Token token_type: "
            "TokenType.WHERE, text: WHERE, line: 1, col: 17, start: 12, end: 16, comments: []>. "
            "Line 1, Col: 17.",
        ),
    ],
)
def test_refusals_say_exactly_what_was_refused(query: object, message: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        sandboxed(query)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_polars_runs_the_checked_query_quoted_and_without_comments() -> None:
    query = "select version, Name from contracts /* a comment */ -- another"
    assert sandboxed(query) == 'SELECT "version", "Name" FROM "contracts"'


def test_a_query_of_the_maximum_length_is_checked_not_refused() -> None:
    query = "SELECT version FROM contracts" + " " * (MAX_QUERY_CHARS - 29)
    assert len(query) == MAX_QUERY_CHARS and sandboxed(query) == 'SELECT "version" FROM "contracts"'
    with pytest.raises(InvalidRequestError, match=f"a query of {MAX_QUERY_CHARS + 1} characters"):
        sandboxed(query + " ")
