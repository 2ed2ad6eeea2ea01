"""What ``store.sql`` may run: one read-only query over the two views, decided by a parser.

Polars SQL reads files and URLs through table functions (``read_csv('/any/file')``,
``read_parquet('s3://…')``, ``read_json``, ``read_ndjson``, ``read_ipc``) and builds other
tables from ``generate_series``, ``range`` and ``unnest``. So a query is parsed with sqlglot,
in a dialect that reads text as Polars does (PostgreSQL's: ``''`` inside strings, a
backslash is just a backslash, ``$$dollar$$`` strings, nested ``/* */`` comments; plus
backquoted identifiers), and checked:

- one statement (a comment after its ``;`` is fine), and it is a query (``SELECT``, ``WITH``,
  set operations) — no ``INTO``, no ``WITH RECURSIVE`` (nothing bounds the rows it makes);
- at most :data:`~.sql_bounds.MAX_DEPTH` levels deep and :data:`~.sql_bounds.MAX_NODES`
  expressions large (:mod:`.sql_bounds`: deeper queries crash Polars);
- every table is ``contracts``, ``contracts_latest`` or a name the query itself defines
  with ``WITH``: no table functions, no other catalogs or schemas, no qualifiers;
- every function is one of :data:`ALLOWED_FUNCTIONS` (scalar, aggregate and window), named
  in a refusal as the query wrote it; ``LPAD``/``RPAD`` build at most
  :data:`~.sql_bounds.MAX_PAD_LENGTH` characters.

Polars then runs the SQL regenerated from the checked tree — without comments, with every
identifier quoted — so no spelling (case, quotes, comments, string tricks) can make Polars
read something the check did not see.

>>> sandboxed("select version from contracts -- latest first")
'SELECT "version" FROM "contracts"'
>>> sandboxed("SELECT * FROM read_csv('/etc/passwd')")
Traceback (most recent call last):
...
dc43_delta_store.errors.InvalidRequestError: store.sql reads only the contracts and \
contracts_latest views; refused: table function READ_CSV('/etc/passwd')
"""

from __future__ import annotations

from collections.abc import Collection

from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import SqlglotError
from sqlglot.generators.postgres import PostgresGenerator
from sqlglot.helper import seq_get
from sqlglot.parsers.postgres import PostgresParser
from sqlglot.tokenizer_core import Token, TokenType

from ..errors import InvalidRequestError, QueryLimitError
from .sql_bounds import MAX_PAD_LENGTH, MAX_TOKENS, measure

__all__ = ["ALLOWED_FUNCTIONS", "MAX_QUERY_CHARS", "VIEWS", "PolarsSQL", "sandboxed"]

VIEWS = ("contracts", "contracts_latest")
MAX_QUERY_CHARS = 100_000

_FUNCTION_GROUPS = (
    # conditional and structural
    "CASE CAST TRY_CAST EXTRACT EXISTS IF COALESCE IFNULL NULLIF GREATEST LEAST ",
    # aggregate
    "COUNT COUNT_IF SUM AVG MIN MAX MEDIAN FIRST LAST ARRAY_AGG STRING_AGG STDDEV STDDEV_SAMP "
    "STDEV VARIANCE VAR VAR_SAMP CORR COVAR COVAR_POP COVAR_SAMP QUANTILE_CONT QUANTILE_DISC "
    "BIT_COUNT ",
    # window
    "ROW_NUMBER RANK DENSE_RANK PERCENT_RANK CUME_DIST NTILE LAG LEAD FIRST_VALUE LAST_VALUE "
    "NTH_VALUE ",
    # text
    "LENGTH CHAR_LENGTH CHARACTER_LENGTH OCTET_LENGTH BIT_LENGTH LOWER UPPER INITCAP TRIM LTRIM "
    "RTRIM LPAD RPAD LEFT RIGHT SUBSTR SUBSTRING STRPOS REPLACE REVERSE CONCAT CONCAT_WS "
    "SPLIT_PART STARTS_WITH ENDS_WITH NORMALIZE STRING_TO_ARRAY REGEXP_LIKE REGEXP_REPLACE ",
    # arrays
    "ARRAY_CONTAINS ARRAY_GET ARRAY_LENGTH ARRAY_LOWER ARRAY_UPPER ARRAY_MEAN ARRAY_SUM "
    "ARRAY_REVERSE ARRAY_UNIQUE ARRAY_TO_STRING ",
    # numbers
    "ABS CEIL CEILING FLOOR ROUND TRUNC TRUNCATE SIGN MOD DIV POW POWER SQRT CBRT EXP LN LOG "
    "LOG10 LOG1P LOG2 PI DEGREES RADIANS SIN COS TAN COT ASIN ACOS ATAN ATAN2 SIND COSD TAND "
    "COTD ASIND ACOSD ATAND ATAN2D ",
    # dates and times
    "DATE TIMESTAMP DATE_DIFF DATE_PART DATE_TRUNC STRFTIME STRPTIME NOW CURRENT_DATE CURRENT_TIME "
    "CURRENT_TIMESTAMP",
)
ALLOWED_FUNCTIONS = frozenset(name for group in _FUNCTION_GROUPS for name in group.split())
"""Functions a query may call (Polars SQL's names); everything else is refused."""


