"""dc43's service configuration (its TOML file) served on this store, without Spark.

dc43 builds its service with ``bootstrap.build_backends``, which builds the contract store
first: for ``[contract_store] type = "delta"`` that means ``SparkSession.builder
.getOrCreate()``. Here every backend is built as ``build_backends`` builds it, with this
store (through :class:`~..dc43_compat.Dc43ContractStore`) in place of the contract store,
and served by dc43's own app (``web.build_local_app``) with its bearer-token auth when
``[auth] token`` (or ``DC43_BACKEND_TOKEN``) is set.

dc43's ``load_config`` silently falls back to ``$DC43_SERVICE_BACKENDS_CONFIG`` and then to
a bundled default when the file is missing or does not parse, so the file is checked here
first. Environment variables override the file, as in dc43. ``base_path``/``root`` are read
from the raw TOML (dc43 turns them into ``Path`` objects, which spoils ``s3://`` URIs).

Beyond dc43's keys, ``[contract_store]`` may hold ``validation`` (``strict``, ``warn``,
``off``) and a ``[contract_store.storage_options]`` table (deltalake's options; credentials
also come from the usual environment variables). A table name goes to Unity Catalog when
``[unity_catalog] workspace_url`` (or ``DATABRICKS_HOST``, or ``UNITY_CATALOG_URL``) is set.

Data-product and governance stores of type ``delta`` need Spark in dc43: they are refused,
saying which setting to change.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidRequestError
from ..table.catalog import UnityCatalog

__all__ = ["Dc43Service", "StoreSpec", "build_dc43_service", "read_dc43_config"]


@dataclass(frozen=True)
class StoreSpec:
    """Where the contract store of a dc43 configuration lives, as this store takes it."""

    table: str | None = None
    path: str | None = None
    storage_options: dict[str, str] = field(default_factory=dict, repr=False)
    validation: str | None = None
    catalog: UnityCatalog | None = None


@dataclass(frozen=True)
class Dc43Service:
    """dc43's app over a store, and dc43's bearer token (None: no auth configured)."""

    app: Any
    token: str | None


def read_dc43_config(path: str | os.PathLike[str]) -> tuple[Any, StoreSpec]:
    """dc43's configuration from ``path`` (checked: it exists and parses) and the contract
    store it names. Raises :class:`~..errors.InvalidRequestError` naming the file and the
    setting when it cannot be served without Spark."""
    file = Path(path)
    raw = _raw_toml(file)
    from dc43_service_backends.config import load_config

    config = load_config(file)
    store_type = config.contract_store.type
    if store_type != "delta":
        raise InvalidRequestError(
            f"{file}: [contract_store] type is {store_type!r}; dc43-delta-store serves a Delta "
            'table: set type = "delta" and table or base_path (DC43_CONTRACT_STORE_TYPE '
            "overrides the file)"
        )
    _refuse_spark_stores(file, config)
    return config, _store_spec(file, config, raw)


def build_dc43_service(config: Any, adapter: Any, verify: Callable[[str], bool]) -> Dc43Service:
    """dc43's backends and app as ``bootstrap.build_backends`` and ``webapp.create_app``
    build them, with ``adapter`` (a ``Dc43ContractStore``) as the contract store and
    ``verify`` (constant time) deciding dc43's bearer-token check when a token is set."""
    from dc43_service_backends import bootstrap
    from dc43_service_backends.auth import bearer_token_dependency
    from dc43_service_backends.governance.backend import LocalGovernanceServiceBackend
    from dc43_service_backends.governance.bootstrap import (
        LinkHookContext,
        build_dataset_contract_link_hooks,
    )
    from dc43_service_backends.web import build_local_app

    contract_backend = bootstrap.build_contract_backend(config.contract_store, store=adapter)
    data_product_backend = bootstrap.build_data_product_backend(config.data_product_store)
    dq_backend = bootstrap.build_data_quality_backend(config.data_quality)
    governance_store = bootstrap.build_governance_store(config.governance_store)
    link_hooks = build_dataset_contract_link_hooks(
        config, context=LinkHookContext(contract_service=contract_backend)
    )
    governance_backend = LocalGovernanceServiceBackend(
        contract_client=contract_backend,
        dq_client=dq_backend,
        data_product_client=data_product_backend,
        draft_store=adapter,
        link_hooks=link_hooks,
        store=governance_store,
    )
    token = config.auth.token or None
    dependencies = [bearer_token_dependency(None, verifier=verify)] if token else None
    app = build_local_app(
        adapter,
        contract_backend=contract_backend,
        data_product_backend=data_product_backend,
        dq_backend=dq_backend,
        governance_backend=governance_backend,
        governance_store=governance_store,
        link_hooks=link_hooks,
        dependencies=dependencies,
    )
    return Dc43Service(app, token)


