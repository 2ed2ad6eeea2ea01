"""The SQL predicate that matches exactly the rows of some (contract_id, version) keys.

A write hands it to delta-rs twice over: as the rows the commit replaces (none, when the
keys are new) and as the commit's conflict predicate — a concurrent commit that added a file
whose statistics admit one of the keys makes this one fail, while commits of other keys do
not. So it must be exact on rows and prunable on file statistics, and it must survive
delta-rs writing it into the commit and parsing it back (string literals inside function
calls do not: they come back as ``Utf8("…")``). Hence only equalities, ``IN`` lists and
``IS NULL``: the keys grouped by whichever of id or version has fewer distinct values, one
``version = … AND contract_id IN (…)`` term per group (or the transpose), OR-ed — exact, and
shallow for batches (a Git folder holds many ids but few distinct versions).
"""

from __future__ import annotations

from collections.abc import Iterable

from .records import contract_key

__all__ = ["key_predicate", "sql_string"]


def sql_string(value: str) -> str:
    """``value`` as an SQL string literal (quotes doubled; DataFusion has no backslash escapes).

    >>> sql_string("it's")
    "'it''s'"
    """
    return "'" + value.replace("'", "''") + "'"


def key_predicate(keys: Iterable[tuple[str, str]], *, hashed: bool) -> str:
    """A DataFusion SQL predicate true for exactly the rows holding one of ``keys``.

    ``hashed``: the table has ``contract_key``, which a key of one id uses (its statistics are
    exact for ids of any length); rows other tools wrote may hold null there, and still match.

    >>> key_predicate([("sales.orders", "1.0.0")], hashed=False)
    "version = '1.0.0' AND contract_id = 'sales.orders'"
    >>> key_predicate([("a", "1"), ("b", "1"), ("b", "2")], hashed=False)
    "(version = '1' AND contract_id IN ('a', 'b')) OR (version = '2' AND contract_id = 'b')"
    """
    pairs = sorted(set(keys))
    if not pairs:
        raise ValueError("key_predicate needs at least one key")
    by_id: dict[str, list[str]] = {}
    by_version: dict[str, list[str]] = {}
    for contract_id, version in pairs:
        by_id.setdefault(contract_id, []).append(version)
        by_version.setdefault(version, []).append(contract_id)
    if len(by_version) <= len(by_id):
        groups = [
            f"{_member('version', [v])} AND {_member('contract_id', ids)}"
            for v, ids in sorted(by_version.items())
        ]
    else:
        groups = [
            f"{_member('contract_id', [c])} AND {_member('version', versions)}"
            for c, versions in sorted(by_id.items())
        ]
    exact = groups[0] if len(groups) == 1 else " OR ".join(f"({group})" for group in groups)
    if not hashed or len(by_id) > 1:  # for batches, a second long IN list costs more than it skips
        return exact
    hashed_key = sql_string(contract_key(pairs[0][0]))  # one id: one group, no OR in exact
    return f"(contract_key = {hashed_key} OR contract_key IS NULL) AND {exact}"


def _member(column: str, values: list[str]) -> str:
    if len(values) == 1:
        return f"{column} = {sql_string(values[0])}"
    return f"{column} IN ({', '.join(sql_string(value) for value in values)})"
