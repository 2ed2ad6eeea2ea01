"""Read ODCS v2 documents in the v3 shape, so both compare under the same rules.

ODCS v2.x (``apiVersion`` v2.*) describes tables as ``dataset`` entries with ``columns``;
v3 as ``schema`` objects with ``properties``. :func:`as_v3` renames the v2 keys the rules
read (``dataset/table`` -> ``schema/name``, ``columns/column`` -> ``properties/name``,
``isNullable: true`` -> ``required: false``, ``uuid`` -> ``id``, ...) and gathers v2's
top-level connection fields into one ``servers`` entry named ``default``. Keys it does not
know are kept as they are and compared as "other" fields. In every version, a v3.0
``team`` list becomes ``team.members`` as in v3.1, and an SLA's ``column`` its ``element``.
:data:`V2_ALIASES` lets a position map find a v3 key in the v2 file it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["V2_ALIASES", "as_v3", "is_v2"]

_TOP = {
    "uuid": "id",
    "dataset": "schema",
    "stakeholders": "team",
    "slaDefaultColumn": "slaDefaultElement",
    "datasetDomain": "domain",
    "quantumName": "dataProduct",
}
_DATASET = {
    "table": "name",
    "columns": "properties",
    "dataGranularity": "dataGranularityDescription",
}
_COLUMN = {
    "column": "name",
    "isPrimaryKey": "primaryKey",
    "isPrimary": "primaryKey",
    "isUnique": "unique",
    "partitionStatus": "partitioned",
    "encryptedColumnName": "encryptedName",
    "transformSourceTables": "transformSourceObjects",
    "sampleValues": "examples",
    "criticalDataElementStatus": "criticalDataElement",
}
_SLA = {"column": "element"}
_SERVER_FIELDS = {
    "type": "type",
    "server": "host",
    "database": "database",
    "project": "project",
    "datasetName": "dataset",
    "driver": "driver",
    "driverVersion": "driverVersion",
    "sourcePlatform": "sourcePlatform",
    "sourceSystem": "sourceSystem",
}

V2_ALIASES: dict[str, tuple[str, ...]] = {}
for _table in (_TOP, _DATASET, _COLUMN, _SLA):
    for _old, _new in _table.items():
        V2_ALIASES[_new] = (*V2_ALIASES.get(_new, ()), _old)
V2_ALIASES["required"] = ("isNullable", "nullable")


def is_v2(document: Mapping[str, Any]) -> bool:
    """True for ODCS v2.x documents (by ``apiVersion``, else by a ``dataset`` without ``schema``).

    >>> is_v2({"apiVersion": "v2.2.2"}), is_v2({"apiVersion": "v3.1.0"})
    (True, False)
    """
    api = str(document.get("apiVersion") or "").lstrip("vV")
    if api:
        return api.startswith("2")
    return "dataset" in document and "schema" not in document


def as_v3(document: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with v2 keys renamed to their v3 names (a shallow rewrite; v3 unchanged).

    >>> as_v3({"apiVersion": "v2.2.2", "uuid": "u", "dataset": [{"table": "t",
    ...        "columns": [{"column": "c", "isNullable": False}]}]})["schema"]
    [{'name': 't', 'properties': [{'name': 'c', 'required': True}]}]
    """
    result = dict(document)
    if is_v2(document):
        result = _renamed(document, _TOP)
        if isinstance(result.get("schema"), list):
            result["schema"] = [_dataset(item) for item in result["schema"]]
        server = {new: result.pop(old) for old, new in _SERVER_FIELDS.items() if old in result}
        if server and "servers" not in result:
            result["servers"] = [{"server": "default", **server}]
    if isinstance(result.get("slaProperties"), list):  # v2, and v3.0's examples: column
        result["slaProperties"] = [_renamed(item, _SLA) for item in result["slaProperties"]]
    if isinstance(result.get("team"), list):
        result["team"] = {"members": result["team"]}
    return result


def _renamed(item: Any, names: Mapping[str, str]) -> Any:
    if not isinstance(item, Mapping):
        return item
    return {
        names.get(key, key) if names.get(key, key) not in item else key: value
        for key, value in item.items()
    }


def _dataset(item: Any) -> Any:
    renamed = _renamed(item, _DATASET)
    if isinstance(renamed, dict) and isinstance(renamed.get("properties"), list):
        renamed["properties"] = [_column(column) for column in renamed["properties"]]
    return renamed


def _column(item: Any) -> Any:
    renamed = _renamed(item, _COLUMN)
    for key in ("isNullable", "nullable"):
        if isinstance(renamed, dict) and key in renamed and "required" not in renamed:
            nullable = renamed.pop(key)
            renamed["required"] = (not nullable) if isinstance(nullable, bool) else nullable
    return renamed