def _raw_toml(file: Path) -> Mapping[str, Any]:
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise InvalidRequestError(f"dc43 configuration {file} does not exist") from None
    except IsADirectoryError:
        raise InvalidRequestError(f"dc43 configuration {file} is a folder, not a file") from None
    except OSError as exc:
        raise InvalidRequestError(f"cannot read dc43 configuration {file}: {exc}") from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidRequestError(f"dc43 configuration {file} is not valid TOML: {exc}") from None


def _refuse_spark_stores(file: Path, config: Any) -> None:
    if (config.data_product_store.type or "").lower() == "delta":
        raise InvalidRequestError(
            f'{file}: [data_product] type = "delta" needs Spark (dc43 builds it with a '
            'SparkSession); set [data_product] type to "memory", "filesystem" or "sql"'
        )
    governance = config.governance_store
    if (governance.type or "").lower() == "delta" and not governance.dsn:
        raise InvalidRequestError(
            f'{file}: [governance_store] type = "delta" needs Spark (dc43 builds it with a '
            'SparkSession) unless a dsn is set; set [governance_store] type to "memory", '
            '"filesystem", "sql" or "http" (or DC43_GOVERNANCE_STORE_TYPE)'
        )


def _store_spec(file: Path, config: Any, raw: Mapping[str, Any]) -> StoreSpec:
    section = raw.get("contract_store")
    section = section if isinstance(section, Mapping) else {}
    table = config.contract_store.table or None
    location = None if table else _raw_location(section)
    if not (table or location):
        raise InvalidRequestError(
            f'{file}: [contract_store] needs table or base_path (or root) for type "delta"'
        )
    options = section.get("storage_options", {})
    if not isinstance(options, Mapping):
        raise InvalidRequestError(f"{file}: [contract_store.storage_options] must be a table")
    validation = section.get("validation")
    if validation is not None and validation not in ("strict", "warn", "off"):
        raise InvalidRequestError(
            f"{file}: [contract_store] validation must be strict, warn or off, not {validation!r}"
        )
    return StoreSpec(
        table=table,
        path=location,
        storage_options={str(key): str(value) for key, value in options.items()},
        validation=validation,
        catalog=_catalog(config) if table else None,
    )


def _raw_location(section: Mapping[str, Any]) -> str | None:
    """``base_path``, else ``root`` as dc43 chooses them (``DC43_CONTRACT_STORE`` overrides
    the file's root), as written: URIs stay URIs."""
    env_root = os.environ.get("DC43_CONTRACT_STORE", "").strip()
    for value in (section.get("base_path"), env_root, section.get("root")):
        text = str(value).strip() if value is not None else ""
        if text:
            return text if "://" in text else str(Path(text).expanduser())
    return None


def _catalog(config: Any) -> UnityCatalog | None:
    unity = config.unity_catalog
    if unity.workspace_url:
        return UnityCatalog(unity.workspace_url, token=unity.workspace_token or None)
    return UnityCatalog.from_env()
