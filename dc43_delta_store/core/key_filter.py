"""The SQL predicate that matches exactly the rows of some (contract_id, version) keys.

A write hands it to delta-rs twice over: as the rows the commit replaces (none, when the
keys are new) and as the commit's conflict predicate — a concurrent commit that added a file
whose statistics admit one of the keys makes this one fail, while commits of other keys do
not. So it must be exact on rows and prunable on file statistics: equalities or ``IN`` lists
on ``contract_id``, ``version`` and ``contract_key`` (statistics skip files with them), plus,
when several ids and several versions make a cross product, an exact test of the pairs.
"""

from __future__ import annotations

from collections.abc import Iterable

from .records import contract_key

__all__ = ["PAIR_SEPARATOR", "key_predicate", "sql_string"]

PAIR_SEPARATOR = "\x1f"
"""Joins id and version in the pair test; identities cannot hold control characters."""


def sql_string(value: str) -> str:
    """``value`` as an SQL string literal (quotes doubled; DataFusion has no backslash escapes).

    >>> sql_string("it's")
    "'it''s'"
    """
    return "'" + value.replace("'", "''") + "'"


def key_predicate(keys: Iterable[tuple[str, str]], *, hashed: bool) -> str:
    """A DataFusion SQL predicate true for exactly the rows holding one of ``keys``.

    ``hashed``: the table has ``contract_key``; rows other tools wrote may hold null there,
    and still match.

    >>> key_predicate([("sales.orders", "1.0.0")], hashed=False)
    "contract_id = 'sales.orders' AND version = '1.0.0'"
    >>> key_predicate([("a", "1"), ("b", "2")], hashed=False)  # doctest: +NORMALIZE_WHITESPACE
    "contract_id IN ('a', 'b') AND version IN ('1', '2')
     AND concat(contract_id, chr(31), version) IN ('a\\x1f1', 'b\\x1f2')"
    """
    pairs = sorted(set(keys))
    if not pairs:
        raise ValueError("key_predicate needs at least one key")
    ids = sorted({contract_id for contract_id, _ in pairs})
    versions = sorted({version for _, version in pairs})
    terms = [_member("contract_id", ids), _member("version", versions)]
    if hashed:
        hashes = sorted({contract_key(contract_id) for contract_id in ids})
        terms.append(f"({_member('contract_key', hashes)} OR contract_key IS NULL)")
    if len(ids) > 1 and len(versions) > 1:
        joined = [sql_string(c + PAIR_SEPARATOR + v) for c, v in pairs]
        terms.append(f"concat(contract_id, chr(31), version) IN ({', '.join(joined)})")
    return " AND ".join(terms)


def _member(column: str, values: list[str]) -> str:
    if len(values) == 1:
        return f"{column} = {sql_string(values[0])}"
    return f"{column} IN ({', '.join(sql_string(value) for value in values)})"
