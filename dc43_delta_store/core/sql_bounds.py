"""How big and how deep a query ``store.sql`` runs may be, measured on its sqlglot tree.

Polars SQL walks a query's expressions and plans recursively, so a deep enough query
overflows its stack and kills the process (SIGSEGV: no exception to catch), and its planning
time grows with the square of the depth well before that. Measured on Polars 2.2 (8 MiB main
thread, each try a child process; ``python -m tests.sql_bombs`` re-measures):

=================  ===================================  ===========================
chain of           the process died at                  time at 250 / 1,000 terms
=================  ===================================  ===========================
``UNION ALL``      ~455 terms (ran 452, died at 460)    6.5 s / died
``EXCEPT``         under 1,000 terms                    0.7 s at 128 / died
``||``             ~790 terms (ran 781, died at 796)    0.4 s / died
``OR``             ~5,140 terms (5,106 ran in 101 s)    0.1 s / 3.0 s
``+``, ``AND``     not reached at 2,000 (29 s, 11 s)    0.2, 0.04 s / 2.8, 0.9 s
``*``              not reached                          0.2 s at 128 / over 30 s
``JOIN``, ``WITH`` not reached at 500 (12 s each)       1.1, 1.4 s / ?, over 30 s
``CASE`` branches  not reached at 2,000 (9 s)           0.2 s / 1.9 s
``IN (columns)``   not reached                          0.6 s at 1,000 / over 30 s
=================  ===================================  ===========================

Nested calls and subqueries are refused by Polars' own parser (its recursion limit). So a
query's depth counts one level per nesting of the tree and, where Polars nests what sqlglot
keeps as a list, one per element: each ``JOIN`` of a ``FROM``, each query of a ``WITH``,
each ``WHEN`` of a ``CASE``, each non-literal item of ``IN (...)``. :data:`MAX_DEPTH` keeps
3.5 times below the lowest crash (and every chain under ~1 s); :data:`MAX_TOKENS` and
:data:`MAX_NODES` bound the work a wide query costs.

>>> from sqlglot import parse_one
>>> measure(parse_one("SELECT a FROM t WHERE " + " OR ".join(["a"] * 200)))
Traceback (most recent call last):
...
dc43_delta_store.errors.QueryLimitError: store.sql refused a query nested more than 128 \
levels deep (limit 'depth'): each term of an OR, AND, ||, + or UNION chain, each JOIN, WITH \
query and CASE branch nests one level; write long OR chains as IN (...)
"""

from __future__ import annotations

from sqlglot import exp

from ..errors import QueryLimitError

__all__ = ["MAX_DEPTH", "MAX_NODES", "MAX_PAD_LENGTH", "MAX_TOKENS", "measure"]

MAX_DEPTH = 128
"""Deepest query tree run (see the module docstring for what counts as a level)."""
MAX_TOKENS = 20_000
"""Most tokens (words, numbers, strings, operators, commas) in one query, counted before it is
parsed: parsing costs ~0.1 ms a token, in the caller's process."""
MAX_NODES = 20_000
"""Most expressions in one query (columns, literals, operators, calls...)."""
MAX_PAD_LENGTH = 10_000
"""Longest text ``LPAD``/``RPAD`` may build (its length must be a number written in the query)."""

# sqlglot keeps these as lists; Polars nests them one level per element
_CHAINED: dict[type[exp.Expr], str] = {
    exp.Select: "joins",
    exp.With: "expressions",
    exp.Case: "ifs",
    exp.In: "expressions",
}


def measure(root: exp.Expr) -> list[exp.Expr]:
    """Every node of ``root`` (depth first), or :class:`QueryLimitError` as soon as the
    tree is deeper than :data:`MAX_DEPTH` or larger than :data:`MAX_NODES`. Iterative: a
    tree of any depth is measured without recursion."""
    nodes: list[exp.Expr] = []
    stack: list[tuple[exp.Expr, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise QueryLimitError(
                f"store.sql refused a query nested more than {MAX_DEPTH} levels deep "
                "(limit 'depth'): each term of an OR, AND, ||, + or UNION chain, each JOIN, "
                "WITH query and CASE branch nests one level; write long OR chains as IN (...)",
                limit="depth",
            )
        nodes.append(node)
        if len(nodes) > MAX_NODES:
            raise QueryLimitError(
                f"store.sql refused a query of more than {MAX_NODES} expressions "
                "(limit 'size'): split it into smaller queries",
                limit="size",
            )
        for key, value in node.args.items():
            if isinstance(value, exp.Expr):
                stack.append((value, depth + 1))
            elif isinstance(value, list):
                chained = _chained(node, key, value)
                stack.extend(
                    (child, depth + 1 + (index if chained else 0))
                    for index, child in enumerate(value)
                    if isinstance(child, exp.Expr)
                )
    return nodes


def _chained(node: exp.Expr, key: str, items: list[object]) -> bool:
    if _CHAINED.get(type(node)) != key:
        return False
    if isinstance(node, exp.In):  # a list of constants is one lookup; columns become ORs
        return not all(_constant(item) for item in items)
    return True


def _constant(item: object) -> bool:
    if isinstance(item, exp.Neg):
        item = item.this
    return isinstance(item, exp.Literal | exp.Null | exp.Boolean)