class PolarsSQL(Postgres):
    """sqlglot dialect for Polars SQL: PostgreSQL's lexing, backquoted identifiers too, and
    the function spellings Polars knows when SQL is generated."""

    LOG_BASE_FIRST = False  # Polars: LOG(value, base)

    class Tokenizer(Postgres.Tokenizer):
        IDENTIFIERS = ['"', "`"]  # noqa: RUF012 (sqlglot's own convention)

    class Parser(PostgresParser):
        FUNCTIONS = {  # noqa: RUF012 (sqlglot's own convention)
            **PostgresParser.FUNCTIONS,
            "DATE_DIFF": lambda args: _date_diff(args),
            "DATEDIFF": lambda args: _date_diff(args),
        }

        def _warn_unsupported(self) -> None:
            # sqlglot would keep a statement it cannot parse as raw text, with a warning
            first = self._tokens[0].text.upper() if self._tokens else "an unknown statement"
            raise InvalidRequestError(f"store.sql is read-only: only queries run, not {first}")

    class Generator(PostgresGenerator):
        TRANSFORMS = {  # noqa: RUF012 (sqlglot's own convention)
            **PostgresGenerator.TRANSFORMS,
            exp.ArraySize: lambda self, e: self.func("ARRAY_LENGTH", e.this),
            exp.CountIf: lambda self, e: self.func("COUNT_IF", e.this),
            exp.DateDiff: lambda self, e: self.func(
                "DATE_DIFF", _unit(e.args.get("unit")), e.expression, e.this
            ),
            exp.Median: lambda self, e: self.func("MEDIAN", e.this),
            exp.TryCast: lambda self, e: f"TRY_CAST({self.sql(e, 'this')} AS {self.sql(e, 'to')})",
        }


def _date_diff(args: list[exp.Expr]) -> exp.Expr:
    """Polars' ``DATE_DIFF(part, start, end)``: ``end - start`` in ``part`` units."""
    if len(args) != 3:
        return exp.Anonymous(this="DATE_DIFF", expressions=args)
    return exp.DateDiff(this=seq_get(args, 2), expression=seq_get(args, 1), unit=seq_get(args, 0))


def _unit(unit: exp.Expr | None) -> exp.Expr | None:
    return exp.Literal.string(unit.name.lower()) if isinstance(unit, exp.Var) else unit


_TABLE_ARGS = frozenset({"this", "alias"})


def sandboxed(query: str, tables: Collection[str] = VIEWS) -> str:
    """The SQL Polars may run for ``query``; :class:`InvalidRequestError` naming what is not
    allowed otherwise."""
    if not isinstance(query, str):
        raise InvalidRequestError(f"store.sql takes the query as text, not {type(query).__name__}")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidRequestError(
            f"store.sql refused a query of {len(query)} characters (at most {MAX_QUERY_CHARS})"
        )
    if "\x00" in query:
        raise InvalidRequestError("store.sql refused a query containing a NUL character")
    try:
        query.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRequestError(
            f"store.sql refused a query holding an unpaired surrogate at character {exc.start + 1}"
        ) from None
    statement = _one_statement(query)
    nodes = measure(statement)
    defined = {node.alias_or_name.lower() for node in nodes if isinstance(node, exp.CTE)}
    allowed = {name.lower() for name in tables} | defined
    for node in nodes:
        _check(node, allowed, query)
    return statement.sql(dialect=PolarsSQL, identify=True, comments=False)


def _one_statement(query: str) -> exp.Query:
    dialect = PolarsSQL()
    try:
        tokens = dialect.tokenize(query)
        if len(tokens) > MAX_TOKENS:  # before parsing them: sqlglot parses ~10k tokens a second
            raise QueryLimitError(
                f"store.sql refused a query of {len(tokens)} tokens (at most {MAX_TOKENS}; "
                "limit 'size'): split it into smaller queries",
                limit="size",
            )
        parsed = dialect.parser().parse(tokens, query)
    except SqlglotError as exc:
        raise InvalidRequestError(f"store.sql cannot parse the query: {_first_line(exc)}") from None
    except RecursionError:
        raise InvalidRequestError("store.sql refused a query nested too deeply") from None
    # a comment after the last ";" parses as a statement of its own
    statements = [s for s in parsed if s is not None and not isinstance(s, exp.Semicolon)]
    if not statements:
        raise InvalidRequestError("store.sql got an empty query")
    if len(statements) > 1:
        raise InvalidRequestError(f"store.sql runs one statement at a time; got {len(statements)}")
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        first = tokens[0].text.upper()
        raise InvalidRequestError(f"store.sql is read-only: only queries run, not {first}")
    return statement


