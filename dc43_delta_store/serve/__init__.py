"""``dc43-delta-store serve``: the contract store over HTTP, Spark-free, for dc43's clients and
for anyone who asks "which contract, which version".

With ``--dc43-config dc43.toml`` it runs dc43's own service configuration (all of dc43's
routes and backends) with this store as its contract store (:mod:`.dc43_config`); without,
it serves dc43's contract routes on the table given by ``--table``/``--path``
(:mod:`.contracts`). Either way it adds ``resolve``, ``diff``, ``check`` and the change feed
(:mod:`.routes`, :mod:`.feed`), answers the hot reads from memory while the table is
unchanged (:mod:`.answers`, :mod:`.hot`, :mod:`.freshness`), and guards everything with
tokens and limits (:mod:`.auth`, :mod:`.lane`, :mod:`.protocol`). Needs the ``serve`` extra
(FastAPI, uvicorn, httptools).

>>> from dc43_delta_store import DeltaContractStore
>>> from dc43_delta_store.serve import Tokens, create_app
>>> app = create_app(DeltaContractStore(path=tmp_path / "contracts"),
...                  tokens=Tokens([("s3cret", "write")]))
>>> app.guard.describe()
'writes with one of 1 write token(s); reads open'
"""

from __future__ import annotations

import importlib
import typing

if typing.TYPE_CHECKING:
    from .app import app_from_settings, create_app
    from .auth import Guard, Tokens
    from .lane import ServeApp
    from .settings import Limits, ServeSettings

__all__ = [
    "Guard",
    "Limits",
    "ServeApp",
    "ServeSettings",
    "Tokens",
    "app_from_settings",
    "create_app",
]

# imported on first use: ``serve.command`` (the CLI's) must load without FastAPI installed
_WHERE = {
    "Guard": "auth",
    "Limits": "settings",
    "ServeApp": "lane",
    "ServeSettings": "settings",
    "Tokens": "auth",
    "app_from_settings": "app",
    "create_app": "app",
}


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value