def _check(node: exp.Expr, allowed: set[str], query: str) -> None:
    if isinstance(node, exp.Table):
        _check_table(node, allowed)
    elif isinstance(node, (exp.Unnest, exp.Lateral, exp.TableFromRows)):
        _refuse(f"table source {_snippet(node)}")
    elif isinstance(node, exp.Into):
        raise InvalidRequestError("store.sql is read-only: SELECT ... INTO is refused")
    elif isinstance(node, (exp.Placeholder, exp.Parameter)):
        raise InvalidRequestError(f"store.sql takes no parameters; refused: {_snippet(node)}")
    elif isinstance(node, exp.With) and node.args.get("recursive"):
        raise InvalidRequestError(
            "store.sql refused WITH RECURSIVE: nothing bounds the rows a recursive query makes"
        )
    elif isinstance(node, (exp.DDL, exp.DML, exp.Command)):
        kind = node.key.upper()
        raise InvalidRequestError(f"store.sql is read-only: only queries run, not {kind}")
    elif (
        isinstance(node, exp.Func)
        and not isinstance(node, (exp.Binary, exp.Connector))
        and not _function_names(node) & ALLOWED_FUNCTIONS
    ):
        name, call = _as_written(node, query)
        raise InvalidRequestError(
            f"store.sql refused the function {name} in {call}: only "
            "scalar, aggregate and window functions from the documented list are allowed"
        )
    elif isinstance(node, exp.Pad):
        _check_pad(node, query)


def _check_pad(node: exp.Pad, query: str) -> None:
    length = node.expression
    digits = length.this if isinstance(length, exp.Literal) and not length.is_string else ""
    if not (str(digits).isdigit() and int(digits) <= MAX_PAD_LENGTH):
        name, call = _as_written(node, query)
        raise QueryLimitError(
            f"store.sql refused {call}: {name} builds text of at most {MAX_PAD_LENGTH} "
            "characters, its length written as a number (limit 'length')",
            limit="length",
        )


def _check_table(table: exp.Table, allowed: set[str]) -> None:
    if not isinstance(table.this, exp.Identifier):
        what = "table function" if isinstance(table.this, exp.Func) else "table source"
        _refuse(f"{what} {_snippet(table.this or table)}")  # ROWS FROM (...) has no this
    extra = sorted(k for k, v in table.args.items() if v is not None and k not in _TABLE_ARGS)
    if extra or table.name.lower() not in allowed:
        _refuse(f"table {_snippet(table)}")


def _refuse(what: str) -> None:
    raise InvalidRequestError(
        f"store.sql reads only the {' and '.join(VIEWS)} views; refused: {what}"
    )


# sqlglot parses some functions into classes named otherwise
_PARSED_AS: dict[type[exp.Func], frozenset[str]] = {
    exp.GroupConcat: frozenset({"STRING_AGG"}),
    exp.Pad: frozenset({"LPAD", "RPAD"}),
    exp.StrPosition: frozenset({"STRPOS"}),
    exp.TimestampTrunc: frozenset({"DATE_TRUNC"}),
}


def _function_names(node: exp.Func) -> set[str]:
    if isinstance(node, exp.Anonymous):
        return {node.name.upper()}
    names = {name.upper() for name in type(node).sql_names()}
    return names | _PARSED_AS.get(type(node), frozenset())


def _as_written(node: exp.Func, query: str) -> tuple[str, str]:
    """The function's name (upper case) and its call as the query wrote them: sqlglot may
    have parsed the call into an expression Polars SQL writes otherwise."""
    if isinstance(node, exp.Anonymous):  # kept as written
        return node.name.upper(), _snippet(node)
    tokens = PolarsSQL().tokenize(query)
    calls = [
        index
        for index, token in enumerate(tokens[:-1])
        if tokens[index + 1].token_type == TokenType.L_PAREN
    ]
    names = _function_names(node)
    # the call of that name; else (parsed into another name) the first call not allowed
    for wanted in (names, None):
        for index in calls:
            name = tokens[index].text.upper()
            if name in wanted if wanted is not None else name not in ALLOWED_FUNCTIONS:
                end = _closing(tokens, index + 1)
                return name, _cut(query[tokens[index].start : end + 1])
    call = _snippet(node)
    return (type(node).sql_names() or [call.split("(")[0]])[0].upper(), call


def _closing(tokens: list[Token], opening: int) -> int:
    """Where the parenthesis at ``tokens[opening]`` closes (the query's end if it does not)."""
    depth = 0
    for token in tokens[opening:]:
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(token.token_type, 0)
        if depth == 0:
            return token.end
    return tokens[-1].end


def _snippet(node: exp.Expr, limit: int = 200) -> str:
    return _cut(node.sql(dialect=PolarsSQL, comments=False), limit)


def _cut(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
